//! The commands for scripts against real daemons in network namespaces: `kaconsole status`,
//! `reload` and `events`, with their exit statuses. Needs root.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::segment::{Segment, wait_for};
use serde_json::Value;

const CONF: &str = "vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
    }
}
";

fn kac(args: &[&str], sock: &Path) -> Output {
    Command::new(common::kaconsole())
        .args(args)
        .arg("--socket")
        .arg(sock)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn status_without_a_daemon_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nobody.sock");
    for cmd in ["status", "reload", "events"] {
        let o = kac(&[cmd], &sock);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("no daemon answers"),
            "{}",
            text(&o)
        );
    }
}

#[test]
fn status_reload_and_events_against_a_daemon() {
    if !common::require_root("status_reload_and_events_against_a_daemon") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let d = common::start_kaconsole(h, CONF, &[], &[]);
    let sock = h.socket();

    // MASTER once elected: exit 0, the table names it, --json is the status object.
    let master = wait_for(Duration::from_secs(10), || {
        let o = kac(&["status"], &sock);
        o.status.code() == Some(0)
            && String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.starts_with("VI_1") && l.contains(" MASTER "))
    });
    assert!(master.is_some(), "{}", d.log_text());
    let o = kac(&["status"], &sock);
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out.lines().find(|l| l.starts_with("VI_1")).unwrap();
    assert!(
        line.contains("eth0") && line.contains("51") && line.contains("150/150"),
        "{out}"
    );
    assert!(line.contains("10.77.0.100/24"), "{out}");
    let o = kac(&["status", "--json"], &sock);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["instances"][0]["state"], "MASTER", "{v}");
    assert_eq!(v["instances"][0]["effective_priority"], 150, "{v}");

    // events --follow sees what happens from now on.
    let mut follow = Command::new(common::kaconsole())
        .args(["events", "--follow", "--json", "--socket"])
        .arg(&sock)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = follow.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                return;
            }
        }
    });

    // A good reload: 0, and the new priority shows.
    h.write(
        "kaconsole.conf",
        &CONF.replace("priority 150", "priority 140"),
    );
    let o = kac(&["reload"], &sock);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&kac(&["status", "--json"], &sock).stdout).unwrap();
    assert_eq!(v["instances"][0]["base_priority"], 140, "{v}");

    // A broken one: 1, the reason printed, the running configuration kept.
    h.write(
        "kaconsole.conf",
        &CONF.replace("priority 150", "priority 500"),
    );
    let o = kac(&["reload"], &sock);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("refused") && err.contains("priority"),
        "{}",
        text(&o)
    );
    let v: Value = serde_json::from_slice(&kac(&["status", "--json"], &sock).stdout).unwrap();
    assert_eq!(v["instances"][0]["base_priority"], 140, "{v}");
    // The daemon's log: the good reload's result, and the refused one's diagnostic line by
    // line, each with its timestamp.
    let log = d.log_text();
    assert!(
        log.contains(
            "Reload done: 1 instance(s) kept, 0 added, 0 removed; 0 address(es) added, 0 removed"
        ),
        "{log}"
    );
    assert!(log.contains("WARNING: reload refused"), "{log}");
    for l in log.lines().filter(|l| !l.is_empty()) {
        assert!(
            l.starts_with("20") && l.as_bytes().get(23) == Some(&b':'),
            "a line without its timestamp: {l:?}\n{log}"
        );
    }

    // The follower saw the reload as it happened; `events` alone prints the backlog and ends.
    let mut seen = Vec::new();
    let got = wait_for(Duration::from_secs(5), || {
        seen.extend(rx.try_iter());
        seen.iter().any(|l| l.contains("Reloading"))
    });
    assert!(got.is_some(), "{seen:?}");
    for l in &seen {
        let v: Value = serde_json::from_str(l).unwrap();
        assert!(v["event"]["kind"].is_string(), "{l}");
    }
    let o = kac(&["events"], &sock);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("VI_1: BACKUP -> MASTER (no advert within Master_Down_Interval)"),
        "{out}"
    );
    assert!(out.contains("Reloading"), "{out}");

    // eth0 down: FAULT, exit 1.
    let o = h.run("ip", &["link", "set", "eth0", "down"]);
    assert!(o.status.success());
    let fault = wait_for(Duration::from_secs(10), || {
        kac(&["status"], &sock).status.code() == Some(1)
    });
    assert!(fault.is_some(), "{}", d.log_text());
    let o = kac(&["status"], &sock);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("FAULT"),
        "{}",
        text(&o)
    );

    // The daemon stops: the follower ends, status says no daemon.
    drop(d);
    let ended = wait_for(Duration::from_secs(5), || {
        follow.try_wait().ok().flatten().is_some()
    });
    if ended.is_none() {
        let _ = follow.kill();
        let _ = follow.wait();
        panic!("events --follow did not end with the daemon");
    }
    assert_eq!(kac(&["status"], &sock).status.code(), Some(2));
}
