//! The master's advert rhythm while its control socket is hammered (needs root; network
//! namespaces on a bridge):
//!
//! ```sh
//! cargo bench --bench control_load                 # 20 s per phase
//! KACONSOLE_BENCH_SECS=60 cargo bench --bench control_load
//! ```
//!
//! A kaconsole MASTER of 200 instances (`KACONSOLE_BENCH_INSTANCES`; VRRPv3, 100 ms adverts)
//! and its BACKUP. `kaconsole sniff` in the
//! backup's namespace timestamps every advert of the master; the gaps between each VRID's are
//! reported for two phases of the same length: idle, then hammered - 50 clients asking the
//! status every 10 ms, one subscriber that never reads, and one client checking a
//! 20,000-line configuration over and over (each check a child process). The gaps' spread is
//! the jitter the control socket adds to the adverts; the master's RSS is read after each.

#[path = "../tests/common/control.rs"]
mod control;
#[path = "../tests/common/segment.rs"]
mod segment;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use control::Client;
use segment::{Host, Segment, wait_for};
use serde_json::{Value, json};

fn kaconsole() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("kaconsole")
}

/// `n` instances (VRIDs 1 to n), VRRPv3 with 100 ms adverts.
fn config(priority: u8, n: usize) -> String {
    (1..=n)
        .map(|vrid| {
            format!(
                "vrrp_instance VI_{vrid} {{
    state BACKUP
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    version 3
    advert_int 0.1
    virtual_ipaddress {{
        10.78.{}.{}/32
    }}
}}
",
                vrid / 200,
                vrid % 200 + 1
            )
        })
        .collect()
}

fn start(h: &Host, priority: u8, n: usize) -> segment::Daemon {
    let conf = h.write("kaconsole.conf", &config(priority, n));
    let pid = h.dir.join("kaconsole.pid");
    h.spawn(
        &kaconsole(),
        &[
            "daemon",
            "-n",
            "-l",
            "-G",
            "-f",
            conf.to_str().unwrap(),
            "-p",
            pid.to_str().unwrap(),
        ],
        "kaconsole.log",
    )
}

/// The gaps (ms) between the adverts from `src` that `kaconsole sniff` hears in `h` for
/// `secs` seconds.
fn advert_gaps(h: &Host, src: &str, secs: u64) -> Vec<f64> {
    let out = Command::new("ip")
        .args(["netns", "exec", &h.ns])
        .arg(kaconsole())
        .args(["sniff", "eth0", "--json", "--lines", "--duration"])
        .arg(secs.to_string())
        .stderr(Stdio::null())
        .output()
        .expect("kaconsole sniff");
    // Each VRID's adverts on their own.
    let mut stamps: std::collections::BTreeMap<u64, Vec<u64>> = Default::default();
    for v in String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["src"] == src)
    {
        if let (Some(vrid), Some(ts)) =
            (v["advert"]["advert"]["vrid"].as_u64(), v["ts_us"].as_u64())
        {
            stamps.entry(vrid).or_default().push(ts);
        }
    }
    stamps
        .values()
        .flat_map(|t| {
            t.windows(2)
                .map(|w| (w[1] - w[0]) as f64 / 1e3)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn rss_kb(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn report(phase: &str, gaps: &mut [f64], rss: u64, extra: &str) {
    gaps.sort_by(f64::total_cmp);
    let at = |q: f64| gaps[((gaps.len() - 1) as f64 * q).round() as usize];
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt();
    println!(
        "  {phase:<9} {:>5} gaps  median {:6.2} ms  p99 {:6.2} ms  max {:6.2} ms  sd {:5.2} ms  RSS {:>6} kB{extra}",
        gaps.len(),
        at(0.5),
        at(0.99),
        gaps[gaps.len() - 1],
        sd,
        rss
    );
}

/// Starts the load on `sock` until `stop`: status pollers, a subscriber that never reads, a
/// client checking a large text. Returns the threads and the number of statuses answered.
fn hammer(
    sock: &Path,
    stop: &Arc<AtomicBool>,
) -> (Vec<std::thread::JoinHandle<()>>, Arc<AtomicU64>) {
    let answered = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for _ in 0..50 {
        let (sock, stop, answered) = (sock.to_path_buf(), stop.clone(), answered.clone());
        threads.push(std::thread::spawn(move || {
            // Raw lines, not parsed: the load is the daemon's, not this process's.
            let mut c = Client::hello(&sock);
            let mut reply = String::new();
            while !stop.load(Ordering::Relaxed) {
                c.send_raw(r#"{"id":2,"req":"status"}"#);
                reply.clear();
                if c.r.read_line(&mut reply).is_ok_and(|n| n > 0) && reply.contains("\"ok\"") {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }));
    }
    let mut deaf = Client::hello(sock);
    deaf.send_raw(r#"{"id":9,"req":"subscribe"}"#);
    let (sock2, stop2) = (sock.to_path_buf(), stop.clone());
    threads.push(std::thread::spawn(move || {
        let _deaf = deaf;
        let text: String = (0..20_000).map(|i| format!("# line {i}\n")).collect();
        let mut c = Client::hello(&sock2);
        c.w.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        while !stop2.load(Ordering::Relaxed) {
            c.call(json!({"req": "validate", "text": text}));
        }
    }));
    (threads, answered)
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        println!("control_load: needs root (network namespaces); skipped");
        return;
    }
    let secs: u64 = std::env::var("KACONSOLE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let n: usize = std::env::var("KACONSOLE_BENCH_INSTANCES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let master = start(h1, 200, n);
    let _backup = start(h2, 100, n);
    let sock = h1.socket();
    let up = wait_for(Duration::from_secs(10), || {
        Client::status(&sock).is_some_and(|s| {
            s["instances"]
                .as_array()
                .is_some_and(|i| i.len() == n && i.iter().all(|i| i["state"] == "MASTER"))
        })
    });
    assert!(up.is_some(), "{}", master.log_text());
    println!(
        "Master's advert gaps as its backup hears them ({n} instances, VRRPv3, advert_int 100 ms, {secs} s per phase)"
    );
    let _ = std::io::stdout().flush();
    let mut idle = advert_gaps(h2, &h1.addr, secs);
    report("idle", &mut idle, rss_kb(master.pid()), "");
    let backup_log = h2.dir.join("kaconsole.log");
    let takeovers = || {
        BufReader::new(std::fs::File::open(&backup_log).unwrap())
            .lines()
            .map_while(Result::ok)
            .filter(|l| l.contains("Entering MASTER STATE"))
            .count()
    };
    let before = takeovers();
    let stop = Arc::new(AtomicBool::new(false));
    let (threads, answered) = hammer(&sock, &stop);
    let started = Instant::now();
    let mut loaded = advert_gaps(h2, &h1.addr, secs);
    let rate = answered.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    report(
        "hammered",
        &mut loaded,
        rss_kb(master.pid()),
        &format!("  ({rate:.0} statuses/s answered)"),
    );
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let during = takeovers() - before;
    println!("  the backup took over during the hammering: {during} time(s)");
}
