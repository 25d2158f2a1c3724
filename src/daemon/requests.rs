//! What the control layer may ask of the running daemon, and how it attaches. The daemon
//! knows no wire format: a read is a closure run on the loop against a [`View`] of its state
//! (the control layer turns that into its replies), a reload is a reload.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::ReloadError;
use super::events::EventSink;
use super::lvs::Lvs;
use super::scripts::ScriptBoard;
use super::supervisor::Tasks;
use crate::config::blocks::Config;
use crate::sniff::table::Table;
use crate::time::Instant;
use crate::vrrp::engine::Engine;

/// A look at the daemon's state, run on the VRRP loop: it must be quick.
pub type Inspect = Box<dyn FnOnce(&View<'_>) + Send>;

pub enum Request {
    /// Status, statistics, the segment table: whatever the closure reads.
    Inspect(Inspect),
    /// Reload the configuration file, as SIGHUP does; the reply says why not.
    Reload(oneshot::Sender<Result<(), ReloadError>>),
}

/// The daemon's state, read-only, at engine time `now`.
pub struct View<'a> {
    pub now: Instant,
    /// The configuration running, where it was read from, and its `-i` config id.
    pub config: &'a Config,
    pub config_path: &'a Path,
    pub config_id: &'a str,
    pub vrrp: &'a Engine,
    pub lvs: &'a Lvs,
    /// Each vrrp_script's last run.
    pub scripts: &'a ScriptBoard,
    /// Every advert the VRRP sockets heard.
    pub segment: &'a Table,
    /// Successful reloads since the start.
    pub reloads: u64,
}

/// Starts serving requests on `requests`; called once the daemon is set up. A task the
/// server cannot do without (its accept loop) is spawned on the [`Tasks`] given, or handed
/// to them, as [`Task::Essential`](super::supervisor::Task::Essential): if it panics or
/// ends, the daemon stops cleanly and exits non-zero (supervisor.rs).
pub type Serve = Box<dyn FnOnce(mpsc::Sender<Request>, Tasks) -> std::io::Result<()>>;

/// How a control layer attaches to the daemon: where events go, and what starts its server.
/// `Default` is a daemon nobody watches.
#[derive(Default)]
pub struct Attachment {
    pub events: Option<Arc<dyn EventSink>>,
    pub serve: Option<Serve>,
}
