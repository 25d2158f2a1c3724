//! The IPVS table's keeper: a thread of its own owns the generic netlink socket, so that the
//! daemon's loop never waits for the kernel (threat model rule 1); the loop hands over what it
//! wants and goes on. The thread keeps a model of the kernel's table (read back at a full
//! sync, then kept by applying its own operations, so that a checker change costs a few
//! operations, not a dump of thousands of destinations), the services this daemon put there
//! and the sync daemons it runs. An operation that fails asks the loop for a full sync.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use crate::daemon::log::Log;
use crate::ipvs::message::{Request, ServiceKey, SyncDaemon};
use crate::ipvs::reconcile::{ServiceState, apply, reconcile};
use crate::sys::ipvs_socket::{IpvsSocket, describe};

/// IP_VS_STATE_MASTER.
pub const SYNC_MASTER: u32 = 1;

/// What the daemon removes from the table when it stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// Nothing (`-I`, dont_release_ipvs).
    Keep,
    /// The services it put there (keepalived's `clear_services`).
    Ours,
    /// The whole table (`lvs_flush_on_stop`).
    Flush,
}

pub enum Job {
    /// Operations whose errors are only logged (the start's lvs_flush and lvs_timeouts).
    Ops(Vec<Request>),
    /// The kernel's services become `want`. `full`: the table is read back first, and the
    /// services this daemon put there that `want` no longer has are removed.
    Sync { want: Vec<ServiceState>, full: bool },
    /// Exactly these sync daemons run.
    SyncDaemons(Vec<SyncDaemon>),
    /// The daemon stops: what `Release` says goes, the sync daemons stop, the thread ends.
    Stop(Release),
}

/// Why a job was not handed over.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full: the kernel is slow. A full sync later catches up.
    Busy,
    /// The thread has ended.
    Gone,
}

/// The daemon's end of the keeper.
pub struct IpvsWorker {
    jobs: SyncSender<Job>,
    resync: Arc<AtomicBool>,
    /// Disconnected once the thread has ended.
    ended: Receiver<()>,
}

/// Jobs waiting at most (each holds a few services; a full sync replaces them all).
const QUEUE: usize = 64;

impl IpvsWorker {
    pub fn spawn(sock: IpvsSocket, log: Log) -> std::io::Result<IpvsWorker> {
        let (jobs, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let (alive, ended) = std::sync::mpsc::channel::<()>();
        let resync = Arc::new(AtomicBool::new(false));
        let mut keeper = Keeper {
            sock,
            log,
            resync: resync.clone(),
            applied: BTreeMap::new(),
            owned: BTreeSet::new(),
            syncd: Vec::new(),
        };
        std::thread::Builder::new()
            .name("ipvs".into())
            .spawn(move || {
                let _alive = alive;
                keeper.run(rx);
            })?;
        Ok(IpvsWorker {
            jobs,
            resync,
            ended,
        })
    }

    pub fn send(&self, job: Job) -> Result<(), Refused> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => Refused::Busy,
            TrySendError::Disconnected(_) => Refused::Gone,
        })
    }

    /// Whether an operation failed since the last call: the kernel is not what the model
    /// says, the next sync must read it back.
    pub fn take_resync(&self) -> bool {
        self.resync.swap(false, Ordering::Relaxed)
    }

    /// Stops the keeper after the jobs already queued, releasing what `release` says, and
    /// waits for it until `limit` has passed.
    pub fn stop(self, release: Release, limit: Duration) -> Result<(), &'static str> {
        let deadline = Instant::now() + limit;
        let mut job = Job::Stop(release);
        loop {
            match self.jobs.try_send(job) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return Ok(()),
                Err(TrySendError::Full(j)) if Instant::now() < deadline => {
                    job = j;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(TrySendError::Full(_)) => {
                    return Err("the kernel did not take the jobs in time");
                }
            }
        }
        match self
            .ended
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Err(RecvTimeoutError::Timeout) => Err("the kernel did not answer in time"),
            _ => Ok(()),
        }
    }
}

