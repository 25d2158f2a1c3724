//! One function per request. Reading the configuration (`get_config`, which holds its
//! passwords) and checking text against it (`validate`, whose diagnostics quote what the text
//! includes) are for root and the daemon's user, as applying and reloading are: nothing read
//! from a file reaches a client that could not read the file itself.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::{broadcast, oneshot};

use super::client::{Conn, Outbox, line};
use super::{Call, Shared};
use crate::control::check_text::{self, TextCheck};
use crate::control::protocol::{
    Answer, DaemonStats, ErrorReply, Reply, ReplyResult, Request, RequestBody, VERSION,
};
use crate::sys::safe_file;

/// The largest configuration file `get_config` sends (a request line is at most 1 MiB, so an
/// edited text larger than that could not come back anyway).
const MAX_CONFIG_FILE: u64 = 16 << 20;

/// Answers `req`, as a line.
pub async fn handle(req: Request, conn: &mut Conn, shared: &Arc<Shared>) -> String {
    let id = req.id;
    if !conn.said_hello && !matches!(req.body, RequestBody::Hello { .. }) {
        return line(&Reply::error(
            id,
            "hello_first",
            "send {\"req\":\"hello\",\"version\":1} first",
        ));
    }
    let reply = match req.body {
        RequestBody::Hello { version } => hello(id, version, conn),
        RequestBody::Status => return status(id, shared).await,
        RequestBody::Subscribe => subscribe(id, conn, shared),
        RequestBody::GetConfig => admin_only(id, conn, "get_config", || {
            get_config(id, &shared.cfg.config)
        }),
        RequestBody::Validate { text } => match needs_admin(id, conn, "validate") {
            Some(refused) => refused,
            None => validate(id, shared, text).await,
        },
        RequestBody::Apply { text } => match needs_admin(id, conn, "apply") {
            Some(refused) => refused,
            None => apply(id, shared, text).await,
        },
        RequestBody::Stats => stats(id, shared).await,
        RequestBody::Segment => return segment(id, shared).await,
        RequestBody::Reload => match needs_admin(id, conn, "reload") {
            Some(refused) => refused,
            None => reload(id, shared).await,
        },
    };
    line(&reply)
}

/// The refusal of `what` for a client that is not root or the daemon's user.
fn needs_admin(id: u64, conn: &Conn, what: &str) -> Option<Reply> {
    (!conn.peer.admin).then(|| {
        Reply::error(
            id,
            "permission",
            format!("{what} needs root or the daemon's user"),
        )
    })
}

fn admin_only(id: u64, conn: &Conn, what: &str, answer: impl FnOnce() -> Reply) -> Reply {
    needs_admin(id, conn, what).unwrap_or_else(answer)
}

fn hello(id: u64, version: u32, conn: &mut Conn) -> Reply {
    if version != VERSION {
        return Reply::error(
            id,
            "version",
            format!("this daemon speaks version {VERSION}, not {version}"),
        );
    }
    conn.said_hello = true;
    Reply::ok(
        id,
        Answer::Hello {
            version: VERSION,
            daemon: format!("kaconsole {}", env!("CARGO_PKG_VERSION")),
            admin: conn.peer.admin,
        },
    )
}

/// The status, shared with the other clients asking within the same moment; the line is
/// written around the cached JSON, byte for byte what serialising the reply would give.
async fn status(id: u64, shared: &Arc<Shared>) -> String {
    match status_json(shared).await {
        Some(json) => format!("{{\"id\":{id},\"ok\":{{\"status\":{json}}}}}\n"),
        None => line(&stopping(id)),
    }
}

/// The status as JSON, shared by the clients asking within 100 ms; `None` when the daemon
/// is stopping.
pub(super) async fn status_json(shared: &Shared) -> Option<Arc<str>> {
    shared
        .status
        .get(|| async {
            let s = ask(shared, Call::Status).await?;
            serde_json::to_string(&s).ok().map(Arc::from)
        })
        .await
}

/// Events from now on (the recent ones first). A second subscribe on the same connection
/// changes nothing: each event is sent once.
fn subscribe(id: u64, conn: &mut Conn, shared: &Shared) -> Reply {
    if conn.subscribed {
        return Reply::ok(id, Answer::Subscribed);
    }
    conn.subscribed = true;
    let (backlog, rx) = shared.events.subscribe();
    // The recent events first (they fit: the backlog is far smaller than the outbox).
    for l in backlog {
        if !conn.outbox.push(l) {
            break;
        }
    }
    conn.forwarder = Some(tokio::spawn(forward(rx, conn.outbox.clone())));
    Reply::ok(id, Answer::Subscribed)
}

