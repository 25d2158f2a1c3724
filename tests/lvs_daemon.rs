//! The daemon's checkers on a host without IPVS (check-only mode): real servers in a network
//! namespace, their state over the control socket, keepalived's FIFO lines, and the
//! notify_up/notify_down and quorum scripts.

mod common;

use std::time::Duration;

use common::control::Client;
use common::segment::{Segment, wait_for};
use nix::sys::signal::Signal;

/// The real servers' alive flags and the quorum, from the control socket.
fn lvs_state(socket: &std::path::Path) -> Option<(Vec<bool>, bool, String)> {
    let s = Client::status(socket)?;
    let vs = s["virtual_servers"].get(0)?;
    let alive = vs["real_servers"]
        .as_array()?
        .iter()
        .map(|r| r["alive"].as_bool().unwrap_or(false))
        .collect();
    Some((
        alive,
        vs["quorum_up"].as_bool()?,
        s["lvs_mode"].as_str().unwrap_or("").to_string(),
    ))
}

#[test]
fn checkers_run_without_ipvs_and_report_fifo_lines_and_scripts() {
    if !common::require_root("checkers_run_without_ipvs_and_report_fifo_lines_and_scripts") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    // Real server 1 answers HTTP on 127.0.0.1:8081; real server 2 (8082) is not there yet.
    let mut web1 = h.spawn(
        &common::kaconsole(),
        &["lab", "--serve-http", "127.0.0.1:8081", "--name", "web1"],
        "web1.log",
    );
    let events = h.dir.join("events");
    let fifo = h.dir.join("lvs.fifo");
    let script = h.write(
        "note.sh",
        &format!("#!/bin/sh\necho \"$*\" >> {}\n", events.display()),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let s = script.display();
    let rs = |port: u16| {
        format!(
            "    real_server 127.0.0.1 {port} {{
        weight 2
        notify_up \"{s} up {port}\"
        notify_down \"{s} down {port}\"
        HTTP_GET {{
            url {{
                path /
            }}
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }}
    }}
"
        )
    };
    let conf = format!(
        "global_defs {{
    lvs_notify_fifo {}
}}
virtual_server 10.0.0.100 80 {{
    protocol TCP
    lvs_sched rr
    delay_loop 1
    quorum 4
    omega
    quorum_up \"{s} quorum-up\"
    quorum_down \"{s} quorum-down\"
{}{}}}
",
        fifo.display(),
        rs(8081),
        rs(8082)
    );
    let mut d = common::start_kaconsole(h, &conf, &[], &[]);
    let socket = h.socket();
    // Without alpha both start alive (weight 4 = quorum); 8082 fails its probe, its retry,
    // and is down: the quorum is lost.
    let down = wait_for(Duration::from_secs(10), || {
        lvs_state(&socket).is_some_and(|(a, q, _)| a == [true, false] && !q)
    });
    assert!(down.is_some(), "{:?}\n{}", lvs_state(&socket), d.log_text());
    let (_, _, mode) = lvs_state(&socket).unwrap();
    assert_eq!(mode, "check-only");
    assert!(
        d.log_text().contains("check-only mode"),
        "one clear line says IPVS is not there: {}",
        d.log_text()
    );
    let status = Client::status(&socket).unwrap();
    let rs2 = &status["virtual_servers"][0]["real_servers"][1];
    assert!(
        rs2["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("connection failed"),
        "{rs2}"
    );
    assert_eq!(rs2["checker"], "HTTP_GET");
    // A reload keeps the state of unchanged checkers (keepalived migrate_checkers): 8082
    // stays down, where a fresh start would have it alive (no alpha).
    d.signal(Signal::SIGHUP);
    let reloaded = wait_for(Duration::from_secs(5), || {
        d.log_text().contains("Reloading")
    });
    assert!(reloaded.is_some(), "{}", d.log_text());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        lvs_state(&socket).map(|s| (s.0, s.1)),
        Some((vec![true, false], false)),
        "{}",
        d.log_text()
    );
    // Real server 2 comes up: one success is enough, and the quorum is back.
    let mut web2 = h.spawn(
        &common::kaconsole(),
        &["lab", "--serve-http", "127.0.0.1:8082", "--name", "web2"],
        "web2.log",
    );
    let up = wait_for(Duration::from_secs(5), || {
        lvs_state(&socket).is_some_and(|(a, q, _)| a == [true, true] && q)
    });
    assert!(up.is_some(), "{:?}\n{}", lvs_state(&socket), d.log_text());
    // All four scripts have written (they run concurrently: quorum-up may come before up).
    let lines = wait_for(Duration::from_secs(3), || {
        std::fs::read_to_string(&events).is_ok_and(|t| t.lines().count() == 4)
    });
    assert!(lines.is_some(), "{}", d.log_text());
    // Each script is a process of its own, started without waiting for the one before (as
    // keepalived's notify_exec): their lines may land in any order; the FIFO keeps the order.
    let mut ran: Vec<String> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    ran.sort();
    assert_eq!(
        ran,
        ["down 8082", "quorum-down", "quorum-up", "up 8082"],
        "no notifies for the start (as keepalived without rs_init_notifies); then \
         notify_down, quorum_down, notify_up, quorum_up"
    );
    // The daemon's end of the FIFO closes with it: hold one open to read what it wrote.
    let mut reader = common::open_fifo(&fifo);
    d.stop_with(Signal::SIGTERM);
    // omega: stopping takes every real server down, with its notify_down and FIFO line.
    let stopped = wait_for(Duration::from_secs(3), || {
        std::fs::read_to_string(&events).is_ok_and(|t| t.lines().count() == 7)
    });
    assert!(
        stopped.is_some(),
        "{}",
        std::fs::read_to_string(&events).unwrap()
    );
    let mut fifo_text = String::new();
    let _ = std::io::Read::read_to_string(&mut reader, &mut fifo_text);
    web1.stop_with(Signal::SIGTERM);
    web2.stop_with(Signal::SIGTERM);
    assert_eq!(
        fifo_text,
        "RS [127.0.0.1]:tcp:8082 [10.0.0.100]:tcp:80 DOWN\n\
         VS [10.0.0.100]:tcp:80 DOWN\n\
         RS [127.0.0.1]:tcp:8082 [10.0.0.100]:tcp:80 UP\n\
         VS [10.0.0.100]:tcp:80 UP\n\
         RS [127.0.0.1]:tcp:8081 [10.0.0.100]:tcp:80 DOWN\n\
         RS [127.0.0.1]:tcp:8082 [10.0.0.100]:tcp:80 DOWN\n\
         VS [10.0.0.100]:tcp:80 DOWN\n",
        "keepalived's lines (ipwrapper.c notify_fifo_rs / notify_fifo_vs)"
    );
}

