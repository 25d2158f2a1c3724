//! The checker engine, sans-IO like the VRRP engine (quinn-proto's handle/poll_timeout
//! contract): it decides when each checker probes, turns probe results into checker, real
//! server and quorum states by keepalived's rules (keepalived.md §5), and says what the IPVS
//! table should hold. The daemon runs the probes and programs IPVS; tests drive it in virtual
//! time.
//!
//! keepalived's rules, as implemented here:
//! - a real server is alive iff every one of its checkers is up (`ipwrapper.c`);
//! - a checker's first run is at 1 s + a random part of `warmup` (`check_api.c`);
//! - a success while down (or the first one) is up at once; a failure while up is retried
//!   `retry` times after `delay_before_retry`, then the checker is down (`tcp_epilog`);
//! - `alpha`: start down; without it the real server starts alive;
//! - quorum: the weights of the alive real servers; gained at `quorum + hysteresis`, lost
//!   below `quorum - hysteresis` (`update_quorum_state`); the sorry server replaces the real
//!   servers while the quorum is lost; `inhibit_on_failure` keeps a dead server at weight 0.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::rng::Rng;
use crate::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckerConfig {
    /// What the logs and the console call it (`HTTP_GET`, `TCP_CHECK`...).
    pub kind: String,
    pub delay_loop: Duration,
    pub retry: u32,
    pub delay_before_retry: Duration,
    /// The first run comes within this after the first second; 0: exactly at 1 s.
    pub warmup: Duration,
    pub alpha: bool,
    /// `log_all_failures`: every failed check is logged, not only the change of state.
    pub log_all_failures: bool,
    /// The checker's whole configuration, to tell on a reload whether it is the same checker
    /// (keepalived `compare_*_check`).
    pub fingerprint: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealServerConfig {
    pub addr: String,
    /// keepalived's name for it in logs and FIFO lines: `[10.0.0.11]:tcp:80`.
    pub name: String,
    pub weight: u32,
    pub inhibit_on_failure: bool,
    pub checkers: Vec<CheckerConfig>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualServerConfig {
    pub id: String,
    /// keepalived's name for it: `[10.0.0.100]:tcp:80`, `FWM 7`, `[web]:0`.
    pub name: String,
    pub quorum: u32,
    pub hysteresis: u32,
    pub sorry_server: Option<String>,
    /// sorry_server_inhibit: out of use the sorry server stays in the table at weight 0.
    pub sorry_inhibit: bool,
    pub real_servers: Vec<RealServerConfig>,
}

/// Who is in a virtual server's IPVS table: a real server (its index) or the sorry server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    Real(usize),
    Sorry,
}

/// A checker: (virtual server, real server, checker) indices.
pub type CheckerId = (usize, usize, usize);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The start; `seed` draws the warmup delays.
    Start {
        seed: u64,
    },
    Timeout,
    /// A probe's result, with the weight change it asks for (MISC_CHECK's misc_dynamic,
    /// FILE_CHECK's weight).
    Result {
        checker: CheckerId,
        ok: bool,
        dynamic: Option<Dynamic>,
    },
}

/// A checker's part in its real server's weight. keepalived keeps, per checker, the amount it
/// adds to the configured weight (`cur_weight`); the real server's weight is the configured
/// one plus those, within 0..=65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dynamic {
    /// misc_dynamic: the real server's weight becomes this (exit status - 2).
    Set(u32),
    /// FILE_CHECK: value x weight added to the configured weight; MISC's exit 0: back to it.
    Offset(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Run this checker's probe now and report with [`Input::Result`].
    Probe(CheckerId),
    /// A real server became alive or dead (notify_up / notify_down).
    RealServer { vs: usize, rs: usize, alive: bool },
    /// A live real server's weight changed.
    Weight { vs: usize, rs: usize, weight: u32 },
    /// The virtual server gained or lost its quorum (quorum_up / quorum_down).
    Quorum { vs: usize, up: bool },
    /// A line for the log, in keepalived's words.
    Log(String),
}

#[derive(Clone, Debug)]
struct CheckerState {
    up: bool,
    /// Failed probes since the last success, while it was up.
    retried: u32,
    /// What it adds to the configured weight ([`Dynamic`]).
    offset: i64,
    next: Option<Instant>,
    probing: bool,
}

