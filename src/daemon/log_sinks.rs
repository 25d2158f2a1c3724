//! Where the daemon's log lines go, as keepalived: syslog by default (facility daemon, or
//! local0-7 with `-S`; off with `-G`), the console with `-l`, a file with `-g[FILE]`. Under
//! systemd (`$JOURNAL_STREAM` or `$NOTIFY_SOCKET` set and the journal's socket there) the
//! journal's native protocol takes syslog's place, with the priority and fields such as
//! INSTANCE, STATE and VRID that `journalctl INSTANCE=VI_1` selects.
//!
//! The daemon logs through `tracing`: [`Log`](super::log::Log) emits each line as an event
//! (target `kaconsole`, fields `ident`, `instance`, `vrid`, `state`), and [`SinksLayer`], the
//! subscriber's one layer, writes them here - as it writes any `tracing::info!` the daemon's
//! code may emit.
//!
//! The datagrams are written here rather than through a crate: an RFC 3164 line to /dev/log
//! and the journal's `KEY=value` lines are a few lines each, and both sockets are opened
//! non-blocking, so a stalled syslog daemon costs the VRRP loop a dropped line, never a wait.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// syslog(3)'s /dev/log, and the journal's native socket.
pub const DEV_LOG: &str = "/dev/log";
pub const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

/// A line's level, with its syslog severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl Level {
    pub fn severity(self) -> u8 {
        match self {
            Level::Error => 3,
            Level::Warn => 4,
            Level::Info => 6,
            Level::Debug => 7,
        }
    }
}

/// keepalived's syslog identifiers: the parent, the VRRP child, the checkers' child.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ident {
    Parent,
    #[default]
    Vrrp,
    Checkers,
}

impl Ident {
    pub fn name(self) -> &'static str {
        match self {
            Ident::Parent => "Keepalived",
            Ident::Vrrp => "Keepalived_vrrp",
            Ident::Checkers => "Keepalived_healthcheckers",
        }
    }
}

/// The syslog facility: LOG_DAEMON (3), or LOG_LOCAL0..7 (16..23) with `-S 0..7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facility(pub u8);

impl Default for Facility {
    fn default() -> Self {
        Facility(3)
    }
}

impl Facility {
    /// keepalived's `-S`: 0-7 (local0-7); also `local0`-`local7`, `daemon` and `user`.
    pub fn parse(s: &str) -> Result<Facility, String> {
        let local = s.strip_prefix("local").unwrap_or(s);
        match (s, local.parse::<u8>()) {
            ("daemon", _) => Ok(Facility(3)),
            ("user", _) => Ok(Facility(1)),
            (_, Ok(n @ 0..=7)) => Ok(Facility(16 + n)),
            _ => Err(format!(
                "invalid log facility '{s}': 0-7 (local0-local7), local0-local7, daemon or user"
            )),
        }
    }

    pub fn name(self) -> String {
        match self.0 {
            3 => "daemon".into(),
            1 => "user".into(),
            n => format!("local{}", n.saturating_sub(16)),
        }
    }
}

/// What the command line asked for.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    /// `-l`.
    pub console: bool,
    /// Not `-G`.
    pub syslog: bool,
    pub facility: Facility,
    /// `-g[FILE]`.
    pub file: Option<PathBuf>,
    /// `--flush-log-file` (every line is written at once anyway; accepted as keepalived).
    pub flush: bool,
    /// `-D`: the lines keepalived logs only with --log-detail.
    pub detail: bool,
}

/// A datagram socket that is (re)connected on demand and never blocks.
struct Datagram {
    path: PathBuf,
    socket: Mutex<Option<UnixDatagram>>,
}

impl Datagram {
    fn new(path: &Path) -> Datagram {
        Datagram {
            path: path.to_path_buf(),
            socket: Mutex::new(None),
        }
    }

    /// Sends one datagram; `false` when it was dropped (no listener, or its queue full).
    fn send(&self, bytes: &[u8]) -> bool {
        let mut slot = self.socket.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..2 {
            if slot.is_none() {
                let s = UnixDatagram::unbound().ok();
                let s =
                    s.filter(|s| s.set_nonblocking(true).is_ok() && s.connect(&self.path).is_ok());
                match s {
                    Some(s) => *slot = Some(s),
                    None => return false,
                }
            }
            match slot.as_ref().map(|s| s.send(bytes)) {
                Some(Ok(_)) => return true,
                Some(Err(e)) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
                // The listener went away (syslog restarted): connect again once.
                _ => *slot = None,
            }
        }
        false
    }
}