#[test]
fn ha_suspend_runs_the_checkers_only_while_the_address_is_here() {
    if !common::require_root("ha_suspend_runs_the_checkers_only_while_the_address_is_here") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let probes = h.dir.join("probes");
    let conf = format!(
        "virtual_server 10.66.0.1 80 {{
    protocol TCP
    delay_loop 1
    ha_suspend
    real_server 127.0.0.1 8081 {{
        alpha
        MISC_CHECK {{
            misc_path \"/bin/sh -c 'echo x >> {}'\"
        }}
    }}
}}
",
        probes.display()
    );
    let mut d = common::start_kaconsole(h, &conf, &[], &[]);
    let socket = h.socket();
    let suspended = |want: bool| {
        wait_for(Duration::from_secs(5), || {
            Client::status(&socket).is_some_and(|s| s["virtual_servers"][0]["suspended"] == want)
        })
    };
    assert!(suspended(true).is_some(), "{}", d.log_text());
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!probes.exists(), "no probe while 10.66.0.1 is elsewhere");
    // The address arrives (as a VIP would on becoming MASTER): the checker runs.
    assert!(
        h.run("ip", &["addr", "add", "10.66.0.1/32", "dev", "lo"])
            .status
            .success()
    );
    assert!(suspended(false).is_some(), "{}", d.log_text());
    let alive = wait_for(Duration::from_secs(5), || {
        lvs_state(&socket).is_some_and(|(a, _, _)| a == [true])
    });
    assert!(alive.is_some(), "{}", d.log_text());
    // It leaves: suspended again, the real server keeps its state.
    assert!(
        h.run("ip", &["addr", "del", "10.66.0.1/32", "dev", "lo"])
            .status
            .success()
    );
    assert!(suspended(true).is_some(), "{}", d.log_text());
    assert_eq!(lvs_state(&socket).map(|s| s.0), Some(vec![true]));
    let log = d.log_text();
    d.stop_with(Signal::SIGTERM);
    assert!(
        log.contains(
            "Activating healthchecker for service [127.0.0.1]:tcp:8081 for VS [10.66.0.1]:tcp:80"
        ) && log.contains("Suspending healthchecker for service [127.0.0.1]:tcp:8081"),
        "keepalived's words: {log}"
    );
}

/// What a hostile server sends on each connection: `head`, then `fill` over and over up to
/// `limit` bytes, then `tail` (and closes) or, without one, it holds the connection open.
struct Endless {
    port: u16,
    head: &'static [u8],
    fill: &'static [u8],
    limit: usize,
    tail: Option<&'static [u8]>,
}

