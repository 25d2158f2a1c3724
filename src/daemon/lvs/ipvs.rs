//! The LVS side's IPVS work: keeping the kernel's table what the configuration and the
//! checkers want, the connection sync daemons following their VRRP instance, and what the
//! start and the stop do to the table.

use super::Lvs;
use super::ipvs_worker::{IpvsWorker, Job, Refused, Release, SYNC_MASTER};
use crate::config::blocks::Config;
use crate::config::blocks::global::FlushOnStop;
use crate::daemon::log::Log;
use crate::ipvs::message::{Request, SyncDaemon, Timeouts};
use crate::ipvs::reconcile::ServiceState;
use crate::sys::ipvs_socket::IpvsSocket;

impl Lvs {
    /// [`sync`](Self::sync) if the checkers changed something or the kernel's table must be
    /// read back: the daemon calls this once it has taken in every probe result that is
    /// waiting, so that a hundred servers failing together cost one pass over the table,
    /// not a hundred.
    pub fn sync_if_dirty(&mut self, log: &Log) {
        let log = &log.as_ident(crate::daemon::log_sinks::Ident::Checkers);
        if let Some(w) = &self.ipvs
            && w.take_resync()
        {
            self.resync = true;
        }
        if self.resync || !self.dirty.is_empty() {
            self.sync(log);
        }
    }

    /// Hands the IPVS thread the services the configuration and the checkers want: every
    /// virtual server's after a start, a reload or an error (the thread reads the table
    /// back and reconciles), else those of the virtual servers that changed. Services of
    /// others are left alone.
    pub fn sync(&mut self, log: &Log) {
        let dirty = std::mem::take(&mut self.dirty);
        if self.ipvs.is_none() {
            return;
        }
        let full = std::mem::take(&mut self.resync);
        let want: Vec<ServiceState> = if full {
            let tables: Vec<_> = (0..self.cfg.virtual_servers.len())
                .map(|v| self.engine.desired(v))
                .collect();
            crate::ipvs::desired::services(&self.cfg, &tables)
        } else {
            dirty
                .iter()
                .flat_map(|v| {
                    crate::ipvs::desired::vs_services(
                        &self.cfg,
                        &self.cfg.virtual_servers[*v],
                        &self.engine.desired(*v),
                    )
                })
                .collect()
        };
        if !self.hand_over(Job::Sync { want, full }, log) {
            // A full sync later replaces what was not handed over.
            self.resync = true;
        }
    }

    /// Gives `job` to the IPVS thread; false if it could not take it. A thread that has
    /// ended is noticed, logged and replaced.
    fn hand_over(&mut self, job: Job, log: &Log) -> bool {
        let Some(w) = &self.ipvs else { return false };
        match w.send(job) {
            Ok(()) => true,
            Err(Refused::Busy) => false,
            Err(Refused::Gone) => {
                log.warn("IPVS: the netlink thread ended unexpectedly; starting another");
                let worker = IpvsSocket::open()
                    .map_err(|e| e.to_string())
                    .and_then(|s| IpvsWorker::spawn(s, log.clone()).map_err(|e| e.to_string()));
                if let Err(e) = &worker {
                    log.warn(&format!("IPVS: {e}: the table is no longer kept"));
                    self.check_only = Some(e.clone());
                }
                self.ipvs = worker.ok();
                self.syncd_master = None;
                false
            }
        }
    }

    /// `lvs_sync_daemon`: runs the sync daemons its VRRP instance's state calls for (the
    /// master daemon while it is MASTER, the backup one otherwise), replacing those running.
    /// The daemon calls this after each VRRP step; it acts only on a change.
    pub fn follow_vrrp(&mut self, vrrp: &crate::vrrp::engine::Engine, log: &Log) {
        let log = &log.as_ident(crate::daemon::log_sinks::Ident::Checkers);
        let instance = self
            .cfg
            .global_defs
            .lvs_sync_daemon
            .as_ref()
            .and_then(|d| d.instance.as_ref());
        let master = instance.is_some_and(|name| {
            vrrp.instances()
                .iter()
                .any(|i| i.name() == name && i.state() == crate::vrrp::event::State::Master)
        });
        if self.syncd_master == Some(master) || self.ipvs.is_none() {
            return;
        }
        let job = Job::SyncDaemons(sync_daemons(&self.cfg, master));
        // Not handed over: tried again after the next VRRP step.
        self.syncd_master = self.hand_over(job, log).then_some(master);
    }

    /// Stopping: the IPVS thread finishes what it has, removes what the configuration says
    /// (nothing with `keep`), and ends, within a few seconds.
    pub(super) fn stop_ipvs(&mut self, keep: bool, log: &Log) {
        let Some(w) = self.ipvs.take() else { return };
        let release = match (keep, self.cfg.global_defs.lvs_flush_on_stop) {
            (true, _) => Release::Keep,
            (false, Some(FlushOnStop::Full)) => Release::Flush,
            (false, _) => Release::Ours,
        };
        if let Err(e) = w.stop(release, STOP_LIMIT) {
            log.warn(&format!("IPVS: stopping: {e}"));
        }
    }
}

/// How long the stop waits for the kernel.
const STOP_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// At start: `lvs_flush` empties the table, `lvs_timeouts` are set. The sync daemons are
/// [`Lvs::follow_vrrp`]'s.
pub(super) fn start_ops(cfg: &Config) -> Vec<Request> {
    let g = &cfg.global_defs;
    let mut ops = Vec::new();
    if g.lvs_flush {
        ops.push(Request::Flush);
    }
    let t = &g.lvs_timeouts;
    if t.tcp.is_some() || t.tcpfin.is_some() || t.udp.is_some() {
        ops.push(Request::SetConfig(Timeouts {
            tcp: t.tcp.unwrap_or(0),
            tcp_fin: t.tcpfin.unwrap_or(0),
            udp: t.udp.unwrap_or(0),
        }));
    }
    ops
}

/// IP_VS_STATE_BACKUP.
const SYNC_BACKUP: u32 = 2;

/// The sync daemons `lvs_sync_daemon` asks for, given whether its instance is MASTER
/// (keepalived vrrp.c: the master daemon while the instance is MASTER, the backup daemon
/// otherwise; without an instance, both). The sync id defaults to the instance's VRID.
fn sync_daemons(cfg: &Config, master: bool) -> Vec<SyncDaemon> {
    let Some(d) = &cfg.global_defs.lvs_sync_daemon else {
        return Vec::new();
    };
    let states: &[u32] = match (&d.instance, master) {
        (None, _) => &[SYNC_MASTER, SYNC_BACKUP],
        (Some(_), true) => &[SYNC_MASTER],
        (Some(_), false) => &[SYNC_BACKUP],
    };
    let vrid = d
        .instance
        .as_ref()
        .and_then(|name| cfg.vrrp_instances.iter().find(|i| &i.name == name))
        .and_then(|i| i.virtual_router_id)
        .map_or(0, u32::from);
    states
        .iter()
        .map(|&state| SyncDaemon {
            state,
            interface: d.interface.clone(),
            sync_id: d.id.map_or(vrid, u32::from),
            maxlen: d.maxlen,
            group: d.group,
            port: d.port,
            ttl: d.ttl,
        })
        .collect()
}
