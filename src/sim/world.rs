//! The simulated world: routers running the real engine, segments that carry real packets with
//! latency, jitter, loss, duplication and partitions, and one event heap ordered by (time,
//! sequence number) so that a scenario runs the same way every time.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::rc::Rc;

use super::invariants::{self, InvariantChecker};
use super::scenario::{Event, Scenario};
use super::trace::TraceLine;
use super::wire;
use crate::rng::Rng;
use crate::time::{Duration, Instant};
use crate::vrrp::engine::{Emitted, Engine, Source};
use crate::vrrp::event::{Input, Output};
use crate::vrrp::track::TrackStatus;

/// A broken rule, when and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub at: Instant,
    pub what: String,
}

/// What a run produced.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub violations: Vec<Violation>,
    /// Simulated time summed over the routers that were running.
    pub router_time: Duration,
    pub packets: u64,
    pub inputs: u64,
    /// A digest of every transition and advert: equal digests, equal runs.
    pub digest: u64,
    /// The trace, when asked for.
    pub trace: Vec<TraceLine>,
}

enum Payload {
    Wake(usize),
    Deliver {
        router: usize,
        link: usize,
        bytes: Rc<Vec<u8>>,
    },
    Event(usize),
    Audit,
    Expect(usize),
}

struct Entry {
    at: Instant,
    seq: u64,
    payload: Payload,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

pub(super) struct Router {
    pub name: String,
    pub engine: Option<Engine>,
    /// Per link (the spec's order): carrier.
    pub link_up: Vec<bool>,
    /// Per link: the segment index.
    pub segment_of: Vec<usize>,
    wake: Option<Instant>,
    alive_since: Instant,
    /// What the trackers last reported (scripts run again after a restart and say the same).
    trackers: HashMap<String, TrackStatus>,
}

pub(super) struct Segment {
    pub name: String,
    pub loss: u32,
    /// Partition side of each router (all 0: whole).
    pub side: Vec<usize>,
    /// (router, link) attached.
    pub attached: Vec<(usize, usize)>,
}

/// A running simulation.
pub struct World<'a> {
    scenario: &'a Scenario,
    pub(super) now: Instant,
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    rng: Rng,
    pub(super) routers: Vec<Router>,
    pub(super) segments: Vec<Segment>,
    pub(super) checker: InvariantChecker,
    outcome: Outcome,
    tracing: bool,
    hasher: DefaultHasher,
    scratch: Vec<Emitted>,
}

