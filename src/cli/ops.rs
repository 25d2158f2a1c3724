//! Commands for scripts: `kaconsole status`, `kaconsole reload`, `kaconsole events` - one
//! request to a daemon's control socket each, with exit statuses a script can test.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};

use crate::control::protocol::{Answer, Event, EventLine, Reply, ReplyResult, Status};

/// How long a reply may take (a reload with a large configuration included).
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// Exit statuses of `status`.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAULT: u8 = 1;
pub const EXIT_NO_DAEMON: u8 = 2;

#[derive(Args, Debug)]
pub struct SocketArg {
    /// The daemon's control socket [default: $XDG_RUNTIME_DIR/kaconsole/kaconsole.sock if a
    /// daemon of yours listens there, else /run/kaconsole/kaconsole.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

impl SocketArg {
    fn path(&self) -> PathBuf {
        self.socket
            .clone()
            .unwrap_or_else(super::default_tui_socket)
    }
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub socket: SocketArg,
    /// Print the daemon's status as one JSON object (the control protocol's `status`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ReloadArgs {
    #[command(flatten)]
    pub socket: SocketArg,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    pub socket: SocketArg,
    /// One JSON object per line (the control protocol's event lines).
    #[arg(long)]
    pub json: bool,
    /// Keep printing events as they happen, until the daemon stops or Ctrl-C.
    #[arg(long, short = 'f')]
    pub follow: bool,
}

/// A connection that has said hello.
struct Conn {
    r: BufReader<UnixStream>,
    w: UnixStream,
    next: u64,
}

impl Conn {
    fn open(path: &Path) -> Result<Conn, String> {
        let s = UnixStream::connect(path).map_err(|e| format!("{}: {e}", path.display()))?;
        s.set_read_timeout(Some(REPLY_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let r = BufReader::new(s.try_clone().map_err(|e| e.to_string())?);
        let mut c = Conn { r, w: s, next: 1 };
        match c.call(json!({"req": "hello", "version": crate::control::protocol::VERSION}))? {
            ReplyResult::Ok(Answer::Hello { .. }) => Ok(c),
            ReplyResult::Error(e) => Err(format!("{}: {}", e.code, e.message)),
            other => Err(format!("unexpected answer to hello: {other:?}")),
        }
    }

    fn send(&mut self, mut req: Value) -> Result<u64, String> {
        let id = self.next;
        self.next += 1;
        req["id"] = json!(id);
        let mut line = req.to_string();
        line.push('\n');
        self.w
            .write_all(line.as_bytes())
            .map_err(|e| format!("the daemon closed the socket: {e}"))?;
        Ok(id)
    }

    /// The next line: `Err` when the daemon is gone or says something unreadable.
    fn line(&mut self) -> Result<String, String> {
        let mut l = String::new();
        match self.r.read_line(&mut l) {
            Ok(0) => Err("the daemon closed the socket".into()),
            Ok(_) => Ok(l),
            Err(e) => Err(format!("no answer from the daemon: {e}")),
        }
    }

    /// Sends a request and waits for its reply, skipping events.
    fn call(&mut self, req: Value) -> Result<ReplyResult, String> {
        let id = self.send(req)?;
        loop {
            let l = self.line()?;
            if l.starts_with("{\"event\"") {
                continue;
            }
            let r: Reply = serde_json::from_str(&l).map_err(|e| format!("bad reply: {e}"))?;
            if r.id == id {
                return Ok(r.result);
            }
        }
    }
}

fn no_daemon(cmd: &str, e: &str) -> ExitCode {
    eprintln!("kaconsole {cmd}: no daemon answers: {e}");
    ExitCode::from(EXIT_NO_DAEMON)
}

/// `kaconsole status`.
pub fn status(args: &StatusArgs) -> ExitCode {
    let path = args.socket.path();
    let status = match Conn::open(&path).and_then(|mut c| c.call(json!({"req": "status"}))) {
        Ok(ReplyResult::Ok(Answer::Status(s))) => s,
        Ok(ReplyResult::Error(e)) => return no_daemon("status", &e.message),
        Ok(other) => return no_daemon("status", &format!("unexpected answer {other:?}")),
        Err(e) => return no_daemon("status", &e),
    };
    let out = if args.json {
        serde_json::to_string_pretty(&status).unwrap_or_default() + "\n"
    } else {
        render_status(&status)
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
    ExitCode::from(status_code(&status))
}

/// 0 when every instance and group is MASTER or BACKUP (where the elections put it), 1 when
/// one is in FAULT or has not left INIT.
pub fn status_code(s: &Status) -> u8 {
    let settled = |state: &str| matches!(state, "MASTER" | "BACKUP");
    let all =
        s.instances.iter().all(|i| settled(&i.state)) && s.groups.iter().all(|g| settled(&g.state));
    if all { EXIT_OK } else { EXIT_FAULT }
}

/// The status as a table for people.
pub fn render_status(s: &Status) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} pid {} up {:.0}s config {}",
        s.host, s.pid, s.uptime_s, s.config
    );
    let _ = writeln!(
        o,
        "{:<16} {:<8} {:>4} {:<7} {:>9} {:<20} VIPS",
        "INSTANCE", "IFACE", "VRID", "STATE", "PRIO", "MASTER"
    );
    for i in &s.instances {
        let prio = format!("{}/{}", i.effective_priority, i.base_priority);
        let master = match (&i.master, i.master_priority, i.state.as_str()) {
            (_, _, "MASTER") => "this node".to_string(),
            (Some(m), Some(p), _) => format!("{m} ({p})"),
            (Some(m), None, _) => m.clone(),
            _ => "-".to_string(),
        };
        let _ = writeln!(
            o,
            "{:<16} {:<8} {:>4} {:<7} {:>9} {:<20} {}",
            i.name,
            i.interface,
            i.vrid,
            i.state,
            prio,
            master,
            i.vips.join(" ")
        );
    }
    for g in &s.groups {
        let _ = writeln!(o, "group {} {}", g.name, g.state);
    }
    for vs in &s.virtual_servers {
        let quorum = if vs.quorum_up { "up" } else { "LOST" };
        let _ = writeln!(o, "virtual_server {} quorum {quorum}", vs.id);
        for rs in &vs.real_servers {
            let alive = if rs.alive { "alive" } else { "DOWN" };
            let err = rs.last_error.as_deref().unwrap_or("");
            let _ = writeln!(
                o,
                "  {:<24} weight {:<4} {alive:<5} {} {err}",
                rs.addr, rs.weight, rs.checker
            );
        }
    }
    o
}

/// `kaconsole reload`: 0 when the daemon took the configuration, 1 (with its reasons) when
/// it refused it and kept the running one, 2 when no daemon answers.
pub fn reload(args: &ReloadArgs) -> ExitCode {
    let path = args.socket.path();
    match Conn::open(&path).and_then(|mut c| c.call(json!({"req": "reload"}))) {
        Ok(ReplyResult::Ok(_)) => {
            println!("reloaded");
            ExitCode::SUCCESS
        }
        Ok(ReplyResult::Error(e)) if e.code == "stopping" => no_daemon("reload", &e.message),
        Ok(ReplyResult::Error(e)) => {
            eprintln!(
                "kaconsole reload: refused ({}), the running configuration stays:",
                e.code
            );
            for l in e.message.lines() {
                eprintln!("  {l}");
            }
            for d in &e.diagnostics {
                eprintln!("  {d}");
            }
            ExitCode::from(1)
        }
        Err(e) => no_daemon("reload", &e),
    }
}

/// `kaconsole events`: the recent events (the daemon keeps the last 200), then with
/// `--follow` the new ones as they come.
pub fn events(args: &EventsArgs) -> ExitCode {
    let path = args.socket.path();
    match stream_events(&path, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => no_daemon("events", &e),
    }
}

fn stream_events(path: &Path, args: &EventsArgs) -> Result<(), String> {
    let mut c = Conn::open(path)?;
    // The backlog comes with the subscription (before its reply); a request sent now is
    // answered after it, which marks its end.
    c.send(json!({"req": "subscribe"}))?;
    let marker = if args.follow {
        None
    } else {
        Some(c.send(json!({"req": "stats"}))?)
    };
    if args.follow {
        // Events may be rare: wait for them as long as it takes.
        let _ = c.w.set_read_timeout(None);
        let _ = c.r.get_ref().set_read_timeout(None);
    }
    let mut out = std::io::stdout().lock();
    loop {
        let l = match c.line() {
            Ok(l) => l,
            Err(_) if args.follow => return Ok(()),
            Err(e) => return Err(e),
        };
        let Ok(e) = serde_json::from_str::<EventLine>(&l) else {
            if let (Some(id), Ok(r)) = (marker, serde_json::from_str::<Reply>(&l))
                && r.id == id
            {
                return Ok(());
            }
            continue;
        };
        let text = if args.json {
            l.trim_end().to_string()
        } else {
            render_event(&e.event)
        };
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            return Ok(());
        }
    }
}

/// An event as a line for people.
pub fn render_event(e: &Event) -> String {
    match e {
        Event::Log { line } => line.clone(),
        Event::Vrrp { source, output } => format!("{source}: {}", crate::tui::describe(output)),
    }
}
