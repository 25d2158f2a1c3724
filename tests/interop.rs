//! kaconsole and real keepalived on one segment, in both roles: election, failover and
//! handback for VRRPv2 without auth and with PASS, v3 over IPv4 and IPv6, and unicast; neither
//! side may reject a packet of the other. Needs root and keepalived (skipped without, unless
//! CI=true).

mod common;

use std::path::Path;
use std::time::Duration;

use common::segment::{Daemon, Host, Segment, wait_for};
use nix::sys::signal::Signal;

#[derive(Clone, Copy, Debug)]
enum Variant {
    V2,
    V2Pass,
    V3,
    V3Ipv6,
    Unicast,
}

impl Variant {
    fn vip(self) -> &'static str {
        match self {
            Variant::V3Ipv6 => "fd00:77::100",
            _ => "10.77.0.100",
        }
    }

    /// The instance block for host `me` (1 or 2) with `priority`.
    fn config(self, me: usize, priority: u8) -> String {
        let peer = 3 - me;
        let extra = match self {
            Variant::V2 => String::new(),
            Variant::V2Pass => {
                "    authentication {\n        auth_type PASS\n        auth_pass s3cret\n    }\n"
                    .into()
            }
            Variant::V3 | Variant::V3Ipv6 => "    version 3\n".into(),
            Variant::Unicast => format!(
                "    unicast_src_ip 10.77.0.{me}\n    unicast_peer {{\n        10.77.0.{peer}\n    }}\n"
            ),
        };
        let prefix = if matches!(self, Variant::V3Ipv6) {
            64
        } else {
            24
        };
        format!(
            "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority {priority}
    advert_int 1
{extra}    virtual_ipaddress {{
        {}/{prefix}
    }}
}}
",
            self.vip()
        )
    }
}

struct Peer {
    daemon: Daemon,
    keepalived: bool,
}

fn start_kaconsole(h: &Host, conf: &str) -> Peer {
    Peer {
        daemon: common::start_kaconsole(h, conf, &[], &[]),
        keepalived: false,
    }
}

fn start_keepalived(h: &Host, keepalived: &Path, conf: &str) -> Peer {
    Peer {
        daemon: common::start_keepalived(h, keepalived, conf, &[]),
        keepalived: true,
    }
}

/// kaconsole on host 1 and keepalived on host 2, each with its configuration (each alone on
/// its VRID) and its own `$TMPDIR` (its host's directory) for the dumps; `None` when skipped.
fn dump_pair(test: &str, kc_conf: &str, ka_conf: &str) -> Option<(Segment, Daemon, Daemon)> {
    if !common::require_root(test) {
        return None;
    }
    let keepalived = common::require_program(test, "keepalived")?;
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let (tmp1, tmp2) = (h1.dir.display().to_string(), h2.dir.display().to_string());
    let kc = common::start_kaconsole(h1, kc_conf, &[], &[("TMPDIR", &tmp1)]);
    let ka = common::start_keepalived(h2, &keepalived, ka_conf, &[("TMPDIR", &tmp2)]);
    // Both become MASTER of their VRID.
    std::thread::sleep(Duration::from_secs(5));
    Some((seg, kc, ka))
}

/// The instance block of a dump pair's daemon, alone on `vrid`.
fn dump_conf(vrid: u8) -> String {
    Variant::V2
        .config(1, 150)
        .replace("virtual_router_id 61", &format!("virtual_router_id {vrid}"))
}

/// Asks both daemons of a dump pair for the dump signal number `signo` triggers and reads
/// `file` from each host's `$TMPDIR`: (kaconsole's, keepalived's).
fn request_dumps(seg: &Segment, kc: &Daemon, signo: i32, file: &str) -> (String, String) {
    send_signal(
        host_pids(&seg.hosts[1]).into_iter().chain([kc.pid()]),
        signo,
    );
    let read = |h: &Host| {
        let p = h.dir.join(file);
        wait_for(Duration::from_secs(3), || p.exists());
        std::thread::sleep(Duration::from_millis(200));
        std::fs::read_to_string(p).unwrap_or_default()
    };
    (read(&seg.hosts[0]), read(&seg.hosts[1]))
}

/// Every process of the host's namespace (keepalived's parent and its children).
fn host_pids(h: &Host) -> Vec<i32> {
    common::segment::netns_pids(&h.ns)
}

/// Sends signal number `signo` to each pid: a number, because keepalived's JSON dump is asked
/// for with a real-time signal (SIGRTMIN + 2), which nix's `Signal` lacks.
fn send_signal(pids: impl IntoIterator<Item = i32>, signo: i32) {
    for pid in pids {
        // SAFETY: kill(2) with a plain pid and signal number.
        unsafe {
            nix::libc::kill(pid, signo);
        }
    }
}

/// Kills every process of the host without warning (keepalived's VRRP child included).
fn kill_host(h: &Host) {
    send_signal(host_pids(h), Signal::SIGKILL as i32);
}

