//! The LVS side's IPVS work: keeping the kernel's table what the configuration and the
//! checkers want, the connection sync daemons following their VRRP instance, and what the
//! start and the stop do to the table.

use std::collections::BTreeSet;

use super::Lvs;
use crate::config::blocks::Config;
use crate::config::blocks::global::FlushOnStop;
use crate::daemon::log::Log;
use crate::ipvs::message::{Request, ServiceKey, SyncDaemon, Timeouts};
use crate::ipvs::reconcile::{ServiceState, reconcile};
use crate::sys::ipvs_socket::IpvsSocket;

impl Lvs {
    /// [`sync`](Self::sync) if the checkers changed something: the daemon calls this once
    /// it has taken in every probe result that is waiting, so that a hundred servers failing
    /// together cost one pass over the table, not a hundred.
    pub fn sync_if_dirty(&mut self, log: &Log) {
        if self.resync || !self.dirty.is_empty() {
            self.sync(log);
        }
    }

    /// Makes the kernel's table what the configuration and the checkers want: read it back,
    /// reconcile, apply the difference. Services of others are left alone.
    pub fn sync(&mut self, log: &Log) {
        let dirty = std::mem::take(&mut self.dirty);
        let Some(sock) = self.ipvs.as_mut() else {
            return;
        };
        // The virtual servers to look at, the table we believe the kernel has for them, and
        // which services may go.
        let (want, have, ours) = if std::mem::take(&mut self.resync) {
            let tables: Vec<_> = (0..self.cfg.virtual_servers.len())
                .map(|v| self.engine.desired(v))
                .collect();
            let want = crate::ipvs::desired::services(&self.cfg, &tables);
            let have = match sock.table() {
                Ok(t) => t,
                Err(e) => {
                    log.warn(&format!("IPVS: reading the table: {e}"));
                    self.resync = true;
                    return;
                }
            };
            let mut ours = self.owned.clone();
            ours.extend(want.iter().map(|s| s.service.key));
            self.owned = want.iter().map(|s| s.service.key).collect();
            self.applied = have.iter().map(|s| (s.service.key, s.clone())).collect();
            (want, have, ours)
        } else {
            let want: Vec<ServiceState> = dirty
                .iter()
                .flat_map(|v| {
                    crate::ipvs::desired::vs_services(
                        &self.cfg,
                        &self.cfg.virtual_servers[*v],
                        &self.engine.desired(*v),
                    )
                })
                .collect();
            let have = want
                .iter()
                .filter_map(|s| self.applied.get(&s.service.key).cloned())
                .collect();
            (want, have, BTreeSet::new())
        };
        let ops = reconcile(&want, &have, |k| ours.contains(k));
        for op in &ops {
            if log.detail {
                log.info(&format!("IPVS: {}", crate::sys::ipvs_socket::describe(op)));
            }
            if let Err(e) = sock.call(op) {
                log.warn(&format!("IPVS: {e}"));
                // The kernel is not what we think: read it back next time.
                self.resync = true;
            }
        }
        let mut after: Vec<ServiceState> = have;
        crate::ipvs::reconcile::apply(&mut after, &ops);
        for op in &ops {
            if let Request::DelService(k) = op {
                self.applied.remove(k);
            }
        }
        self.applied
            .extend(after.into_iter().map(|s| (s.service.key, s)));
    }

    /// `lvs_sync_daemon`: runs the sync daemons its VRRP instance's state calls for (the
    /// master daemon while it is MASTER, the backup one otherwise), replacing those running.
    /// The daemon calls this after each VRRP step; it acts only on a change.
    pub fn follow_vrrp(&mut self, vrrp: &crate::vrrp::engine::Engine, log: &Log) {
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
        if self.syncd_master == Some(master) {
            return;
        }
        self.syncd_master = Some(master);
        let Some(sock) = self.ipvs.as_mut() else {
            return;
        };
        let want = sync_daemons(&self.cfg, master);
        for old in std::mem::take(&mut self.syncd) {
            if want.contains(&old) {
                self.syncd.push(old);
            } else if let Err(e) = sock.call(&Request::DelDaemon(old.state)) {
                log.warn(&format!("IPVS: stopping the sync daemon: {e}"));
            }
        }
        for d in want {
            if self.syncd.contains(&d) {
                continue;
            }
            // One already running from before a restart is taken as ours.
            if let Err(e) = sock.call(&Request::NewDaemon(d.clone()))
                && !e.is_exists()
            {
                log.warn(&format!("IPVS: starting the sync daemon: {e}"));
                continue;
            }
            log.info(&format!(
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
}

/// At start: `lvs_flush` empties the table, `lvs_timeouts` are set. The sync daemons are
/// [`Lvs::follow_vrrp`]'s.
pub(super) fn start_ipvs(sock: &mut IpvsSocket, cfg: &Config, log: &Log) {
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
    for op in ops {
        if let Err(e) = sock.call(&op) {
            log.warn(&format!("IPVS: {e}"));
        }
    }
}

/// IP_VS_STATE_MASTER and IP_VS_STATE_BACKUP.
const SYNC_MASTER: u32 = 1;
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

/// At stop (without -I): `lvs_flush_on_stop` empties the whole table; otherwise the
/// services of this configuration go, as keepalived's `clear_services`; the sync daemons stop.
pub(super) fn stop_ipvs(
    sock: &mut IpvsSocket,
    cfg: &Config,
    owned: &BTreeSet<ServiceKey>,
    syncd: &[SyncDaemon],
    log: &Log,
) {
    let mut ops: Vec<Request> = match cfg.global_defs.lvs_flush_on_stop {
        Some(FlushOnStop::Full) => vec![Request::Flush],
        _ => owned.iter().map(|k| Request::DelService(*k)).collect(),
    };
    ops.extend(syncd.iter().map(|d| Request::DelDaemon(d.state)));
    for op in ops {
        if let Err(e) = sock.call(&op) {
            log.warn(&format!("IPVS: {e}"));
        }
    }
}
