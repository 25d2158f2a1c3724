//! Failover latency and resource use, kaconsole beside keepalived on the same testbed
//! (network namespaces on a bridge; needs root, run by hand):
//!
//! ```sh
//! cargo bench --bench failover                       # 5 runs per case, 60 s per load
//! KACONSOLE_BENCH_RUNS=3 KACONSOLE_BENCH_SECS=20 cargo bench --bench failover
//! ```
//!
//! - Failover: two routers (priority 150 and 100); the master is killed silently (SIGKILL of
//!   every process in its namespace) or stopped cleanly (SIGTERM); the time from the kill to
//!   the VIP's appearance on the backup comes from `ip -ts monitor address` in the backup's
//!   namespace. VRRPv2 with 1 s adverts and v3 with 0.1 s; median, min and max.
//! - Load: one router with 1, 100 and 1000 instances (250 VRIDs on each of 4 interfaces), all
//!   MASTER after start-up; CPU time (user + system, every process of the daemon) and RSS over
//!   the measuring window.

#[path = "../tests/common/segment.rs"]
mod segment;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use segment::{Daemon, Host, Segment, wait_for};

const VIP: &str = "10.77.0.100";

#[derive(Clone, Copy, PartialEq)]
enum Impl {
    Kaconsole,
    Keepalived,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Kaconsole => "kaconsole",
            Impl::Keepalived => "keepalived",
        }
    }
}

fn kaconsole() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("kaconsole")
}

fn start(imp: Impl, h: &Host, conf: &str) -> Daemon {
    let path = h.write("bench.conf", conf);
    let d = h.dir.display().to_string();
    match imp {
        Impl::Kaconsole => h.spawn(
            &kaconsole(),
            &[
                "daemon",
                "-n",
                "-l",
                "-G",
                "-f",
                path.to_str().unwrap(),
                "-p",
                &format!("{d}/k.pid"),
            ],
            "kaconsole.log",
        ),
        Impl::Keepalived => h.spawn(
            Path::new("keepalived"),
            &[
                "-n",
                "-P",
                "-f",
                path.to_str().unwrap(),
                "-p",
                &format!("{d}/ka.pid"),
                "-r",
                &format!("{d}/vrrp.pid"),
            ],
            "keepalived.log",
        ),
    }
}

fn instance(vrid: u32, iface: &str, prio: u8, v3: bool, vip: &str) -> String {
    let extra = if v3 {
        "    version 3\n    advert_int 0.1\n"
    } else {
        "    advert_int 1\n"
    };
    format!(
        "vrrp_instance VI_{iface}_{vrid} {{\n    state BACKUP\n    interface {iface}\n    virtual_router_id {vrid}\n    priority {prio}\n{extra}    virtual_ipaddress {{\n        {vip}\n    }}\n}}\n"
    )
}

fn kill_all(ns: &str, sig: nix::sys::signal::Signal) {
    for p in segment::netns_pids(ns) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), sig);
    }
}

/// `[2026-11-22T07:30:00.123456]` as seconds since the epoch (UTC).
fn monitor_time(line: &str) -> Option<f64> {
    let ts = line.strip_prefix('[')?.split(']').next()?;
    let (date, time) = ts.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (hh, mm): (i64, i64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    let ss: f64 = t.next()?.parse().ok()?;
    // Days from civil (H. Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60) as f64 + ss)
}

/// One failover: seconds from the kill to the VIP on the backup.
fn failover(imp: Impl, v3: bool, silent: bool) -> Option<f64> {
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let _d1 = start(
        imp,
        h1,
        &instance(51, "eth0", 150, v3, &format!("{VIP}/24")),
    );
    let _d2 = start(
        imp,
        h2,
        &instance(51, "eth0", 100, v3, &format!("{VIP}/24")),
    );
    wait_for(Duration::from_secs(10), || h1.has_address(VIP))?;
    std::thread::sleep(Duration::from_millis(1500));
    // The monitor runs in TZ=UTC so that its timestamps compare with the epoch.
    let mut mon = Command::new("ip")
        .args(["-n", &h2.ns, "-ts", "monitor", "address"])
        .env("TZ", "UTC")
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(200));
    let killed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    kill_all(
        &h1.ns,
        if silent {
            nix::sys::signal::Signal::SIGKILL
        } else {
            nix::sys::signal::Signal::SIGTERM
        },
    );
    let out = mon.stdout.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.contains(VIP) && !line.contains("Deleted") {
                let _ = tx.send(monitor_time(&line));
                return;
            }
        }
    });
    let t = rx.recv_timeout(Duration::from_secs(10)).ok().flatten();
    let _ = mon.kill();
    let _ = mon.wait();
    t.map(|t| t - killed)
}

