//! `kaconsole daemon --metrics`: two daemons in network namespaces, scraped over HTTP inside
//! their namespaces; `promtool check metrics` accepts the exposition, and after a failover
//! the scraped state and counters are what `kaconsole status` says. Needs root.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::segment::{Segment, wait_for};
use serde_json::Value;

const PORT: u16 = 9650;

fn conf(priority: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        10.77.0.100/24
    }}
}}
"
    )
}

/// An HTTP GET of `path` on 127.0.0.1:PORT inside network namespace `ns`: the status line
/// and the body.
fn get(ns: &str, path: &str) -> Option<(String, String)> {
    let (ns, path) = (format!("/run/netns/{ns}"), path.to_string());
    std::thread::spawn(move || {
        let f = std::fs::File::open(&ns).ok()?;
        nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).ok()?;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", PORT)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        Some((head.lines().next()?.to_string(), body.to_string()))
    })
    .join()
    .ok()
    .flatten()
}

fn scrape(ns: &str) -> String {
    let (status, body) = get(ns, "/metrics").expect("a scrape");
    assert!(status.contains("200"), "{status}\n{body}");
    body
}

/// The value of the sample that starts with `prefix` (name and labels).
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn status(sock: &Path) -> Value {
    let o = Command::new(common::kaconsole())
        .args(["status", "--json", "--socket"])
        .arg(sock)
        .output()
        .unwrap();
    serde_json::from_slice(&o.stdout).unwrap()
}

