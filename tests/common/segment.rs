//! A broadcast segment in network namespaces: a bridge in its own namespace and hosts, each
//! in a namespace with `eth0` (a veth whose peer is on the bridge) and address
//! 10.77.0.N/24 (N = 1, 2, ...). Daemons run inside the hosts; everything - processes and
//! namespaces - is removed when the segment is dropped, also on panic.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn ip(args: &[&str]) -> Output {
    Command::new("ip").args(args).output().expect("iproute2")
}

fn ip_ok(args: &[&str]) {
    let o = ip(args);
    assert!(
        o.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// One host on the segment.
pub struct Host {
    pub ns: String,
    /// 10.77.0.N
    pub addr: String,
    pub dir: PathBuf,
}

impl Host {
    /// Runs a command in the host's namespace and returns its output.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns, program])
            .args(args)
            .output()
            .expect("ip netns exec")
    }

    /// Whether `addr` is configured on the host's eth0.
    pub fn has_address(&self, addr: &str) -> bool {
        let o = ip(&["-n", &self.ns, "-o", "addr", "show", "dev", "eth0"]);
        String::from_utf8_lossy(&o.stdout).contains(&format!(" {addr}/"))
    }

    /// The MAC address of eth0.
    pub fn mac(&self) -> String {
        let o = ip(&["-n", &self.ns, "-o", "link", "show", "dev", "eth0"]);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .unwrap_or_default()
            .to_string()
    }

    /// Starts a daemon in the host: `program args...`, stdout and stderr to `log`.
    pub fn spawn(&self, program: &Path, args: &[&str], log: &str) -> Daemon {
        self.spawn_env(program, args, log, &[])
    }

    /// [`spawn`](Self::spawn) with extra environment variables.
    pub fn spawn_env(
        &self,
        program: &Path,
        args: &[&str],
        log: &str,
        env: &[(&str, &str)],
    ) -> Daemon {
        // Each kaconsole daemon gets its own control socket in the host's directory.
        let socket = self.socket();
        let mut args: Vec<&str> = args.to_vec();
        if args.first() == Some(&"daemon") && !args.contains(&"--socket") {
            args.splice(1..1, ["--socket", socket.to_str().unwrap()]);
        }
        // A test's daemon logs to its log file (-l, stderr), never to the machine's syslog
        // (-G), which is where a daemon logs by default, as keepalived.
        if args.first() == Some(&"daemon") {
            for flag in ["-l", "-G"] {
                if !args.contains(&flag) {
                    args.insert(1, flag);
                }
            }
        }
        let path = self.dir.join(log);
        let file = std::fs::File::create(&path).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .arg(program)
            .args(&args)
            .envs(env.iter().copied())
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("spawn in namespace");
        Daemon {
            child: Some(child),
            log: path,
        }
    }

    /// The control socket of a kaconsole daemon started with [`spawn`](Self::spawn).
    pub fn socket(&self) -> PathBuf {
        self.dir.join("kaconsole.sock")
    }

    /// Writes a file in the host's scratch directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// A daemon process; killed when dropped.
pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Daemon {
    pub fn pid(&self) -> i32 {
        self.child.as_ref().map_or(0, |c| c.id() as i32)
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig);
    }

    /// Sends `sig` and waits for the exit; returns the exit code.
    pub fn stop_with(&mut self, sig: nix::sys::signal::Signal) -> Option<i32> {
        self.signal(sig);
        let mut c = self.child.take()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(s)) = c.try_wait() {
                return s.code();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to `timeout` for the process to exit by itself; its exit code, or `None` if
    /// it still runs (it is left running) or was killed by a signal.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let c = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = c.try_wait() {
                self.child = None;
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The bridge and its hosts.
pub struct Segment {
    bridge_ns: String,
    pub hosts: Vec<Host>,
    _dir: tempfile::TempDir,
}

impl Segment {
    /// A segment with `n` hosts.
    pub fn new(n: usize) -> Segment {
        let id = format!(
            "{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let bridge_ns = format!("kac-br{id}");
        ip_ok(&["netns", "add", &bridge_ns]);
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment {
            bridge_ns,
            hosts: Vec::new(),
            _dir: dir,
        };
        let b = seg.bridge_ns.clone();
        ip_ok(&["-n", &b, "link", "add", "br0", "type", "bridge"]);
        ip_ok(&["-n", &b, "link", "set", "br0", "up"]);
        for i in 0..n {
            let ns = format!("kac-h{id}-{}", i + 1);
            ip_ok(&["netns", "add", &ns]);
            let port = format!("p{}", i + 1);
            ip_ok(&[
                "-n", &b, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ]);
            ip_ok(&["-n", &b, "link", "set", &port, "master", "br0", "up"]);
            ip_ok(&["-n", &ns, "link", "set", "lo", "up"]);
            ip_ok(&["-n", &ns, "link", "set", "eth0", "up"]);
            let addr = format!("10.77.0.{}", i + 1);
            ip_ok(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                "eth0",
            ]);
            let dir = seg._dir.path().join(format!("h{}", i + 1));
            std::fs::create_dir_all(&dir).unwrap();
            seg.hosts.push(Host { ns, addr, dir });
        }
        // IPv6 link-local addresses need DAD to finish before they can be used.
        seg.wait_link_local();
        seg
    }

    fn wait_link_local(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        for h in &self.hosts {
            loop {
                let o = ip(&["-n", &h.ns, "-6", "-o", "addr", "show", "dev", "eth0"]);
                let t = String::from_utf8_lossy(&o.stdout).into_owned();
                if (t.contains("fe80::") && !t.contains("tentative")) || Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Cuts or restores host `i`'s cable (the bridge port).
    pub fn set_port(&self, i: usize, up: bool) {
        let port = format!("p{}", i + 1);
        ip_ok(&[
            "-n",
            &self.bridge_ns,
            "link",
            "set",
            &port,
            if up { "up" } else { "down" },
        ]);
    }
}

impl Segment {
    /// Deletes host `i`'s eth0 (its bridge port goes with it) and creates it again with the
    /// same name and address, as an orchestrator rebuilding a veth, VLAN or bond does: the
    /// new interface has a new index (and a new MAC).
    pub fn recreate_eth0(&self, i: usize, gap: Duration) {
        let h = &self.hosts[i];
        ip_ok(&["-n", &h.ns, "link", "del", "eth0"]);
        std::thread::sleep(gap);
        self.plug(i, "eth0");
    }

    /// A new veth pair for host `i`: `ifname` in the host (up, with its address), its peer
    /// on the bridge.
    pub fn plug(&self, i: usize, ifname: &str) {
        let h = &self.hosts[i];
        let port = format!("p{}", i + 1);
        let b = &self.bridge_ns;
        ip_ok(&[
            "-n", b, "link", "add", &port, "type", "veth", "peer", "name", ifname, "netns", &h.ns,
        ]);
        ip_ok(&["-n", b, "link", "set", &port, "master", "br0", "up"]);
        ip_ok(&["-n", &h.ns, "link", "set", ifname, "up"]);
        ip_ok(&[
            "-n",
            &h.ns,
            "addr",
            "add",
            &format!("{}/24", h.addr),
            "dev",
            ifname,
        ]);
    }

    /// The index of `ifname` in host `i`.
    pub fn ifindex(&self, i: usize, ifname: &str) -> Option<u32> {
        let o = ip(&["-n", &self.hosts[i].ns, "-o", "link", "show", "dev", ifname]);
        let t = String::from_utf8_lossy(&o.stdout).into_owned();
        t.split(':').next()?.trim().parse().ok()
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        for h in &self.hosts {
            remove_netns(&h.ns);
        }
        remove_netns(&self.bridge_ns);
    }
}

/// The pids of every process in network namespace `ns`.
pub fn netns_pids(ns: &str) -> Vec<i32> {
    Command::new("ip")
        .args(["netns", "pids", ns])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Kills what runs in network namespace `ns`, then deletes it.
pub fn remove_netns(ns: &str) {
    for pid in netns_pids(ns) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = ip(&["netns", "del", ns]);
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes; returns the time it took.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Some(start.elapsed());
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The logs of `ds`, one after the other, for failure messages.
pub fn logs(ds: &[&Daemon]) -> String {
    ds.iter()
        .map(|d| format!("--- {}\n{}", d.log.display(), d.log_text()))
        .collect()
}

/// `ip monitor address` in the host: every address added or deleted while it runs (its
/// output is read after it is killed).
pub fn monitor_addresses(h: &Host) -> Child {
    let mon = Command::new("ip")
        .args(["-n", &h.ns, "monitor", "address"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    mon
}
