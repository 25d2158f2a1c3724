//! A watched task that ended (supervisor.rs), started again - or the daemon stopped.

use super::Daemon;
use super::handlers::Flow;
use super::supervisor::{Ended, Task};
use crate::sys::links;

impl Daemon {
    /// Restarts the task while its budget lasts; otherwise, or when it cannot be
    /// restarted, the daemon stops the clean way and exits non-zero.
    pub(super) async fn restart_or_stop(&mut self, ended: Ended) -> Flow {
        let now = self.clock.now();
        if !ended.task.restartable() || !self.restarts.allow(&ended.task, now) {
            self.failed(ended.to_string());
            return Flow::Stop;
        }
        self.log.warn(&format!("{ended}; restarting it"));
        if let Err(e) = self.restart(&ended.task).await {
            self.failed(format!("{ended}; cannot restart it: {e}"));
            return Flow::Stop;
        }
        Flow::Continue
    }

    /// The daemon stops because of `why` (logged), and exits non-zero.
    pub(super) fn failed(&mut self, why: String) {
        self.log.warn(&format!("{why}; stopping"));
        self.failure = Some(why);
    }

    async fn restart(&mut self, task: &Task) -> std::io::Result<()> {
        match task {
            Task::Reader {
                interface,
                v6,
                protocol,
            } => self
                .vrrp
                .restart_reader(interface, *v6, *protocol, &self.log),
            Task::LinkWatcher => {
                self.watch_links()?;
                // What changed while nobody listened.
                self.resync().await?;
            }
            Task::Netlink => self.vrrp.reopen_netlink()?,
            Task::Tracker => {
                let users = self.trackers.users();
                self.trackers.restart(self.vrrp.config(), users, &self.log)
            }
            Task::Essential(_) => {}
        }
        Ok(())
    }

    /// Starts the netlink watcher of links and addresses, watched.
    pub(super) fn watch_links(&self) -> std::io::Result<()> {
        let watcher = links::watch(self.net_tx.clone())?;
        self.tasks.spawn(Task::LinkWatcher, watcher);
        Ok(())
    }
}
