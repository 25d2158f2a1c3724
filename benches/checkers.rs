//! The checkers' cost: one virtual server with N real servers (5000 by default), each with a
//! TCP_CHECK every second (delay_loop 1), against a listener in the same network namespace.
//! It prints the daemon's CPU (user + system) and RSS over the window, and how many real
//! servers the checkers found alive. Needs root (a namespace); run by hand:
//!
//! ```sh
//! cargo bench --bench checkers                       # 5000 real servers, 60 s
//! KACONSOLE_BENCH_RS=1000 KACONSOLE_BENCH_SECS=20 cargo bench --bench checkers
//! ```
//!
//! keepalived is not measured beside it: its checker process needs IPVS, which the kernels of
//! the development and CI machines do not have (kaconsole runs its checkers in check-only
//! mode there).

#[path = "../tests/common/control.rs"]
#[allow(dead_code)]
mod control;
#[path = "../tests/common/segment.rs"]
mod segment;
#[path = "common/usage.rs"]
mod usage;

use usage::usage;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use segment::Segment;

fn kaconsole() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("kaconsole")
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// (alive, total) real servers from the daemon's status.
fn alive(socket: &std::path::Path) -> Option<(usize, usize)> {
    let s = control::Client::status(socket)?;
    let rss = s["virtual_servers"][0]["real_servers"].as_array()?.clone();
    let up = rss.iter().filter(|r| r["alive"] == true).count();
    Some((up, rss.len()))
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("the checkers bench needs root (a network namespace)");
        return;
    }
    let (n, secs) = (
        env("KACONSOLE_BENCH_RS", 5000),
        env("KACONSOLE_BENCH_SECS", 60),
    );
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    // One listener answers every real server: they are 127.1.x.y:9000, all of them local.
    let _listener = h.spawn(
        &kaconsole(),
        &["lab", "--serve-http", "0.0.0.0:9000", "--name", "backend"],
        "backend.log",
    );
    let conf = usage::tcp_check_config(n as usize);
    let conf_path = h.write("bench.conf", &conf);
    let pid_path = h.dir.join("kaconsole.pid");
    let d = h.spawn(
        &kaconsole(),
        &[
            "daemon",
            "-n",
            "-f",
            conf_path.to_str().unwrap(),
            "-p",
            pid_path.to_str().unwrap(),
        ],
        "kaconsole.log",
    );
    let socket = h.socket();
    // With alpha every real server starts down; wait for all of them to be found alive.
    let started = Instant::now();
    eprint!("  {n} real servers: waiting for every TCP_CHECK to pass ...\r");
    let all = segment::wait_for(Duration::from_secs(30), || {
        alive(&socket).is_some_and(|(up, total)| up == total && total == n as usize)
    });
    let Some(_) = all else {
        eprintln!("not every real server came up: {:?}", alive(&socket));
        eprintln!("{}", d.log_text());
        return;
    };
    let warm = started.elapsed();
    if std::env::var_os("KACONSOLE_BENCH_PERF").is_some() {
        // A profile of the daemon for 10 s (perf report -i target/checkers.perf).
        let _ = std::process::Command::new("perf")
            .args(["record", "-g", "-o", "target/checkers.perf", "-p"])
            .arg(d.pid().to_string())
            .args(["--", "sleep", "10"])
            .status();
    }
    let (c0, _) = usage(d.pid() as u32);
    let t0 = Instant::now();
    for s in 0..secs {
        eprint!("  measuring {s:>3}/{secs} s ...\r");
        std::thread::sleep(Duration::from_secs(1));
    }
    let (c1, rss) = usage(d.pid() as u32);
    let window = t0.elapsed().as_secs_f64();
    let (up, total) = alive(&socket).unwrap_or((0, 0));
    println!(
        "TCP_CHECK, delay_loop 1 s, {n} real servers ({:.1} s to find them all alive)",
        warm.as_secs_f64()
    );
    let (user, system) = (c1.0 - c0.0, c1.1 - c0.1);
    let pct = |s: f64| s / window * 100.0;
    println!(
        "  kaconsole   CPU {:>5.2} % of one core (user {:.2} %, system {:.2} %)  RSS {rss} kB  alive {up}/{total}",
        pct(user + system),
        pct(user),
        pct(system),
    );
    println!(
        "              (system time includes both ends of every TCP handshake: the listener is on this machine)"
    );
    println!("  keepalived  not measured: its checker process needs IPVS, which this kernel lacks");
}
