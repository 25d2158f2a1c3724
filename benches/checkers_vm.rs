//! The checkers with IPVS programmed, kaconsole beside keepalived 2.2.7: both run inside
//! Debian's kernel under qemu (tests/common/vm.rs; the host kernel has no IPVS), one after
//! the other, with the same configuration: one virtual server, N real servers (1000 by
//! default) with a TCP_CHECK every second against a listener in the guest. It prints each
//! daemon's CPU (user + system) and RSS over the window. The guest is emulated (TCG), so the
//! absolute numbers are several times the host's; the ratio is what to read.
//!
//! ```sh
//! cargo bench --bench checkers_vm
//! KACONSOLE_BENCH_RS=500 KACONSOLE_BENCH_SECS=20 cargo bench --bench checkers_vm
//! ```

#[path = "common/usage.rs"]
mod usage;
#[path = "../tests/common/vm.rs"]
mod vm;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every process whose parent is `pid`, and theirs (keepalived forks its checker process).
fn family(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut k = 0;
    while k < all.len() {
        let parent = all[k];
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().nth(1)?.parse::<u32>().ok());
            if ppid == Some(parent) && !all.contains(&p) {
                all.push(p);
            }
        }
        k += 1;
    }
    all
}

fn dests() -> usize {
    let out = Command::new("/usr/sbin/ipvsadm")
        .arg("-Ln")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.trim_start().starts_with("->") && !l.contains("RemoteAddress"))
        .count()
}

fn measure(name: &str, cmd: &mut Command, n: usize, secs: u64) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Start-up: every real server found alive and in the table.
    let mut waited = 0;
    while dests() < n && waited < 120 {
        std::thread::sleep(Duration::from_secs(1));
        waited += 1;
    }
    std::thread::sleep(Duration::from_secs(2));
    let pids = family(child.id());
    let sum = |pids: &[u32]| {
        pids.iter()
            .map(|p| {
                let ((user, system), rss) = usage::usage(*p);
                (user + system, rss)
            })
            .fold((0.0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    };
    let (c0, _) = sum(&pids);
    std::thread::sleep(Duration::from_secs(secs));
    let (c1, rss) = sum(&pids);
    println!(
        "RESULT {name:<10} CPU {:>6.2} % of one core  RSS {:>6} kB  in the table {}/{n}  (up after {waited} s)",
        (c1 - c0) / secs as f64 * 100.0,
        rss,
        dests()
    );
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
    std::thread::sleep(Duration::from_secs(1));
}

fn in_the_vm(kaconsole: &str, n: usize, secs: u64) {
    let mut listener = Command::new(kaconsole)
        .args(["lab", "--serve-http", "0.0.0.0:9000", "--name", "backend"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let conf = usage::tcp_check_config(n);
    std::fs::write("/tmp/bench.conf", conf).unwrap();
    std::fs::create_dir_all("/run/keepalived").unwrap();
    measure(
        "kaconsole",
        Command::new(kaconsole).args([
            "daemon",
            "-n",
            "-f",
            "/tmp/bench.conf",
            "-p",
            "/tmp/k.pid",
            "--socket",
            "/tmp/k.sock",
        ]),
        n,
        secs,
    );
    measure(
        "keepalived",
        Command::new("/usr/sbin/keepalived").args([
            "-n",
            "-C",
            "-f",
            "/tmp/bench.conf",
            "-p",
            "/tmp/ka.pid",
            "-c",
            "/tmp/ka-check.pid",
        ]),
        n,
        secs,
    );
    let _ = listener.kill();
    let _ = listener.wait();
}

fn main() {
    let (n, secs) = (
        env("KACONSOLE_BENCH_RS", 1000) as usize,
        env("KACONSOLE_BENCH_SECS", 30),
    );
    let exe = std::env::current_exe().unwrap();
    let kaconsole = exe.parent().unwrap().parent().unwrap().join("kaconsole");
    if std::env::var_os("KACONSOLE_IN_VM").is_some() {
        let n = std::env::args()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(n);
        let secs = std::env::args()
            .nth(2)
            .and_then(|a| a.parse().ok())
            .unwrap_or(secs);
        return in_the_vm(&vm::in_guest(&kaconsole).to_string_lossy(), n, secs);
    }
    eprintln!("booting the VM: {n} real servers, {secs} s per daemon ...");
    let (ns, ss) = (n.to_string(), secs.to_string());
    let run = vm::run_in_vm(
        &exe,
        &[&ns, &ss],
        &[&kaconsole, Path::new("/usr/sbin/keepalived")],
        Duration::from_secs(secs * 2 + 400),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "TCP_CHECK every second, {n} real servers, IPVS programmed (Debian 6.1 under qemu TCG, 1 vCPU)"
    );
    for l in run.output.lines().filter(|l| l.starts_with("RESULT ")) {
        println!("  {}", &l[7..]);
    }
    if run.exit != 0 || !run.output.contains("RESULT keepalived") {
        eprintln!("{}", run.output);
    }
}
