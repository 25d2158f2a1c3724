//! The checkers' cost: one virtual server with N real servers (5000 by default), each with a
//! TCP_CHECK every second (delay_loop 1), against a listener in the same network namespace.
//! It prints the daemon's CPU (user + system) and RSS over the window, how many real servers
//! the checkers found alive, and the TIME_WAIT sockets left in the namespace. Needs root (a
//! namespace); run by hand:
//!
//! ```sh
//! cargo bench --bench checkers                       # 5000 real servers, 60 s
//! KACONSOLE_BENCH_RS=1000 KACONSOLE_BENCH_SECS=20 cargo bench --bench checkers
//! KACONSOLE_BENCH_BEFORE=/tmp/kaconsole-main cargo bench --bench checkers   # side by side
//! KACONSOLE_BENCH_LISTENER=http cargo bench --bench checkers
//! ```
//!
//! The listener is by default a TCP service that waits for its client to speak, as most do:
//! it accepts, reads until the client goes, closes, and never writes. With
//! `KACONSOLE_BENCH_LISTENER=http` it is `kaconsole lab --serve-http`, which answers even a
//! client that said nothing: its reply to a closed socket draws a reset, which hides the
//! TIME_WAIT an orderly close leaves.
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

/// What one daemon cost over the window.
struct Measured {
    warm: Duration,
    user: f64,
    system: f64,
    rss_kb: u64,
    alive: (usize, usize),
    time_wait: usize,
}

/// TIME_WAIT sockets in host `h`'s namespace.
fn time_wait(h: &segment::Host) -> usize {
    let out = h.run("ss", &["-Htan", "state", "time-wait"]);
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// A TCP service on 0.0.0.0:9000 in namespace `ns` that waits for its clients to speak: each
/// connection is read until the client goes, then closed; nothing is ever written. It ends
/// with the namespace's listener, at the end of the process.
fn silent_listener(ns: &str) {
    use std::io::Read;
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let f = std::fs::File::open(&path).unwrap();
        nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let l = std::net::TcpListener::bind("0.0.0.0:9000").unwrap();
        ready_tx.send(()).unwrap();
        for mut c in l.incoming().flatten() {
            let _ = c.set_read_timeout(Some(Duration::from_secs(1)));
            while matches!(c.read(&mut [0u8; 512]), Ok(1..)) {}
        }
    });
    ready.recv().unwrap();
}

/// Runs `daemon` on `n` real servers in a fresh namespace and measures it for `secs`.
fn measure(daemon: &std::path::Path, n: u64, secs: u64) -> Option<Measured> {
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    // One listener answers every real server: they are 127.1.x.y:9000, all of them local.
    let _http = match std::env::var("KACONSOLE_BENCH_LISTENER").as_deref() {
        Ok("http") => Some(h.spawn(
            &kaconsole(),
            &["lab", "--serve-http", "0.0.0.0:9000", "--name", "backend"],
            "backend.log",
        )),
        _ => {
            silent_listener(&h.ns);
            None
        }
    };
    let conf = usage::tcp_check_config(n as usize);
    let conf_path = h.write("bench.conf", &conf);
    let pid_path = h.dir.join("kaconsole.pid");
    let d = h.spawn(
        daemon,
        &[
            "daemon",
            "-n",
            "-l",
            "-G",
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
        return None;
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
    let (c1, rss_kb) = usage(d.pid() as u32);
    let window = t0.elapsed().as_secs_f64();
    Some(Measured {
        warm,
        user: (c1.0 - c0.0) / window * 100.0,
        system: (c1.1 - c0.1) / window * 100.0,
        rss_kb,
        alive: alive(&socket).unwrap_or((0, 0)),
        time_wait: time_wait(h),
    })
}

/// The kernel's floor for the same load: a minimal client (this bench re-executed with
/// `--floor-client N` in the namespace) that opens N connections a second to the same
/// listener, each a blocking connect (on loopback the handshake completes inside it) closed
/// at once with a reset - no event loop, no timers, no bookkeeping. What the daemon costs
/// beyond it is its own.
fn floor_client(n: u64) -> ! {
    use socket2::{Domain, Socket, Type};
    let per_tick = (n / 100).max(1);
    let mut i = 0u64;
    loop {
        let tick = Instant::now();
        for _ in 0..per_tick {
            let addr: std::net::SocketAddr =
                format!("127.1.{}.{}:9000", (i % n) / 250, (i % n) % 250 + 1)
                    .parse()
                    .unwrap();
            i += 1;
            let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            let _ = s.set_linger(Some(Duration::ZERO));
            let _ = s.connect(&addr.into());
        }
        std::thread::sleep(Duration::from_millis(10).saturating_sub(tick.elapsed()));
    }
}

/// The floor client's CPU over `secs`, with the same listener in a fresh namespace.
fn measure_floor(n: u64, secs: u64) -> (f64, f64) {
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    silent_listener(&h.ns);
    let exe = std::env::current_exe().unwrap();
    let c = h.spawn(&exe, &["--floor-client", &n.to_string()], "floor.log");
    std::thread::sleep(Duration::from_secs(3));
    let (c0, _) = usage(c.pid() as u32);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let (c1, _) = usage(c.pid() as u32);
    let window = t0.elapsed().as_secs_f64();
    (
        (c1.0 - c0.0) / window * 100.0,
        (c1.1 - c0.1) / window * 100.0,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--floor-client") {
        floor_client(args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(5000));
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("the checkers bench needs root (a network namespace)");
        return;
    }
    let (n, secs) = (
        env("KACONSOLE_BENCH_RS", 5000),
        env("KACONSOLE_BENCH_SECS", 60),
    );
    // KACONSOLE_BENCH_BEFORE=PATH: another build (e.g. main's) measured first, the same way,
    // for a side-by-side comparison.
    let mut runs = Vec::new();
    if let Some(before) = std::env::var_os("KACONSOLE_BENCH_BEFORE") {
        runs.push(("before", PathBuf::from(before)));
    }
    runs.push(("kaconsole", kaconsole()));
    println!("TCP_CHECK, delay_loop 1 s, {n} real servers, measured for {secs} s");
    for (label, daemon) in runs {
        let Some(m) = measure(&daemon, n, secs) else {
            return;
        };
        println!(
            "  {label:<10}  CPU {:>5.2} % of one core (user {:.2} %, system {:.2} %)  RSS {} kB  \
             alive {}/{}  TIME_WAIT {}  ({:.1} s to find them all alive)",
            m.user + m.system,
            m.user,
            m.system,
            m.rss_kb,
            m.alive.0,
            m.alive.1,
            m.time_wait,
            m.warm.as_secs_f64()
        );
    }
    eprint!("  the floor: a minimal client, {n} connections a second ...\r");
    let (user, system) = measure_floor(n, secs);
    println!(
        "  floor       CPU {:>5.2} % of one core (user {user:.2} %, system {system:.2} %)  a blocking connect and a reset per check, nothing else",
        user + system
    );
    println!(
        "              (system time includes both ends of every TCP handshake: the listener is on this machine)"
    );
    println!("  keepalived  not measured: its checker process needs IPVS, which this kernel lacks");
}
