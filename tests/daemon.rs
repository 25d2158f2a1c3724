//! `kaconsole daemon` on real Linux networking: namespaces joined by a bridge, real raw
//! sockets, real rtnetlink, and real keepalived as a peer. Needs root (skipped without, unless
//! CI=true).

mod common;

use std::time::Duration;

use common::segment::{Daemon, Host, Segment, logs, wait_for};
use nix::sys::signal::Signal;

const VIP: &str = "10.77.0.100";

fn config(priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
{extra}    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"
    )
}

fn start(h: &Host, conf: &str) -> Daemon {
    common::start_kaconsole(h, conf, &[], &[])
}

/// h1 (priority 150) and h2 (100) on a segment, once h1 is MASTER; `None` when skipped.
fn elected_pair(test: &str) -> Option<(Segment, Daemon, Daemon)> {
    if !common::require_root(test) {
        return None;
    }
    let seg = Segment::new(2);
    let d1 = start(&seg.hosts[0], &config(150, ""));
    let d2 = start(&seg.hosts[1], &config(100, ""));
    let elected = master_within(&seg.hosts[0], 8);
    assert!(elected.is_some(), "{}", logs(&[&d1, &d2]));
    Some((seg, d1, d2))
}

fn master_within(h: &Host, secs: u64) -> Option<Duration> {
    wait_for(Duration::from_secs(secs), || h.has_address(VIP))
}

#[test]
fn election_silent_death_and_graceful_stop() {
    if !common::require_root("election_silent_death_and_graceful_stop") {
        return;
    }
    let seg = Segment::new(3);
    let (h1, h2, h3) = (&seg.hosts[0], &seg.hosts[1], &seg.hosts[2]);
    let mut d1 = start(h1, &config(150, ""));
    let pid_file = h1.dir.join("kaconsole.pid");
    let written = wait_for(Duration::from_secs(2), || pid_file.exists());
    assert!(written.is_some(), "-p FILE holds the daemon's pid");
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        d1.pid().to_string()
    );
    let d2 = start(h2, &config(100, ""));
    let d3 = start(h3, &config(50, ""));
    // Election: the highest priority takes the VIP after its Master_Down_Interval (3.41 s).
    let t = master_within(h1, 8).unwrap_or_else(|| panic!("no master\n{}", logs(&[&d1, &d2])));
    assert!(
        t > Duration::from_secs(3),
        "took over before Master_Down_Interval: {t:?}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !h2.has_address(VIP) && !h3.has_address(VIP),
        "one master\n{}",
        logs(&[&d1, &d2])
    );

    // Graceful stop: priority 0, so h2 takes over after its skew (0.61 s), and h1 releases.
    assert_eq!(d1.stop_with(Signal::SIGTERM), Some(0), "{}", logs(&[&d1]));
    assert!(
        !h1.has_address(VIP),
        "SIGTERM leaves no VIP\n{}",
        logs(&[&d1])
    );
    let t = master_within(h2, 3).unwrap_or_else(|| panic!("no takeover\n{}", logs(&[&d2])));
    assert!(
        t < Duration::from_millis(609 + 200),
        "graceful takeover took {t:?}"
    );
    assert!(!h3.has_address(VIP));

    // Silent death: SIGKILL h2; h3 takes over Master_Down_Interval (3.80 s) after h2's last
    // advert: 2.8 to 3.8 s after the kill, depending on where in its cycle the kill falls.
    let mut d2 = d2;
    d2.stop_with(Signal::SIGKILL);
    let t = master_within(h3, 6).unwrap_or_else(|| panic!("no takeover\n{}", logs(&[&d3])));
    assert!(
        t > Duration::from_millis(2500) && t < Duration::from_millis(3805 + 300),
        "silent-death takeover after {t:?}"
    );
    let log = d3.log_text();
    assert!(log.contains("(VI_1) Entering MASTER STATE"), "{log}");
    assert!(
        !log.contains("from 10.77"),
        "no packet was rejected:\n{log}"
    );
}

