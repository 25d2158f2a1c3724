//! A neighbour floods the segment with well-formed adverts from made-up sources (threat model,
//! rule 2: what any host on the segment sends is bounded). A kaconsole MASTER and BACKUP pair
//! hear 100,000 of them - every VRID, 255 virtual addresses each, no source twice - and the
//! master's memory stays bounded, its `segment` answer quick, its adverts on time (the backup
//! never takes over). Needs root (skipped without, unless CI=true).

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::control::Client;
use common::segment::{Host, Segment, wait_for};
use common::spoof::Spoofer;
use kaconsole::time;
use kaconsole::vrrp::packet::{Advert, Auth, AuthType, Version};
use serde_json::json;

const VIP: &str = "10.77.0.100";
const ADVERTS: u32 = 100_000;

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

/// The resident set of process `pid`, in kB (VmRSS of /proc/PID/status).
fn rss_kb(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Advert `n` of the flood: VRIDs 1-255 in turn, source 10.100.0.0 + n (never twice), 255
/// virtual addresses (the most an advert can carry), a made-up priority.
fn spoofed(n: u32) -> (Ipv4Addr, Advert) {
    let vrid = (n % 255 + 1) as u8;
    let addrs = (1..=255u32)
        .map(|k| IpAddr::V4(Ipv4Addr::from(0x0ac8_0000 + u32::from(vrid) * 256 + k)))
        .collect();
    let advert = Advert {
        version: Version::V2,
        vrid,
        priority: (n % 200 + 1) as u8,
        interval: time::Duration::secs(1),
        auth: Some(Auth {
            kind: AuthType::None,
            data: Some([0; 8]),
        }),
        addrs,
    };
    (Ipv4Addr::from(0x0a64_0000 + n), advert)
}

/// Sends the flood from `from`, about 20,000 adverts a second.
fn flood(from: &Host) {
    let mut spoofer = Spoofer::new(from);
    for n in 0..ADVERTS {
        let (src, advert) = spoofed(n);
        spoofer.send(src, &advert);
        if n % 200 == 199 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn a_flood_of_spoofed_adverts_keeps_the_segment_table_bounded() {
    if !common::require_root("a_flood_of_spoofed_adverts_keeps_the_segment_table_bounded") {
        return;
    }
    let seg = Segment::new(3);
    let h = &seg.hosts;
    let master = common::start_kaconsole(&h[0], &config(150), &[], &[]);
    let backup = common::start_kaconsole(&h[1], &config(100), &[], &[]);
    let logs = || format!("{}\n---\n{}", master.log_text(), backup.log_text());
    let elected = wait_for(Duration::from_secs(8), || h[0].has_address(VIP));
    assert!(elected.is_some(), "{}", logs());
    let before = rss_kb(master.pid());

    // The backup's VIP, watched every 10 ms while the flood lasts.
    let done = Arc::new(AtomicBool::new(false));
    let watch = {
        let (done, ns) = (done.clone(), h[1].ns.clone());
        std::thread::spawn(move || {
            let backup = Host {
                ns,
                addr: String::new(),
                dir: Default::default(),
            };
            let mut took_over = false;
            while !done.load(Ordering::Relaxed) {
                took_over |= backup.has_address(VIP);
                std::thread::sleep(Duration::from_millis(10));
            }
            took_over
        })
    };
    flood(&h[2]);
    // What the master still has queued is read.
    std::thread::sleep(Duration::from_secs(1));

    let sock = h[0].socket();
    let mut c = Client::hello(&sock);
    c.w.set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let asked = Instant::now();
    let r = c.call(json!({"req": "segment"}));
    let took = asked.elapsed();
    let after = rss_kb(master.pid());
    done.store(true, Ordering::Relaxed);
    let took_over = watch.join().unwrap();
    let snap = &r["ok"]["segment"];
    let routers: usize = snap["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .map(|g| g["routers"].as_array().unwrap().len())
                .sum()
        })
        .unwrap_or(0);
    eprintln!(
        "master RSS {before} kB before, {after} kB after {ADVERTS} spoofed adverts; segment \
         answered in {took:?} with {routers} routers; backup took over: {took_over}"
    );
    assert!(after < 64 * 1024, "RSS {after} kB after the flood");
    assert!(took < Duration::from_secs(1), "segment took {took:?}");
    assert!(!took_over, "the backup took over: {}", logs());
    assert!(
        !backup.log_text().contains("Entering MASTER STATE"),
        "{}",
        logs()
    );
    assert!(h[0].has_address(VIP), "{}", logs());
    // The flood reached the table, which says it hit its cap.
    assert!(routers > 100, "{snap}");
    assert!(
        snap["dropped"]["evicted"].as_u64().unwrap_or(0) > 0,
        "no eviction shown: {}",
        snap["dropped"]
    );
}
