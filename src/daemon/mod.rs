//! `kaconsole daemon`: the VRRP engine on real interfaces, in one tokio current-thread
//! runtime (keepalived forks a process per subsystem; here `-P` and `-C` only choose what
//! runs).

pub mod clock;
pub mod configuration;
pub mod dumps;
pub mod events;
#[cfg(any(test, feature = "testing"))]
pub mod fault;
mod handlers;
pub mod inputs;
pub mod log;
pub mod log_sinks;
pub mod lvs;
mod net;
pub mod notify;
pub mod pidfile;
pub mod requests;
mod restart;
pub mod scripts;
pub mod sd_notify;
pub mod smtp;
mod start;
pub mod supervisor;
pub mod track_files;
pub mod track_processes;
pub mod trackers;
pub mod vrrp;

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use futures_util::FutureExt;
use tokio::sync::mpsc;

use self::clock::Clock;
use self::configuration::ConfigRefused;
use self::inputs::Inputs;
use self::log::Log;
use self::lvs::Lvs;
use self::requests::Attachment;
use self::supervisor::{Restarts, Tasks};
use self::trackers::Trackers;
use self::vrrp::{Vrrp, VrrpError};
use crate::sniff::table::Table;
use crate::sys::links::NetEvent;
use crate::vrrp::engine::Emitted;

/// What `kaconsole daemon` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    pub config: PathBuf,
    pub config_id: String,
    pub log_detail: bool,
    /// `-V`: leave the VIPs in place when stopping.
    pub dont_release_vrrp: bool,
    /// `-I`: leave the IPVS table as it is when stopping.
    pub dont_release_ipvs: bool,
    /// `-p`: where to write our process id.
    pub pid_file: PathBuf,
    /// The control socket (`--socket`).
    pub socket: PathBuf,
    /// Where the log goes (`-l`, `-S`, `-G`, `-g`).
    pub log_targets: log_sinks::Targets,
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{0}")]
    Config(#[from] ConfigRefused),
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
    #[error("pid file {path}: {source}")]
    PidFile {
        path: PathBuf,
        source: pidfile::PidFileError,
    },
    #[error("signals: {0}")]
    Signals(std::io::Error),
    #[error("{0}")]
    Vrrp(#[from] VrrpError),
    #[error("control socket {path}: {source}")]
    Control {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("netlink: {0}")]
    Netlink(std::io::Error),
    #[error("{0}")]
    Log(String),
    #[error("--metrics {addr}: {source}")]
    Metrics {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// It ran, and stopped because a task it needs died (supervisor.rs): exit non-zero.
    #[error("{0}; stopped")]
    Failed(String),
}

/// Why a reload was refused; the running configuration stays.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("{0}")]
    Config(#[from] ConfigRefused),
    #[error("{0}")]
    Vrrp(#[from] VrrpError),
    #[error("{0}")]
    ScriptUser(crate::sys::script::UserError),
}

/// The running daemon: the VRRP side, the LVS side, the trackers and the clock. The loop in
/// [`run`] takes its inputs one at a time and hands each to [`Daemon::handle`].
pub struct Daemon {
    opts: Options,
    log: Log,
    clock: Clock,
    vrrp: Vrrp,
    lvs: Lvs,
    trackers: Trackers,
    /// What the VRRP sockets hear: `kaconsole sniff`'s table, for the console.
    segment: Table,
    /// The kernel's links and addresses, as netlink reported them.
    net: net::NetView,
    /// Successful reloads since the start.
    reloads: u64,
    /// The engine's outputs, reused between steps.
    out: Vec<Emitted>,
    /// Spawns the tasks the daemon depends on, watched; their recent restarts.
    tasks: Tasks,
    restarts: Restarts,
    /// Where the link watcher sends (kept to restart it).
    net_tx: mpsc::UnboundedSender<NetEvent>,
    /// Why the daemon stopped, when it was not asked to.
    failure: Option<String>,
    /// Removed at exit if it is still ours.
    _pid_file: pidfile::PidFile,
}

/// Runs until SIGTERM / SIGINT, in one current-thread runtime. `attach` is the control
/// layer (its events and its server), or nothing.
pub fn run(opts: Options, attach: Attachment) -> Result<(), DaemonError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    rt.block_on(async move {
        let (mut daemon, mut inputs) = Daemon::start(opts, attach).await?;
        serve(&mut daemon, &mut inputs).await;
        daemon.stop().await;
        daemon
            .failure
            .take()
            .map_or(Ok(()), |why| Err(DaemonError::Failed(why)))
    })
}

/// The loop: wait, dispatch, until told to stop. A panic in a handler stops the daemon the
/// clean way, as a dead task does (supervisor.rs says why unwinds are caught).
async fn serve(daemon: &mut Daemon, inputs: &mut Inputs) {
    loop {
        let (vrrp, lvs) = daemon.deadlines();
        let input = inputs.next(&daemon.clock, vrrp, lvs).await;
        let handled = daemon.handle(input);
        #[cfg(any(test, feature = "testing"))]
        let handled = fault::injectable("daemon loop".to_string(), handled);
        match AssertUnwindSafe(handled).catch_unwind().await {
            Ok(handlers::Flow::Continue) => {}
            Ok(handlers::Flow::Stop) => return,
            Err(payload) => {
                let why = supervisor::panic_message(payload.as_ref());
                daemon.failed(format!("the daemon's loop panicked: {why}"));
                return;
            }
        }
    }
}
