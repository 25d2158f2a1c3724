//! Shared test helpers: privilege gating, throwaway network namespaces, the built binary.
#![allow(dead_code)]

pub mod control;
pub mod segment;
pub mod spoof;
pub mod tmux;
pub mod vm;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// Whether this process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Whether we run under CI (`CI=true`): then nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Tests that need root (network namespaces, keepalived) call this first. Without root they
/// are skipped - unless CI is set, where a missing prerequisite must fail loudly.
pub fn require_root(test: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(!in_ci(), "{test}: needs root, and CI=true forbids skipping");
    eprintln!("{test}: skipped (needs root; CI is not set)");
    false
}

/// A program the test needs: its path, or skip/fail like [`require_root`].
pub fn require_program(test: &str, name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !in_ci(),
            "{test}: '{name}' is not installed, and CI=true forbids skipping (.ci/run installs it)"
        );
        eprintln!("{test}: skipped ('{name}' is not installed)");
    }
    found
}

/// The kaconsole binary built for these tests.
pub fn kaconsole() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kaconsole"))
}

static NS_COUNTER: AtomicU32 = AtomicU32::new(0);

fn ip(args: &[&str]) -> Output {
    Command::new("ip")
        .args(args)
        .output()
        .expect("the 'ip' command (iproute2) must be installed")
}

fn ip_ok(args: &[&str]) {
    let out = ip(args);
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network namespace created for one test and deleted when dropped (also on panic). Its
/// interfaces are veth pairs, so nothing leaves the namespace.
pub struct NetNs {
    pub name: String,
}

impl NetNs {
    /// A namespace with `lo` up and `eth0`..`eth{n-1}` (veth, peers inside the namespace too).
    pub fn with_interfaces(n: usize) -> NetNs {
        let name = format!(
            "kac-t{}-{}",
            std::process::id(),
            NS_COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        ip_ok(&["netns", "add", &name]);
        let ns = NetNs { name };
        ip_ok(&["-n", &ns.name, "link", "set", "lo", "up"]);
        for i in 0..n {
            let ifname = format!("eth{i}");
            let peer = format!("peer{i}");
            ip_ok(&[
                "-n", &ns.name, "link", "add", &ifname, "type", "veth", "peer", "name", &peer,
            ]);
            ip_ok(&["-n", &ns.name, "link", "set", &ifname, "up"]);
            ip_ok(&["-n", &ns.name, "link", "set", &peer, "up"]);
            let addr = format!("10.99.{i}.1/24");
            ip_ok(&["-n", &ns.name, "addr", "add", &addr, "dev", &ifname]);
        }
        ns
    }

    /// Runs a program inside the namespace.
    pub fn run(&self, program: &Path, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(program)
            .args(args)
            .output()
            .expect("ip netns exec")
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        segment::remove_netns(&self.name);
    }
}

/// keepalived's sample configurations (installed with the keepalived package).
pub fn keepalived_samples(test: &str) -> Vec<PathBuf> {
    let dir = Path::new("/usr/share/doc/keepalived/samples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("keepalived.conf."))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    if v.is_empty() {
        assert!(
            !in_ci(),
            "{test}: keepalived's samples are missing (apt-get install keepalived), and CI=true forbids skipping"
        );
        eprintln!("{test}: skipped (keepalived's samples are not installed)");
    }
    v
}

/// Our broken configurations (tests/data/broken), each annotated with what it demonstrates.
pub fn broken_configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/broken");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data/broken")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    v.sort();
    v
}

/// `kaconsole daemon -n -l` on `conf` in host `h`, its configuration, pid file and control
/// socket in the host's directory, with `extra` flags and environment variables.
pub fn start_kaconsole(
    h: &segment::Host,
    conf: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> segment::Daemon {
    let path = h.write("kaconsole.conf", conf);
    let pid = h.dir.join("kaconsole.pid");
    let (path, pid) = (path.display().to_string(), pid.display().to_string());
    let mut args = vec!["daemon", "-n", "-l", "-G", "-f", &path, "-p", &pid];
    args.extend_from_slice(extra);
    h.spawn_env(&kaconsole(), &args, "kaconsole.log", env)
}

/// keepalived (VRRP only, detailed log to the console) on `conf` in host `h`, its pid files in
/// the host's directory.
pub fn start_keepalived(
    h: &segment::Host,
    keepalived: &Path,
    conf: &str,
    env: &[(&str, &str)],
) -> segment::Daemon {
    let path = h.write("keepalived.conf", conf).display().to_string();
    let d = h.dir.display();
    let (pid, vrrp_pid) = (format!("{d}/keepalived.pid"), format!("{d}/vrrp.pid"));
    let args = [
        "-n", "-l", "-G", "-D", "-P", "-f", &path, "-p", &pid, "-r", &vrrp_pid, "-i", "interop",
    ];
    h.spawn_env(keepalived, &args, "keepalived.log", env)
}

/// A FIFO opened for reading without blocking (a daemon's end closes with it: hold this one
/// open to read what it wrote).
pub fn open_fifo(path: &Path) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .unwrap()
}

/// What is buffered in a FIFO, without blocking.
pub fn read_fifo(path: &Path) -> String {
    let mut s = String::new();
    let _ = std::io::Read::read_to_string(&mut open_fifo(path), &mut s);
    s
}