/// Starts `servers` on 127.0.0.1 inside network namespace `ns`.
fn endless_servers(ns: &str, servers: Vec<Endless>) {
    use std::io::{Read, Write};
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let n = servers.len();
    for s in servers {
        let (path, ready) = (format!("/run/netns/{ns}"), ready_tx.clone());
        std::thread::spawn(move || {
            let f = std::fs::File::open(&path).unwrap();
            nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let l = std::net::TcpListener::bind(("127.0.0.1", s.port)).unwrap();
            ready.send(()).unwrap();
            let s = std::sync::Arc::new(s);
            for c in l.incoming() {
                let (Ok(mut c), s) = (c, s.clone()) else {
                    return;
                };
                std::thread::spawn(move || {
                    let chunk: Vec<u8> = s.fill.iter().copied().cycle().take(1 << 16).collect();
                    let mut sent = c.write_all(s.head).map(|_| 0);
                    while let Ok(n) = sent
                        && n < s.limit
                    {
                        sent = c.write_all(&chunk).map(|_| n + chunk.len());
                    }
                    match s.tail {
                        Some(t) => {
                            let _ = c.write_all(t);
                        }
                        // Held open until the client goes.
                        None => while matches!(c.read(&mut [0u8; 4096]), Ok(1..)) {},
                    }
                });
            }
        });
    }
    for _ in 0..n {
        ready_rx.recv().unwrap();
    }
}

/// The daemon's peak RSS in kB (VmHWM).
fn peak_rss_kb(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn servers_that_never_end_a_line_cost_a_few_hundred_bytes_and_fail_their_check() {
    if !common::require_root("servers_that_never_end_a_line_cost_a_few_hundred_bytes") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    const MB: usize = 1 << 20;
    let hostile = |port, head, fill, limit, tail| Endless {
        port,
        head,
        fill,
        limit,
        tail,
    };
    endless_servers(
        &h.ns,
        vec![
            // SMTP without a newline (the checker and the alert client both talk to it).
            hostile(9101, b"220", b"0", 64 * MB, None),
            // An 8 MiB status line, then the end of a header.
            hostile(9102, b"HTTP/1.0 2", b"0", 8 * MB, Some(b"\r\n\r\n")),
            // Header lines that never end.
            hostile(9103, b"HTTP/1.0 200 OK\r\n", b"X-A: b\r\n", 64 * MB, None),
            // A body that never ends.
            hostile(9104, b"HTTP/1.0 200 OK\r\n\r\n", b"x", 64 * MB, None),
        ],
    );
    let rs = |port: u16, check: &str| {
        format!(
            "    real_server 127.0.0.1 {port} {{\n        {check} {{\n{}            connect_timeout 3\n            retry 0\n        }}\n    }}\n",
            if check == "HTTP_GET" {
                "            url {\n                path /\n            }\n"
            } else {
                ""
            }
        )
    };
    let conf = format!(
        "global_defs {{
    notification_email {{
        ops@example.com
    }}
    smtp_server 127.0.0.1 9101
    smtp_connect_timeout 3
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    smtp_alert
    virtual_ipaddress {{
        10.77.0.100/24
    }}
}}
virtual_server 10.0.0.100 80 {{
    protocol TCP
    delay_loop 1
{}{}{}{}}}
",
        rs(9101, "SMTP_CHECK"),
        rs(9102, "HTTP_GET"),
        rs(9103, "HTTP_GET"),
        rs(9104, "HTTP_GET"),
    );
    let d = common::start_kaconsole(h, &conf, &[], &[]);
    let socket = h.socket();
    let errors = || -> Option<Vec<String>> {
        let s = Client::status(&socket)?;
        s["virtual_servers"][0]["real_servers"]
            .as_array()?
            .iter()
            .map(|r| r["last_error"].as_str().map(str::to_string))
            .collect()
    };
    let failed = wait_for(Duration::from_secs(15), || {
        errors().is_some_and(|e| e.len() == 4)
            && lvs_state(&socket).is_some_and(|s| s.0 == [false; 4])
    });
    let peak = peak_rss_kb(d.pid());
    let seen: Vec<String> = errors()
        .unwrap_or_default()
        .iter()
        .map(|e| e.chars().take(300).collect())
        .collect();
    assert!(failed.is_some(), "{seen:?}\n{:.3000}", d.log_text());
    for (e, why) in seen.iter().zip([
        "a line longer than 512 bytes",
        "a status line longer than 512 bytes",
        "a response header longer than 4096 bytes",
        "a body longer than 16 MiB",
    ]) {
        assert!(e.contains(why) && e.len() <= 256, "{why}: {e}");
    }
    // The alert client meets the same SMTP server when VI_1 enters BACKUP.
    let alert = wait_for(Duration::from_secs(5), || {
        d.log_text()
            .contains("failed: greeting: a reply line longer than 512 bytes")
    });
    assert!(alert.is_some(), "{:.3000}", d.log_text());
    let peak = peak.max(peak_rss_kb(d.pid()));
    eprintln!("the daemon's peak RSS: {peak} kB");
    assert!(peak < 64 * 1024, "the daemon's peak RSS was {peak} kB");
}
