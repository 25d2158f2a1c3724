//! The checkers in the daemon: the sans-IO checker engine on real time, a task per probe,
//! notify_up/notify_down and quorum scripts, the FIFO lines, and the IPVS table kept equal to
//! what the configuration and the checkers want (by a thread that owns the netlink socket,
//! ipvs_worker.rs). Without IPVS in the kernel (the development machines) the checkers still
//! run and clients still see their state: check-only mode, announced by one log line.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use tokio::sync::mpsc;

mod ipvs;
mod ipvs_worker;
use ipvs_worker::{IpvsWorker, Job};

use super::log::Log;
use super::log_sinks::Ident;
use super::notify::Notifier;
use super::scripts::spawn_notify;
use crate::check::engine::{CheckerId, Engine, Input, Output};
use crate::check::probe::from_config::{Planned, plan};
use crate::check::probe::{self, Outcome, Target};
use crate::check::{probe::Probe, resolve};
use crate::config::blocks::Config;
use crate::config::blocks::lvs::VsKey;
use crate::sys::ipvs_socket::IpvsSocket;
use crate::sys::script::ScriptUsers;
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
    /// The thread that keeps the kernel's table.
    ipvs: Option<IpvsWorker>,
    /// Whether `lvs_sync_daemon`'s instance was MASTER when its sync daemons were asked for.
    syncd_master: Option<bool>,
    /// The virtual servers whose table the checkers changed since the last sync.
    dirty: BTreeSet<usize>,
    /// The next sync reads the kernel's table back (at the start, after a reload or an error).
    resync: bool,
    /// The addresses on this machine, each with the number of interfaces that have it
    /// (ha_suspend; keepalived counts them too, for IPv6 link-local addresses).
    local: HashMap<IpAddr, u32>,
}

