//! `kaconsole lab`: a throwaway network with live routers and the console attached, to see
//! the whole system work (and break it on purpose) in one command.
//!
//! As root it builds network namespaces on a bridge (see [`topology`]): N routers each running
//! a real `kaconsole daemon` (and keepalived with `--keepalived`), two HTTP backends and a
//! client. The console gets a router switcher and keys that kill, pause, unplug or unhealthy a
//! router and fail a backend. Everything is removed on exit, Ctrl-C or panic (the [`Lab`] is
//! dropped); `--clean` removes what a killed lab left.

pub mod console;
pub mod http;
pub mod net;
pub mod nodes;
pub mod sim;
pub mod topology;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use self::net::Net;
use self::nodes::{Backend, Program, Router};
use crate::sys::safe_file;

#[derive(Args, Debug)]
pub struct LabArgs {
    /// kaconsole routers on the segment, 1-8.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=8))]
    pub routers: u8,
    /// Add a router running the real keepalived (if installed): kaconsole and keepalived elect
    /// each other.
    #[arg(long)]
    pub keepalived: bool,
    /// Leave the network and the daemons running on exit (`--clean` removes them).
    #[arg(long)]
    pub keep: bool,
    /// Remove what labs that no longer run left behind (namespaces, processes), then exit.
    #[arg(long)]
    pub clean: bool,
    /// No console: print the lab as JSON lines and run until SIGINT or SIGTERM (for scripts
    /// and tests).
    #[arg(long)]
    pub headless: bool,
    /// The routers in the simulator instead of network namespaces: no root needed (the
    /// default without root). No backends, no keepalived, no pause.
    #[arg(long)]
    pub sim: bool,
    /// (internal) Serve HTTP at ADDR:PORT as a lab backend.
    #[arg(long, hide = true, value_name = "ADDR:PORT")]
    pub serve_http: Option<std::net::SocketAddr>,
    /// (internal) The backend's name.
    #[arg(long, hide = true, default_value = "backend")]
    pub name: String,
}