/// Passes the event lines to the client's outbox until either end goes away.
async fn forward(mut rx: broadcast::Receiver<String>, out: Outbox) {
    loop {
        match rx.recv().await {
            // A full outbox: the client is not reading; it is dropped.
            Ok(l) => {
                if !out.push(l) {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                out.overflowed();
                return;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// The configuration file's text: a regular file, opened without waiting (a FIFO put in its
/// place cannot hold the server), at most [`MAX_CONFIG_FILE`] bytes.
fn get_config(id: u64, path: &Path) -> Reply {
    match read_config(path) {
        Ok(text) => Reply::ok(
            id,
            Answer::Config {
                path: path.display().to_string(),
                text,
            },
        ),
        Err(e) => Reply::error(id, "io", format!("{}: {e}", path.display())),
    }
}

fn read_config(path: &Path) -> std::io::Result<String> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > MAX_CONFIG_FILE {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            MAX_CONFIG_FILE >> 20
        )));
    }
    let mut text = String::new();
    f.take(MAX_CONFIG_FILE).read_to_string(&mut text)?;
    Ok(text)
}

/// The diagnostics `text` gets as the configuration file (checked in a child process, see
/// check_text.rs).
async fn check(shared: &Shared, text: String) -> Result<TextCheck, Reply> {
    let Ok(_turn) = shared.checks.acquire().await else {
        return Err(Reply::error(0, "stopping", "the daemon is stopping"));
    };
    let cfg = &shared.cfg;
    check_text::in_child(&cfg.config, &cfg.config_id, text)
        .await
        .map_err(|e| Reply::error(0, "check", e.to_string()))
}

async fn validate(id: u64, shared: &Shared, text: String) -> Reply {
    match check(shared, text).await {
        Ok(c) => Reply::ok(
            id,
            Answer::Diagnostics {
                diagnostics: c.diagnostics,
                errors: c.errors,
                warnings: c.warnings,
            },
        ),
        Err(e) => Reply { id, ..e },
    }
}

async fn apply(id: u64, shared: &Shared, text: String) -> Reply {
    let checked = match check(shared, text.clone()).await {
        Ok(c) => c,
        Err(e) => return Reply { id, ..e },
    };
    if checked.errors > 0 {
        return Reply {
            id,
            result: ReplyResult::Error(ErrorReply {
                code: "invalid_config".into(),
                message: format!("{} error(s): nothing was written", checked.errors),
                diagnostics: checked.diagnostics,
            }),
        };
    }
    // Written safely (sys/safe_file.rs): the file keeps its mode and owner, a symlinked -f
    // is written through, the old file stays as FILE.bak.
    let written = match safe_file::replace_keeping(&shared.cfg.config, 0o600, text.as_bytes()) {
        Ok(w) => w,
        Err(e) => return Reply::error(id, "io", e.to_string()),
    };
    let backup = written
        .backup
        .as_ref()
        .map_or_else(String::new, |b| b.display().to_string());
    match ask_reload(shared).await {
        Ok(()) => Reply::ok(id, Answer::Applied { backup }),
        // The daemon runs the previous configuration still: the file says so again.
        Err(e) => {
            let file = written.file.display();
            let what = match safe_file::restore(&written) {
                Ok(()) => format!("{e}; {file} was put back as it was"),
                Err(r) => format!("{e}; {file} could NOT be put back ({r}): it is not what runs"),
            };
            Reply::error(id, "reload", what)
        }
    }
}

async fn stats(id: u64, shared: &Shared) -> Reply {
    match daemon_stats(shared).await {
        Some(s) => Reply::ok(id, Answer::Stats(s)),
        None => stopping(id),
    }
}

/// The daemon's figures and the server's own.
pub(super) async fn daemon_stats(shared: &Shared) -> Option<DaemonStats> {
    let s = ask(shared, Call::Stats).await?;
    Some(DaemonStats {
        clients: shared.admission.clients(),
        clients_dropped: shared.dropped(),
        ..s
    })
}

/// The segment table, shared as the status is.
async fn segment(id: u64, shared: &Arc<Shared>) -> String {
    match segment_json(shared).await {
        Some(json) => format!("{{\"id\":{id},\"ok\":{{\"segment\":{json}}}}}\n"),
        None => line(&stopping(id)),
    }
}

/// The segment table as JSON, shared as the status is.
pub(super) async fn segment_json(shared: &Shared) -> Option<Arc<str>> {
    shared
        .segment
        .get(|| async {
            let s = ask(shared, Call::Segment).await?;
            let s: crate::control::protocol::segment::Snapshot = s.into();
            serde_json::to_string(&s).ok().map(Arc::from)
        })
        .await
}

async fn reload(id: u64, shared: &Shared) -> Reply {
    match ask_reload(shared).await {
        Ok(()) => Reply::ok(id, Answer::Reloaded),
        Err(e) => Reply::error(id, "reload", e),
    }
}

/// Asks the daemon; `None` when it is gone (stopping, or a simulated router that crashed and
/// does not answer).
async fn ask<T>(shared: &Shared, call: impl FnOnce(oneshot::Sender<T>) -> Call) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    shared.calls.send(call(tx)).await.ok()?;
    rx.await.ok()
}

fn stopping(id: u64) -> Reply {
    Reply::error(id, "stopping", "the daemon is stopping")
}

/// A reload; the next status shows its effect.
async fn ask_reload(shared: &Shared) -> Result<(), String> {
    let r = ask(shared, Call::Reload)
        .await
        .unwrap_or_else(|| Err("the daemon is stopping".to_string()));
    shared.status.clear().await;
    shared.segment.clear().await;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::fixture;

    #[test]
    fn the_status_line_is_what_serialising_the_reply_gives() {
        let s = fixture::status();
        let json = serde_json::to_string(&s).unwrap();
        let spliced = format!("{{\"id\":{},\"ok\":{{\"status\":{json}}}}}\n", 42);
        assert_eq!(spliced, line(&Reply::ok(42, Answer::Status(Box::new(s)))));
    }

    #[test]
    fn the_segment_line_is_what_serialising_the_reply_gives() {
        let s = crate::control::protocol::segment::Snapshot {
            free_vrids: vec![1, 2, 3],
            packets: 7,
            ..Default::default()
        };
        let json = serde_json::to_string(&s).unwrap();
        let spliced = format!("{{\"id\":{},\"ok\":{{\"segment\":{json}}}}}\n", 9);
        assert_eq!(spliced, line(&Reply::ok(9, Answer::Segment(Box::new(s)))));
    }

    #[test]
    fn the_configuration_is_read_only_from_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keepalived.conf");
        std::fs::write(&file, "global_defs {\n}\n").unwrap();
        assert_eq!(read_config(&file).unwrap(), "global_defs {\n}\n");
        let fifo = dir.path().join("fifo.conf");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let e = read_config(&fifo).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file");
    }
}