#[test]
fn a_client_follows_the_vip_to_the_new_master() {
    if !common::require_root("a_client_follows_the_vip_to_the_new_master") {
        return;
    }
    if common::require_program("a_client_follows_the_vip_to_the_new_master", "ping").is_none() {
        return;
    }
    let seg = Segment::new(3);
    let (h1, h2, client) = (&seg.hosts[0], &seg.hosts[1], &seg.hosts[2]);
    let mut d1 = start(h1, &config(150, ""));
    let d2 = start(h2, &config(100, ""));
    master_within(h1, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    let ping = || {
        client
            .run("ping", &["-c", "1", "-W", "1", VIP])
            .status
            .success()
    };
    assert!(ping(), "the client reaches the VIP on h1");
    let neigh = || {
        let o = client.run("ip", &["neigh", "show", VIP]);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(neigh().contains(&h1.mac()), "{}", neigh());
    d1.stop_with(Signal::SIGKILL);
    // h1's VIP stays configured after SIGKILL; cut its cable as a dead machine would be.
    seg.set_port(0, false);
    master_within(h2, 6).unwrap_or_else(|| panic!("{}", logs(&[&d2])));
    // The gratuitous ARPs moved the client's neighbour entry to h2 without it asking.
    let moved = wait_for(Duration::from_secs(2), || neigh().contains(&h2.mac()));
    assert!(
        moved.is_some(),
        "neighbour entry: {}\n{}",
        neigh(),
        logs(&[&d2])
    );
    assert!(ping(), "the client reaches the VIP on h2");
}

#[test]
fn reload_keeps_the_master_and_a_broken_config_changes_nothing() {
    let Some((seg, d1, d2)) =
        elected_pair("reload_keeps_the_master_and_a_broken_config_changes_nothing")
    else {
        return;
    };
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    // Watch the addresses with `ip monitor` during the reload: a VIP flap would show as a
    // "Deleted" line even if it lasted a microsecond.
    let mut mon = std::process::Command::new("ip")
        .args(["-n", &h1.ns, "monitor", "address"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    d1.signal(Signal::SIGHUP);
    let reloaded = wait_for(Duration::from_secs(3), || {
        d1.log_text().contains("Reloading")
    });
    assert!(reloaded.is_some(), "{}", logs(&[&d1]));
    std::thread::sleep(Duration::from_millis(1000));
    let _ = mon.kill();
    let out = mon.wait_with_output().unwrap();
    let events = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !events
            .lines()
            .any(|l| l.contains("Deleted") && l.contains(VIP)),
        "reload of an unchanged configuration made the VIP flap:\n{events}"
    );
    // A broken configuration: refused, the running one stays.
    h1.write(
        "kaconsole.conf",
        "vrrp_instance VI_1 {\n    priority 500\n}\n",
    );
    d1.signal(Signal::SIGHUP);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        h1.has_address(VIP) && !h2.has_address(VIP),
        "{}",
        logs(&[&d1, &d2])
    );
    assert!(d1.log_text().contains("reload refused"), "{}", logs(&[&d1]));
}

#[test]
fn v3_fast_adverts_fail_over_in_a_third_of_a_second() {
    if !common::require_root("v3_fast_adverts_fail_over_in_a_third_of_a_second") {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let extra = "    version 3\n    advert_int 0.1\n";
    let mut d1 = start(h1, &config(150, extra));
    let d2 = start(h2, &config(100, extra));
    master_within(h1, 3).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    d1.stop_with(Signal::SIGKILL);
    let t = master_within(h2, 2).unwrap_or_else(|| panic!("{}", logs(&[&d2])));
    assert!(
        t < Duration::from_millis(361 + 150),
        "v3 0.1 s: Master_Down_Interval is 0.361 s; took {t:?}"
    );
}

#[test]
fn track_script_weight_moves_the_vip() {
    if !common::require_root("track_script_weight_moves_the_vip") {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let flag = h1.dir.join("healthy");
    let script = format!(
        "vrrp_script chk {{\n    script \"/usr/bin/test -e {}\"\n    interval 1\n    weight 60\n    fall 2\n}}\n",
        flag.display()
    );
    let conf = script + &config(100, "    track_script {\n        chk\n    }\n");
    let d1 = start(h1, &conf);
    let d2 = start(h2, &config(130, ""));
    master_within(h2, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    // The check passes: 100 + 60 = 160 > 130, h1 discards h2's adverts and takes over.
    std::fs::write(&flag, "").unwrap();
    let t = master_within(h1, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    assert!(wait_for(Duration::from_secs(2), || !h2.has_address(VIP)).is_some());
    assert!(
        t > Duration::from_secs(2),
        "the takeover waits for the master's adverts to stop counting"
    );
    assert!(
        d1.log_text()
            .contains("Changing effective priority from 100 to 160"),
        "{}",
        logs(&[&d1])
    );
    // It fails twice (fall 2): back to 100, h2 preempts.
    std::fs::remove_file(&flag).unwrap();
    master_within(h2, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    assert!(wait_for(Duration::from_secs(2), || !h1.has_address(VIP)).is_some());
    assert!(
        d1.log_text().contains("VRRP_Script(chk) failed"),
        "{}",
        logs(&[&d1])
    );
}

#[test]
fn interface_down_is_fault_and_back_up_is_backup() {
    let Some((seg, d1, d2)) = elected_pair("interface_down_is_fault_and_back_up_is_backup") else {
        return;
    };
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    assert!(
        h1.run("ip", &["link", "set", "eth0", "down"])
            .status
            .success()
    );
    master_within(h2, 6).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    let fault = wait_for(Duration::from_secs(2), || {
        d1.log_text().contains("(VI_1) Entering FAULT STATE")
    });
    assert!(fault.is_some(), "{}", logs(&[&d1]));
    assert!(!h1.has_address(VIP), "a FAULT instance releases its VIP");
    assert!(
        h1.run("ip", &["link", "set", "eth0", "up"])
            .status
            .success()
    );
    // Back as BACKUP, then it preempts (Master_Down_Interval after its recovery).
    master_within(h1, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    assert!(wait_for(Duration::from_secs(2), || !h2.has_address(VIP)).is_some());
}

#[test]
fn notify_scripts_and_fifo_lines() {
    if !common::require_root("notify_scripts_and_fifo_lines") {
        return;
    }
    let seg = Segment::new(1);
    let h1 = &seg.hosts[0];
    let out = h1.dir.join("notify.out");
    let script = h1.write(
        "notify.sh",
        &format!("#!/bin/sh\necho \"$@\" >> {}\n", out.display()),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let master_flag = h1.dir.join("master.flag");
    let fifo = h1.dir.join("notify.fifo");
    let conf = format!(
        "global_defs {{\n    notify_fifo {}\n}}\n{}",
        fifo.display(),
        config(
            150,
            &format!(
                "    notify {}\n    notify_master \"/usr/bin/touch {}\"\n",
                script.display(),
                master_flag.display()
            )
        )
    );
    let mut d1 = start(h1, &conf);
    master_within(h1, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1])));
    let notified = wait_for(Duration::from_secs(2), || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.contains("MASTER"))
    });
    assert!(notified.is_some(), "{}", logs(&[&d1]));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "INSTANCE VI_1 BACKUP 150\nINSTANCE VI_1 MASTER 150\n",
        "keepalived's notify arguments: TYPE NAME STATE PRIORITY"
    );
    assert!(master_flag.exists(), "notify_master ran");
    // The FIFO holds what was written while the daemon keeps it open.
    let lines = common::read_fifo(&fifo);
    d1.stop_with(Signal::SIGTERM);
    assert!(
        lines.starts_with("INSTANCE \"VI_1\" BACKUP 150\nINSTANCE \"VI_1\" MASTER 150\n"),
        "keepalived's FIFO lines: {lines:?}"
    );
}

#[test]
fn virtual_routes_follow_the_master_and_stale_vips_are_removed_at_start() {
    if !common::require_root("virtual_routes_follow_the_master_and_stale_vips_are_removed_at_start")
    {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    // A VIP left behind on h2 by an earlier, SIGKILLed run.
    assert!(
        h2.run("ip", &["addr", "add", &format!("{VIP}/24"), "dev", "eth0"])
            .status
            .success()
    );
    let routes = "    virtual_routes {\n        10.88.0.0/24 via 10.77.0.254 dev eth0 mtu lock 1400 initcwnd 20\n        10.89.0.0/24 nexthop via 10.77.0.253 dev eth0 weight 2 nexthop via 10.77.0.252 dev eth0\n    }\n    virtual_rules {\n        from 10.77.0.100 table 100\n    }\n";
    let multipath = |h: &Host| {
        let o = h.run("ip", &["route", "show", "10.89.0.0/24"]);
        let t = String::from_utf8_lossy(&o.stdout).into_owned();
        t.contains("nexthop via 10.77.0.253 dev eth0 weight 2")
            && t.contains("nexthop via 10.77.0.252 dev eth0 weight 1")
    };
    let rule = |h: &Host| {
        let o = h.run("ip", &["rule", "show"]);
        String::from_utf8_lossy(&o.stdout).contains("from 10.77.0.100 lookup 100")
    };
    let route = |h: &Host| {
        let o = h.run("ip", &["route", "show", "10.88.0.0/24"]);
        let t = String::from_utf8_lossy(&o.stdout).into_owned();
        t.contains("via 10.77.0.254") && t.contains("mtu lock 1400") && t.contains("initcwnd 20")
    };
    let mut d1 = start(h1, &config(150, routes));
    let d2 = start(h2, &config(100, routes));
    let cleaned = wait_for(Duration::from_secs(2), || !h2.has_address(VIP));
    assert!(
        cleaned.is_some(),
        "the stale VIP is removed at start\n{}",
        logs(&[&d2])
    );
    master_within(h1, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    assert!(
        wait_for(Duration::from_secs(1), || route(h1)).is_some() && !route(h2),
        "the virtual route is on the master only\n{}",
        logs(&[&d1, &d2])
    );
    assert!(
        rule(h1) && !rule(h2),
        "the virtual rule is on the master only\n{}",
        logs(&[&d1, &d2])
    );
    assert!(
        multipath(h1),
        "a multipath virtual route\n{}",
        String::from_utf8_lossy(&h1.run("ip", &["route"]).stdout)
    );
    d1.stop_with(Signal::SIGTERM);
    assert!(!route(h1), "a stopped master removes its routes");
    assert!(!rule(h1), "and its rules");
    master_within(h2, 3).unwrap_or_else(|| panic!("{}", logs(&[&d2])));
    assert!(
        wait_for(Duration::from_secs(1), || route(h2)).is_some(),
        "{}",
        logs(&[&d2])
    );
}

#[test]
fn track_file_weight_and_fault() {
    if !common::require_root("track_file_weight_and_fault") {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let file = h1.dir.join("prio");
    let conf = format!(
        "track_file offset {{\n    file {}\n    weight 1\n}}\n{}",
        file.display(),
        config(100, "    track_file {\n        offset\n    }\n")
    );
    let d1 = start(h1, &conf);
    let d2 = start(h2, &config(130, ""));
    master_within(h2, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    // 100 + 60 x 1 = 160: h1 preempts.
    std::fs::write(&file, "60\n").unwrap();
    master_within(h1, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    assert!(
        d1.log_text()
            .contains("Changing effective priority from 100 to 160")
    );
    // -254 or less is FAULT (keepalived track_file.c).
    std::fs::write(&file, "-254\n").unwrap();
    let fault = wait_for(Duration::from_secs(3), || {
        d1.log_text().contains("(VI_1) Entering FAULT STATE")
    });
    assert!(fault.is_some(), "{}", logs(&[&d1]));
    assert!(wait_for(Duration::from_secs(2), || !h1.has_address(VIP)).is_some());
}

#[test]
fn static_addresses_and_sd_notify() {
    if !common::require_root("static_addresses_and_sd_notify") {
        return;
    }
    let seg = Segment::new(1);
    let h1 = &seg.hosts[0];
    let sock_path = h1.dir.join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let conf = format!(
        "static_ipaddress {{\n    10.99.9.9/32 dev eth0\n}}\n{}",
        config(100, "")
    );
    let mut d = common::start_kaconsole(
        h1,
        &conf,
        &[],
        &[("NOTIFY_SOCKET", sock_path.to_str().unwrap())],
    );
    let next = || {
        let mut buf = [0u8; 64];
        let n = sock.recv(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(
        next(),
        "READY=1",
        "sd_notify READY once running\n{}",
        logs(&[&d])
    );
    assert!(
        h1.has_address("10.99.9.9"),
        "static_ipaddress is set whatever the state"
    );
    d.signal(Signal::SIGHUP);
    assert_eq!(next(), "RELOADING=1");
    assert_eq!(next(), "READY=1");
    d.signal(Signal::SIGTERM);
    assert_eq!(next(), "STOPPING=1");
    assert_eq!(d.stop_with(Signal::SIGTERM), Some(0));
    assert!(!h1.has_address("10.99.9.9"), "and removed at stop");
}

#[test]
fn use_vmac_moves_the_virtual_mac_with_the_vip() {
    let test = "use_vmac_moves_the_virtual_mac_with_the_vip";
    if !common::require_root(test) || common::require_program(test, "ping").is_none() {
        return;
    }
    let seg = Segment::new(3);
    let (h1, h2, client) = (&seg.hosts[0], &seg.hosts[1], &seg.hosts[2]);
    // arp_accept: a gratuitous ARP may create the client's entry.
    let accept = client.run(
        "sh",
        &["-c", "echo 1 > /proc/sys/net/ipv4/conf/eth0/arp_accept"],
    );
    assert!(accept.status.success());
    let mut d1 = start(h1, &config(150, "    use_vmac\n"));
    let d2 = start(h2, &config(100, "    use_vmac\n"));
    let on_vmac = |h: &Host| {
        let o = h.run("ip", &["-o", "addr", "show", "dev", "vrrp.51"]);
        String::from_utf8_lossy(&o.stdout).contains(&format!(" {VIP}/"))
    };
    let ok = wait_for(Duration::from_secs(8), || on_vmac(h1));
    assert!(ok.is_some(), "the VIP is on vrrp.51\n{}", logs(&[&d1, &d2]));
    let link = h1.run("ip", &["-d", "link", "show", "vrrp.51"]);
    let link = String::from_utf8_lossy(&link.stdout).into_owned();
    assert!(
        link.contains("00:00:5e:00:01:33"),
        "RFC 5798 §7.3 virtual MAC: {link}"
    );
    assert!(link.contains("macvlan mode private"), "{link}");
    let neigh = || {
        let o = client.run("ip", &["neigh", "show", VIP]);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // The gratuitous ARPs from the VMAC teach the client the virtual MAC.
    let learned = wait_for(Duration::from_secs(8), || {
        neigh().contains("00:00:5e:00:01:33")
    });
    assert!(
        learned.is_some(),
        "neighbour: {}\n{}",
        neigh(),
        logs(&[&d1, &d2])
    );
    // Failover: the same MAC, now on h2; the client needs no new ARP.
    d1.stop_with(Signal::SIGTERM);
    let gone = h1.run("ip", &["link", "show", "vrrp.51"]);
    assert!(gone.stdout.is_empty(), "the VMAC is removed at stop");
    assert!(
        wait_for(Duration::from_secs(3), || on_vmac(h2)).is_some(),
        "{}",
        logs(&[&d2])
    );
    let ping = client.run("ping", &["-c", "1", "-W", "1", VIP]);
    assert!(
        ping.status.success(),
        "the client reaches the VIP on h2\n{}",
        logs(&[&d2])
    );
    assert!(neigh().contains("00:00:5e:00:01:33"), "{}", neigh());
}

#[test]
fn track_process_weight_follows_the_process() {
    if !common::require_root("track_process_weight_follows_the_process") {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    // A process no one else runs: sleep with an unlikely argument.
    let arg = format!(
        "{}.{}",
        7000 + std::process::id() % 1000,
        std::process::id()
    );
    let conf = format!(
        "vrrp_track_process svc {{\n    process sleep {arg}\n    weight 60\n}}\n{}",
        config(100, "    track_process {\n        svc\n    }\n")
    );
    let d1 = start(h1, &conf);
    let d2 = start(h2, &config(130, ""));
    master_within(h2, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    let mut svc = std::process::Command::new("sleep")
        .arg(&arg)
        .spawn()
        .unwrap();
    let took = master_within(h1, 8);
    let _ = svc.kill();
    let _ = svc.wait();
    took.unwrap_or_else(|| panic!("the process raised h1 to 160\n{}", logs(&[&d1, &d2])));
    assert!(
        d1.log_text()
            .contains("Changing effective priority from 100 to 160")
    );
    // Gone: back to 100, h2 preempts.
    master_within(h2, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
}

#[test]
fn a_vip_deleted_by_hand_comes_back() {
    let Some((seg, d1, d2)) = elected_pair("a_vip_deleted_by_hand_comes_back") else {
        return;
    };
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    assert!(
        h1.run("ip", &["addr", "del", &format!("{VIP}/24"), "dev", "eth0"])
            .status
            .success()
    );
    // keepalived set_vrrp_backup: priority 0, BACKUP, MASTER again after the skew (0.41 s,
    // before h2's 0.61 s), which puts the VIP back.
    let back = wait_for(Duration::from_secs(3), || h1.has_address(VIP));
    assert!(back.is_some(), "{}", logs(&[&d1, &d2]));
    assert!(
        d1.log_text().contains("was removed by someone else"),
        "{}",
        logs(&[&d1])
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        h1.has_address(VIP) && !h2.has_address(VIP),
        "{}",
        logs(&[&d1, &d2])
    );
}

/// A scripted SMTP server inside `ns` on 127.0.0.1:`port`: it accepts `mails` sessions and
/// returns each transcript (what the client sent).
fn smtp_server(ns: &str, port: u16, mails: usize) -> std::sync::mpsc::Receiver<String> {
    use std::io::{BufRead, BufReader, Write};
    let (tx, rx) = std::sync::mpsc::channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let f = std::fs::File::open(&path).unwrap();
        nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        ready_tx.send(()).unwrap();
        for _ in 0..mails {
            let Ok((s, _)) = l.accept() else { return };
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            let mut transcript = String::new();
            let _ = w.write_all(b"220 test ESMTP\r\n");
            let mut in_data = false;
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                transcript.push_str(&line);
                let reply: &[u8] = if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        b"250 queued\r\n"
                    } else {
                        b""
                    }
                } else if line.starts_with("DATA") {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if line.starts_with("QUIT") {
                    let _ = w.write_all(b"221 bye\r\n");
                    break;
                } else {
                    b"250 ok\r\n"
                };
                let _ = w.write_all(reply);
                line.clear();
            }
            let _ = tx.send(transcript);
        }
    });
    ready_rx.recv().unwrap();
    rx
}

#[test]
fn smtp_alerts_are_mailed_as_keepalived_does() {
    if !common::require_root("smtp_alerts_are_mailed_as_keepalived_does") {
        return;
    }
    let seg = Segment::new(1);
    let h1 = &seg.hosts[0];
    let mails = smtp_server(&h1.ns, 2525, 2);
    let conf = format!(
        "global_defs {{\n    router_id lb1\n    notification_email {{\n        ops@example.com\n    }}\n    notification_email_from kac@example.com\n    smtp_server 127.0.0.1 2525\n}}\n{}",
        config(150, "    smtp_alert\n")
    );
    let d1 = start(h1, &conf);
    let first = mails.recv_timeout(Duration::from_secs(5));
    let second = mails.recv_timeout(Duration::from_secs(8));
    let (first, second) = match (first, second) {
        (Ok(a), Ok(b)) => (a, b),
        _ => panic!("no mail\n{}", logs(&[&d1])),
    };
    assert!(
        first.starts_with(
            "HELO localhost\r\nMAIL FROM:<kac@example.com>\r\nRCPT TO:<ops@example.com>\r\nDATA\r\n"
        ),
        "{first}"
    );
    assert!(
        first.contains("Subject: [lb1] VRRP Instance VI_1 - Entering BACKUP state\r\nX-Mailer: Keepalived\r\nTo: ops@example.com\r\n"),
        "{first}"
    );
    assert!(
        second.contains("Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state"),
        "{second}"
    );
    assert!(
        second.contains("=> VRRP Instance is now owning VRRP VIPs <="),
        "{second}"
    );
    assert!(second.ends_with(".\r\nQUIT\r\n"), "{second}");
}

#[test]
fn a_reload_that_adds_a_script_runs_it() {
    if !common::require_root("a_reload_that_adds_a_script_runs_it") {
        return;
    }
    let seg = Segment::new(1);
    let h1 = &seg.hosts[0];
    let d1 = start(h1, &config(150, ""));
    master_within(h1, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1])));
    // A new FAULT tracker (weight 0): the instance waits for its first result, then goes on.
    let conf = format!(
        "vrrp_script chk {{\n    script \"/usr/bin/true\"\n    interval 1\n}}\n{}",
        config(150, "    track_script {\n        chk\n    }\n")
    );
    h1.write("kaconsole.conf", &conf);
    d1.signal(Signal::SIGHUP);
    let ran = wait_for(Duration::from_secs(3), || {
        d1.log_text().contains("VRRP_Script(chk) succeeded")
    });
    assert!(
        ran.is_some(),
        "the new script runs after the reload\n{}",
        logs(&[&d1])
    );
    std::thread::sleep(Duration::from_secs(5));
    assert!(h1.has_address(VIP), "not stuck in FAULT\n{}", logs(&[&d1]));
}

#[test]
fn an_instance_removed_by_a_reload_is_reported_deleted() {
    if !common::require_root("an_instance_removed_by_a_reload_is_reported_deleted") {
        return;
    }
    let seg = Segment::new(1);
    let h1 = &seg.hosts[0];
    let fifo = h1.dir.join("notify.fifo");
    let global = format!("global_defs {{\n    notify_fifo {}\n}}\n", fifo.display());
    let d1 = start(
        h1,
        &format!("{global}{}", config(150, "    notify_deleted\n")),
    );
    master_within(h1, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1])));
    let other = config(150, "")
        .replace("VI_1", "VI_2")
        .replace("virtual_router_id 51", "virtual_router_id 52")
        .replace(VIP, "10.77.0.101");
    h1.write("kaconsole.conf", &format!("{global}{other}"));
    d1.signal(Signal::SIGHUP);
    let gone = wait_for(Duration::from_secs(3), || !h1.has_address(VIP));
    assert!(
        gone.is_some(),
        "the removed MASTER releases its VIP\n{}",
        logs(&[&d1])
    );
    std::thread::sleep(Duration::from_millis(300));
    let lines = common::read_fifo(&fifo);
    assert!(
        lines.contains("INSTANCE \"VI_1\" DELETED 150\n"),
        "keepalived notify_deleted: {lines:?}"
    );
}

#[test]
fn nopreempt_and_preempt_delay_on_the_wire() {
    if !common::require_root("nopreempt_and_preempt_delay_on_the_wire") {
        return;
    }
    let seg = Segment::new(3);
    let (h1, h2, h3) = (&seg.hosts[0], &seg.hosts[1], &seg.hosts[2]);
    // h3 (100) is MASTER alone; h1 (150, nopreempt) and h2 (150, preempt_delay 3) arrive.
    let d3 = start(h3, &config(100, ""));
    master_within(h3, 8).unwrap_or_else(|| panic!("{}", logs(&[&d3])));
    let d1 = start(h1, &config(150, "    nopreempt\n"));
    // preempt_delay: h2 accepts h3's lower adverts for 3 s, then waits its Master_Down_Interval.
    let d2 = start(h2, &config(140, "    preempt_delay 3\n"));
    let t = master_within(h2, 12).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2, &d3])));
    assert!(
        t > Duration::from_millis(3000 + 2500),
        "preempt_delay 3 s + Master_Down_Interval before preempting; took {t:?}"
    );
    assert!(wait_for(Duration::from_secs(2), || !h3.has_address(VIP)).is_some());
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !h1.has_address(VIP),
        "nopreempt: h1 (150) never takes over a live master\n{}",
        logs(&[&d1, &d2, &d3])
    );
}

