//! The tracker tasks (vrrp_script, track_file, vrrp_track_process), where they report, and
//! the scripts' last runs for the console.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::log::Log;
use super::scripts::{self, ScriptBoard, TrackerReport};
use super::supervisor::{Task, Tasks};
use super::{track_files, track_processes};
use crate::config::blocks::Config;
use crate::sys::script::ScriptUsers;

pub struct Trackers {
    /// The running tasks, watched by `supervisor`, aborted at a restart.
    running: Vec<AbortHandle>,
    supervisor: Tasks,
    tx: mpsc::UnboundedSender<TrackerReport>,
    pub board: ScriptBoard,
    /// Who the scripts run as, resolved with the configuration.
    users: Arc<ScriptUsers>,
}

impl Trackers {
    /// Trackers that will report on `tx`; none run until [`Trackers::restart`].
    pub fn new(tx: mpsc::UnboundedSender<TrackerReport>, supervisor: Tasks) -> Trackers {
        Trackers {
            running: Vec::new(),
            supervisor,
            tx,
            board: ScriptBoard::default(),
            users: Arc::default(),
        }
    }

    /// Stops the running tasks (a script running is killed with its process group) and
    /// starts those of `config`, whose scripts run as `users` say.
    pub fn restart(&mut self, config: &Config, users: Arc<ScriptUsers>, log: &Log) {
        self.stop();
        self.users = users;
        let (tx, board) = (self.tx.clone(), &self.board);
        let mut tasks = scripts::start_trackers(config, &self.users, tx, log, board);
        tasks.extend(track_files::start(config, self.tx.clone(), log));
        tasks.extend(track_processes::start(config, self.tx.clone()));
        for t in tasks {
            self.running.push(t.abort_handle());
            self.supervisor.watch(Task::Tracker, t);
        }
    }

    /// The users of the configuration running.
    pub fn users(&self) -> Arc<ScriptUsers> {
        self.users.clone()
    }

    /// Stops every tracker; a script running is killed with its process group.
    pub fn stop(&mut self) {
        for t in self.running.drain(..) {
            t.abort();
        }
    }
}
