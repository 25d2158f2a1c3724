//! The tracker tasks (vrrp_script, track_file, vrrp_track_process), where they report, and
//! the scripts' last runs for the console.

use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::log::Log;
use super::scripts::{self, ScriptBoard, TrackerReport};
use super::supervisor::{Task, Tasks};
use super::{track_files, track_processes};
use crate::config::blocks::Config;

pub struct Trackers {
    /// The running tasks, watched by `supervisor`, aborted at a restart.
    running: Vec<AbortHandle>,
    supervisor: Tasks,
    tx: mpsc::UnboundedSender<TrackerReport>,
    pub board: ScriptBoard,
}

impl Trackers {
    /// Trackers that will report on `tx`; none run until [`Trackers::restart`].
    pub fn new(tx: mpsc::UnboundedSender<TrackerReport>, supervisor: Tasks) -> Trackers {
        Trackers {
            running: Vec::new(),
            supervisor,
            tx,
            board: ScriptBoard::default(),
        }
    }

    /// Stops the running tasks and starts those of `config`.
    pub fn restart(&mut self, config: &Config, log: &Log) {
        for t in self.running.drain(..) {
            t.abort();
        }
        let mut tasks = scripts::start_trackers(config, self.tx.clone(), log, &self.board);
        tasks.extend(track_files::start(config, self.tx.clone(), log));
        tasks.extend(track_processes::start(config, self.tx.clone()));
        for t in tasks {
            self.running.push(t.abort_handle());
            self.supervisor.watch(Task::Tracker, t);
        }
    }
}
