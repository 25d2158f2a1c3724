//! The daemon's life: one daemon per pid file, and what happens when one of its tasks dies.
//! Real daemons in network namespaces; needs root (skipped without, unless CI=true).

mod common;

use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command};
use std::time::Duration;

use common::control::Client;
use common::segment::{Daemon, Host, Segment, logs, monitor_addresses, wait_for};

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
        &["daemon", "-n", "-l", "-G", "-f", &conf, "-p", &pid],
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

/// The test builds' panic injection (src/daemon/fault.rs): armed for the tasks whose names
/// start with the variable's value, fired once per signal.
const INJECT: &str = "KACONSOLE_INJECT_PANIC";
const READER: &str = "VRRP reader eth0";

/// Makes one armed task of `d` panic.
fn inject_panic(d: &Daemon) {
    let signal = format!("-{}", nix::libc::SIGRTMIN() + 9);
    let sent = Command::new("kill")
        .args([signal.as_str(), &d.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// How many times `d` has logged `text`.
fn count(d: &Daemon, text: &str) -> usize {
    d.log_text().matches(text).count()
}

/// Fires one panic into `d`'s armed task and waits for the restart it logs.
fn panic_and_restart(d: &Daemon, restarts_before: usize) {
    inject_panic(d);
    let restarted = wait_for(Duration::from_secs(3), || {
        count(d, "restarting it") > restarts_before
    });
    assert!(restarted.is_some(), "{}", logs(&[d]));
}

/// h1 (150, `env1`) and h2 (100, `env2`) once h1 is MASTER.
fn pair(seg: &Segment, env1: &[(&str, &str)], env2: &[(&str, &str)]) -> (Daemon, Daemon) {
    let d1 = common::start_kaconsole(&seg.hosts[0], &config(150), &[], env1);
    let d2 = common::start_kaconsole(&seg.hosts[1], &config(100), &[], env2);
    master_within(&seg.hosts[0], 8).unwrap_or_else(|| panic!("no master\n{}", logs(&[&d1, &d2])));
    (d1, d2)
}

#[test]
fn a_masters_reader_that_panics_is_restarted_and_still_hears_its_peers() {
    if !common::require_root("a_masters_reader_that_panics_is_restarted_and_still_hears_its_peers")
    {
        return;
    }
    let seg = Segment::new(3);
    let (h1, h2, h3) = (&seg.hosts[0], &seg.hosts[1], &seg.hosts[2]);
    let (d1, d2) = pair(&seg, &[(INJECT, READER)], &[]);
    panic_and_restart(&d1, 0);
    assert!(
        d1.log_text()
            .contains(&format!("task {READER} IPv4 protocol 112 panicked")),
        "{}",
        logs(&[&d1])
    );
    // Past the backup's Master_Down_Interval: still one master, the same.
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        h1.has_address(VIP) && !h2.has_address(VIP),
        "{}",
        logs(&[&d1, &d2])
    );
    // The restarted reader hears a higher priority: h1 steps down for h3. A dead reader
    // would keep h1 MASTER beside h3.
    let d3 = common::start_kaconsole(h3, &config(200), &[], &[]);
    let handed_over = wait_for(Duration::from_secs(8), || {
        h3.has_address(VIP) && !h1.has_address(VIP)
    });
    assert!(handed_over.is_some(), "{}", logs(&[&d1, &d3]));
    assert!(Client::status(&h1.socket()).is_some(), "still answers");
}

#[test]
fn a_backups_reader_that_panics_does_not_make_it_master() {
    if !common::require_root("a_backups_reader_that_panics_does_not_make_it_master") {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let (d1, d2) = pair(&seg, &[], &[(INJECT, READER)]);
    let mon = monitor_addresses(h2);
    panic_and_restart(&d2, 0);
    // Twice the backup's Master_Down_Interval (3.61 s) without a takeover.
    std::thread::sleep(Duration::from_millis(7500));
    let mut mon = mon;
    let _ = mon.kill();
    let out = mon.wait_with_output().unwrap();
    let events = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !events.contains(VIP) && !h2.has_address(VIP) && h1.has_address(VIP),
        "the backup never took the VIP:\n{events}\n{}",
        logs(&[&d1, &d2])
    );
    assert!(
        !d2.log_text().contains("Entering MASTER STATE"),
        "{}",
        logs(&[&d2])
    );
}

#[test]
fn a_reader_that_keeps_panicking_stops_the_master_cleanly_and_non_zero() {
    if !common::require_root("a_reader_that_keeps_panicking_stops_the_master_cleanly_and_non_zero")
    {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let (mut d1, d2) = pair(&seg, &[(INJECT, READER)], &[]);
    // Three restarts a minute are allowed; the fourth end stops the daemon.
    for n in 0..3 {
        panic_and_restart(&d1, n);
    }
    inject_panic(&d1);
    let code = d1.wait_exit(Duration::from_secs(5));
    assert_eq!(code, Some(1), "{}", logs(&[&d1]));
    let log = d1.log_text();
    assert!(
        log.contains("Stopping") && log.contains("panicked"),
        "{log}"
    );
    assert!(!h1.has_address(VIP), "the VIP is released\n{log}");
    // Priority 0: the backup takes over after its Skew_Time (0.61 s), not 3.61 s.
    let t = master_within(h2, 3).unwrap_or_else(|| panic!("no takeover\n{}", logs(&[&d2])));
    assert!(t < Duration::from_millis(1500), "takeover after {t:?}");
}

#[test]
fn a_panic_in_the_daemons_loop_stops_it_cleanly_and_non_zero() {
    if !common::require_root("a_panic_in_the_daemons_loop_stops_it_cleanly_and_non_zero") {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let (mut d1, d2) = pair(&seg, &[(INJECT, "daemon loop")], &[]);
    inject_panic(&d1);
    let code = d1.wait_exit(Duration::from_secs(5));
    assert_eq!(code, Some(1), "{}", logs(&[&d1]));
    assert!(
        !h1.has_address(VIP),
        "the VIP is released\n{}",
        logs(&[&d1])
    );
    let t = master_within(h2, 3).unwrap_or_else(|| panic!("no takeover\n{}", logs(&[&d2])));
    assert!(t < Duration::from_millis(1500), "takeover after {t:?}");
}

#[test]
fn a_link_watcher_that_panics_is_restarted_and_still_sees_a_link_go_down() {
    if !common::require_root(
        "a_link_watcher_that_panics_is_restarted_and_still_sees_a_link_go_down",
    ) {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let (d1, d2) = pair(&seg, &[(INJECT, "link watcher")], &[]);
    panic_and_restart(&d1, 0);
    // eth0 down: the instance goes FAULT and releases the VIP only if netlink is heard.
    let o = h1.run("ip", &["link", "set", "eth0", "down"]);
    assert!(o.status.success());
    let fault = wait_for(Duration::from_secs(3), || {
        d1.log_text().contains("Entering FAULT STATE")
    });
    assert!(fault.is_some(), "{}", logs(&[&d1]));
    master_within(h2, 6).unwrap_or_else(|| panic!("no takeover\n{}", logs(&[&d1, &d2])));
}

#[test]
fn a_netlink_connection_that_panics_is_reopened_and_still_releases_the_vip() {
    if !common::require_root(
        "a_netlink_connection_that_panics_is_reopened_and_still_releases_the_vip",
    ) {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let (mut d1, d2) = pair(&seg, &[(INJECT, "netlink connection")], &[]);
    panic_and_restart(&d1, 0);
    // The stop removes the VIP over the new connection; over the dead one it would stay.
    assert_eq!(
        d1.stop_with(nix::sys::signal::Signal::SIGTERM),
        Some(0),
        "{}",
        logs(&[&d1])
    );
    assert!(!h1.has_address(VIP), "{}", logs(&[&d1]));
    master_within(h2, 3).unwrap_or_else(|| panic!("no takeover\n{}", logs(&[&d2])));
}

#[test]
fn the_end_of_the_control_server_stops_the_daemon_cleanly_and_non_zero() {
    let test = "the_end_of_the_control_server_stops_the_daemon_cleanly_and_non_zero";
    if !common::require_root(test) {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let (mut d1, d2) = pair(&seg, &[(INJECT, "control accept loop")], &[]);
    assert!(h1.socket().exists());
    inject_panic(&d1);
    let code = d1.wait_exit(Duration::from_secs(5));
    assert_eq!(code, Some(1), "{}", logs(&[&d1]));
    assert!(
        d1.log_text().contains("control accept loop panicked"),
        "{}",
        logs(&[&d1])
    );
    assert!(
        !h1.has_address(VIP),
        "the VIP is released\n{}",
        logs(&[&d1])
    );
    assert!(!h1.socket().exists(), "the socket file is removed");
    let t = master_within(h2, 3).unwrap_or_else(|| panic!("no takeover\n{}", logs(&[&d2])));
    assert!(t < Duration::from_millis(1500), "takeover after {t:?}");
}

/// Without --socket, a daemon in a network namespace listens on a socket of that namespace
/// (/run is shared by all of them: a console must never reach another namespace's daemon by
/// default), and a clean stop removes the socket file.
#[test]
fn the_default_socket_is_the_namespaces_and_goes_at_a_clean_stop() {
    let test = "the_default_socket_is_the_namespaces_and_goes_at_a_clean_stop";
    if !common::require_root(test) {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let conf = h.write("kaconsole.conf", &config(150));
    let pid = h.dir.join("kaconsole.pid");
    // Through env, so that the segment's helper does not add a --socket of its own.
    let kaconsole = common::kaconsole();
    let args = [
        kaconsole.to_str().unwrap(),
        "daemon",
        "-n",
        "-l",
        "-G",
        "-f",
        conf.to_str().unwrap(),
        "-p",
        pid.to_str().unwrap(),
    ];
    let mut d = h.spawn(std::path::Path::new("env"), &args, "kaconsole.log");
    let dir = std::path::PathBuf::from("/run/kaconsole").join(&h.ns);
    let sock = dir.join("kaconsole.sock");
    let up = wait_for(Duration::from_secs(5), || Client::status(&sock).is_some());
    assert!(up.is_some(), "{}", logs(&[&d]));
    d.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(
        d.wait_exit(Duration::from_secs(5)),
        Some(0),
        "{}",
        logs(&[&d])
    );
    assert!(!sock.exists(), "the socket file is removed at a clean stop");
    let _ = std::fs::remove_dir(&dir);
}