fn promtool_check(promtool: &Path, text: &str) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success() && o.stdout.is_empty() && o.stderr.is_empty(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn metrics_pass_promtool_and_follow_a_failover() {
    if !common::require_root("metrics_pass_promtool_and_follow_a_failover") {
        return;
    }
    let Some(promtool) = common::require_program("metrics", "promtool") else {
        return;
    };
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let metrics = format!("127.0.0.1:{PORT}");
    let d1 = common::start_kaconsole(h1, &conf(150), &["--metrics", &metrics], &[]);
    let d2 = common::start_kaconsole(h2, &conf(100), &["--metrics", &metrics], &[]);
    let label = "iname=\"VI_1\",intf=\"eth0\",vrid=\"51\"";
    let state = format!("keepalived_vrrp_state{{{label},ip_address=\"10.77.0.100/24\"}}");

    // h1 MASTER, h2 BACKUP, h2 has heard a few adverts (the gaps).
    let settled = wait_for(Duration::from_secs(15), || {
        let (Some((_, m1)), Some((_, m2))) = (get(&h1.ns, "/metrics"), get(&h2.ns, "/metrics"))
        else {
            return false;
        };
        sample(&m1, &state) == Some(2.0)
            && sample(&m2, &state) == Some(1.0)
            && sample(
                &m2,
                &format!("kaconsole_vrrp_advert_gap_seconds_count{{{label}}}"),
            ) >= Some(3.0)
    });
    assert!(settled.is_some(), "{}\n{}", d1.log_text(), d2.log_text());
    let m2 = scrape(&h2.ns);
    promtool_check(&promtool, &m2);
    promtool_check(&promtool, &scrape(&h1.ns));
    // A BACKUP hears adverts every second: the gaps sit around 1 s.
    let le = |b: &str| {
        sample(
            &m2,
            &format!("kaconsole_vrrp_advert_gap_seconds_bucket{{{label},le=\"{b}\"}}"),
        )
        .unwrap()
    };
    let count = sample(
        &m2,
        &format!("kaconsole_vrrp_advert_gap_seconds_count{{{label}}}"),
    )
    .unwrap();
    assert_eq!(le("0.5"), 0.0, "{m2}");
    assert_eq!(le("1.25"), count, "{m2}");
    assert_eq!(
        sample(
            &m2,
            &format!("kaconsole_vrrp_effective_priority{{{label}}}")
        ),
        Some(100.0)
    );
    assert_eq!(sample(&m2, "keepalived_up"), Some(1.0));
    assert!(
        sample(&m2, "process_resident_memory_bytes").unwrap() > 1e6,
        "{m2}"
    );
    assert_eq!(
        sample(
            &m2,
            "kaconsole_segment_routers{vrid=\"51\",family=\"ipv4\",version=\"2\"}"
        ),
        Some(1.0),
        "{m2}"
    );

    // A scrape flood (8 scrapers without pause for 4 s) is served from the shared snapshots:
    // the BACKUP keeps hearing every advert (no gap above 1.25 s appears) and stays BACKUP.
    let above = |m: &str| {
        let le = |b: &str| {
            sample(
                m,
                &format!("kaconsole_vrrp_advert_gap_seconds_bucket{{{label},le=\"{b}\"}}"),
            )
            .unwrap()
        };
        le("+Inf") - le("1.25")
    };
    let before = above(&m2);
    let stop = std::time::Instant::now() + Duration::from_secs(4);
    let scrapers: Vec<_> = (0..8)
        .map(|_| {
            let ns = h2.ns.clone();
            std::thread::spawn(move || {
                let mut ok = 0;
                while std::time::Instant::now() < stop {
                    if get(&ns, "/metrics").is_some_and(|(s, _)| s.contains("200")) {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    let served: u32 = scrapers.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(served >= 40, "{served} scrapes served in 4 s");
    let m2 = scrape(&h2.ns);
    assert_eq!(sample(&m2, &state), Some(1.0), "{}", d2.log_text());
    assert_eq!(
        above(&m2),
        before,
        "an advert gap above 1.25 s during the flood:\n{m2}"
    );

    // Other paths and methods: refused, the daemon unharmed.
    assert!(get(&h2.ns, "/nothing").unwrap().0.contains("404"));

    // Failover: h1 stops (priority 0), h2 takes over; the scrape says what status says.
    let mut d1 = d1;
    d1.stop_with(nix::sys::signal::Signal::SIGTERM);
    let took = wait_for(Duration::from_secs(10), || {
        get(&h2.ns, "/metrics").is_some_and(|(_, m)| sample(&m, &state) == Some(2.0))
    });
    assert!(took.is_some(), "{}", d2.log_text());
    let before = status(&h2.socket());
    let m2 = scrape(&h2.ns);
    let after = status(&h2.socket());
    promtool_check(&promtool, &m2);
    let i = &after["instances"][0];
    assert_eq!(i["state"], "MASTER");
    assert_eq!(sample(&m2, &state), Some(2.0));
    let counter = |name: &str| sample(&m2, &format!("{name}{{{label}}}")).unwrap();
    for (metric, field) in [
        ("keepalived_become_master_total", "become_master"),
        ("keepalived_release_master_total", "release_master"),
        ("keepalived_advertisements_received_total", "advert_rcvd"),
        ("keepalived_priority_zero_received_total", "pri_zero_rcvd"),
    ] {
        assert_eq!(
            counter(metric),
            i["stats"][field].as_f64().unwrap(),
            "{metric}\n{m2}"
        );
    }
    let sent = counter("keepalived_advertisements_sent_total");
    let range = before["instances"][0]["stats"]["advert_sent"]
        .as_f64()
        .unwrap()..=i["stats"]["advert_sent"].as_f64().unwrap();
    assert!(range.contains(&sent), "{sent} not in {range:?}");
    assert_eq!(counter("keepalived_become_master_total"), 1.0);
    assert_eq!(counter("keepalived_priority_zero_received_total"), 1.0);
}

#[test]
fn a_metrics_address_that_cannot_be_bound_stops_the_start() {
    if !common::require_root("a_metrics_address_that_cannot_be_bound_stops_the_start") {
        return;
    }
    // 192.0.2.1 (TEST-NET-1) is on no interface of a fresh namespace: bind fails before the
    // daemon reads its configuration or touches anything.
    let seg = Segment::new(1);
    let o = seg.hosts[0].run(
        common::kaconsole().to_str().unwrap(),
        &[
            "daemon",
            "-n",
            "-G",
            "--metrics",
            "192.0.2.1:9650",
            "-f",
            "/nonexistent",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--metrics 192.0.2.1:9650: "), "{err}");
}