/// The thread's side.
struct Keeper {
    sock: IpvsSocket,
    log: Log,
    resync: Arc<AtomicBool>,
    /// What the kernel's table holds, as far as this daemon knows.
    applied: BTreeMap<ServiceKey, ServiceState>,
    /// The services this daemon put in the table (a reload that drops one removes it).
    owned: BTreeSet<ServiceKey>,
    /// The connection sync daemons running.
    syncd: Vec<SyncDaemon>,
}

impl Keeper {
    fn run(&mut self, jobs: Receiver<Job>) {
        while let Ok(job) = jobs.recv() {
            match job {
                Job::Ops(ops) => {
                    for op in &ops {
                        self.call(op);
                    }
                }
                Job::Sync { want, full } => self.sync(want, full),
                Job::SyncDaemons(want) => self.sync_daemons(want),
                Job::Stop(release) => return self.stop(release),
            }
        }
    }

    /// Sends `op`; a failure is logged and asks for a full sync.
    fn call(&mut self, op: &Request) -> bool {
        match self.sock.call(op) {
            Ok(()) => true,
            Err(e) => {
                self.log.warn(&format!("IPVS: {e}"));
                self.resync.store(true, Ordering::Relaxed);
                false
            }
        }
    }

    fn sync(&mut self, want: Vec<ServiceState>, full: bool) {
        // The table we believe the kernel has for these services, and which services may go.
        let (have, ours) = if full {
            let have = match self.sock.table() {
                Ok(t) => t,
                Err(e) => {
                    self.log.warn(&format!("IPVS: reading the table: {e}"));
                    self.resync.store(true, Ordering::Relaxed);
                    return;
                }
            };
            let mut ours = std::mem::take(&mut self.owned);
            ours.extend(want.iter().map(|s| s.service.key));
            self.owned = want.iter().map(|s| s.service.key).collect();
            self.applied = have.iter().map(|s| (s.service.key, s.clone())).collect();
            (have, ours)
        } else {
            let have = want
                .iter()
                .filter_map(|s| self.applied.get(&s.service.key).cloned())
                .collect();
            (have, BTreeSet::new())
        };
        let ops = reconcile(&want, &have, |k| ours.contains(k));
        for op in &ops {
            if self.log.detail {
                self.log.info(&format!("IPVS: {}", describe(op)));
            }
            self.call(op);
        }
        let mut after = have;
        apply(&mut after, &ops);
        for op in &ops {
            if let Request::DelService(k) = op {
                self.applied.remove(k);
            }
        }
        self.applied
            .extend(after.into_iter().map(|s| (s.service.key, s)));
    }

    fn sync_daemons(&mut self, want: Vec<SyncDaemon>) {
        for old in std::mem::take(&mut self.syncd) {
            if want.contains(&old) {
                self.syncd.push(old);
            } else if let Err(e) = self.sock.call(&Request::DelDaemon(old.state)) {
                self.log
                    .warn(&format!("IPVS: stopping the sync daemon: {e}"));
            }
        }
        for d in want {
            if self.syncd.contains(&d) {
                continue;
            }
            // One already running from before a restart is taken as ours.
            if let Err(e) = self.sock.call(&Request::NewDaemon(d.clone()))
                && !e.is_exists()
            {
                self.log
                    .warn(&format!("IPVS: starting the sync daemon: {e}"));
                continue;
            }
            self.log.info(&format!(
                "IPVS: {} sync daemon on {} (syncid {})",
                if d.state == SYNC_MASTER {
                    "master"
                } else {
                    "backup"
                },
                d.interface,
                d.sync_id
            ));
            self.syncd.push(d);
        }
    }

    fn stop(&mut self, release: Release) {
        let mut ops: Vec<Request> = match release {
            Release::Keep => return,
            Release::Flush => vec![Request::Flush],
            Release::Ours => self.owned.iter().map(|k| Request::DelService(*k)).collect(),
        };
        ops.extend(self.syncd.iter().map(|d| Request::DelDaemon(d.state)));
        for op in &ops {
            self.call(op);
        }
    }
}
