//! The rules every run is held to. Some hold at every step (a transition has a legal cause, a
//! MASTER owns its addresses and is never silent, no BACKUP takes over while it still hears a
//! better master, adverts carry the effective priority); the others once the network has been
//! quiet long enough (one MASTER per VRID, the one with the highest priority unless
//! preemption is off, sync groups agree).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::scenario::{Expect, Scenario};
use super::world::World;
use crate::time::{Duration, Instant};
use crate::vrrp::engine::{Emitted, Engine, Source};
use crate::vrrp::event::{Output, Reason, State};
use crate::vrrp::frame::Received;
use crate::vrrp::packet::{Packet, Version, field};
use crate::vrrp::timing;

/// The last advert an instance accepted with a priority at least its own: it reset the
/// Master_Down_Timer.
#[derive(Clone, Copy, Debug)]
struct Heard {
    at: Instant,
    from: IpAddr,
    interval: Duration,
}

/// State the step rules need, per (router, instance).
pub(super) struct InvariantChecker {
    last_sent: HashMap<(usize, usize), Instant>,
    better: HashMap<(usize, usize), Heard>,
}

impl InvariantChecker {
    pub fn new(_: &Scenario) -> InvariantChecker {
        InvariantChecker {
            last_sent: HashMap::new(),
            better: HashMap::new(),
        }
    }

    pub fn forget_router(&mut self, r: usize) {
        self.last_sent.retain(|k, _| k.0 != r);
        self.better.retain(|k, _| k.0 != r);
    }

    /// Router `r` accepted a packet on `interface`.
    pub fn delivered(
        &mut self,
        r: usize,
        engine: &Engine,
        interface: &str,
        rx: &Received,
        now: Instant,
    ) {
        let Some(&vrid) = rx.msg.get(field::VRID) else {
            return;
        };
        let Some(i) = engine.instances().iter().position(|i| {
            let c = i.config();
            c.interface == interface && c.vrid == vrid && c.v6() == rx.src.is_ipv6()
        }) else {
            return;
        };
        let inst = &engine.instances()[i];
        // Only a BACKUP's timer listens (FAULT and INIT ignore packets).
        if inst.state() != State::Backup {
            return;
        }
        let p = Packet::new_unchecked(&rx.msg[..]);
        let interval = match inst.config().version {
            Version::V2 => inst.config().adver_int,
            Version::V3 => Duration::centis(u64::from(p.max_adver_int_cs())),
        };
        if p.priority() == 0 {
            // RFC 5798 §6.4.2: a priority-0 advert shortens the wait to Skew_Time.
            // From any sender.
            self.better.remove(&(r, i));
        } else if p.priority() >= inst.effective_priority() || !inst.config().preempt {
            // RFC 5798 §6.4.2: such an advert resets the Master_Down_Timer in every mode;
            // without preemption every advert does (so a nopreempt BACKUP never takes over
            // from a live master).
            self.better.insert(
                (r, i),
                Heard {
                    at: now,
                    from: rx.src,
                    interval,
                },
            );
        }
    }

    /// Before an input: no MASTER has let its advert interval pass without an advert.
    pub fn before_input(&mut self, r: usize, engine: &Engine, now: Instant) -> Vec<String> {
        self.silent_masters(r, engine, now)
    }

    pub(super) fn silent_masters(&self, r: usize, engine: &Engine, now: Instant) -> Vec<String> {
        let mut v = Vec::new();
        for (i, inst) in engine.instances().iter().enumerate() {
            if inst.state() != State::Master {
                continue;
            }
            if let Some(&last) = self.last_sent.get(&(r, i))
                && now > last + inst.config().adver_int
            {
                v.push(format!(
                    "{}: MASTER silent since {last} (advert interval {}; RFC 5798 §6.4.3)",
                    inst.name(),
                    inst.config().adver_int
                ));
            }
        }
        v
    }

