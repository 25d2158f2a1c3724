//! Everything the daemon waits for, in one place: the engines' timers, packets, probe
//! results, tracker reports, netlink events, signals, control requests and the end of a
//! watched task. The loop takes
//! the next [`Input`] and hands it to its handler (handlers.rs); nothing else waits.

use tokio::signal::unix::{Signal as Stream, SignalKind, signal};
use tokio::sync::mpsc;

use super::clock::Clock;
use super::lvs::ProbeDone;
use super::requests::Request;
use super::scripts::TrackerReport;
use super::supervisor::{Ended, Tasks};
use super::vrrp::Packet;
use crate::sys::links::NetEvent;
use crate::time::Instant;

/// One thing that happened.
pub enum Input {
    /// The VRRP engine's `poll_timeout` has come.
    VrrpTimer,
    /// The checker engine's has.
    LvsTimer,
    /// Probe results, every one that was waiting (taken in together, synced once).
    Probes(Vec<ProbeDone>),
    Packet(Packet),
    Tracker(TrackerReport),
    Net(NetEvent),
    Signal(Signal),
    Request(Request),
    /// A watched task panicked or returned (supervisor.rs).
    TaskEnded(Ended),
}

/// keepalived's signals (`kaconsole daemon --signum=NAME` prints their numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM, SIGINT.
    Stop,
    /// SIGHUP.
    Reload,
    /// SIGUSR1: the data dump.
    DumpData,
    /// SIGUSR2: the stats file.
    DumpStats,
    /// SIGRTMAX-1: the stats file, then the counters zeroed.
    ClearStats,
    /// SIGRTMIN+2: the JSON dump.
    DumpJson,
}

/// The senders that feed [`Inputs`], handed to whoever produces each kind.
pub struct Senders {
    pub packets: mpsc::UnboundedSender<Packet>,
    pub probes: mpsc::UnboundedSender<ProbeDone>,
    pub trackers: mpsc::UnboundedSender<TrackerReport>,
    pub net: mpsc::UnboundedSender<NetEvent>,
    pub requests: mpsc::Sender<Request>,
    /// Spawns the tasks the daemon depends on, watched.
    pub tasks: Tasks,
}

pub struct Inputs {
    packets: mpsc::UnboundedReceiver<Packet>,
    probes: mpsc::UnboundedReceiver<ProbeDone>,
    trackers: mpsc::UnboundedReceiver<TrackerReport>,
    net: mpsc::UnboundedReceiver<NetEvent>,
    requests: mpsc::Receiver<Request>,
    ended: mpsc::UnboundedReceiver<Ended>,
    signals: Signals,
}

/// Control requests queued before the clients are told to wait.
const REQUEST_QUEUE: usize = 64;

impl Inputs {
    /// The channels and the signal handlers (must run inside the runtime).
    pub fn new() -> std::io::Result<(Inputs, Senders)> {
        let (packets_tx, packets) = mpsc::unbounded_channel();
        let (probes_tx, probes) = mpsc::unbounded_channel();
        let (trackers_tx, trackers) = mpsc::unbounded_channel();
        let (net_tx, net) = mpsc::unbounded_channel();
        let (requests_tx, requests) = mpsc::channel(REQUEST_QUEUE);
        let (tasks, ended) = Tasks::channel();
        let inputs = Inputs {
            packets,
            probes,
            trackers,
            net,
            requests,
            ended,
            signals: Signals::new()?,
        };
        let senders = Senders {
            packets: packets_tx,
            probes: probes_tx,
            trackers: trackers_tx,
            net: net_tx,
            requests: requests_tx,
            tasks,
        };
        Ok((inputs, senders))
    }

    /// Waits for the next input; `vrrp` and `lvs` are the engines' next timeouts.
    pub async fn next(
        &mut self,
        clock: &Clock,
        vrrp: Option<Instant>,
        lvs: Option<Instant>,
    ) -> Input {
        let sleep = |deadline: Option<Instant>| async move {
            match deadline {
                Some(t) => tokio::time::sleep_until(clock.deadline(t)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep(vrrp) => Input::VrrpTimer,
            () = sleep(lvs) => Input::LvsTimer,
            Some(first) = self.probes.recv() => {
                let mut all = vec![first];
                while let Ok(more) = self.probes.try_recv() {
                    all.push(more);
                }
                Input::Probes(all)
            }
            Some(p) = self.packets.recv() => Input::Packet(p),
            Some(t) = self.trackers.recv() => Input::Tracker(t),
            Some(e) = self.net.recv() => Input::Net(e),
            Some(r) = self.requests.recv() => Input::Request(r),
            Some(e) = self.ended.recv() => Input::TaskEnded(e),
            s = self.signals.next() => Input::Signal(s),
        }
    }
}

/// The signal streams.
struct Signals {
    term: Stream,
    int: Stream,
    hup: Stream,
    usr1: Stream,
    usr2: Stream,
    stats_clear: Stream,
    json: Stream,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            usr1: signal(SignalKind::user_defined1())?,
            usr2: signal(SignalKind::user_defined2())?,
            // keepalived's STATS_CLEAR and JSON signals.
            stats_clear: signal(SignalKind::from_raw(nix::libc::SIGRTMAX() - 1))?,
            json: signal(SignalKind::from_raw(nix::libc::SIGRTMIN() + 2))?,
        })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Stop,
            _ = self.int.recv() => Signal::Stop,
            _ = self.hup.recv() => Signal::Reload,
            _ = self.usr1.recv() => Signal::DumpData,
            _ = self.usr2.recv() => Signal::DumpStats,
            _ = self.stats_clear.recv() => Signal::ClearStats,
            _ = self.json.recv() => Signal::DumpJson,
        }
    }
}