fn stats(v: &mut [f64]) -> String {
    if v.is_empty() {
        return "no result".into();
    }
    v.sort_by(f64::total_cmp);
    format!(
        "median {:>7.1} ms  min {:>7.1}  max {:>7.1}",
        v[v.len() / 2] * 1e3,
        v[0] * 1e3,
        v[v.len() - 1] * 1e3
    )
}

/// CPU seconds (user + system) and RSS (kB) of every process in a namespace.
fn usage(ns: &str) -> (f64, u64) {
    let tick = 100.0; // sysconf(_SC_CLK_TCK) on Linux
    let (mut cpu, mut rss) = (0.0, 0);
    for p in segment::netns_pids(ns) {
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) {
            let f: Vec<&str> = stat
                .rsplit_once(')')
                .map_or(vec![], |(_, r)| r.split_whitespace().collect());
            let ut: f64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0.0);
            let st: f64 = f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0.0);
            cpu += (ut + st) / tick;
        }
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{p}/status")) {
            rss += status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    (cpu, rss)
}

fn load(imp: Impl, n: u32, secs: u64) -> (f64, u64) {
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    for k in 1..4 {
        let iface = format!("eth{k}");
        let peer = format!("x{k}");
        let ok = Command::new("ip")
            .args([
                "-n", &h.ns, "link", "add", &iface, "type", "veth", "peer", "name", &peer,
            ])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok);
        for i in [&iface, &peer] {
            Command::new("ip")
                .args(["-n", &h.ns, "link", "set", i, "up"])
                .status()
                .unwrap();
        }
        Command::new("ip")
            .args([
                "-n",
                &h.ns,
                "addr",
                "add",
                &format!("10.77.{k}.1/24"),
                "dev",
                &iface,
            ])
            .status()
            .unwrap();
    }
    let conf: String = (0..n)
        .map(|i| {
            let (k, vrid) = (i / 250, i % 250 + 1);
            instance(
                vrid,
                &format!("eth{k}"),
                100,
                false,
                &format!("10.78.{k}.{vrid}/32"),
            )
        })
        .collect();
    let _d = start(imp, h, &conf);
    // Start-up: every instance becomes MASTER after its Master_Down_Interval.
    std::thread::sleep(Duration::from_secs(6));
    let (c0, _) = usage(&h.ns);
    std::thread::sleep(Duration::from_secs(secs));
    let (c1, rss) = usage(&h.ns);
    (c1 - c0, rss)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("failover: bench");
        return;
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("failover: needs root (network namespaces); skipped");
        return;
    }
    let runs: usize = std::env::var("KACONSOLE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let secs: u64 = std::env::var("KACONSOLE_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let have_keepalived = Command::new("keepalived").arg("-v").output().is_ok();
    let impls: Vec<Impl> = if have_keepalived {
        vec![Impl::Kaconsole, Impl::Keepalived]
    } else {
        eprintln!("keepalived is not installed: kaconsole only");
        vec![Impl::Kaconsole]
    };
    // KACONSOLE_BENCH_ONLY=failover|load runs one half.
    let only = std::env::var("KACONSOLE_BENCH_ONLY").unwrap_or_default();
    if only != "load" {
        failovers(&impls, runs);
    }
    if only != "failover" {
        loads(&impls, secs);
    }
}

fn failovers(impls: &[Impl], runs: usize) {
    println!("Failover, {runs} runs each (kill -> VIP on the backup)");
    for (label, v3, silent, mdi) in [
        ("v2 1 s, silent death ", false, true, 3609.4),
        ("v2 1 s, graceful stop", false, false, 609.4),
        ("v3 0.1 s, silent death ", true, true, 360.9),
        ("v3 0.1 s, graceful stop", true, false, 60.9),
    ] {
        for &imp in impls {
            eprint!("  {label} {} ...\r", imp.name());
            let mut v: Vec<f64> = (0..runs)
                .filter_map(|_| failover(imp, v3, silent))
                .collect();
            println!(
                "  {label}  {:<10} {}   (takeover due after {mdi} ms from the last advert)",
                imp.name(),
                stats(&mut v)
            );
        }
    }
}

fn loads(impls: &[Impl], secs: u64) {
    println!("Load over {secs} s (all instances MASTER)");
    for n in [1, 100, 1000] {
        for &imp in impls {
            eprint!("  {n} instances {} ...\r", imp.name());
            let (cpu, rss) = load(imp, n, secs);
            println!(
                "  {n:>5} instances  {:<10} CPU {:>7.2} s ({:>5.2} %)  RSS {:>7} kB",
                imp.name(),
                cpu,
                cpu / secs as f64 * 100.0,
                rss
            );
        }
    }
}