/// The running lab. Dropping it stops every process and removes the network (in that order:
/// the fields drop in declaration order).
pub struct Lab {
    pub routers: Vec<Router>,
    pub backends: Vec<Backend>,
    pub net: Net,
    pub dir: PathBuf,
    pub client_ns: String,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.net.keep {
            return;
        }
        for r in &mut self.routers {
            r.kill();
        }
        for b in &mut self.backends {
            b.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Says what the lab is doing (building takes a few seconds).
fn progress(what: &str) {
    eprintln!("lab: {what}");
}

/// A directory in the lab's own, 0700.
fn private_subdir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// A new file in the lab's directory: never one that was there, never through a link.
fn write_new(path: &Path, text: &str) -> Result<(), String> {
    safe_file::write_new(path, 0o600, text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

impl Lab {
    pub fn build(args: &LabArgs) -> Result<Lab, String> {
        let bin = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
        let keepalived = if args.keepalived {
            Some(which("keepalived").ok_or("--keepalived: keepalived is not installed")?)
        } else {
            None
        };
        progress("building the network (namespaces on a bridge, 10.88.0.0/24)");
        let net = Net::new()?;
        // Root daemons read their configuration here: a directory of ours, made now (mkdtemp,
        // 0700), never one that a local user could have made in /tmp beforehand.
        let dir = safe_file::private_dir(&std::env::temp_dir(), &net.prefix)
            .map_err(|e| format!("{}: {e}", std::env::temp_dir().display()))?;
        let mut lab = Lab {
            routers: Vec::new(),
            backends: Vec::new(),
            client_ns: String::new(),
            dir,
            net,
        };
        let n = args.routers as usize;
        let mut programs: Vec<(String, Program)> = (1..=n)
            .map(|i| (topology::router_name(i), Program::Kaconsole(bin.clone())))
            .collect();
        if let Some(k) = keepalived {
            programs.push(("ka".to_string(), Program::Keepalived(k)));
        }
        let total = programs.len();
        for (k, (name, program)) in programs.into_iter().enumerate() {
            let i = k + 1;
            let addr = topology::router_addr(i);
            let ns = lab.net.host(&name, &format!("{addr}/24"))?;
            let dir = lab.dir.join(&name);
            private_subdir(&dir)?;
            let conf = topology::router_config(&name, i, total, &dir);
            write_new(&dir.join("keepalived.conf"), &conf)?;
            write_new(&dir.join("healthy"), "")?;
            let mut r = Router::new(&name, &ns, &addr, dir, program);
            r.start()?;
            progress(&format!("router {name} at {addr}: {}", describe(&r)));
            lab.routers.push(r);
        }
        for (k, addr) in topology::BACKENDS.iter().enumerate() {
            let name = format!("b{}", k + 1);
            let ns = lab.net.host(&name, &format!("{addr}/24"))?;
            let mut b = Backend::new(&name, &ns, addr, lab.dir.clone(), bin.clone());
            b.start()?;
            progress(&format!("backend {name} at http://{addr}/"));
            lab.backends.push(b);
        }
        lab.client_ns = lab
            .net
            .host("client", &format!("{}/24", topology::CLIENT))?;
        progress(&format!("client at {}", topology::CLIENT));
        Ok(lab)
    }
}

impl console::Nodes for Lab {
    fn label(&self) -> String {
        format!("{}*", self.net.prefix)
    }
    fn routers(&self) -> usize {
        self.routers.len()
    }
    fn name(&self, k: usize) -> String {
        self.routers[k].name.clone()
    }
    fn socket(&self, k: usize) -> Option<PathBuf> {
        self.routers[k].socket()
    }
    fn state(&mut self, k: usize) -> &'static str {
        let r = &mut self.routers[k];
        if !r.running() {
            "DEAD"
        } else if r.paused {
            "PAUSED"
        } else if !r.cable {
            "UNPLUGGED"
        } else if !r.health_file().exists() {
            "unhealthy"
        } else {
            "up"
        }
    }
    fn backends(&self) -> Vec<(String, bool)> {
        self.backends
            .iter()
            .map(|b| (b.name.clone(), b.serving()))
            .collect()
    }
    fn act(&mut self, k: usize, key: char) -> Result<String, String> {
        let r = &mut self.routers[k];
        let name = r.name.clone();
        match key {
            'K' => {
                r.kill();
                Ok(format!(
                    "{name} killed (SIGKILL): the others take over after Master_Down_Interval"
                ))
            }
            'R' => {
                r.start()?;
                Ok(format!("{name} restarted"))
            }
            'P' => {
                r.toggle_pause()?;
                Ok(if r.paused {
                    format!("{name} paused (SIGSTOP): hung, it neither advertises nor gives way")
                } else {
                    format!("{name} resumed")
                })
            }
            'L' => {
                let up = !r.cable;
                self.net.set_cable(&name, up)?;
                self.routers[k].cable = up;
                Ok(format!(
                    "{name}'s cable {}",
                    if up { "plugged back" } else { "cut" }
                ))
            }
            'H' => {
                let f = r.health_file();
                if f.exists() {
                    std::fs::remove_file(&f).map_err(|e| e.to_string())?;
                    Ok(format!(
                        "{name}'s health check fails now (priority -50 on VI_1)"
                    ))
                } else {
                    write_new(&f, "")?;
                    Ok(format!("{name}'s health check passes again"))
                }
            }
            'B' | 'N' => {
                let b = &mut self.backends[usize::from(key == 'N')];
                if b.serving() {
                    b.stop();
                    Ok(format!("backend {} stopped", b.name))
                } else {
                    b.start()?;
                    Ok(format!("backend {} serving again", b.name))
                }
            }
            _ => Err("not a lab key".into()),
        }
    }
}

fn describe(r: &Router) -> String {
    match &r.program {
        Program::Kaconsole(_) => format!("kaconsole daemon, pid {}", r.pid().unwrap_or(0)),
        Program::Keepalived(_) => format!("keepalived, pid {}", r.pid().unwrap_or(0)),
    }
}

pub fn run(args: &LabArgs) -> ExitCode {
    if let Some(listen) = args.serve_http {
        return match http::serve(listen, &args.name) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kaconsole lab: backend {}: {listen}: {e}", args.name);
                ExitCode::from(1)
            }
        };
    }
    let root = nix::unistd::geteuid().is_root();
    if args.sim || !root {
        if !args.sim {
            eprintln!(
                "lab: not root, so the routers run in the simulator (the real network of \
                 namespaces needs root: sudo kaconsole lab)"
            );
        }
        return run_sim(args);
    }
    if args.clean {
        let (removed, running) = net::clean();
        for ns in &removed {
            println!("removed {ns}");
        }
        for ns in &running {
            println!("left {ns}: its lab is still running");
        }
        if removed.is_empty() && running.is_empty() {
            println!("nothing to clean");
        }
        return ExitCode::SUCCESS;
    }
    let mut lab = match Lab::build(args) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kaconsole lab: {e}");
            return ExitCode::from(1);
        }
    };
    lab.net.keep = args.keep;
    let result = if args.headless {
        headless(&lab)
    } else {
        console::run(&mut lab)
    };
    let removed = format!(
        "lab: removed {} router(s), {} backend(s), the network namespaces {}* and {}",
        lab.routers.len(),
        lab.backends.len(),
        lab.net.prefix,
        lab.dir.display()
    );
    if args.keep {
        eprintln!(
            "lab: left running as asked (namespaces {}*); `kaconsole lab --clean` removes it",
            lab.net.prefix
        );
    }
    drop(lab);
    if !args.keep {
        eprintln!("{removed}");
    }
    exit(result)
}