#[test]
fn vmac_xmit_base_and_preferred_lft() {
    if !common::require_root("vmac_xmit_base_and_preferred_lft") {
        return;
    }
    let seg = Segment::new(1);
    let h1 = &seg.hosts[0];
    let conf = config(150, "    use_vmac\n    vmac_xmit_base\n")
        .replace(&format!("{VIP}/24"), &format!("{VIP}/24 preferred_lft 0"));
    let d1 = start(h1, &conf);
    let on_vmac = wait_for(Duration::from_secs(8), || {
        let o = h1.run("ip", &["-o", "addr", "show", "dev", "vrrp.51"]);
        String::from_utf8_lossy(&o.stdout).contains(&format!(" {VIP}/"))
    });
    assert!(
        on_vmac.is_some(),
        "vmac_xmit_base: the VIP is still on the VMAC\n{}",
        logs(&[&d1])
    );
    let o = h1.run("ip", &["-o", "addr", "show", "dev", "vrrp.51"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("deprecated"),
        "preferred_lft 0 makes the VIP deprecated: {}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn log_detail_explains_transitions() {
    if !common::require_root("log_detail_explains_transitions") {
        return;
    }
    let seg = Segment::new(1);
    let h1 = &seg.hosts[0];
    let d1 = common::start_kaconsole(h1, &config(150, ""), &["-D"], &[]);
    master_within(h1, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1])));
    let detailed = wait_for(Duration::from_secs(2), || {
        d1.log_text()
            .contains("(VI_1) BACKUP -> MASTER (no advert within Master_Down_Interval)")
    });
    assert!(
        detailed.is_some(),
        "-D logs why each transition happened\n{}",
        logs(&[&d1])
    );
}