/// What a log may not contain: a packet of the other side refused.
fn complaints(p: &Peer) -> Vec<String> {
    let words: &[&str] = if p.keepalived {
        &[
            "bogus",
            "invalid",
            "mismatch",
            "not present in MASTER advert",
            "unexpected",
            "received an invalid passwd",
            "checksum",
            "wrong version",
        ]
    } else {
        &["(from "]
    };
    p.daemon
        .log_text()
        .lines()
        .filter(|l| words.iter().any(|w| l.contains(w)))
        .map(str::to_string)
        .collect()
}

fn logs(ps: &[&Peer]) -> String {
    ps.iter()
        .map(|p| format!("--- {}\n{}", p.daemon.log.display(), p.daemon.log_text()))
        .collect()
}

/// keepalived (or kaconsole) on h1 with priority 150, the other on h2 with 100: h1 wins;
/// h1 dies, h2 takes over; h1 comes back and preempts.
fn run(variant: Variant, keepalived_first: bool) {
    let test = format!("interop {variant:?} keepalived_first={keepalived_first}");
    if !common::require_root(&test) {
        return;
    }
    let Some(keepalived) = common::require_program(&test, "keepalived") else {
        return;
    };
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let vip = variant.vip();
    let has = |h: &Host| {
        let o = h.run("ip", &["-o", "addr", "show", "dev", "eth0"]);
        String::from_utf8_lossy(&o.stdout).contains(&format!(" {vip}/"))
    };
    let launch = |h: &Host, me: usize, prio: u8, ka: bool| {
        let conf = variant.config(me, prio);
        if ka {
            start_keepalived(h, &keepalived, &conf)
        } else {
            start_kaconsole(h, &conf)
        }
    };
    let p1 = launch(h1, 1, 150, keepalived_first);
    let p2 = launch(h2, 2, 100, !keepalived_first);
    let ok = wait_for(Duration::from_secs(8), || has(h1));
    assert!(
        ok.is_some(),
        "{test}: h1 never became MASTER\n{}",
        logs(&[&p1, &p2])
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!has(h2), "{test}: two masters\n{}", logs(&[&p1, &p2]));

    // Failover: h1 dies silently.
    kill_host(h1);
    drop(p1);
    let _ = h1.run("ip", &["addr", "flush", "dev", "eth0", "to", vip]);
    let t = wait_for(Duration::from_secs(6), || has(h2));
    assert!(
        t.is_some(),
        "{test}: h2 did not take over\n{}",
        logs(&[&p2])
    );

    // Handback: h1 returns with the higher priority and preempts; h2 releases the VIP. A
    // killed keepalived's VRRP child outlives its parent for a moment, and a new keepalived
    // refuses to start while it runs ("daemon is already running"): wait for it to go.
    let _ = wait_for(Duration::from_secs(5), || {
        common::segment::netns_pids(&h1.ns).is_empty()
    });
    // Its pid files stay behind, and on a busy machine another process may have taken one
    // of those pids by now: keepalived would take it for itself running. They are stale.
    for stale in ["keepalived.pid", "vrrp.pid"] {
        let _ = std::fs::remove_file(h1.dir.join(stale));
    }
    let p1 = launch(h1, 1, 150, keepalived_first);
    let back = wait_for(Duration::from_secs(8), || has(h1) && !has(h2));
    assert!(back.is_some(), "{test}: no handback\n{}", logs(&[&p1, &p2]));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        has(h1) && !has(h2),
        "{test}: not stable after handback\n{}",
        logs(&[&p1, &p2])
    );
    if std::env::var_os("KACONSOLE_TEST_LOGS").is_some() {
        println!("{test}\n{}", logs(&[&p1, &p2]));
    }
    for p in [&p1, &p2] {
        let c = complaints(p);
        assert!(
            c.is_empty(),
            "{test}: a side refused the other's packets: {c:?}\n{}",
            logs(&[&p1, &p2])
        );
    }
}

#[test]
fn v2_keepalived_master_kaconsole_backup() {
    run(Variant::V2, true);
}

#[test]
fn v2_kaconsole_master_keepalived_backup() {
    run(Variant::V2, false);
}

#[test]
fn v2_pass_both_roles() {
    run(Variant::V2Pass, true);
    run(Variant::V2Pass, false);
}

#[test]
fn v3_ipv4_both_roles() {
    run(Variant::V3, true);
    run(Variant::V3, false);
}

#[test]
fn v3_ipv6_both_roles() {
    run(Variant::V3Ipv6, true);
    run(Variant::V3Ipv6, false);
}

#[test]
fn unicast_both_roles() {
    run(Variant::Unicast, true);
    run(Variant::Unicast, false);
}

