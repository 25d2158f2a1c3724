//! The checkers in the daemon: the sans-IO checker engine on real time, a task per probe,
//! notify_up/notify_down and quorum scripts, the FIFO lines, and the IPVS table kept equal to
//! what the configuration and the checkers want (read back and reconciled after every
//! change). Without IPVS in the kernel (the development machines) the checkers still run and
//! clients still see their state: check-only mode, announced by one log line.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::Duration as StdDuration;

use tokio::sync::mpsc;

use super::log::Log;
use super::notify::Notifier;
use super::scripts::spawn_notify;
use crate::check::engine::{CheckerId, Engine, Input, Output};
use crate::check::probe::from_config::{Planned, plan};
use crate::check::probe::{self, Outcome};
use crate::check::{model, probe::Probe};
use crate::config::blocks::Config;
use crate::config::blocks::global::FlushOnStop;
use crate::config::blocks::lvs::VsKey;
use crate::control::protocol::{RealServerStatus, VirtualServerStatus};
use crate::ipvs::message::{Request, ServiceKey, SyncDaemon, Timeouts};
use crate::ipvs::reconcile::{ServiceState, reconcile};
use crate::sys::ipvs_socket::IpvsSocket;
use crate::time::Instant;

/// A probe's result on its way back to the engine.
pub struct ProbeDone {
    pub checker: CheckerId,
    /// The configuration generation it was started for: results of a replaced one are dropped.
    pub generation: u64,
    pub outcome: Outcome,
}

pub struct Lvs {
    pub engine: Engine,
    cfg: Config,
    plan: Vec<Vec<Vec<Planned>>>,
    /// The last outcome of each checker (console: last error, latency).
    last: Vec<Vec<Vec<Option<Outcome>>>>,
    generation: u64,
    tx: mpsc::UnboundedSender<ProbeDone>,
    notifier: Notifier,
    /// Why IPVS is not programmed, if it is not.
    pub check_only: Option<String>,
    ipvs: Option<IpvsSocket>,
    /// The services this daemon put in the table (a reload that drops one removes it).
    owned: BTreeSet<ServiceKey>,
    /// The connection sync daemons running, and whether `lvs_sync_daemon`'s instance was
    /// MASTER when they were started.
    syncd: Vec<SyncDaemon>,
    syncd_master: Option<bool>,
    /// The virtual servers whose table the checkers changed since the last sync.
    dirty: BTreeSet<usize>,
    /// The next sync reads the kernel's table back (at the start, after a reload or an error).
    resync: bool,
    /// What the kernel's table holds, as far as this daemon knows: read at each full sync,
    /// then kept by applying our own operations, so that a checker change costs a few
    /// operations, not a dump of thousands of destinations.
    applied: BTreeMap<ServiceKey, ServiceState>,
    /// The addresses on this machine, each with the number of interfaces that have it
    /// (ha_suspend; keepalived counts them too, for IPv6 link-local addresses).
    local: HashMap<IpAddr, u32>,
}

/// Every address of every interface, counted.
fn local_addresses() -> HashMap<IpAddr, u32> {
    let mut local = HashMap::new();
    for ifa in nix::ifaddrs::getifaddrs().into_iter().flatten() {
        let Some(a) = ifa.address else { continue };
        let ip: Option<IpAddr> = match (a.as_sockaddr_in(), a.as_sockaddr_in6()) {
            (Some(v4), _) => Some(v4.ip().into()),
            (_, Some(v6)) => Some(v6.ip().into()),
            _ => None,
        };
        if let Some(ip) = ip {
            *local.entry(ip).or_insert(0) += 1;
        }
    }
    local
}

impl Lvs {
    pub fn new(cfg: &Config, tx: mpsc::UnboundedSender<ProbeDone>, log: &Log) -> Lvs {
        let (ipvs, check_only) = match IpvsSocket::open() {
            Ok(mut sock) => {
                start_ipvs(&mut sock, cfg, log);
                (Some(sock), None)
            }
            Err(e) => (None, Some(e.to_string())),
        };
        if let Some(why) = &check_only
            && !cfg.virtual_servers.is_empty()
        {
            log.warn(&format!(
                "IPVS: {why}: running the checkers only (check-only mode), the IPVS table is \
                 not changed"
            ));
        }
        let mut lvs = Lvs {
            engine: Engine::new(Vec::new()),
            cfg: Config::default(),
            plan: Vec::new(),
            last: Vec::new(),
            generation: 0,
            tx,
            notifier: Notifier::open_lvs(cfg, log),
            check_only,
            ipvs,
            owned: BTreeSet::new(),
            syncd: Vec::new(),
            syncd_master: None,
            dirty: BTreeSet::new(),
            resync: true,
            applied: BTreeMap::new(),
            local: HashMap::new(),
        };
        lvs.load(cfg, log);
        lvs
    }