#[test]
fn a_fifo_as_track_file_and_file_check_does_not_stop_the_adverts() {
    if !common::require_root("a_fifo_as_track_file_and_file_check_does_not_stop_the_adverts") {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    // A FIFO with no writer: an ordinary open for reading waits for one, for ever.
    let fifo = h1.dir.join("prio");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let conf = format!(
        "track_file prio {{\n    file {}\n    weight 1\n}}\n{}\
         virtual_server 10.0.0.100 80 {{\n    protocol TCP\n    delay_loop 1\n    real_server 127.0.0.1 9000 {{\n        \
         FILE_CHECK {{\n            track_file prio\n        }}\n    }}\n}}\n",
        fifo.display(),
        config(150, "    track_file {\n        prio\n    }\n")
    );
    let d1 = start(h1, &conf);
    let d2 = start(h2, &config(100, ""));
    master_within(h1, 8).unwrap_or_else(|| panic!("{}", logs(&[&d1, &d2])));
    // Several reads of the FIFO later (track_file every 100 ms, FILE_CHECK every second), h1
    // still advertises: h2 stays BACKUP, and h1's control socket answers.
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        h1.has_address(VIP) && !h2.has_address(VIP),
        "{}",
        logs(&[&d1, &d2])
    );
    assert!(!d2.log_text().contains("Entering MASTER STATE"));
    let status = common::control::Client::status(&h1.socket()).expect("h1 answers");
    let rs = &status["virtual_servers"][0]["real_servers"][0];
    assert_eq!(rs["alive"], false, "{rs}");
    assert!(
        rs["last_error"]
            .as_str()
            .is_some_and(|e| e.ends_with("prio: is a FIFO, not a regular file")),
        "{rs}"
    );
    assert!(
        d1.log_text().contains("track_file prio: ")
            && d1
                .log_text()
                .contains("is a FIFO, not a regular file: read as 0"),
        "{}",
        d1.log_text()
    );
}