#[test]
fn stats_file_has_keepalived_s_layout() {
    let test = "stats_file_has_keepalived_s_layout";
    let Some((seg, kc, ka)) = dump_pair(test, &dump_conf(71), &dump_conf(72)) else {
        return;
    };
    let (ours, theirs) = request_dumps(&seg, &kc, Signal::SIGUSR2 as i32, "keepalived.stats");
    let mask = |t: &str| -> String {
        t.lines()
            .map(|l| {
                l.trim_end_matches(|c: char| c.is_ascii_digit())
                    .replace("VI_1", "VI")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        !theirs.is_empty(),
        "keepalived wrote no stats\n{}",
        ka.log_text()
    );
    assert_eq!(
        mask(&ours),
        mask(&theirs),
        "the same layout as keepalived 2.2.7"
    );
    assert!(ours.contains("  Became master: 1\n"), "{ours}");
    drop(kc);
}

#[test]
fn json_dump_has_keepalived_s_keys_and_values() {
    let test = "json_dump_has_keepalived_s_keys_and_values";
    let conf = |vrid: u8| {
        format!(
            "vrrp_script chk {{\n    script \"/usr/bin/true\"\n    interval 1\n}}\n{}",
            dump_conf(vrid).replace(
                    "    advert_int 1\n",
                    "    advert_int 1\n    notify_master \"/usr/bin/true master\"\n    track_script {\n        chk\n    }\n    track_interface {\n        lo\n    }\n    authentication {\n        auth_type PASS\n        auth_pass s3cret\n    }\n    virtual_routes {\n        10.88.0.0/24 via 10.77.0.254 dev eth0\n    }\n    virtual_rules {\n        from 10.77.0.100 table 100\n    }\n"
                )
        )
    };
    let Some((seg, kc, _ka)) = dump_pair(test, &conf(81), &conf(82)) else {
        return;
    };
    // keepalived's JSON signal is SIGRTMIN + 2.
    let (ours, theirs) = request_dumps(&seg, &kc, nix::libc::SIGRTMIN() + 2, "keepalived.json");
    let parse = |t: &str| -> serde_json::Value { serde_json::from_str(t).unwrap_or_default() };
    let (ours, theirs) = (parse(&ours), parse(&theirs));
    let keys = |v: &serde_json::Value, part: &str| -> Vec<String> {
        v[0][part]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert!(
        !keys(&theirs, "data").is_empty(),
        "keepalived wrote no JSON"
    );
    let mut ours_keys = keys(&ours, "data");
    let mut theirs_keys = keys(&theirs, "data");
    ours_keys.sort();
    theirs_keys.sort();
    assert_eq!(ours_keys, theirs_keys, "the same keys as keepalived 2.2.7");
    assert_eq!(keys(&ours, "stats").len(), keys(&theirs, "stats").len());
    for k in [
        "iname",
        "base_priority",
        "effective_priority",
        "state",
        "wantstate",
        "version",
        "vipset",
        "adver_int",
        "master_adver_int",
        "garp_delay",
        "garp_rep",
        "accept",
        "nopreempt",
        "auth_type",
        "vips",
        "script_master",
        "track_script",
        "ifp_ifname",
        "vmac_ifname",
        "master_priority",
        "vroutes",
        "vrules",
        "track_ifp",
        "auth_data",
    ] {
        assert_eq!(ours[0]["data"][k], theirs[0]["data"][k], "data.{k}");
    }
    assert_eq!(
        (
            ours[0]["data"]["vrid"].as_u64(),
            theirs[0]["data"]["vrid"].as_u64()
        ),
        (Some(81), Some(82))
    );
    assert_eq!(ours[0]["stats"]["become_master"], 1);
}

#[test]
fn data_dump_uses_keepalived_s_labels_and_values() {
    let test = "data_dump_uses_keepalived_s_labels_and_values";
    let Some((seg, kc, _ka)) = dump_pair(test, &dump_conf(91), &dump_conf(92)) else {
        return;
    };
    let (ours, theirs) = request_dumps(&seg, &kc, Signal::SIGUSR1 as i32, "keepalived.data");
    assert!(!theirs.is_empty(), "keepalived wrote no data dump");
    // Every line of ours is in keepalived's dump under the same label; most have its value.
    let label = |l: &str| l.split(" = ").next().unwrap_or(l).to_string();
    let theirs_lines: Vec<&str> = theirs.lines().collect();
    let differ_by_host = [
        "Router ID",
        "   Virtual Router ID",
        "   Using src_ip",
        "   Last transition",
    ];
    // The interface section describes each namespace's own interfaces: labels only.
    let mut in_interfaces = false;
    for line in ours.lines() {
        in_interfaces |= line == "------< Interfaces >------";
        let l = label(line);
        let found = theirs_lines.iter().find(|t| label(t) == l);
        assert!(
            found.is_some(),
            "keepalived has no line '{l}'\nours:\n{ours}\ntheirs:\n{theirs}"
        );
        let host_specific = differ_by_host
            .iter()
            .any(|d| l.trim_start() == d.trim_start());
        if !in_interfaces && !host_specific && !line.starts_with("     ") {
            assert_eq!(Some(&line), found, "the line '{l}'");
        }
    }
    assert!(ours.contains(" Name = eth0\n"), "{ours}");
}