/// The open destinations.
pub struct Sinks {
    console: bool,
    syslog: Option<Datagram>,
    journal: Option<Datagram>,
    facility: Facility,
    file: Option<Mutex<std::fs::File>>,
    pid: u32,
    /// Lines a socket could not take.
    pub dropped: AtomicU64,
}

/// A line with its structured fields (journald's; syslog and the console get the text).
pub struct Record<'a> {
    pub level: Level,
    pub ident: Ident,
    pub message: &'a str,
    pub fields: &'a [(&'a str, String)],
}

impl Sinks {
    /// Opens what `t` asks for. Under systemd the journal replaces syslog. A log file that
    /// cannot be opened is an error (the daemon says so and stops).
    pub fn open(t: &Targets) -> Result<Sinks, String> {
        let journal = t.syslog && under_systemd() && Path::new(JOURNAL_SOCKET).exists();
        let file = match &t.file {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("log file {}: {e}", path.display()))?,
            )),
            None => None,
        };
        Ok(Sinks {
            console: t.console,
            syslog: (t.syslog && !journal).then(|| Datagram::new(Path::new(DEV_LOG))),
            journal: journal.then(|| Datagram::new(Path::new(JOURNAL_SOCKET))),
            facility: t.facility,
            file,
            pid: std::process::id(),
            dropped: AtomicU64::new(0),
        })
    }

    /// Whether lines reach syslog or the journal (else: the console, a file, or nothing).
    pub fn describe(&self) -> String {
        let mut to = Vec::new();
        if self.journal.is_some() {
            to.push("the journal".to_string());
        }
        if self.syslog.is_some() {
            to.push(format!("syslog ({})", self.facility.name()));
        }
        if self.console {
            to.push("the console".into());
        }
        if self.file.is_some() {
            to.push("a file".into());
        }
        if to.is_empty() {
            "nowhere but the control socket".into()
        } else {
            to.join(", ")
        }
    }

    /// Writes `r`, whose console form (with its timestamp) is `line`.
    pub fn write(&self, r: &Record<'_>, line: &str) {
        if self.console {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
        if let Some(f) = &self.file {
            let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(f, "{line}");
        }
        let pri = self.facility.0 * 8 + r.level.severity();
        if let Some(s) = &self.syslog
            && !s.send(rfc3164(pri, r.ident.name(), self.pid, r.message).as_bytes())
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(j) = &self.journal
            && !j.send(&journal_entry(r, self.facility))
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// systemd started us: it sets `$JOURNAL_STREAM` when stderr is the journal and
/// `$NOTIFY_SOCKET` for Type=notify.
fn under_systemd() -> bool {
    std::env::var_os("JOURNAL_STREAM").is_some() || std::env::var_os("NOTIFY_SOCKET").is_some()
}

/// syslog(3)'s datagram: `<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE` (RFC 3164), time in UTC.
pub fn rfc3164(pri: u8, ident: &str, pid: u32, message: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (_, m, d) = super::log::civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!(
        "<{pri}>{} {d:>2} {:02}:{:02}:{:02} {ident}[{pid}]: {message}",
        MONTHS[(m as usize).saturating_sub(1) % 12],
        t / 3600,
        t % 3600 / 60,
        t % 60
    )
}

/// The journal's native entry: `KEY=value` lines; a value with a newline in the binary
/// form (the key, a newline, its length as 64-bit little endian, the value).
pub fn journal_entry(r: &Record<'_>, facility: Facility) -> Vec<u8> {
    let mut out = Vec::with_capacity(r.message.len() + 128);
    let mut field = |k: &str, v: &str| {
        if v.contains('\n') {
            out.extend_from_slice(k.as_bytes());
            out.push(b'\n');
            out.extend_from_slice(&(v.len() as u64).to_le_bytes());
            out.extend_from_slice(v.as_bytes());
            out.push(b'\n');
        } else {
            out.extend_from_slice(format!("{k}={v}\n").as_bytes());
        }
    };
    field("MESSAGE", r.message);
    field("PRIORITY", &r.level.severity().to_string());
    field("SYSLOG_IDENTIFIER", r.ident.name());
    field("SYSLOG_FACILITY", &facility.0.to_string());
    for (k, v) in r.fields {
        field(k, v);
    }
    out
}

/// The `tracing` layer that writes the daemon's events (target `kaconsole...`) to the sinks.
pub struct SinksLayer(pub std::sync::Arc<Sinks>);

/// An event's fields, as the sinks want them.
#[derive(Default)]
struct Fields {
    message: String,
    ident: Option<String>,
    instance: Option<String>,
    vrid: Option<String>,
    state: Option<String>,
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        let slot = match field.name() {
            "message" => return self.message = value.to_string(),
            "ident" => &mut self.ident,
            "instance" => &mut self.instance,
            "vrid" => &mut self.vrid,
            "state" => &mut self.state,
            _ => return,
        };
        *slot = Some(value.to_string());
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SinksLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if !event.metadata().target().starts_with("kaconsole") {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => Level::Error,
            tracing::Level::WARN => Level::Warn,
            tracing::Level::INFO => Level::Info,
            _ => Level::Debug,
        };
        let ident = match f.ident.as_deref() {
            Some("Keepalived") => Ident::Parent,
            Some("Keepalived_healthcheckers") => Ident::Checkers,
            _ => Ident::Vrrp,
        };
        let fields: Vec<(&str, String)> = [
            ("INSTANCE", f.instance),
            ("VRID", f.vrid),
            ("STATE", f.state),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        for part in f.message.lines() {
            let line = super::log::console_line(level, part);
            let r = Record {
                level,
                ident,
                message: part,
                fields: &fields,
            };
            self.0.write(&r, &line);
        }
    }
}

/// Makes `sinks` the process's `tracing` subscriber; `false` if one was set already (then
/// the daemon's `Log` writes to its sinks itself).
pub fn install(sinks: std::sync::Arc<Sinks>) -> bool {
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(SinksLayer(sinks));
    tracing::subscriber::set_global_default(subscriber).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemons_lines_go_through_tracing_to_the_sinks() {
        use tracing_subscriber::layer::SubscriberExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("log");
        let t = Targets {
            file: Some(file.clone()),
            ..Default::default()
        };
        let sinks = std::sync::Arc::new(Sinks::open(&t).unwrap());
        let subscriber = tracing_subscriber::registry().with(SinksLayer(sinks.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let log = crate::daemon::log::Log {
                sinks: Some(sinks.clone()),
                via_tracing: true,
                ..Default::default()
            };
            log.warn("first\nsecond");
            tracing::error!(target: "kaconsole::somewhere", "from elsewhere");
            tracing::error!(target: "a_dependency", "not ours");
        });
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].ends_with(": WARNING: first"), "{text}");
        assert!(lines[1].ends_with(": WARNING: second"), "{text}");
        assert!(lines[2].ends_with(": ERROR: from elsewhere"), "{text}");
    }

    #[test]
    fn facilities_as_keepalived() {
        assert_eq!(Facility::default(), Facility(3));
        assert_eq!(Facility::parse("0"), Ok(Facility(16)));
        assert_eq!(Facility::parse("7"), Ok(Facility(23)));
        assert_eq!(Facility::parse("local3"), Ok(Facility(19)));
        assert_eq!(Facility::parse("daemon"), Ok(Facility(3)));
        assert_eq!(Facility(19).name(), "local3");
        for bad in ["8", "-1", "local8", "kern", ""] {
            let e = Facility::parse(bad).unwrap_err();
            assert!(e.contains("0-7"), "{e}");
        }
    }

    #[test]
    fn a_syslog_line_as_glibc_sends_it() {
        let l = rfc3164(
            19 * 8 + 6,
            "Keepalived_vrrp",
            42,
            "(VI_1) Entering MASTER STATE",
        );
        assert!(l.starts_with("<158>"), "{l}");
        assert!(
            l.ends_with(" Keepalived_vrrp[42]: (VI_1) Entering MASTER STATE"),
            "{l}"
        );
        assert_eq!(
            l.len(),
            "<158>Dec  7 01:02:03 ".len()
                + "Keepalived_vrrp[42]: (VI_1) Entering MASTER STATE".len()
        );
    }

    #[test]
    fn journal_fields_and_multi_line_values() {
        let fields = [
            ("INSTANCE", "VI_1".to_string()),
            ("NOTE", "a\nb".to_string()),
        ];
        let r = Record {
            level: Level::Warn,
            ident: Ident::Vrrp,
            message: "hello",
            fields: &fields,
        };
        let e = journal_entry(&r, Facility(3));
        let text = String::from_utf8_lossy(&e);
        assert!(text.starts_with("MESSAGE=hello\nPRIORITY=4\nSYSLOG_IDENTIFIER=Keepalived_vrrp\n"));
        assert!(text.contains("INSTANCE=VI_1\n"));
        let mut bin = b"NOTE\n".to_vec();
        bin.extend_from_slice(&3u64.to_le_bytes());
        bin.extend_from_slice(b"a\nb\n");
        assert!(e.ends_with(&bin));
    }
}