    /// Takes `cfg`'s virtual servers. Checkers whose configuration did not change keep their
    /// state, as keepalived's do on a reload; the others start afresh.
    pub fn load(&mut self, cfg: &Config, log: &Log) {
        self.generation += 1;
        self.cfg = cfg.clone();
        // Indices change with the configuration: the next sync looks at everything, and the
        // sync daemons are checked against the new lvs_sync_daemon.
        self.dirty.clear();
        self.resync = true;
        self.syncd_master = None;
        let mut engine = Engine::new(model::from_config(cfg));
        engine.adopt(&self.engine);
        self.engine = engine;
        self.local = local_addresses();
        self.apply_suspension(log);
        self.plan = plan(cfg);
        for (vs, v) in self.plan.iter().zip(&cfg.virtual_servers) {
            for (rs, r) in vs.iter().zip(&v.real_servers) {
                for p in rs {
                    if let Err(e) = &p.probe {
                        log.warn(&format!(
                            "checker of {} in {}: {e}; it will fail every time",
                            r.addr,
                            model::vs_id(v)
                        ));
                    }
                }
            }
        }
        self.last = self
            .plan
            .iter()
            .map(|v| v.iter().map(|r| vec![None; r.len()]).collect())
            .collect();
    }

    /// ha_suspend: each such virtual server's checkers run only while its address is here.
    fn apply_suspension(&mut self, log: &Log) {
        let mut out = Vec::new();
        for (v, vs) in self.cfg.virtual_servers.iter().enumerate() {
            if let (true, VsKey::Address { addr, .. }) = (vs.ha_suspend, &vs.key) {
                let here = self.local.get(addr).is_some_and(|n| *n > 0);
                self.engine.suspend(v, !here, &mut out);
            }
        }
        for o in out {
            self.act(o, log);
        }
    }

    /// An address appeared on or left an interface (rtnetlink).
    pub fn address(&mut self, addr: IpAddr, added: bool, log: &Log) {
        let n = self.local.entry(addr).or_insert(0);
        *n = if added { *n + 1 } else { n.saturating_sub(1) };
        self.apply_suspension(log);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.engine.poll_timeout()
    }

    pub fn start(&mut self, now: Instant, log: &Log) {
        // The warmup spread needs a seed nobody shares: the process id and the clock.
        let seed = u64::from(std::process::id())
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
        self.handle(Input::Start { seed }, now, log);
        self.sync(log);
    }

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

    pub fn timeout(&mut self, now: Instant, log: &Log) {
        self.handle(Input::Timeout, now, log);
    }

    pub fn probe_done(&mut self, done: ProbeDone, now: Instant, log: &Log) {
        if done.generation != self.generation {
            return;
        }
        let (v, r, c) = done.checker;
        let input = Input::Result {
            checker: done.checker,
            ok: done.outcome.ok,
            dynamic: done.outcome.dynamic,
        };
        if let Some(slot) = self
            .last
            .get_mut(v)
            .and_then(|x| x.get_mut(r))
            .and_then(|x| x.get_mut(c))
        {
            *slot = Some(done.outcome);
        }
        self.handle(input, now, log);
    }

    fn handle(&mut self, input: Input, now: Instant, log: &Log) {
        let mut out = Vec::new();
        self.engine.handle(input, now, &mut out);
        for o in &out {
            if let Output::RealServer { vs, .. }
            | Output::Quorum { vs, .. }
            | Output::Weight { vs, .. } = o
            {
                self.dirty.insert(*vs);
            }
        }
        for o in out {
            self.act(o, log);
        }
    }

    fn spawn_probe(&self, id: CheckerId) {
        let (v, r, c) = id;
        let Some(planned) = self
            .plan
            .get(v)
            .and_then(|x| x.get(r))
            .and_then(|x| x.get(c))
        else {
            return;
        };
        let (probe, target) = (planned.probe.clone(), planned.target.clone());
        let (tx, generation) = (self.tx.clone(), self.generation);
        tokio::spawn(async move {
            let outcome = match &probe {
                Ok(p) => probe::run(p, &target).await,
                Err(e) => Outcome {
                    ok: false,
                    dynamic: None,
                    detail: e.clone(),
                    latency: StdDuration::ZERO,
                },
            };
            let _ = tx.send(ProbeDone {
                checker: id,
                generation,
                outcome,
            });
        });
    }