    /// One output of router `r`.
    pub fn output(&mut self, r: usize, engine: &Engine, e: &Emitted, now: Instant) -> Vec<String> {
        let Source::Instance(i) = e.source else {
            return Vec::new();
        };
        let inst = &engine.instances()[i];
        let mut v = Vec::new();
        match &e.output {
            Output::Send { advert, .. } => {
                self.last_sent.insert((r, i), now);
                if advert.priority != 0 && advert.priority != inst.effective_priority() {
                    v.push(format!(
                        "{}: advert with priority {} but the effective priority is {}",
                        inst.name(),
                        advert.priority,
                        inst.effective_priority()
                    ));
                }
            }
            Output::StateChange { from, to, reason } => {
                if let Err(e) = legal(*from, *to, reason, inst.base_priority()) {
                    v.push(format!("{}: {from} -> {to}: {e}", inst.name()));
                }
                if let Some(p) = match reason {
                    Reason::Preempted { priority, .. } => Some(*priority),
                    _ => None,
                } && p < inst.effective_priority()
                {
                    v.push(format!(
                        "{}: preempted by priority {p}, lower than ours ({})",
                        inst.name(),
                        inst.effective_priority()
                    ));
                }
                if *to == State::Master && *reason == Reason::MasterDown {
                    v.extend(self.early_takeover(r, i, engine, now));
                }
                if *to != State::Master {
                    self.last_sent.remove(&(r, i));
                }
                if *from != State::Master {
                    // A fresh start of the BACKUP timer: what was heard before does not count.
                    self.better.remove(&(r, i));
                }
            }
            _ => {}
        }
        v
    }

    /// RFC 5798 §6.4.2: a BACKUP takes over only when Master_Down_Interval has passed since
    /// the last advert from a master at least as good as itself.
    fn early_takeover(&self, r: usize, i: usize, engine: &Engine, now: Instant) -> Option<String> {
        let inst = &engine.instances()[i];
        let c = inst.config();
        // A v3 backup inside a preempt_delay window accepts lower priorities too, and may
        // learn a shorter interval from them.
        if c.version == Version::V3 && c.preempt && c.preempt_delay > Duration::ZERO {
            return None;
        }
        let h = self.better.get(&(r, i))?;
        let mdi = timing::master_down_interval(
            c.version,
            inst.effective_priority(),
            h.interval,
            c.down_timer_adverts,
        );
        (now < h.at + mdi).then(|| {
            format!(
                "{}: took over at {now}, but heard {} (priority at least ours) at {}: Master_Down_Interval {mdi} had not passed (RFC 5798 §6.4.2)",
                inst.name(),
                h.from,
                h.at
            )
        })
    }

    /// After an input: MASTER and only MASTER has the addresses.
    pub fn after_input(&mut self, _r: usize, engine: &Engine, _now: Instant) -> Vec<String> {
        let mut v = Vec::new();
        for inst in engine.instances() {
            let master = inst.state() == State::Master;
            if inst.installed() != master {
                v.push(format!(
                    "{}: state {} but the addresses are {}",
                    inst.name(),
                    inst.state(),
                    if inst.installed() {
                        "installed"
                    } else {
                        "not installed"
                    }
                ));
            }
        }
        v
    }
}

/// Which transitions may happen, and why.
fn legal(from: State, to: State, reason: &Reason, base: u8) -> Result<(), String> {
    use State::*;
    let ok = match (from, to) {
        (Init, Backup) => matches!(reason, Reason::Startup | Reason::SyncGroup { .. }),
        (Init | Fault, Master) => match reason {
            Reason::Owner => base == 255 || base == 254,
            Reason::SyncGroup { .. } => true,
            _ => false,
        },
        (Backup, Master) => matches!(reason, Reason::MasterDown | Reason::SyncGroup { .. }),
        (Master, Backup) => matches!(
            reason,
            Reason::Preempted { .. } | Reason::SyncGroup { .. } | Reason::AddressRemoved { .. }
        ),
        (Init | Backup | Master, Fault) => {
            matches!(reason, Reason::Fault { .. } | Reason::SyncGroup { .. })
        }
        (Fault, Backup) => matches!(reason, Reason::Recovered | Reason::SyncGroup { .. }),
        (_, Stop) => *reason == Reason::Stop,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("not a legal transition for reason {reason:?}"))
    }
}