/// The lab's exit status once it is gone: 1 with the reason if its console failed.
fn exit(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kaconsole lab: {e}");
            ExitCode::from(1)
        }
    }
}

/// The lab in the simulator.
fn run_sim(args: &LabArgs) -> ExitCode {
    if args.keepalived || args.keep || args.clean {
        eprintln!("kaconsole lab --sim: --keepalived, --keep and --clean need the real lab (root)");
        return ExitCode::from(2);
    }
    progress(&format!(
        "simulating {} routers on a virtual segment (the real engines, no privileges)",
        args.routers
    ));
    let mut lab = match sim::SimLab::start(args.routers as usize) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kaconsole lab: {e}");
            return ExitCode::from(1);
        }
    };
    let result = if args.headless {
        StopSignals::install().and_then(|signals| {
            for r in &lab.routers {
                println!(
                    "{}",
                    serde_json::json!({"router": r.name, "socket": r.socket, "config": r.config})
                );
            }
            println!("{}", serde_json::json!({"sim": true, "ready": true}));
            signals.wait()
        })
    } else {
        console::run(&mut lab)
    };
    let gone = format!(
        "lab: stopped {} simulated router(s) and removed {}",
        lab.routers.len(),
        lab.dir.display()
    );
    drop(lab);
    eprintln!("{gone}");
    exit(result)
}

/// Prints the lab as JSON lines, then waits for SIGINT / SIGTERM.
fn headless(lab: &Lab) -> Result<(), String> {
    let signals = StopSignals::install()?;
    for r in &lab.routers {
        let line = serde_json::json!({
            "router": r.name, "ns": r.ns, "addr": r.addr, "pid": r.pid(),
            "socket": r.socket(), "config": r.config(), "log": r.log(),
        });
        println!("{line}");
    }
    for b in &lab.backends {
        println!(
            "{}",
            serde_json::json!({"backend": b.name, "ns": b.ns, "addr": b.addr})
        );
    }
    println!(
        "{}",
        serde_json::json!({"client": lab.client_ns, "prefix": lab.net.prefix, "ready": true})
    );
    // Tests check that a panic still removes everything.
    if std::env::var_os("KACONSOLE_LAB_PANIC").is_some() {
        panic!("KACONSOLE_LAB_PANIC is set: panicking with the lab up");
    }
    signals.wait()
}

/// SIGINT and SIGTERM caught: installed before the lab says it is ready, so that a signal
/// sent as soon as it is ready stops it the clean way (not the default action, which would
/// leave everything behind).
struct StopSignals {
    rt: tokio::runtime::Runtime,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> Result<StopSignals, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let _entered = rt.enter();
        let term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        drop(_entered);
        Ok(StopSignals { rt, term, int })
    }

    fn wait(mut self) -> Result<(), String> {
        self.rt.block_on(async {
            tokio::select! {
                _ = self.int.recv() => {}
                _ = self.term.recv() => {}
            }
        });
        eprintln!("lab: stopping and removing everything");
        Ok(())
    }
}
