//! The daemon's side of the control socket. Each client gets a task; what needs the engine
//! (status, reload) goes to the daemon's main loop as a [`Call`] and comes back on a oneshot,
//! so the engine is never shared. A client's outgoing lines go through a bounded queue: a
//! client that does not read is dropped when it fills, and nobody else waits for it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::events::EventHub;
use super::protocol::{
    Answer, DaemonStats, ErrorReply, MAX_LINE, Reply, ReplyResult, Request, RequestBody, Status,
    VERSION,
};
use crate::config::{self, LoadOptions, Severity, diag};

/// Clients served at once; more are told so and closed.
pub const MAX_CLIENTS: usize = 256;
/// Lines queued for one client before it counts as not reading.
const CLIENT_QUEUE: usize = 1024;

/// What a client task asks the main loop.
pub enum Call {
    Status(oneshot::Sender<Status>),
    /// Reload the configuration file; the reply says why not.
    Reload(oneshot::Sender<Result<(), String>>),
    /// The daemon's figures (the server adds its own: clients).
    Stats(oneshot::Sender<DaemonStats>),
    /// The segment's table.
    Segment(oneshot::Sender<crate::sniff::table::Snapshot>),
}

/// The server's own counters.
#[derive(Default)]
struct Counters {
    clients: AtomicUsize,
    dropped: std::sync::atomic::AtomicU64,
}

/// What the server needs to know.
#[derive(Clone)]
pub struct ServerConfig {
    pub socket: PathBuf,
    pub config: PathBuf,
    pub config_id: String,
}

/// Binds the socket and serves until the runtime ends. The socket is 0660 with the
/// `kaconsole` group when that group exists, else 0600.
pub fn start(
    cfg: ServerConfig,
    calls: mpsc::Sender<Call>,
    events: EventHub,
) -> std::io::Result<()> {
    if let Some(dir) = cfg.socket.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A socket file left by a killed daemon.
    let _ = std::fs::remove_file(&cfg.socket);
    // Created 0600 (never more open, not even for an instant), then opened to the group.
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let bound = UnixListener::bind(&cfg.socket);
    nix::sys::stat::umask(old);
    let listener = bound?;
    let group = nix::unistd::Group::from_name("kaconsole").ok().flatten();
    let mode = if let Some(g) = &group {
        let _ = nix::unistd::chown(&cfg.socket, None, Some(g.gid));
        0o660
    } else {
        0o600
    };
    std::fs::set_permissions(&cfg.socket, std::fs::Permissions::from_mode(mode))?;
    let counters = Arc::new(Counters::default());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            if counters.clients.load(Ordering::Relaxed) >= MAX_CLIENTS {
                let mut s = stream;
                let reply = Reply::error(0, "busy", "too many clients");
                let _ = s.write_all(line(&reply).as_bytes()).await;
                continue;
            }
            counters.clients.fetch_add(1, Ordering::Relaxed);
            let (cfg, calls, events, counters) =
                (cfg.clone(), calls.clone(), events.clone(), counters.clone());
            tokio::spawn(async move {
                serve(stream, cfg, calls, events, &counters).await;
                counters.clients.fetch_sub(1, Ordering::Relaxed);
            });
        }
    });
    Ok(())
}

fn line(r: &Reply) -> String {
    let mut s = serde_json::to_string(r).unwrap_or_default();
    s.push('\n');
    s
}

/// Root and the daemon's own user may apply and reload; others (the group) may only read.
fn is_admin(stream: &UnixStream) -> bool {
    let me = nix::unistd::geteuid().as_raw();
    stream
        .peer_cred()
        .is_ok_and(|c| c.uid() == 0 || c.uid() == me)
}

