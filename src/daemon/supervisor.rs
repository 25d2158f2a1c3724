//! The tasks the daemon spawns and depends on, watched (threat-model rule 6): a task that
//! panics or returns is reported to the loop as [`Input::TaskEnded`](super::inputs::Input),
//! whose handler restarts it while its restart budget lasts, and otherwise stops the daemon
//! the clean way (priority 0, addresses released) with a non-zero exit for systemd to
//! restart it. Never half-alive, never MASTER because a socket reader died.
//!
//! Why unwinds are caught rather than `panic = "abort"`: an abort stops a MASTER without
//! priority 0 and leaves its VIPs configured, so its backup takes over only after
//! Master_Down_Interval and the address is on two machines until systemd has restarted us
//! and the start-up cleanup has removed it. Caught, a panic costs a socket reader a restart
//! of a few microseconds (the kernel queues the packets meanwhile), and when the daemon
//! must stop it still says goodbye. The start-up cleanup stays for what cannot be caught
//! (SIGKILL, an abort in a dependency).
//!
//! For the control layer: [`Tasks`] comes with [`Serve`](super::requests::Serve); a task it
//! cannot do without (its accept loop) is spawned with [`Tasks::spawn`] or handed over with
//! [`Tasks::watch`] as [`Task::Essential`]: when it ends, the daemon stops.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};

use crate::time::{Duration, Instant};

/// A watched task: what it is decides what its end does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Task {
    /// The reader of one VRRP socket: restarted on the same socket.
    Reader {
        interface: String,
        v6: bool,
        protocol: u8,
    },
    /// The netlink watcher of links and addresses: restarted, and the links read afresh.
    LinkWatcher,
    /// The rtnetlink connection that adds and removes addresses and routes: reopened.
    Netlink,
    /// A tracker (vrrp_script, track_file, track_process): the trackers are restarted.
    Tracker,
    /// A task the daemon cannot run without and cannot restart (the control layer's accept
    /// loop): its end stops the daemon.
    Essential(&'static str),
}

impl Task {
    /// Whether the daemon knows how to start this task again.
    pub fn restartable(&self) -> bool {
        !matches!(self, Task::Essential(_))
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Task::Reader {
                interface,
                v6,
                protocol,
            } => {
                let family = if *v6 { "IPv6" } else { "IPv4" };
                write!(f, "VRRP reader {interface} {family} protocol {protocol}")
            }
            Task::LinkWatcher => f.write_str("link watcher"),
            Task::Netlink => f.write_str("netlink connection"),
            Task::Tracker => f.write_str("tracker"),
            Task::Essential(name) => f.write_str(name),
        }
    }
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// It returned, though it should run as long as the daemon.
    Returned,
    /// It panicked, with this message.
    Panicked(String),
}

/// A watched task that ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ended {
    pub task: Task,
    pub end: End,
}

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.end {
            End::Returned => write!(f, "task {} ended unexpectedly", self.task),
            End::Panicked(m) => write!(f, "task {} panicked: {m}", self.task),
        }
    }
}

/// Spawns and watches tasks; cloned to whoever spawns them. A task aborted on purpose
/// (the trackers' at a reload) is not reported.
#[derive(Clone, Debug)]
pub struct Tasks {
    ended: mpsc::UnboundedSender<Ended>,
}

impl Tasks {
    /// The spawning side, and the receiver the loop takes the ends from.
    pub fn channel() -> (Tasks, mpsc::UnboundedReceiver<Ended>) {
        let (ended, rx) = mpsc::unbounded_channel();
        (Tasks { ended }, rx)
    }

    /// Spawns `work` as `task`; its end, a return or a panic, is reported.
    pub fn spawn<F>(&self, task: Task, work: F) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        #[cfg(any(test, feature = "testing"))]
        let work = super::fault::injectable(task.to_string(), work);
        let ended = self.ended.clone();
        let handle = tokio::spawn(async move {
            let end = match AssertUnwindSafe(work).catch_unwind().await {
                Ok(()) => End::Returned,
                Err(payload) => End::Panicked(panic_message(payload.as_ref())),
            };
            let _ = ended.send(Ended { task, end });
        });
        handle.abort_handle()
    }

    /// Watches a task spawned elsewhere: its return or panic is reported (an abort is not).
    pub fn watch(&self, task: Task, handle: JoinHandle<()>) {
        let ended = self.ended.clone();
        tokio::spawn(async move {
            let end = match handle.await {
                Ok(()) => End::Returned,
                Err(e) if e.is_panic() => End::Panicked(panic_message(e.into_panic().as_ref())),
                Err(_) => return,
            };
            let _ = ended.send(Ended { task, end });
        });
    }
}

