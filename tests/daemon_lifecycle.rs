//! The daemon's life: one daemon per pid file, and what happens when one of its tasks dies.
//! Real daemons in network namespaces; needs root (skipped without, unless CI=true).

mod common;

use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::control::Client;
use common::segment::{Daemon, Host, Segment, wait_for};

const VIP: &str = "10.77.0.100";

fn config(priority: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"
    )
}

fn master_within(h: &Host, secs: u64) -> Option<Duration> {
    wait_for(Duration::from_secs(secs), || h.has_address(VIP))
}

fn logs(ds: &[&Daemon]) -> String {
    ds.iter()
        .map(|d| format!("--- {}\n{}", d.log.display(), d.log_text()))
        .collect()
}

/// `ip monitor address` in the host: every address added or deleted while it runs.
fn monitor_addresses(h: &Host) -> Child {
    let mon = Command::new("ip")
        .args(["-n", &h.ns, "monitor", "address"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    mon
}

/// The lines `ip monitor` printed that delete the VIP.
fn vip_deletions(mut mon: Child) -> Vec<String> {
    let _ = mon.kill();
    let out = mon.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("Deleted") && l.contains(VIP))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_second_daemon_with_the_same_pid_file_touches_nothing() {
    if !common::require_root("a_second_daemon_with_the_same_pid_file_touches_nothing") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let d1 = common::start_kaconsole(h, &config(150), &[], &[]);
    master_within(h, 8).unwrap_or_else(|| panic!("no master\n{}", logs(&[&d1])));
    let socket = h.socket();
    assert!(Client::status(&socket).is_some(), "{}", logs(&[&d1]));
    let socket_inode = std::fs::metadata(&socket).unwrap().ino();
    let pid_file = h.dir.join("kaconsole.pid");
    let mon = monitor_addresses(h);

    // The same configuration, pid file and control socket.
    let conf = h.dir.join("kaconsole.conf").display().to_string();
    let pid = pid_file.display().to_string();
    let mut d2 = h.spawn(
        &common::kaconsole(),
        &["daemon", "-n", "-l", "-f", &conf, "-p", &pid],
        "second.log",
    );
    let code = d2.wait_exit(Duration::from_secs(5));
    assert_eq!(code, Some(1), "the second daemon refuses\n{}", logs(&[&d2]));
    let said = format!("already running (pid {})", d1.pid());
    assert!(d2.log_text().contains(&said), "{}", logs(&[&d2]));

    // The first is untouched: its socket, its VIP, its pid file.
    assert_eq!(
        std::fs::metadata(&socket).map(|m| m.ino()).ok(),
        Some(socket_inode),
        "the first daemon's socket file is still the one it bound"
    );
    assert!(
        Client::status(&socket).is_some(),
        "the first daemon still answers\n{}",
        logs(&[&d1])
    );
    assert!(h.has_address(VIP), "{}", logs(&[&d1, &d2]));
    assert_eq!(
        vip_deletions(mon),
        Vec::<String>::new(),
        "nobody removed the VIP meanwhile\n{}",
        logs(&[&d1, &d2])
    );
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        format!("{}\n", d1.pid())
    );
}
