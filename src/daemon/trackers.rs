//! The tracker tasks (vrrp_script, track_file, vrrp_track_process), where they report, and
//! the scripts' last runs for the console.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::log::Log;
use super::scripts::{self, ScriptBoard, TrackerReport};
use super::{track_files, track_processes};
use crate::config::blocks::Config;

pub struct Trackers {
    tasks: Vec<JoinHandle<()>>,
    tx: mpsc::UnboundedSender<TrackerReport>,
    pub board: ScriptBoard,
}

impl Trackers {
    /// Trackers that will report on `tx`; none run until [`Trackers::restart`].
    pub fn new(tx: mpsc::UnboundedSender<TrackerReport>) -> Trackers {
        Trackers {
            tasks: Vec::new(),
            tx,
            board: ScriptBoard::default(),
        }
    }

    /// Stops the running tasks and starts those of `config`.
    pub fn restart(&mut self, config: &Config, log: &Log) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        self.tasks = scripts::start_trackers(config, self.tx.clone(), log, &self.board);
        self.tasks
            .extend(track_files::start(config, self.tx.clone(), log));
        self.tasks
            .extend(track_processes::start(config, self.tx.clone()));
    }
}