/// The text a panic was given (`panic!("...")` makes a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Restarts allowed to one task within [`RESTART_WINDOW`]; one more and the daemon stops: a
/// task that keeps dying (a packet that always makes the reader panic, a netlink socket that
/// cannot be opened) must not leave a daemon that only looks alive.
pub const MAX_RESTARTS: usize = 3;
pub const RESTART_WINDOW: Duration = Duration::secs(60);

/// The recent restarts of each task.
#[derive(Debug, Default)]
pub struct Restarts(HashMap<Task, VecDeque<Instant>>);

impl Restarts {
    /// Whether `task`, ended at `now`, may be restarted; counts the restart if so.
    pub fn allow(&mut self, task: &Task, now: Instant) -> bool {
        let recent = self.0.entry(task.clone()).or_default();
        while recent
            .front()
            .is_some_and(|t| now.since(*t) >= RESTART_WINDOW)
        {
            recent.pop_front();
        }
        if recent.len() >= MAX_RESTARTS {
            return false;
        }
        recent.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> Task {
        Task::Reader {
            interface: "eth0".into(),
            v6: false,
            protocol: 112,
        }
    }

    #[test]
    fn a_task_is_restarted_three_times_a_minute_then_not() {
        let mut r = Restarts::default();
        let at = |s: u64| Instant(s * 1_000_000);
        assert!(r.allow(&reader(), at(10)));
        assert!(r.allow(&reader(), at(20)));
        assert!(r.allow(&reader(), at(30)));
        assert!(!r.allow(&reader(), at(40)), "the fourth within a minute");
        assert!(
            r.allow(&Task::LinkWatcher, at(40)),
            "each task has its own budget"
        );
        assert!(r.allow(&reader(), at(70)), "the first has left the window");
        assert!(!r.allow(&reader(), at(71)));
    }

    #[test]
    fn only_essential_tasks_cannot_be_restarted() {
        assert!(reader().restartable());
        assert!(Task::LinkWatcher.restartable());
        assert!(Task::Netlink.restartable());
        assert!(Task::Tracker.restartable());
        assert!(!Task::Essential("control accept loop").restartable());
    }

    #[test]
    fn ends_say_which_task_and_why() {
        let e = Ended {
            task: reader(),
            end: End::Panicked("boom".into()),
        };
        assert_eq!(
            e.to_string(),
            "task VRRP reader eth0 IPv4 protocol 112 panicked: boom"
        );
    }

    async fn next(rx: &mut mpsc::UnboundedReceiver<Ended>) -> Ended {
        tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .expect("reported")
            .expect("open")
    }

    #[tokio::test]
    async fn a_panic_or_a_return_is_reported_and_an_abort_is_not() {
        let (tasks, mut rx) = Tasks::channel();
        tasks.spawn(Task::Tracker, async { panic!("spawned {}", 1) });
        let e = next(&mut rx).await;
        assert_eq!(e.end, End::Panicked("spawned 1".into()));
        tasks.spawn(Task::LinkWatcher, async {});
        assert_eq!(next(&mut rx).await.end, End::Returned);
        tasks.watch(
            Task::Essential("accept"),
            tokio::spawn(async { panic!("watched") }),
        );
        let e = next(&mut rx).await;
        assert_eq!(e.task, Task::Essential("accept"));
        assert_eq!(e.end, End::Panicked("watched".into()));

        let aborted = tasks.spawn(Task::Netlink, std::future::pending());
        aborted.abort();
        let watched = tokio::spawn(std::future::pending::<()>());
        let abort = watched.abort_handle();
        tasks.watch(Task::Tracker, watched);
        abort.abort();
        tasks.spawn(Task::Tracker, async {});
        assert_eq!(
            next(&mut rx).await,
            Ended {
                task: Task::Tracker,
                end: End::Returned
            },
            "the aborted ones said nothing"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(rx.try_recv().is_err(), "nor later");
    }
}