async fn serve(
    stream: UnixStream,
    cfg: ServerConfig,
    calls: mpsc::Sender<Call>,
    events: EventHub,
    counters: &Counters,
) {
    let admin = is_admin(&stream);
    let (r, mut w) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::channel::<String>(CLIENT_QUEUE);
    // The writer: when it cannot write, the client is gone.
    let writer = tokio::spawn(async move {
        while let Some(l) = out_rx.recv().await {
            if w.write_all(l.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let mut reader = BufReader::new(r);
    let mut said_hello = false;
    let mut buf = Vec::new();
    // Set when this client's queue overflows: it is dropped.
    let (kill_tx, mut kill_rx) = tokio::sync::watch::channel(false);
    let mut killed = false;
    loop {
        buf.clear();
        let mut limited = (&mut reader).take(MAX_LINE as u64 + 1);
        let read = tokio::select! {
            r = limited.read_until(b'\n', &mut buf) => r,
            _ = kill_rx.changed() => {
                killed = true;
                break;
            }
        };
        let n = match read {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if n > MAX_LINE {
            let _ = out_tx.try_send(line(&Reply::error(0, "bad_request", "line too long")));
            break;
        }
        let reply = match serde_json::from_slice::<Request>(&buf) {
            Err(e) => Reply::error(0, "bad_request", format!("not a request: {e}")),
            Ok(req) => {
                let ctx = Ctx {
                    cfg: &cfg,
                    admin,
                    calls: &calls,
                    events: &events,
                    out: &out_tx,
                    kill: &kill_tx,
                    counters,
                };
                handle(req, &ctx, &mut said_hello).await
            }
        };
        // A client that lets its queue fill is not reading: drop it.
        if out_tx.try_send(line(&reply)).is_err() {
            killed = true;
            break;
        }
    }
    drop(out_tx);
    if killed {
        counters.dropped.fetch_add(1, Ordering::Relaxed);
        // A client that does not read loses what is queued: the connection closes now.
        writer.abort();
    } else {
        // The last replies (an error for an oversized line, say) still go out, briefly.
        let abort = writer.abort_handle();
        if tokio::time::timeout(std::time::Duration::from_secs(1), writer)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

/// What a request handler needs of its connection.
struct Ctx<'a> {
    cfg: &'a ServerConfig,
    admin: bool,
    calls: &'a mpsc::Sender<Call>,
    events: &'a EventHub,
    out: &'a mpsc::Sender<String>,
    kill: &'a tokio::sync::watch::Sender<bool>,
    counters: &'a Counters,
}

async fn handle(req: Request, ctx: &Ctx<'_>, said_hello: &mut bool) -> Reply {
    let id = req.id;
    if !*said_hello && !matches!(req.body, RequestBody::Hello { .. }) {
        return Reply::error(
            id,
            "hello_first",
            "send {\"req\":\"hello\",\"version\":1} first",
        );
    }
    match req.body {
        RequestBody::Hello { version } => hello(id, version, ctx.admin, said_hello),
        RequestBody::Status => status(id, ctx).await,
        RequestBody::Subscribe => subscribe(id, ctx),
        RequestBody::GetConfig => get_config(id, ctx.cfg),
        RequestBody::Validate { text } => validate(id, ctx.cfg, &text),
        RequestBody::Apply { text } => apply(id, ctx, &text).await,
        RequestBody::Stats => stats(id, ctx).await,
        RequestBody::Segment => segment(id, ctx).await,
        RequestBody::Reload => reload(id, ctx).await,
    }
}

fn hello(id: u64, version: u32, admin: bool, said_hello: &mut bool) -> Reply {
    if version != VERSION {
        return Reply::error(
            id,
            "version",
            format!("this daemon speaks version {VERSION}, not {version}"),
        );
    }
    *said_hello = true;
    Reply::ok(
        id,
        Answer::Hello {
            version: VERSION,
            daemon: format!("kaconsole {}", env!("CARGO_PKG_VERSION")),
            admin,
        },
    )
}

async fn status(id: u64, ctx: &Ctx<'_>) -> Reply {
    match ask(ctx.calls, Call::Status).await {
        Some(s) => Reply::ok(id, Answer::Status(Box::new(s))),
        None => stopping(id),
    }
}

fn subscribe(id: u64, ctx: &Ctx<'_>) -> Reply {
    let (backlog, rx) = ctx.events.subscribe();
    // The recent events first (they fit: the backlog is smaller than the queue).
    for l in backlog {
        if ctx.out.try_send(l).is_err() {
            let _ = ctx.kill.send(true);
            break;
        }
    }
    tokio::spawn(forward(rx, ctx.out.clone(), ctx.kill.clone()));
    Reply::ok(id, Answer::Subscribed)
}

/// Passes the event lines to the client's queue until either end goes away.
async fn forward(
    mut rx: broadcast::Receiver<String>,
    out: mpsc::Sender<String>,
    kill: tokio::sync::watch::Sender<bool>,
) {
    loop {
        match rx.recv().await {
            Ok(l) => {
                // A full queue: the client is not reading; it is dropped.
                if out.try_send(l).is_err() {
                    let _ = kill.send(true);
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                let _ = kill.send(true);
                return;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn get_config(id: u64, cfg: &ServerConfig) -> Reply {
    match std::fs::read_to_string(&cfg.config) {
        Ok(text) => Reply::ok(
            id,
            Answer::Config {
                path: cfg.config.display().to_string(),
                text,
            },
        ),
        Err(e) => Reply::error(id, "io", format!("{}: {e}", cfg.config.display())),
    }
}

fn validate(id: u64, cfg: &ServerConfig, text: &str) -> Reply {
    let (diagnostics, errors, warnings) = diagnose(cfg, text);
    Reply::ok(
        id,
        Answer::Diagnostics {
            diagnostics,
            errors,
            warnings,
        },
    )
}

async fn apply(id: u64, ctx: &Ctx<'_>, text: &str) -> Reply {
    if !ctx.admin {
        return Reply::error(id, "permission", "apply needs root or the daemon's user");
    }
    let (diagnostics, errors, _) = diagnose(ctx.cfg, text);
    if errors > 0 {
        return Reply {
            id,
            result: ReplyResult::Error(ErrorReply {
                code: "invalid_config".into(),
                message: format!("{errors} error(s): nothing was written"),
                diagnostics,
            }),
        };
    }
    let backup = match write_with_backup(&ctx.cfg.config, text) {
        Ok(b) => b,
        Err(e) => return Reply::error(id, "io", e.to_string()),
    };
    match ask_reload(ctx.calls).await {
        Ok(()) => Reply::ok(
            id,
            Answer::Applied {
                backup: backup.display().to_string(),
            },
        ),
        Err(e) => Reply::error(id, "reload", e),
    }
}

async fn stats(id: u64, ctx: &Ctx<'_>) -> Reply {
    match ask(ctx.calls, Call::Stats).await {
        Some(mut s) => {
            s.clients = ctx.counters.clients.load(Ordering::Relaxed);
            s.clients_dropped = ctx.counters.dropped.load(Ordering::Relaxed);
            Reply::ok(id, Answer::Stats(s))
        }
        None => stopping(id),
    }
}

async fn segment(id: u64, ctx: &Ctx<'_>) -> Reply {
    match ask(ctx.calls, Call::Segment).await {
        Some(s) => Reply::ok(id, Answer::Segment(Box::new(s.into()))),
        None => stopping(id),
    }
}

async fn reload(id: u64, ctx: &Ctx<'_>) -> Reply {
    if !ctx.admin {
        return Reply::error(id, "permission", "reload needs root or the daemon's user");
    }
    match ask_reload(ctx.calls).await {
        Ok(()) => Reply::ok(id, Answer::Reloaded),
        Err(e) => Reply::error(id, "reload", e),
    }
}

/// Asks the daemon's main loop; `None` when it is gone (stopping, or a simulated router that
/// crashed and does not answer).
async fn ask<T>(
    calls: &mpsc::Sender<Call>,
    call: impl FnOnce(oneshot::Sender<T>) -> Call,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    calls.send(call(tx)).await.ok()?;
    rx.await.ok()
}

fn stopping(id: u64) -> Reply {
    Reply::error(id, "stopping", "the daemon is stopping")
}

async fn ask_reload(calls: &mpsc::Sender<Call>) -> Result<(), String> {
    ask(calls, Call::Reload)
        .await
        .unwrap_or_else(|| Err("the daemon is stopping".to_string()))
}

/// The diagnostics of `text` read as the configuration file, and the numbers of errors and
/// warnings.
fn diagnose(cfg: &ServerConfig, text: &str) -> (Vec<serde_json::Value>, usize, usize) {
    let opts = LoadOptions {
        config_id: cfg.config_id.clone(),
        ..Default::default()
    };
    let machine = crate::sys::env::Machine::new();
    let loaded = config::load_text(&cfg.config, text.as_bytes(), &opts, Some(&machine));
    let list = loaded
        .diagnostics
        .iter()
        .filter_map(|d| serde_json::to_value(diag::to_json(&loaded.sources, d)).ok())
        .collect();
    let count = |s: Severity| {
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == s)
            .count()
    };
    (list, count(Severity::Error), count(Severity::Warning))
}

/// Writes `text` to `path` atomically, keeping the old file as `path.bak`.
fn write_with_backup(path: &Path, text: &str) -> std::io::Result<PathBuf> {
    let mut backup = path.as_os_str().to_owned();
    backup.push(".bak");
    let backup = PathBuf::from(backup);
    if path.exists() {
        std::fs::copy(path, &backup)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".kaconsole-new");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(backup)
}
