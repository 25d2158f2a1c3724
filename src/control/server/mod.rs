//! The daemon's side of the control socket. It runs on a thread of its own (see
//! daemon_link.rs), so nothing a client does - a flood of requests, a huge configuration to
//! check, a reply to serialise - runs on the VRRP loop. What needs the daemon goes to its loop
//! as a [`Call`] and comes back on a oneshot.
//!
//! Everything a client can make the server hold is bounded (threat-model.md rule 2):
//! connections in all, per user and with slots kept for root and the daemon's user
//! ([`admission`]); the time to say hello and, for clients that do not subscribe, to stay
//! idle; each client's outgoing queue, in bytes ([`client`]); the text sent to be checked,
//! which a child process checks under its own limits (`super::check_text`).

mod admission;
mod client;
mod metrics;
mod requests;
mod snapshot_cache;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use tokio::sync::{Semaphore, mpsc, oneshot};

use self::admission::{Admission, Peer};
use self::snapshot_cache::SnapshotCache;
use super::events::EventHub;
use super::protocol::{DaemonStats, Reply, Status};

/// Clients served at once; more are told so and closed.
pub const MAX_CLIENTS: usize = 256;
/// Of those, the ones kept for root and the daemon's own user: readers cannot lock them out.
pub const ADMIN_SLOTS: usize = 16;
/// Connections one other user may hold at once.
pub const PER_USER: usize = 32;
/// How long the server waits after a failed accept (out of file descriptors, say) instead of
/// trying again at once.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// Configuration checks run at once (each in a child process).
const CHECKS_AT_ONCE: usize = 2;

/// What a client task asks the daemon.
pub enum Call {
    Status(oneshot::Sender<Status>),
    /// Reload the configuration file; the reply says why not.
    Reload(oneshot::Sender<Result<(), String>>),
    /// The daemon's figures (the server adds its own: clients).
    Stats(oneshot::Sender<DaemonStats>),
    /// The segment's table.
    Segment(oneshot::Sender<crate::sniff::table::Snapshot>),
}

/// What the server needs to know.
#[derive(Clone)]
pub struct ServerConfig {
    pub socket: PathBuf,
    pub config: PathBuf,
    pub config_id: String,
}

/// The server's state, shared by its clients.
struct Shared {
    cfg: ServerConfig,
    calls: mpsc::Sender<Call>,
    events: EventHub,
    admission: Admission,
    /// The last status and segment table, shared by the clients asking within 100 ms.
    status: SnapshotCache,
    segment: SnapshotCache,
    /// Clients dropped for not reading.
    dropped: AtomicU64,
    checks: Semaphore,
}

/// Creates the socket: 0600 from the start (never more open, not even for an instant), then
/// 0660 with the `kaconsole` group when that group exists. A socket file left by a killed
/// daemon is replaced.
pub fn bind(cfg: &ServerConfig) -> std::io::Result<std::os::unix::net::UnixListener> {
    if let Some(dir) = cfg.socket.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(&cfg.socket);
    // `-u`: the daemon's umask applies to what it creates, the socket's group bits too.
    let mask = crate::sys::safe_file::umask();
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let bound = std::os::unix::net::UnixListener::bind(&cfg.socket);
    nix::sys::stat::umask(old);
    let listener = bound?;
    let group = nix::unistd::Group::from_name("kaconsole").ok().flatten();
    let mode = if let Some(g) = &group {
        let _ = nix::unistd::chown(&cfg.socket, None, Some(g.gid));
        0o660
    } else {
        0o600
    };
    std::fs::set_permissions(&cfg.socket, std::fs::Permissions::from_mode(mode & !mask))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// The accept loop serving `listener`, for the caller to spawn (and watch); must be called
/// inside a runtime.
pub fn serve(
    listener: std::os::unix::net::UnixListener,
    cfg: ServerConfig,
    calls: mpsc::Sender<Call>,
    events: EventHub,
    metrics: Option<std::net::TcpListener>,
) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    let listener = UnixListener::from_std(listener)?;
    let shared = Arc::new(Shared {
        cfg,
        calls,
        events,
        admission: Admission::default(),
        status: SnapshotCache::default(),
        segment: SnapshotCache::default(),
        dropped: AtomicU64::new(0),
        checks: Semaphore::new(CHECKS_AT_ONCE),
    });
    if let Some(m) = metrics {
        m.set_nonblocking(true)?;
        tokio::spawn(metrics::serve(m, shared.clone()));
    }
    Ok(accept_loop(listener, shared))
}

/// Binds `--metrics ADDR:PORT` (before the daemon starts: a port taken is an error at once).
pub fn bind_metrics(addr: std::net::SocketAddr) -> std::io::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(addr)
}

/// Binds and serves (inside a runtime).
pub fn start(
    cfg: ServerConfig,
    calls: mpsc::Sender<Call>,
    events: EventHub,
) -> std::io::Result<()> {
    let listener = bind(&cfg)?;
    tokio::spawn(serve(listener, cfg, calls, events, None)?);
    Ok(())
}

async fn accept_loop(listener: UnixListener, shared: Arc<Shared>) {
    loop {
        let mut stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // EMFILE and the like: trying again at once would only spin.
                tokio::time::sleep(ACCEPT_PAUSE).await;
                continue;
            }
        };
        let peer = Peer::of(&stream);
        let Some(ticket) = shared.admission.admit(peer) else {
            let reply = Reply::error(0, "busy", "too many clients");
            let _ = stream.write_all(client::line(&reply).as_bytes()).await;
            continue;
        };
        tokio::spawn(client::serve(stream, peer, ticket, shared.clone()));
    }
}

impl Shared {
    fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}