/// What the LVS side keeps of the configuration: the virtual servers and what they refer to
/// (groups, track files for FILE_CHECK, the global settings, the instance `lvs_sync_daemon`
/// follows) - not a second copy of every VRRP instance, which the VRRP side holds.
fn lvs_part(cfg: &Config) -> Config {
    let synced = cfg
        .global_defs
        .lvs_sync_daemon
        .as_ref()
        .and_then(|d| d.instance.as_ref());
    Config {
        global_defs: cfg.global_defs.clone(),
        track_files: cfg.track_files.clone(),
        vrrp_instances: cfg
            .vrrp_instances
            .iter()
            .filter(|i| Some(&i.name) == synced)
            .cloned()
            .collect(),
        virtual_server_groups: cfg.virtual_server_groups.clone(),
        virtual_servers: cfg.virtual_servers.clone(),
        ssl: cfg.ssl.clone(),
        ..Config::default()
    }
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
    pub fn new(
        cfg: &Config,
        users: &Arc<ScriptUsers>,
        tx: mpsc::UnboundedSender<ProbeDone>,
        log: &Log,
    ) -> Lvs {
        // keepalived's checkers log as Keepalived_healthcheckers.
        let log = &log.as_ident(Ident::Checkers);
        let worker = IpvsSocket::open()
            .map_err(|e| e.to_string())
            .and_then(|sock| IpvsWorker::spawn(sock, log.clone()).map_err(|e| e.to_string()));
        let (ipvs, check_only) = match worker {
            Ok(w) => {
                // An empty queue takes it.
                let _ = w.send(Job::Ops(ipvs::start_ops(cfg)));
                (Some(w), None)
            }
            Err(e) => (None, Some(e)),
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
            notifier: Notifier::open_lvs(cfg, users.clone(), log),
            check_only,
            ipvs,
            syncd_master: None,
            dirty: BTreeSet::new(),
            resync: true,
            local: HashMap::new(),
        };
        lvs.load(cfg, users, log);
        lvs
    }

    /// Takes `cfg`'s virtual servers. Checkers whose configuration did not change keep their
    /// state, as keepalived's do on a reload; the others start afresh.
    /// `users`: who its scripts run as, resolved with `cfg`.
    pub fn load(&mut self, cfg: &Config, users: &Arc<ScriptUsers>, log: &Log) {
        self.notifier.users = users.clone();
        // keepalived's checkers log as Keepalived_healthcheckers.
        let log = &log.as_ident(Ident::Checkers);
        self.generation += 1;
        self.cfg = lvs_part(cfg);
        // Indices change with the configuration: the next sync looks at everything, and the
        // sync daemons are checked against the new lvs_sync_daemon.
        self.dirty.clear();
        self.resync = true;
        self.syncd_master = None;
        let mut engine = Engine::new(resolve::from_config(cfg));
        engine.adopt(&self.engine);
        self.engine = engine;
        self.local = local_addresses();
        self.apply_suspension(log);
        self.plan = plan(cfg, users);
        for (vs, v) in self.plan.iter().zip(&cfg.virtual_servers) {
            for (rs, r) in vs.iter().zip(&v.real_servers) {
                for p in rs {
                    if let Err(e) = &p.probe {
                        log.warn(&format!(
                            "checker of {} in {}: {e}; it will fail every time",
                            r.addr,
                            resolve::vs_id(v)
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

    /// Whether `addr` is on some interface now (rtnetlink; the daemon keeps the view, so a
    /// repeated RTM_NEWADDR - IPv6 repeats it when duplicate address detection ends - does
    /// not count twice).
    pub fn address(&mut self, addr: IpAddr, here: bool, log: &Log) {
        self.local.insert(addr, u32::from(here));
        // keepalived's checkers log as Keepalived_healthcheckers.
        let log = &log.as_ident(Ident::Checkers);
        self.apply_suspension(log);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.engine.poll_timeout()
    }

    pub fn start(&mut self, now: Instant, log: &Log) {
        // keepalived's checkers log as Keepalived_healthcheckers.
        let log = &log.as_ident(Ident::Checkers);
        // The warmup spread needs a seed nobody shares: the process id and the clock.
        let seed = u64::from(std::process::id())
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
        self.handle(Input::Start { seed }, now, log);
        self.sync(log);
    }

    pub fn timeout(&mut self, now: Instant, log: &Log) {
        // keepalived's checkers log as Keepalived_healthcheckers.
        let log = &log.as_ident(Ident::Checkers);
        self.handle(Input::Timeout, now, log);
    }

    pub fn probe_done(&mut self, done: ProbeDone, now: Instant, log: &Log) {
        // keepalived's checkers log as Keepalived_healthcheckers.
        let log = &log.as_ident(Ident::Checkers);
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
                Ok(p) => run_caught(p, &target).await,
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
                    spawn_notify(cmd, &[], &self.notifier.users, log);
                }
            }
            Output::Quorum { vs, up } => {
                let v = &self.cfg.virtual_servers[vs];
                let script = if up { &v.quorum_up } else { &v.quorum_down };
                if let Some(cmd) = script {
                    spawn_notify(cmd, &[], &self.notifier.users, log);
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
        // keepalived's checkers log as Keepalived_healthcheckers.
        let log = &log.as_ident(Ident::Checkers);
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
        self.stop_ipvs(keep_ipvs, log);
    }

    /// The configuration the checkers run.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Real server `r` of virtual server `v`'s checkers: each one's kind (`invalid` for one
    /// that cannot run) and its last outcome.
    pub fn checks(
        &self,
        v: usize,
        r: usize,
    ) -> impl Iterator<Item = (&'static str, Option<&Outcome>)> {
        let plans = self
            .plan
            .get(v)
            .and_then(|x| x.get(r))
            .map_or(&[][..], |p| &p[..]);
        let last = self
            .last
            .get(v)
            .and_then(|x| x.get(r))
            .map_or(&[][..], |l| &l[..]);
        plans.iter().enumerate().map(move |(c, p)| {
            let kind = p.probe.as_ref().map_or("invalid", Probe::kind);
            (kind, last.get(c).and_then(Option::as_ref))
        })
    }
}

/// A probe that panics fails its check with the panic's message: its task is not lost, or
/// the checker would wait for its result for ever (supervisor.rs says why unwinds are
/// caught).
async fn run_caught(p: &Probe, target: &Target) -> Outcome {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(probe::run(p, target))
        .catch_unwind()
        .await
    {
        Ok(outcome) => outcome,
        Err(payload) => Outcome {
            ok: false,
            dynamic: None,
            detail: format!(
                "probe panicked: {}",
                super::supervisor::panic_message(payload.as_ref())
            ),
            latency: StdDuration::ZERO,
        },
    }
}