/// The rules checked once a second: no silent MASTER anywhere, and after the quiet phase has
/// lasted the settling time, convergence.
pub(super) fn audit(scenario: &Scenario, w: &World) -> Vec<String> {
    let mut v = Vec::new();
    for (r, router) in w.routers.iter().enumerate() {
        if let Some(engine) = &router.engine {
            v.extend(w.checker.silent_masters(r, engine, w.now));
        }
    }
    let settled = scenario
        .quiet_from
        .is_some_and(|q| w.now >= q + scenario.settle_time());
    if !settled {
        return v;
    }
    // One MASTER per VRID and segment, the best one.
    let mut vrids: BTreeMap<(usize, u8, bool), Vec<(usize, usize)>> = BTreeMap::new();
    for (r, router) in w.routers.iter().enumerate() {
        let Some(engine) = &router.engine else {
            continue;
        };
        let links = &scenario.routers[r].links;
        for (i, inst) in engine.instances().iter().enumerate() {
            let c = inst.config();
            let Some(l) = links.iter().position(|(n, _)| *n == c.interface) else {
                continue;
            };
            vrids
                .entry((router.segment_of[l], c.vrid, c.v6()))
                .or_default()
                .push((r, i));
        }
    }
    for ((seg, vrid, _), members) in &vrids {
        let inst = |&(r, i): &(usize, usize)| &w.routers[r].engine.as_ref().unwrap().instances()[i];
        let candidates: Vec<&(usize, usize)> = members
            .iter()
            .filter(|m| matches!(inst(m).state(), State::Backup | State::Master))
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let masters: Vec<&(usize, usize)> = candidates
            .iter()
            .copied()
            .filter(|m| inst(m).state() == State::Master)
            .collect();
        let names = |list: &[&(usize, usize)]| {
            list.iter()
                .map(|(r, _)| w.routers[*r].name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if masters.len() != 1 {
            v.push(format!(
                "VRID {vrid} on {}: {} MASTERs [{}] among [{}] after the network was quiet for {}",
                w.segments[*seg].name,
                masters.len(),
                names(&masters),
                names(&candidates),
                scenario.settle_time()
            ));
            continue;
        }
        let m = inst(masters[0]);
        for c in &candidates {
            let b = inst(c);
            if b.effective_priority() > m.effective_priority() && b.config().preempt {
                v.push(format!(
                    "VRID {vrid} on {}: MASTER {} has priority {} but {} has {} and preempts",
                    w.segments[*seg].name,
                    w.routers[masters[0].0].name,
                    m.effective_priority(),
                    w.routers[c.0].name,
                    b.effective_priority()
                ));
            }
        }
    }
    // Sync groups agree.
    for router in &w.routers {
        let Some(engine) = &router.engine else {
            continue;
        };
        for (g, name) in engine.group_names().enumerate() {
            let members: Vec<State> = engine
                .group_members(g)
                .iter()
                .map(|&m| engine.instances()[m].state())
                .collect();
            if members.windows(2).any(|p| p[0] != p[1]) {
                v.push(format!(
                    "{}: sync group {name} members disagree: {members:?}",
                    router.name
                ));
            }
        }
    }
    v
}

/// A scenario's own expectation.
pub(super) fn expect(e: &Expect, w: &World) -> Vec<String> {
    let masters: Vec<String> = w
        .routers
        .iter()
        .filter(|r| {
            r.engine.as_ref().is_some_and(|eng| {
                eng.instances()
                    .iter()
                    .any(|i| i.name() == e.instance && i.state() == State::Master)
            })
        })
        .map(|r| r.name.clone())
        .collect();
    let want: Vec<String> = e.master.iter().cloned().collect();
    if masters == want {
        Vec::new()
    } else {
        vec![format!(
            "expected {} MASTER of {} at {}, found [{}]",
            e.master.as_deref().unwrap_or("no router"),
            e.instance,
            e.at,
            masters.join(", ")
        )]
    }
}
