//! The lab's processes: a daemon per router (kaconsole, or keepalived with `--keepalived`) and
//! an HTTP server per backend, each in its namespace, each stopped by PID.

use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Which program a router runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Program {
    Kaconsole(PathBuf),
    Keepalived(PathBuf),
}

pub struct Router {
    pub name: String,
    pub ns: String,
    pub addr: String,
    /// Its configuration, pid files, log and control socket.
    pub dir: PathBuf,
    pub program: Program,
    child: Option<Child>,
    pub paused: bool,
    pub cable: bool,
}

/// Starts `program args` in namespace `ns`, output to `log`.
fn spawn_in(ns: &str, program: &Path, args: &[&str], log: &Path) -> Result<Child, String> {
    // In the lab's own directory; still never through a link.
    let out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(log)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    // `ip netns exec` enters the namespace and execs the program: the child's pid is its pid.
    // Its own process group: the terminal's signals (a closed window's SIGHUP) are the lab's
    // to handle, not the daemons'.
    Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(program)
        .args(args)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("{}: {e}", program.display()))
}

fn stop(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        let pid = Pid::from_raw(c.id() as i32);
        // SIGKILL also ends a stopped (paused) process.
        let _ = kill(pid, Signal::SIGKILL);
        let _ = c.wait();
    }
}

impl Router {
    pub fn new(name: &str, ns: &str, addr: &str, dir: PathBuf, program: Program) -> Router {
        Router {
            name: name.to_string(),
            ns: ns.to_string(),
            addr: addr.to_string(),
            dir,
            program,
            child: None,
            paused: false,
            cable: true,
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.join("keepalived.conf")
    }

    /// The control socket (kaconsole routers).
    pub fn socket(&self) -> Option<PathBuf> {
        matches!(self.program, Program::Kaconsole(_)).then(|| self.dir.join("kaconsole.sock"))
    }

    pub fn log(&self) -> PathBuf {
        self.dir.join("daemon.log")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn start(&mut self) -> Result<(), String> {
        if self.child.is_some() {
            return Ok(());
        }
        let d = |f: &str| self.dir.join(f).display().to_string();
        let conf = self.config().display().to_string();
        let (program, args): (&Path, Vec<String>) = match &self.program {
            Program::Kaconsole(bin) => (
                bin,
                vec![
                    "daemon".into(),
                    "-n".into(),
                    "-l".into(),
                    // The lab's routers log to their own files, never to the machine's syslog.
                    "-G".into(),
                    "-f".into(),
                    conf,
                    "-p".into(),
                    d("kaconsole.pid"),
                    "-i".into(),
                    self.name.clone(),
                    "--socket".into(),
                    d("kaconsole.sock"),
                ],
            ),
            Program::Keepalived(bin) => (
                bin,
                vec![
                    "-n".into(),
                    "-l".into(),
                    // The lab's routers log to their own files, never to the machine's syslog.
                    "-G".into(),
                    "-D".into(),
                    "-P".into(),
                    "-f".into(),
                    conf,
                    "-p".into(),
                    d("keepalived.pid"),
                    "-r".into(),
                    d("vrrp.pid"),
                    "-i".into(),
                    self.name.clone(),
                ],
            ),
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.child = Some(spawn_in(&self.ns, program, &args, &self.log())?);
        self.paused = false;
        Ok(())
    }

    /// SIGKILL: a silent death, as a crash or a power cut.
    pub fn kill(&mut self) {
        stop(&mut self.child);
        self.paused = false;
    }

    /// SIGSTOP / SIGCONT: a hung router (it neither advertises nor gives way).
    pub fn toggle_pause(&mut self) -> Result<(), String> {
        let pid = self.pid().ok_or("the router is not running")?;
        let sig = if self.paused {
            Signal::SIGCONT
        } else {
            Signal::SIGSTOP
        };
        kill(Pid::from_raw(pid as i32), sig).map_err(|e| e.to_string())?;
        self.paused = !self.paused;
        Ok(())
    }

    /// Whether the process still runs (it may have exited on its own).
    pub fn running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => match c.try_wait() {
                Ok(None) => true,
                _ => {
                    self.child = None;
                    false
                }
            },
            None => false,
        }
    }

    pub fn health_file(&self) -> PathBuf {
        self.dir.join("healthy")
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

pub struct Backend {
    pub name: String,
    pub ns: String,
    pub addr: String,
    pub dir: PathBuf,
    bin: PathBuf,
    child: Option<Child>,
}

impl Backend {
    pub fn new(name: &str, ns: &str, addr: &str, dir: PathBuf, bin: PathBuf) -> Backend {
        Backend {
            name: name.to_string(),
            ns: ns.to_string(),
            addr: addr.to_string(),
            dir,
            bin,
            child: None,
        }
    }

    /// Serves HTTP on port 80 (`kaconsole lab --serve-http`).
    pub fn start(&mut self) -> Result<(), String> {
        if self.child.is_some() {
            return Ok(());
        }
        let listen = format!("{}:{}", self.addr, super::topology::HTTP_PORT);
        let log = self.dir.join(format!("{}.log", self.name));
        self.child = Some(spawn_in(
            &self.ns,
            &self.bin,
            &["lab", "--serve-http", &listen, "--name", &self.name],
            &log,
        )?);
        Ok(())
    }

    pub fn stop(&mut self) {
        stop(&mut self.child);
    }

    pub fn serving(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop();
    }
}