#[derive(Clone, Debug)]
struct RealServer {
    alive: bool,
    weight: u32,
    checkers: Vec<CheckerState>,
}

#[derive(Clone, Debug)]
struct VirtualServer {
    quorum_up: bool,
    /// Its state came from the configuration before a reload ([`Engine::adopt`]).
    adopted: bool,
    /// ha_suspend: its address is not on this machine, so its checkers do not run.
    suspended: bool,
    real_servers: Vec<RealServer>,
}

/// A real server's weight: the configured one plus what its checkers add, within IPVS's
/// 0..=65535.
fn effective_weight(configured: u32, checkers: &[CheckerState]) -> u32 {
    let offsets: i64 = checkers.iter().map(|x| x.offset).sum();
    (i64::from(configured) + offsets).clamp(0, 65535) as u32
}

pub struct Engine {
    cfg: Vec<VirtualServerConfig>,
    vs: Vec<VirtualServer>,
    /// Each checker's next run, earliest first: thousands of checkers must not cost a scan
    /// per event. An entry whose time is no longer its checker's `next` is stale and skipped.
    timers: BinaryHeap<Reverse<(Instant, CheckerId)>>,
}

impl Engine {
    pub fn new(cfg: Vec<VirtualServerConfig>) -> Engine {
        let vs = cfg
            .iter()
            .map(|v| VirtualServer {
                quorum_up: false,
                adopted: false,
                suspended: false,
                real_servers: v
                    .real_servers
                    .iter()
                    .map(|r| RealServer {
                        // Without alpha a real server starts alive (keepalived adds it at once).
                        alive: r.checkers.iter().all(|c| !c.alpha),
                        weight: r.weight,
                        checkers: r
                            .checkers
                            .iter()
                            .map(|c| CheckerState {
                                up: !c.alpha,
                                retried: 0,
                                offset: 0,
                                next: None,
                                probing: false,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        Engine {
            cfg,
            vs,
            timers: BinaryHeap::new(),
        }
    }

    /// A reload: takes the state of the checkers that are still there, unchanged, from the
    /// engine of the configuration before (keepalived `migrate_checkers`), so that a reload
    /// neither removes live real servers nor adds dead ones. Call before [`Input::Start`].
    pub fn adopt(&mut self, old: &Engine) {
        for (v, vc) in self.cfg.iter().enumerate() {
            let Some(ov) = old.cfg.iter().position(|o| o.id == vc.id) else {
                continue;
            };
            self.vs[v].adopted = true;
            self.vs[v].quorum_up = old.vs[ov].quorum_up;
            for (r, rc) in vc.real_servers.iter().enumerate() {
                let old_rs = &old.cfg[ov].real_servers;
                let Some(or) = old_rs.iter().position(|o| o.addr == rc.addr) else {
                    continue;
                };
                let rs = &mut self.vs[v].real_servers[r];
                for (c, cc) in rc.checkers.iter().enumerate() {
                    if old_rs[or].checkers.get(c).map(|o| &o.fingerprint) == Some(&cc.fingerprint) {
                        let was = &old.vs[ov].real_servers[or].checkers[c];
                        let ch = &mut rs.checkers[c];
                        (ch.up, ch.retried, ch.offset) = (was.up, was.retried, was.offset);
                    }
                }
                rs.alive = rs.checkers.iter().all(|x| x.up);
                rs.weight = effective_weight(rc.weight, &rs.checkers);
            }
        }
    }

    /// ha_suspend: the checkers of virtual server `vs` stop (its address left this machine) or
    /// run again; the real servers keep their state meanwhile (keepalived
    /// `update_checker_activity`).
    pub fn suspend(&mut self, vs: usize, suspended: bool, out: &mut Vec<Output>) {
        if self.vs[vs].suspended == suspended {
            return;
        }
        self.vs[vs].suspended = suspended;
        let cfg = &self.cfg[vs];
        for rs in &cfg.real_servers {
            for _ in &rs.checkers {
                out.push(Output::Log(format!(
                    "{} healthchecker for service {} for VS {}",
                    if suspended {
                        "Suspending"
                    } else {
                        "Activating"
                    },
                    rs.name,
                    cfg.name
                )));
            }
        }
    }

    pub fn suspended(&self, vs: usize) -> bool {
        self.vs[vs].suspended
    }

    /// When to call [`handle`](Self::handle) with [`Input::Timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    fn schedule(&mut self, (v, r, c): CheckerId, at: Instant) {
        self.vs[v].real_servers[r].checkers[c].next = Some(at);
        self.timers.push(Reverse((at, (v, r, c))));
    }

    pub fn alive(&self, vs: usize, rs: usize) -> bool {
        self.vs[vs].real_servers[rs].alive
    }

    /// Real server `rs`'s weight now: configured plus what its checkers add.
    pub fn weight(&self, vs: usize, rs: usize) -> u32 {
        self.vs[vs].real_servers[rs].weight
    }

    pub fn quorum_up(&self, vs: usize) -> bool {
        self.vs[vs].quorum_up
    }

    /// The sum of the alive real servers' weights.
    pub fn weight_sum(&self, vs: usize) -> u32 {
        self.vs[vs]
            .real_servers
            .iter()
            .filter(|r| r.alive)
            .map(|r| r.weight)
            .sum()
    }

    /// What virtual server `vs`'s IPVS table should hold: (address, weight), as keepalived's
    /// ipwrapper.c leaves it. While the quorum is lost and there is a sorry server, the sorry
    /// server (weight 1) stands in for the real servers, which are removed (or kept at weight
    /// 0 with inhibit_on_failure, `perform_quorum_state`); otherwise the alive real servers
    /// with their weights, the dead ones at weight 0 with inhibit_on_failure, and the sorry
    /// server at weight 0 with sorry_server_inhibit.
    pub fn desired(&self, vs: usize) -> Vec<(Member, u32)> {
        let cfg = &self.cfg[vs];
        let state = &self.vs[vs];
        let sorry_in = !state.quorum_up && cfg.sorry_server.is_some();
        let mut table: Vec<(Member, u32)> = cfg
            .real_servers
            .iter()
            .zip(&state.real_servers)
            .enumerate()
            .filter_map(
                |(k, (c, r))| match (r.alive && !sorry_in, c.inhibit_on_failure) {
                    (true, _) => Some((Member::Real(k), r.weight)),
                    (false, true) => Some((Member::Real(k), 0)),
                    (false, false) => None,
                },
            )
            .collect();
        if cfg.sorry_server.is_some() {
            if sorry_in {
                table.push((Member::Sorry, 1));
            } else if cfg.sorry_inhibit {
                table.push((Member::Sorry, 0));
            }
        }
        table
    }

    /// [`desired`](Self::desired) with the members' `addr:port` names.
    #[cfg(test)]
    pub fn desired_names(&self, vs: usize) -> Vec<(String, u32)> {
        let cfg = &self.cfg[vs];
        self.desired(vs)
            .into_iter()
            .map(|(m, w)| match m {
                Member::Real(k) => (cfg.real_servers[k].addr.clone(), w),
                Member::Sorry => (cfg.sorry_server.clone().unwrap_or_default(), w),
            })
            .collect()
    }

    /// The notify FIFO line keepalived writes for `out`, if it writes one
    /// (ipwrapper.c `notify_fifo_rs`, `notify_fifo_vs`): `RS [10.0.0.11]:tcp:80
    /// [10.0.0.100]:tcp:80 UP`, `VS [10.0.0.100]:tcp:80 DOWN`. keepalived also writes the
    /// string's terminating NUL into the FIFO, which a line reader then sees at the start of
    /// the next line; kaconsole writes the line alone.
    pub fn fifo_line(&self, out: &Output) -> Option<String> {
        let word = |up: bool| if up { "UP" } else { "DOWN" };
        match *out {
            Output::RealServer { vs, rs, alive } => Some(format!(
                "RS {} {} {}\n",
                self.cfg[vs].real_servers[rs].name,
                self.cfg[vs].name,
                word(alive)
            )),
            Output::Quorum { vs, up } => Some(format!("VS {} {}\n", self.cfg[vs].name, word(up))),
            _ => None,
        }
    }

    pub fn config(&self) -> &[VirtualServerConfig] {
        &self.cfg
    }

    pub fn handle(&mut self, input: Input, now: Instant, out: &mut Vec<Output>) {
        match input {
            Input::Start { seed } => self.start(seed, now, out),
            Input::Timeout => self.timeout(now, out),
            Input::Result {
                checker,
                ok,
                dynamic,
            } => self.result(checker, ok, dynamic, now, out),
        }
    }

    fn ids(&self) -> Vec<CheckerId> {
        self.cfg
            .iter()
            .enumerate()
            .flat_map(|(v, vc)| {
                vc.real_servers
                    .iter()
                    .enumerate()
                    .flat_map(move |(r, rc)| (0..rc.checkers.len()).map(move |c| (v, r, c)))
            })
            .collect()
    }

    fn start(&mut self, seed: u64, now: Instant, out: &mut Vec<Output>) {
        let mut rng = Rng::new(seed);
        for (v, r, c) in self.ids() {
            let warmup = self.cfg[v].real_servers[r].checkers[c].warmup.as_micros();
            let jitter = if warmup == 0 {
                0
            } else {
                rng.range(0, warmup - 1)
            };
            self.schedule(
                (v, r, c),
                now + Duration::secs(1) + Duration::micros(jitter),
            );
        }
        // keepalived starts quietly (ipwrapper.c `set_quorum_states`, `init_service_rs`): the
        // real servers that start alive and a quorum that starts up are not notified (unless
        // rs_init_notifies, which kaconsole does not have). A quorum that starts down is
        // notified only when a sorry server stands in (`update_quorum_state(vs, true)`).
        for v in 0..self.vs.len() {
            if self.vs[v].adopted {
                continue;
            }
            let sum = self.weight_sum(v);
            let (q, h) = (self.cfg[v].quorum, self.cfg[v].hysteresis);
            self.vs[v].quorum_up = sum >= q + h;
            if !self.vs[v].quorum_up && self.cfg[v].sorry_server.is_some() {
                out.push(Output::Log(format!(
                    "Starting with quorum down {q}-{h}={} > {sum} for VS {}",
                    q.saturating_sub(h),
                    self.cfg[v].name
                )));
                out.push(Output::Quorum { vs: v, up: false });
            }
        }
    }

    fn timeout(&mut self, now: Instant, out: &mut Vec<Output>) {
        while let Some(&Reverse((at, (v, r, c)))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            if self.vs[v].suspended {
                // Looked at again a delay_loop later.
                if self.vs[v].real_servers[r].checkers[c].next == Some(at) {
                    let later = now + self.cfg[v].real_servers[r].checkers[c].delay_loop;
                    self.schedule((v, r, c), later);
                }
                continue;
            }
            let ch = &mut self.vs[v].real_servers[r].checkers[c];
            if !ch.probing && ch.next == Some(at) {
                ch.next = None;
                ch.probing = true;
                out.push(Output::Probe((v, r, c)));
            }
        }
    }

    fn result(
        &mut self,
        (v, r, c): CheckerId,
        ok: bool,
        dynamic: Option<Dynamic>,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let Some(cfg) = self
            .cfg
            .get(v)
            .and_then(|x| x.real_servers.get(r))
            .and_then(|x| x.checkers.get(c))
        else {
            return;
        };
        let (delay_loop, delay_before_retry, retry, log_all) = (
            cfg.delay_loop,
            cfg.delay_before_retry,
            cfg.retry,
            cfg.log_all_failures,
        );
        // keepalived's words: "TCP_CHECK on service [10.0.0.11]:tcp:80 failed after 1 retries."
        let name = || {
            format!(
                "{} on service {} of VS {}",
                cfg.kind, self.cfg[v].real_servers[r].name, self.cfg[v].name
            )
        };
        let ch = &mut self.vs[v].real_servers[r].checkers[c];
        if !ch.probing {
            // Not the answer to a probe the engine asked for.
            return;
        }
        ch.probing = false;
        let next = if ok {
            ch.retried = 0;
            if !ch.up {
                ch.up = true;
                out.push(Output::Log(format!("{} succeeded", name())));
            }
            delay_loop
        } else if ch.up && ch.retried < retry {
            // keepalived tcp_epilog: retry after delay_before_retry.
            ch.retried += 1;
            if log_all {
                out.push(Output::Log(format!("{} failed", name())));
            }
            delay_before_retry
        } else {
            if !ch.up && log_all {
                out.push(Output::Log(format!("{} failed", name())));
            }
            if ch.up {
                ch.up = false;
                let retries = ch.retried;
                ch.retried = 0;
                out.push(Output::Log(format!(
                    "{} failed after {retries} retries",
                    name()
                )));
            }
            delay_loop
        };
        self.schedule((v, r, c), now + next);
        let configured = self.cfg[v].real_servers[r].weight;
        let rs = &mut self.vs[v].real_servers[r];
        match dynamic {
            Some(Dynamic::Set(w)) => rs.checkers[c].offset = i64::from(w) - i64::from(configured),
            Some(Dynamic::Offset(o)) => rs.checkers[c].offset = o,
            None => {}
        }
        let alive = rs.checkers.iter().all(|x| x.up);
        let weight = effective_weight(configured, &rs.checkers);
        let weight_changed = weight != rs.weight;
        if weight_changed {
            rs.weight = weight;
            if alive {
                out.push(Output::Weight {
                    vs: v,
                    rs: r,
                    weight,
                });
            }
        }
        if alive != rs.alive {
            rs.alive = alive;
            out.push(Output::RealServer {
                vs: v,
                rs: r,
                alive,
            });
        } else if !weight_changed {
            // Nothing the quorum depends on changed (and summing thousands of weights on
            // every probe would cost more than the probes).
            return;
        }
        self.update_quorum(v, out);
    }

    /// keepalived `update_quorum_state`: hysteresis around the quorum.
    fn update_quorum(&mut self, v: usize, out: &mut Vec<Output>) {
        let sum = self.weight_sum(v);
        let (q, h) = (self.cfg[v].quorum, self.cfg[v].hysteresis);
        let up = self.vs[v].quorum_up;
        let next = if up {
            !(sum == 0 || sum < q.saturating_sub(h))
        } else {
            sum >= q + h && sum > 0
        };
        if next != up {
            self.vs[v].quorum_up = next;
            // keepalived's words.
            let name = &self.cfg[v].name;
            out.push(Output::Log(if next {
                format!("Gained quorum {q}+{h}={} <= {sum} for VS {name}", q + h)
            } else {
                format!(
                    "Lost quorum {q}-{h}={} > {sum} for VS {name}",
                    q.saturating_sub(h)
                )
            }));
            out.push(Output::Quorum { vs: v, up: next });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker(retry: u32, alpha: bool) -> CheckerConfig {
        CheckerConfig {
            kind: "TCP_CHECK".into(),
            delay_loop: Duration::secs(5),
            retry,
            delay_before_retry: Duration::secs(1),
            warmup: Duration::ZERO,
            alpha,
            log_all_failures: false,
            fingerprint: String::new(),
        }
    }

    fn vs(n: usize, quorum: u32, hysteresis: u32, sorry: bool, alpha: bool) -> VirtualServerConfig {
        VirtualServerConfig {
            id: "10.0.0.100:80 tcp".into(),
            name: "[10.0.0.100]:tcp:80".into(),
            quorum,
            hysteresis,
            sorry_server: sorry.then(|| "10.0.0.99:80".to_string()),
            sorry_inhibit: false,
            real_servers: (0..n)
                .map(|k| RealServerConfig {
                    addr: format!("10.0.0.{}:80", 11 + k),
                    name: format!("[10.0.0.{}]:tcp:80", 11 + k),
                    weight: 1,
                    inhibit_on_failure: false,
                    checkers: vec![checker(2, alpha)],
                })
                .collect(),
        }
    }

    /// An engine, its clock, and a log of (seconds, output) with probes answered by `answer`.
    struct Run {
        e: Engine,
        now: Instant,
        log: Vec<String>,
        /// The engine's log lines.
        lines: Vec<String>,
    }

    impl Run {
        fn new(cfg: Vec<VirtualServerConfig>) -> Run {
            let mut r = Run {
                e: Engine::new(cfg),
                now: Instant::ZERO,
                log: Vec::new(),
                lines: Vec::new(),
            };
            let mut out = Vec::new();
            r.e.handle(Input::Start { seed: 1 }, r.now, &mut out);
            r.record(out);
            r
        }

        fn record(&mut self, out: Vec<Output>) {
            let t = self.now.0 as f64 / 1e6;
            for o in out {
                match o {
                    Output::Log(line) => self.lines.push(format!("{t:>5.1} {line}")),
                    o => self.log.push(format!("{t:>5.1} {o:?}")),
                }
            }
        }

        /// Runs to `secs`, every probe of real server k answered by `ok(k, now)`.
        fn until(&mut self, secs: u64, ok: impl Fn(usize, f64) -> bool) {
            let end = Instant(secs * 1_000_000);
            while let Some(at) = self.e.poll_timeout().filter(|t| *t <= end) {
                self.now = at;
                let mut out = Vec::new();
                self.e.handle(Input::Timeout, at, &mut out);
                let probes: Vec<CheckerId> = out
                    .iter()
                    .filter_map(|o| match o {
                        Output::Probe(id) => Some(*id),
                        _ => None,
                    })
                    .collect();
                self.record(out);
                for id in probes {
                    let mut out = Vec::new();
                    let result = ok(id.1, at.0 as f64 / 1e6);
                    self.e.handle(
                        Input::Result {
                            checker: id,
                            ok: result,
                            dynamic: None,
                        },
                        at,
                        &mut out,
                    );
                    self.record(out);
                }
            }
            self.now = end;
        }
    }

    #[test]
    fn a_failure_is_retried_then_the_server_is_down_and_one_success_brings_it_back() {
        let mut r = Run::new(vec![vs(1, 0, 0, false, false)]);
        // Up until 10 s, down from then on, back at 30 s.
        r.until(40, |_, t| !(10.0..30.0).contains(&t));
        insta::assert_snapshot!("checker_retry_timeline", r.log.join("\n"));
        // keepalived: the probe at 11 s fails; retry (2) probes follow after
        // delay_before_retry (1 s), at 12 and 13 s; the third failure is down. Then probes
        // come every delay_loop (5 s), and the first success (33 s) is up at once.
        let down = r.log.iter().find(|l| l.contains("alive: false")).unwrap();
        assert!(down.starts_with(" 13.0"), "{down}");
        let up = r
            .log
            .iter()
            .rev()
            .find(|l| l.contains("alive: true"))
            .unwrap();
        assert!(up.starts_with(" 33.0"), "{up}");
    }

    #[test]
    fn log_all_failures_logs_every_failed_check() {
        let failed = |log_all: bool| {
            let mut cfg = vs(1, 0, 0, false, false);
            cfg.real_servers[0].checkers[0].log_all_failures = log_all;
            let mut r = Run::new(vec![cfg]);
            r.until(30, |_, t| t < 10.0);
            r.lines.iter().filter(|l| l.ends_with(" failed")).count()
        };
        // Without it only the change of state is logged ("failed after N retries").
        assert_eq!(failed(false), 0);
        // With it: the retries at 11 and 12 s, then (after "failed after 2 retries" at 13 s)
        // every probe while down, at 18, 23 and 28 s.
        assert_eq!(failed(true), 5);
    }

    #[test]
    fn alpha_starts_down_until_the_first_success() {
        let mut r = Run::new(vec![vs(1, 0, 0, false, true)]);
        assert!(!r.e.alive(0, 0));
        assert!(r.e.desired_names(0).is_empty());
        r.until(2, |_, _| true);
        assert!(r.e.alive(0, 0));
        assert_eq!(r.e.desired_names(0), [("10.0.0.11:80".to_string(), 1)]);
        insta::assert_snapshot!("checker_alpha_timeline", r.log.join("\n"));
    }

    #[test]
    fn quorum_has_hysteresis_and_the_sorry_server_stands_in() {
        // 4 servers of weight 1, quorum 3, hysteresis 1: lost below 2, gained at 4.
        let mut r = Run::new(vec![vs(4, 3, 1, true, false)]);
        assert!(r.e.quorum_up(0));
        // Servers 0 and 1 die at 10 s: weight 2, not below 2: still up.
        r.until(30, |k, t| k > 1 || t < 10.0);
        assert_eq!(r.e.weight_sum(0), 2);
        assert!(r.e.quorum_up(0), "2 is not below quorum - hysteresis");
        // Server 2 dies too: weight 1 < 2, lost; the sorry server alone in the table.
        r.until(60, |k, t| k > 2 || t < 10.0);
        assert!(!r.e.quorum_up(0));
        assert_eq!(r.e.desired_names(0), [("10.0.0.99:80".to_string(), 1)]);
        // 0, 1 and 2 come back one at a time: weight 3 is not enough (gain at 4)...
        r.until(90, |k, _| k != 0);
        assert_eq!(r.e.weight_sum(0), 3);
        assert!(!r.e.quorum_up(0));
        // ...all four are.
        r.until(120, |_, _| true);
        assert!(r.e.quorum_up(0));
        assert_eq!(r.e.desired_names(0).len(), 4);
        insta::assert_snapshot!("checker_quorum_timeline", r.log.join("\n"));
    }

    #[test]
    fn inhibit_on_failure_keeps_a_dead_server_at_weight_zero() {
        let mut cfg = vs(2, 0, 0, false, false);
        cfg.real_servers[1].inhibit_on_failure = true;
        let mut r = Run::new(vec![cfg]);
        r.until(30, |_, _| false);
        assert_eq!(r.e.desired_names(0), [("10.0.0.12:80".to_string(), 0)]);
        insta::assert_snapshot!("checker_inhibit_timeline", r.log.join("\n"));
    }

    #[test]
    fn warmup_spreads_the_first_probes_deterministically() {
        let mut cfg = vs(20, 0, 0, false, false);
        for rs in &mut cfg.real_servers {
            rs.checkers[0].warmup = Duration::secs(5);
        }
        let firsts = |seed| {
            let mut e = Engine::new(vec![cfg.clone()]);
            e.handle(Input::Start { seed }, Instant::ZERO, &mut Vec::new());
            e.vs[0]
                .real_servers
                .iter()
                .map(|r| r.checkers[0].next.unwrap().0)
                .collect::<Vec<u64>>()
        };
        let a = firsts(7);
        assert_eq!(a, firsts(7), "the same seed, the same start");
        assert_ne!(a, firsts(8));
        assert!(
            a.iter().all(|t| (1_000_000..6_000_000).contains(t)),
            "{a:?}"
        );
        assert!(
            a.iter().collect::<std::collections::BTreeSet<_>>().len() > 10,
            "spread"
        );
    }

    #[test]
    fn a_dynamic_weight_changes_a_live_server() {
        let mut r = Run::new(vec![vs(1, 0, 0, false, false)]);
        r.until(1, |_, _| true);
        // The next probe (delay_loop 5 s later) reports a weight.
        let mut out = Vec::new();
        r.e.handle(Input::Timeout, Instant(6_000_000), &mut out);
        assert_eq!(out, [Output::Probe((0, 0, 0))]);
        let result = Input::Result {
            checker: (0, 0, 0),
            ok: true,
            dynamic: Some(Dynamic::Set(7)),
        };
        r.e.handle(result.clone(), Instant(6_000_000), &mut out);
        assert!(out.contains(&Output::Weight {
            vs: 0,
            rs: 0,
            weight: 7
        }));
        assert_eq!(r.e.desired_names(0), [("10.0.0.11:80".to_string(), 7)]);
        r.now = Instant(6_000_000);
        r.record(out.clone());
        insta::assert_snapshot!("checker_weight_timeline", r.log.join("\n"));
        // A result nobody asked for (a probe of a replaced configuration) changes nothing.
        let mut out = Vec::new();
        r.e.handle(result, Instant(6_500_000), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn fifo_lines_are_keepalived_s() {
        let e = Engine::new(vec![vs(1, 1, 0, false, false)]);
        let rs = Output::RealServer {
            vs: 0,
            rs: 0,
            alive: false,
        };
        assert_eq!(
            e.fifo_line(&rs).as_deref(),
            Some("RS [10.0.0.11]:tcp:80 [10.0.0.100]:tcp:80 DOWN\n")
        );
        let q = Output::Quorum { vs: 0, up: true };
        assert_eq!(
            e.fifo_line(&q).as_deref(),
            Some("VS [10.0.0.100]:tcp:80 UP\n")
        );
        assert_eq!(e.fifo_line(&Output::Probe((0, 0, 0))), None);
    }

    #[test]
    fn the_start_is_quiet_unless_a_sorry_server_must_stand_in() {
        let start = |cfg| {
            let mut e = Engine::new(vec![cfg]);
            let mut out = Vec::new();
            e.handle(Input::Start { seed: 1 }, Instant::ZERO, &mut out);
            out.retain(|o| !matches!(o, Output::Log(_)));
            (e, out)
        };
        let (e, out) = start(vs(2, 2, 0, true, false));
        assert!(e.quorum_up(0) && out.is_empty(), "{out:?}");
        let (e, out) = start(vs(2, 2, 0, false, true));
        assert!(
            !e.quorum_up(0) && out.is_empty(),
            "alpha: down, no sorry server: {out:?}"
        );
        let (e, out) = start(vs(2, 2, 0, true, true));
        assert!(!e.quorum_up(0));
        assert_eq!(out, [Output::Quorum { vs: 0, up: false }]);
        assert_eq!(e.desired_names(0), [("10.0.0.99:80".to_string(), 1)]);
    }

    #[test]
    fn a_reload_keeps_the_state_of_unchanged_checkers() {
        // Server 0 is down, server 1 up, quorum lost (weight 1 < 2) with the sorry server in.
        let mut r = Run::new(vec![vs(2, 2, 0, true, false)]);
        r.until(20, |k, _| k == 1);
        assert_eq!(
            (r.e.alive(0, 0), r.e.alive(0, 1), r.e.quorum_up(0)),
            (false, true, false)
        );
        // The reload changes server 1's checker and adds server 2 (alpha).
        let mut cfg = vs(3, 2, 0, true, false);
        cfg.real_servers[1].checkers[0].fingerprint = "changed".into();
        cfg.real_servers[2].checkers[0].alpha = true;
        let mut e = Engine::new(vec![cfg]);
        e.adopt(&r.e);
        let mut out = Vec::new();
        e.handle(Input::Start { seed: 1 }, r.now, &mut out);
        assert!(!e.alive(0, 0), "unchanged: still down");
        assert!(
            e.alive(0, 1),
            "a changed checker starts afresh (up without alpha)"
        );
        assert!(!e.alive(0, 2), "a new server with alpha starts down");
        assert!(!e.quorum_up(0), "the quorum state carries over");
        assert!(
            out.iter().all(|o| matches!(o, Output::Log(_))),
            "nothing to notify: {out:?}"
        );
    }

    #[test]
    fn suspended_checkers_do_not_probe_and_keep_their_state() {
        let mut r = Run::new(vec![vs(1, 1, 0, false, true)]);
        let mut out = Vec::new();
        r.e.suspend(0, true, &mut out);
        assert!(
            matches!(&out[..], [Output::Log(l)] if l.starts_with("Suspending healthchecker for service [10.0.0.11]:tcp:80")),
            "{out:?}"
        );
        r.until(30, |_, _| true);
        assert!(!r.log.iter().any(|l| l.contains("Probe")), "{:?}", r.log);
        assert!(!r.e.alive(0, 0), "alpha: still down, nothing probed it");
        r.e.suspend(0, false, &mut Vec::new());
        r.until(40, |_, _| true);
        assert!(r.e.alive(0, 0), "{:?}", r.log);
    }

    #[test]
    fn inhibited_servers_stay_at_weight_zero_around_the_sorry_server() {
        let mut cfg = vs(2, 2, 0, true, false);
        cfg.sorry_inhibit = true;
        cfg.real_servers[0].inhibit_on_failure = true;
        let mut r = Run::new(vec![cfg]);
        let table = |r: &Run| r.e.desired_names(0);
        assert_eq!(
            table(&r),
            [
                ("10.0.0.11:80".to_string(), 1),
                ("10.0.0.12:80".to_string(), 1),
                ("10.0.0.99:80".to_string(), 0)
            ],
            "sorry_server_inhibit: the sorry server waits at weight 0"
        );
        // Server 1 dies: weight 1 < quorum 2, the sorry server stands in; server 0, alive but
        // inhibit_on_failure, stays at weight 0 instead of being removed.
        r.until(30, |k, _| k == 0);
        insta::assert_snapshot!("checker_sorry_timeline", r.log.join("\n"));
        assert_eq!(
            table(&r),
            [
                ("10.0.0.11:80".to_string(), 0),
                ("10.0.0.99:80".to_string(), 1)
            ]
        );
    }
}