impl<'a> World<'a> {
    pub fn new(scenario: &'a Scenario, tracing: bool) -> World<'a> {
        let mut segments: Vec<Segment> = scenario
            .segments
            .iter()
            .map(|s| Segment {
                name: s.name.clone(),
                loss: s.loss,
                side: vec![0; scenario.routers.len()],
                attached: Vec::new(),
            })
            .collect();
        let routers = scenario
            .routers
            .iter()
            .enumerate()
            .map(|(r, spec)| {
                let segment_of: Vec<usize> = spec
                    .links
                    .iter()
                    .enumerate()
                    .map(|(l, (_, seg))| {
                        let s = segments.iter().position(|x| &x.name == seg).unwrap_or(0);
                        segments[s].attached.push((r, l));
                        s
                    })
                    .collect();
                Router {
                    name: spec.name.clone(),
                    engine: None,
                    link_up: vec![true; spec.links.len()],
                    segment_of,
                    wake: None,
                    alive_since: Instant::ZERO,
                    trackers: HashMap::new(),
                }
            })
            .collect();
        let mut w = World {
            scenario,
            now: Instant::ZERO,
            heap: BinaryHeap::new(),
            seq: 0,
            rng: Rng::new(scenario.seed),
            routers,
            segments: Vec::new(),
            checker: InvariantChecker::new(scenario),
            outcome: Outcome::default(),
            tracing,
            hasher: DefaultHasher::new(),
            scratch: Vec::new(),
        };
        w.segments = std::mem::take(&mut segments);
        if tracing {
            w.outcome.trace.push(TraceLine::Header {
                scenario: Box::new(scenario.clone()),
            });
        }
        for (i, _) in scenario.events.iter().enumerate() {
            w.push(scenario.events[i].at, Payload::Event(i));
        }
        for (i, e) in scenario.expect.iter().enumerate() {
            w.push(e.at, Payload::Expect(i));
        }
        let mut t = Instant(1_000_000);
        while t.0 <= scenario.duration.as_micros() {
            w.push(t, Payload::Audit);
            t += Duration::secs(1);
        }
        w
    }

    fn push(&mut self, at: Instant, payload: Payload) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            at,
            seq: self.seq,
            payload,
        }));
    }

    /// Runs the scenario to its end.
    pub fn run(mut self) -> Outcome {
        self.start();
        let end = Instant(self.scenario.duration.as_micros());
        self.step_until(end);
        self.finish()
    }

    /// Boots every router: the start of [`run`](Self::run), for a world driven step by step
    /// (`kaconsole lab --sim`).
    pub fn start(&mut self) {
        for r in 0..self.routers.len() {
            self.boot(r);
        }
    }

    /// Processes everything due up to `t`, then sets the clock to `t`.
    pub fn step_until(&mut self, t: Instant) {
        while self.heap.peek().is_some_and(|Reverse(e)| e.at <= t) {
            let Some(Reverse(e)) = self.heap.pop() else {
                break;
            };
            self.now = e.at;
            match e.payload {
                Payload::Wake(r) => {
                    if self.routers[r].wake == Some(e.at) {
                        self.routers[r].wake = None;
                        self.call(r, Input::Timeout);
                    }
                }
                Payload::Deliver {
                    router,
                    link,
                    bytes,
                } => self.deliver(router, link, &bytes),
                Payload::Event(i) => self.event(i),
                Payload::Audit => {
                    let v = invariants::audit(self.scenario, self);
                    self.report(v);
                }
                Payload::Expect(i) => {
                    let v = invariants::expect(&self.scenario.expect[i], self);
                    self.report(v);
                }
            }
        }
        self.now = self.now.max(t);
    }

    /// The clock.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Router `name`'s engine, while it runs.
    pub fn engine(&self, name: &str) -> Option<&Engine> {
        self.routers
            .iter()
            .find(|r| r.name == name)?
            .engine
            .as_ref()
    }

    /// Makes `event` happen now (a scenario's events happen at their times).
    pub fn inject(&mut self, event: &Event) {
        self.apply(event);
    }

    /// The trace lines so far (with tracing on), taken out of the world.
    pub fn take_trace(&mut self) -> Vec<TraceLine> {
        std::mem::take(&mut self.outcome.trace)
    }

    /// The violations so far.
    pub fn violations(&self) -> &[Violation] {
        &self.outcome.violations
    }

    /// Ends the run: router time and the digest.
    fn finish(mut self) -> Outcome {
        let end = self.now;
        for r in &self.routers {
            if r.engine.is_some() {
                self.outcome.router_time = self.outcome.router_time + (end - r.alive_since);
            }
        }
        self.outcome.digest = self.hasher.finish();
        self.outcome
    }

    fn boot(&mut self, r: usize) {
        let spec = &self.scenario.routers[r];
        let mut engine = match Engine::new(spec.instances.clone(), spec.groups.clone()) {
            Ok(e) => e,
            Err(e) => {
                self.report(vec![format!("{}: {e}", spec.name)]);
                return;
            }
        };
        for i in engine.instances_mut() {
            i.sabotage = self.scenario.sabotage;
        }
        self.routers[r].engine = Some(engine);
        self.routers[r].alive_since = self.now;
        self.call(r, Input::Start);
        // Links that are down, and trackers that reported before, say so again.
        for l in 0..self.routers[r].link_up.len() {
            if !self.routers[r].link_up[l] {
                let interface = self.scenario.routers[r].links[l].0.clone();
                self.call(
                    r,
                    Input::Link {
                        interface,
                        up: false,
                    },
                );
            }
        }
        let mut known: Vec<(String, TrackStatus)> = self.routers[r]
            .trackers
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        known.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, status) in known {
            self.call(r, Input::Track { id, status });
        }
    }

    fn kill(&mut self, r: usize) {
        if self.routers[r].engine.take().is_some() {
            let since = self.routers[r].alive_since;
            self.outcome.router_time = self.outcome.router_time + (self.now - since);
        }
        self.routers[r].wake = None;
        self.checker.forget_router(r);
    }

    fn event(&mut self, i: usize) {
        let scenario = self.scenario;
        self.apply(&scenario.events[i].event);
    }

    fn apply(&mut self, event: &Event) {
        if self.tracing {
            self.outcome.trace.push(TraceLine::Event {
                t: self.now,
                event: event.clone(),
            });
        }
        let router = |name: &str| self.routers.iter().position(|r| r.name == name);
        let segment = |name: &str| self.segments.iter().position(|s| s.name == name);
        match event {
            Event::Crash { router: n } => {
                if let Some(r) = router(n) {
                    self.kill(r);
                }
            }
            Event::Stop { router: n } => {
                if let Some(r) = router(n) {
                    self.call(r, Input::Stop);
                    self.kill(r);
                }
            }
            Event::Restart { router: n } => {
                if let Some(r) = router(n)
                    && self.routers[r].engine.is_none()
                {
                    self.boot(r);
                }
            }
            Event::Link {
                router: n,
                interface,
                up,
            } => {
                if let Some(r) = router(n) {
                    let links = &self.scenario.routers[r].links;
                    if let Some(l) = links.iter().position(|(i, _)| i == interface)
                        && self.routers[r].link_up[l] != *up
                    {
                        self.routers[r].link_up[l] = *up;
                        let interface = interface.clone();
                        self.call(r, Input::Link { interface, up: *up });
                    }
                }
            }
            Event::Track {
                router: n,
                id,
                status,
            } => {
                if let Some(r) = router(n) {
                    self.routers[r].trackers.insert(id.clone(), *status);
                    let (id, status) = (id.clone(), *status);
                    self.call(r, Input::Track { id, status });
                }
            }
            Event::Partition { segment: s, sides } => {
                if let Some(s) = segment(s) {
                    let mut side = vec![0; self.routers.len()];
                    for (k, names) in sides.iter().enumerate() {
                        for n in names {
                            if let Some(r) = self.routers.iter().position(|r| &r.name == n) {
                                side[r] = k + 1;
                            }
                        }
                    }
                    self.segments[s].side = side;
                }
            }
            Event::Heal { segment: s } => {
                if let Some(s) = segment(s) {
                    self.segments[s].side.fill(0);
                }
            }
            Event::Loss { segment: s, loss } => {
                if let Some(s) = segment(s) {
                    self.segments[s].loss = *loss;
                }
            }
        }
    }

    fn deliver(&mut self, r: usize, link: usize, bytes: &[u8]) {
        if self.routers[r].engine.is_none() || !self.routers[r].link_up[link] {
            return;
        }
        let rx = match wire::decode(bytes) {
            Ok(rx) => rx,
            Err(e) => {
                self.report(vec![format!("undecodable packet on the wire: {e}")]);
                return;
            }
        };
        self.outcome.packets += 1;
        let interface = self.scenario.routers[r].links[link].0.clone();
        let input = Input::Packet {
            interface: interface.clone(),
            rx: rx.clone(),
        };
        // What the engine accepted counts as heard (a replayed AH sequence number, say, is not).
        if !self.call(r, input)
            && let Some(engine) = &self.routers[r].engine
        {
            self.checker.delivered(r, engine, &interface, &rx, self.now);
        }
    }

    /// One input to router `r`'s engine, its outputs put on the wire and checked. Returns
    /// whether the engine rejected a packet.
    fn call(&mut self, r: usize, input: Input) -> bool {
        let Some(engine) = self.routers[r].engine.as_mut() else {
            return false;
        };
        let before = self.checker.before_input(r, engine, self.now);
        let mut out = std::mem::take(&mut self.scratch);
        engine.handle(input, self.now, &mut out);
        self.outcome.inputs += 1;
        let mut violations = before;
        let mut rejected = false;
        for e in out.drain(..) {
            rejected |= matches!(e.output, Output::Rejected { .. });
            self.output(r, &e, &mut violations);
        }
        self.scratch = out;
        let engine = self.routers[r].engine.as_ref().expect("still running");
        violations.extend(self.checker.after_input(r, engine, self.now));
        let next = engine.poll_timeout();
        self.report(violations);
        if let Some(at) = next
            && self.routers[r].wake != Some(at)
        {
            let at = at.max(self.now);
            self.routers[r].wake = Some(at);
            self.push(at, Payload::Wake(r));
        }
        rejected
    }

    fn output(&mut self, r: usize, e: &Emitted, violations: &mut Vec<String>) {
        let engine = self.routers[r].engine.as_ref().expect("running");
        violations.extend(self.checker.output(r, engine, e, self.now));
        match &e.output {
            Output::Send { advert, ah_seq } => {
                let Source::Instance(i) = e.source else {
                    return;
                };
                let cfg = engine.instances()[i].config();
                advert.priority.hash(&mut self.hasher);
                let link = self.scenario.routers[r]
                    .links
                    .iter()
                    .position(|(n, _)| *n == cfg.interface);
                let bytes = Rc::new(wire::encode(cfg, advert, *ah_seq, cfg.mcast_dst));
                self.trace_output(r, e);
                if let Some(link) = link {
                    self.transmit(r, link, bytes);
                }
                return;
            }
            Output::StateChange { to, .. } => {
                (self.now, r, e.source, *to as u8).hash(&mut self.hasher);
            }
            _ => {}
        }
        self.trace_output(r, e);
    }

    fn trace_output(&mut self, r: usize, e: &Emitted) {
        if self.tracing {
            let engine = self.routers[r].engine.as_ref().expect("running");
            let from = engine.source_name(e.source).to_string();
            self.outcome.trace.push(TraceLine::Output {
                t: self.now,
                router: self.routers[r].name.clone(),
                from,
                out: e.output.clone(),
            });
        }
    }

    /// A packet leaves router `r` on `link`: each other router on the segment gets it unless
    /// the carrier is down, a partition is in the way, or it is lost; some arrive twice.
    fn transmit(&mut self, r: usize, link: usize, bytes: Rc<Vec<u8>>) {
        if !self.routers[r].link_up[link] {
            return;
        }
        let s = self.routers[r].segment_of[link];
        let spec = &self.scenario.segments[s];
        let (latency, jitter, dup) = (spec.latency, spec.jitter, spec.dup);
        let attached = self.segments[s].attached.clone();
        for (to, to_link) in attached {
            if to == r || self.segments[s].side[to] != self.segments[s].side[r] {
                continue;
            }
            let loss = self.segments[s].loss;
            if loss > 0 && self.rng.chance(loss) {
                continue;
            }
            let copies = if dup > 0 && self.rng.chance(dup) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let delay = latency + Duration(self.rng.range(0, jitter.as_micros()));
                self.push(
                    self.now + delay,
                    Payload::Deliver {
                        router: to,
                        link: to_link,
                        bytes: bytes.clone(),
                    },
                );
            }
        }
    }

    fn report(&mut self, violations: Vec<String>) {
        for what in violations {
            if self.tracing {
                self.outcome.trace.push(TraceLine::Violation {
                    t: self.now,
                    violation: what.clone(),
                });
            }
            // One report per rule and router is enough to find the bug.
            if self.outcome.violations.len() < 20 {
                self.outcome
                    .violations
                    .push(Violation { at: self.now, what });
            }
        }
    }
}