    fn act(&mut self, o: Output, log: &Log) {
        if let Some(line) = self.engine.fifo_line(&o) {
            self.notifier.write(&line);
        }
        match o {
            Output::Probe(id) => self.spawn_probe(id),
            Output::Log(line) => log.info(&line),
            Output::RealServer { vs, rs, alive } => {
                let names = &self.engine.config()[vs];
                let v = &self.cfg.virtual_servers[vs];
                let r = &v.real_servers[rs];
                // keepalived's words (ipwrapper.c perform_svr_state).
                let verb = match (alive, r.inhibit_on_failure.unwrap_or(v.inhibit_on_failure)) {
                    (true, false) => "Adding service",
                    (false, false) => "Removing service",
                    (true, true) => "Enabling service",
                    (false, true) => "Disabling service",
                };
                let prep = if alive { "to" } else { "from" };
                log.info(&format!(
                    "{verb} {} {prep} VS {}{}",
                    names.real_servers[rs].name,
                    names.name,
                    if self.check_only.is_some() {
                        " (check-only)"
                    } else {
                        ""
                    }
                ));
                let script = if alive { &r.notify_up } else { &r.notify_down };
                if let Some(cmd) = script {
                    spawn_notify(cmd, &[], &self.cfg, log);
                }
            }
            Output::Quorum { vs, up } => {
                let v = &self.cfg.virtual_servers[vs];
                let script = if up { &v.quorum_up } else { &v.quorum_down };
                if let Some(cmd) = script {
                    spawn_notify(cmd, &[], &self.cfg, log);
                }
            }
            Output::Weight { vs, rs, weight } => log.info(&format!(
                "Changing weight to {weight} for {} of VS {}",
                self.engine.config()[vs].real_servers[rs].name,
                self.engine.config()[vs].name
            )),
        }
    }

    /// Stopping: with `omega`, the notify_down of every live real server and the quorum_down
    /// of a virtual server in quorum run, and their FIFO lines are written (keepalived
    /// `clear_service_vs` with omega; without omega it is silent).
    pub fn stop(&mut self, keep_ipvs: bool, log: &Log) {
        let mut outs = Vec::new();
        for (v, vs) in self.cfg.virtual_servers.iter().enumerate() {
            if !vs.omega {
                continue;
            }
            for r in 0..vs.real_servers.len() {
                if self.engine.alive(v, r) {
                    outs.push(Output::RealServer {
                        vs: v,
                        rs: r,
                        alive: false,
                    });
                }
            }
            if self.engine.quorum_up(v) {
                outs.push(Output::Quorum { vs: v, up: false });
            }
        }
        for o in outs {
            self.act(o, log);
        }
        if let Some(sock) = self.ipvs.as_mut()
            && !keep_ipvs
        {
            stop_ipvs(sock, &self.cfg, &self.owned, &self.syncd, log);
        }
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
                && e.errno() != Some(nix::errno::Errno::EEXIST)
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

    /// The console's view: each virtual server, its real servers and their checkers.
    pub fn status(&self) -> Vec<VirtualServerStatus> {
        self.cfg
            .virtual_servers
            .iter()
            .enumerate()
            .map(|(v, vs)| {
                let ecfg = &self.engine.config()[v];
                let quorum_up = self.engine.quorum_up(v);
                VirtualServerStatus {
                    id: ecfg.id.clone(),
                    scheduler: vs.lvs_sched.unwrap_or("wlc").to_string(),
                    quorum: vs.quorum,
                    quorum_up,
                    alive_weight: self.engine.weight_sum(v),
                    sorry_server: ecfg.sorry_server.clone(),
                    sorry_active: !quorum_up && ecfg.sorry_server.is_some(),
                    suspended: self.engine.suspended(v),
                    real_servers: ecfg
                        .real_servers
                        .iter()
                        .enumerate()
                        .map(|(r, rc)| self.rs_status(v, r, &rc.addr))
                        .collect(),
                }
            })
            .collect()
    }

    fn rs_status(&self, v: usize, r: usize, addr: &str) -> RealServerStatus {
        let plans = &self.plan[v][r];
        let last = &self.last[v][r];
        let kinds: Vec<&str> = plans
            .iter()
            .map(|p| p.probe.as_ref().map_or("invalid", Probe::kind))
            .collect();
        let failed = last.iter().flatten().find(|o| !o.ok);
        let latency = last
            .iter()
            .flatten()
            .map(|o| o.latency.as_secs_f64() * 1e3)
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
        RealServerStatus {
            addr: addr.to_string(),
            weight: self.engine.weight(v, r) as i32,
            alive: self.engine.alive(v, r),
            checker: if kinds.is_empty() {
                "none".into()
            } else {
                kinds.join("+")
            },
            last_error: failed.map(|o| o.detail.clone()),
            latency_ms: latency,
        }
    }
}

/// At start: `lvs_flush` empties the table, `lvs_timeouts` are set. The sync daemons are
/// [`Lvs::follow_vrrp`]'s.
fn start_ipvs(sock: &mut IpvsSocket, cfg: &Config, log: &Log) {
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
fn stop_ipvs(
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
