//! All the VRRP instances of one router and their sync groups, behind one sans-IO interface:
//! `handle(input, now, out)` and `poll_timeout()`. The daemon and the simulator drive the same
//! engine; only the clock and the packets differ.
//!
//! Sync groups follow keepalived's vrrp_sync.c: after each event the member's transition is
//! looked up (B→M, M→M, F→M: sync to MASTER; M→B, F→B: sync to BACKUP), a member becoming
//! faulty pulls the group to FAULT, and the group leaves FAULT only when every member is up.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::event::{Input, Notify, Output, State};
use super::instance::{GroupRecovery, GroupView, Instance};
use super::instance_config::InstanceConfig;
use super::packet::field;
use crate::config::blocks::Config;
use crate::config::blocks::vrrp::VrrpInstance;
use crate::time::Instant;

/// A sync group: member instance names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGroupConfig {
    pub name: String,
    pub members: Vec<String>,
}

/// Who an output is from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Instance(usize),
    Group(usize),
    /// An instance a reload removed: its index in the list [`Engine::reload`] returned.
    Removed(usize),
}

/// An output and who produced it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emitted {
    pub source: Source,
    pub output: Output,
}

#[derive(Clone, Debug)]
struct Group {
    name: String,
    members: Vec<usize>,
    state: State,
}

/// The engine: instances, groups, and the scratch space their outputs pass through.
#[derive(Clone, Debug)]
pub struct Engine {
    instances: Vec<Instance>,
    groups: Vec<Group>,
    /// The group of each instance.
    group_of: Vec<Option<usize>>,
    /// Whether an instance has sent a state notify (keepalived `notifies_sent`).
    notified: Vec<bool>,
    scratch: Vec<Output>,
}

/// A sync group the engine cannot build (the configuration checker reports these first).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    #[error("sync group {group}: no instance {member}")]
    NoSuchMember { group: String, member: String },
    #[error("instance {0} is in two sync groups")]
    TwoGroups(String),
}

/// The engine's view of a checked configuration: every instance and sync group. `src` gives
/// an instance's source address when the configuration names none (the daemon asks the
/// interface; the simulator assigns one).
pub fn instance_configs(
    cfg: &Config,
    mut src: impl FnMut(&VrrpInstance) -> IpAddr,
) -> (Vec<InstanceConfig>, Vec<SyncGroupConfig>) {
    let instances = cfg
        .vrrp_instances
        .iter()
        .map(|i| InstanceConfig::from_model(cfg, i, src(i)))
        .collect();
    let groups = cfg
        .vrrp_sync_groups
        .iter()
        .map(|g| SyncGroupConfig {
            name: g.name.clone(),
            members: g.group.iter().map(|m| m.name.clone()).collect(),
        })
        .collect();
    (instances, groups)
}

impl Engine {
    /// An engine for these instances. Errors name a group member that does not exist or is
    /// in two groups (the configuration checker reports these first).
    pub fn new(
        mut instances: Vec<InstanceConfig>,
        groups: Vec<SyncGroupConfig>,
    ) -> Result<Engine, GroupError> {
        let mut group_of = vec![None; instances.len()];
        let mut built = Vec::new();
        for (g, sg) in groups.into_iter().enumerate() {
            let mut members = Vec::new();
            for m in &sg.members {
                let i = instances.iter().position(|c| &c.name == m).ok_or_else(|| {
                    GroupError::NoSuchMember {
                        group: sg.name.clone(),
                        member: m.clone(),
                    }
                })?;
                if group_of[i].replace(g).is_some() {
                    return Err(GroupError::TwoGroups(m.clone()));
                }
                members.push(i);
            }
            // keepalived vrrp_complete_init: `state MASTER` survives in a sync group only if
            // every member is an address owner starting as MASTER.
            let all_owners = members
                .iter()
                .all(|&i| instances[i].initial_master && instances[i].priority == 255);
            if !all_owners {
                for &i in &members {
                    instances[i].initial_master = false;
                }
            }
            built.push(Group {
                name: sg.name,
                members,
                state: State::Init,
            });
        }
        let n = instances.len();
        Ok(Engine {
            instances: instances.into_iter().map(Instance::new).collect(),
            groups: built,
            group_of,
            notified: vec![false; n],
            scratch: Vec::new(),
        })
    }

    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }
    pub fn instances_mut(&mut self) -> &mut [Instance] {
        &mut self.instances
    }
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|g| g.name.as_str())
    }
    /// The instances of group `g`.
    pub fn group_members(&self, g: usize) -> &[usize] {
        &self.groups[g].members
    }
    pub fn group_state(&self, g: usize) -> State {
        self.groups[g].state
    }
    /// The name of what produced an output.
    pub fn source_name(&self, s: Source) -> &str {
        match s {
            Source::Instance(i) => self.instances[i].name(),
            Source::Group(g) => &self.groups[g].name,
            Source::Removed(_) => "(removed)",
        }
    }

    /// A configuration reload (SIGHUP): instances keepalived matches keep their state, removed
    /// ones stop (a MASTER sends priority 0), new ones start; sync groups are rebuilt. The
    /// configuration was checked before, so an error here leaves the engine as it was.
    /// Returns the removed instances (their outputs come from [`Source::Removed`]).
    pub fn reload(
        &mut self,
        instances: Vec<InstanceConfig>,
        groups: Vec<SyncGroupConfig>,
        now: Instant,
        out: &mut Vec<Emitted>,
    ) -> Result<Vec<Instance>, GroupError> {
        let mut next = Engine::new(instances, groups)?;
        let mut old: Vec<Option<Instance>> = std::mem::take(&mut self.instances)
            .into_iter()
            .map(Some)
            .collect();
        let old_notified = std::mem::take(&mut self.notified);
        // Removed instances go first; their outputs name them by their place in the list
        // returned.
        let mut removed = Vec::new();
        for slot in &mut old {
            let kept = slot
                .as_ref()
                .is_some_and(|o| next.instances.iter().any(|n| o.same_router(n.config())));
            if !kept && let Some(mut o) = slot.take() {
                let mut outputs = Vec::new();
                o.remove(now, &mut outputs);
                let source = Source::Removed(removed.len());
                out.extend(outputs.into_iter().map(|output| Emitted { source, output }));
                removed.push(o);
            }
        }
        let mut started = Vec::new();
        for i in 0..next.instances.len() {
            let found = old.iter_mut().position(|o| {
                o.as_ref()
                    .is_some_and(|o| o.same_router(next.instances[i].config()))
            });
            match found {
                Some(k) => {
                    let mut o = old[k].take().expect("found");
                    let cfg = next.instances[i].config().clone();
                    o.reconfigure(cfg, now, &mut next.scratch);
                    next.instances[i] = o;
                    next.notified[i] = old_notified[k];
                    next.flush(Source::Instance(i), out);
                }
                None => started.push(i),
            }
        }
        for i in started {
            let group_fault = next.group_of[i].is_some_and(|g| {
                next.groups[g]
                    .members
                    .iter()
                    .any(|&m| !next.instances[m].healthy())
            });
            next.instances[i].start(now, group_fault, &mut next.scratch);
            next.flush(Source::Instance(i), out);
        }
        // Groups take their members' state (keepalived: MASTER if all members are).
        for g in 0..next.groups.len() {
            let states: Vec<State> = next.groups[g]
                .members
                .iter()
                .map(|&m| next.instances[m].state())
                .collect();
            next.groups[g].state = if states.iter().all(|s| *s == State::Master) {
                State::Master
            } else if states.contains(&State::Fault) {
                State::Fault
            } else {
                State::Backup
            };
        }
        *self = next;
        Ok(removed)
    }

    /// The earliest time an instance needs [`Input::Timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.instances
            .iter()
            .filter_map(Instance::poll_timeout)
            .min()
    }

    /// Handles one input at `now`, appending what the instances do to `out`.
    pub fn handle(&mut self, input: Input, now: Instant, out: &mut Vec<Emitted>) {
        match input {
            Input::Start => self.start(now, out),
            Input::Stop => self.stop(now, out),
            Input::Timeout => self.timeout(now, out),
            Input::Packet { interface, rx } => {
                // Demultiplex by interface, VRID and family (keepalived: one socket per
                // interface and family, instances found by VRID).
                let Some(&vrid) = rx.msg.get(field::VRID) else {
                    return;
                };
                for i in 0..self.instances.len() {
                    let c = self.instances[i].config();
                    if c.vrid == vrid && c.interface == interface && c.v6() == rx.src.is_ipv6() {
                        let prev = self.instances[i].state();
                        self.instances[i].on_packet(now, &rx, &mut self.scratch);
                        self.flush(Source::Instance(i), out);
                        self.after(i, prev, now, out);
                    }
                }
            }
            Input::Track { id, status } => {
                for i in 0..self.instances.len() {
                    for k in 0..self.instances[i].config().trackers.len() {
                        if self.instances[i].config().trackers[k].id != id {
                            continue;
                        }
                        self.health_input(i, now, out, |inst, recovery, scratch| {
                            inst.on_track(now, k, status, recovery, scratch)
                        });
                    }
                }
            }
            Input::AddressRemoved { addr } => {
                for i in 0..self.instances.len() {
                    if !self.instances[i].address_removed(now, addr, &mut self.scratch) {
                        continue;
                    }
                    self.flush(Source::Instance(i), out);
                    // keepalived: the other MASTER members of its group step down too, each
                    // to come back after its skew; the group is BACKUP meanwhile (no notify).
                    if let Some(g) = self.group_of[i] {
                        self.for_other_members(g, i, out, |m, scratch| {
                            m.step_down(now, addr, scratch);
                        });
                        self.groups[g].state = State::Backup;
                    }
                }
            }
            Input::Interface { interface, present } => {
                for i in 0..self.instances.len() {
                    if self.instances[i].config().interface == interface {
                        self.health_input(i, now, out, |inst, recovery, scratch| {
                            inst.on_interface(now, present, recovery, scratch)
                        });
                    }
                }
            }
            Input::Link { interface, up } => {
                let tracker = format!("interface:{interface}");
                for i in 0..self.instances.len() {
                    if self.instances[i].config().interface == interface {
                        self.health_input(i, now, out, |inst, recovery, scratch| {
                            inst.on_link(now, up, recovery, scratch)
                        });
                    }
                }
                let status = if up {
                    super::track::TrackStatus::Up
                } else {
                    super::track::TrackStatus::Down
                };
                self.handle(
                    Input::Track {
                        id: tracker,
                        status,
                    },
                    now,
                    out,
                );
            }
        }
    }

    fn start(&mut self, now: Instant, out: &mut Vec<Emitted>) {
        // keepalived vrrp_sync_set_group / initialise_tracking_priorities: a group with a
        // faulty member starts in FAULT, all of it.
        for g in 0..self.groups.len() {
            let faulty = self.groups[g]
                .members
                .iter()
                .any(|&i| !self.instances[i].healthy());
            self.groups[g].state = if faulty { State::Fault } else { State::Init };
        }
        for i in 0..self.instances.len() {
            let group_fault =
                self.group_of[i].is_some_and(|g| self.groups[g].state == State::Fault);
            self.instances[i].start(now, group_fault, &mut self.scratch);
            self.flush(Source::Instance(i), out);
        }
        // Each group reports the state its members started in (keepalived sends BACKUP and
        // FAULT here but never MASTER for a group of owners; we report all three).
        for g in 0..self.groups.len() {
            let members = &self.groups[g].members;
            let state = if members
                .iter()
                .all(|&i| self.instances[i].state() == State::Master)
            {
                State::Master
            } else if members
                .iter()
                .any(|&i| self.instances[i].state() == State::Fault)
            {
                State::Fault
            } else {
                State::Backup
            };
            self.set_group_state(g, state, out);
        }
    }

    fn stop(&mut self, now: Instant, out: &mut Vec<Emitted>) {
        for i in 0..self.instances.len() {
            self.instances[i].stop(now, &mut self.scratch);
            self.flush(Source::Instance(i), out);
        }
        for g in 0..self.groups.len() {
            self.set_group_state(g, State::Stop, out);
        }
    }

    fn timeout(&mut self, now: Instant, out: &mut Vec<Emitted>) {
        // In deadline order, as keepalived's timer thread.
        let mut due: Vec<(Instant, usize)> = (self.instances.iter().enumerate())
            .filter_map(|(i, inst)| inst.poll_timeout().filter(|t| *t <= now).map(|t| (t, i)))
            .collect();
        due.sort_unstable();
        for (_, i) in due {
            let prev = self.instances[i].state();
            let view = self.view(i);
            self.instances[i].on_timeout(now, view, &mut self.scratch);
            self.flush(Source::Instance(i), out);
            self.after(i, prev, now, out);
        }
    }

    /// keepalived `vrrp_sync_can_goto_master`.
    fn view(&self, i: usize) -> GroupView {
        let Some(g) = self.group_of[i] else {
            return GroupView::ALONE;
        };
        let group = &self.groups[g];
        let may_master = group.state == State::Master
            || group
                .members
                .iter()
                .all(|&m| m == i || self.instances[m].wants_master());
        GroupView { may_master }
    }

    fn recovery(&self, i: usize) -> Option<GroupRecovery> {
        let g = self.group_of[i]?;
        let all_others_up = self.groups[g]
            .members
            .iter()
            .all(|&m| m == i || self.instances[m].healthy());
        Some(GroupRecovery { all_others_up })
    }

    /// The sync group's transition table (keepalived VRRP_TSM_HANDLE).
    fn after(&mut self, i: usize, prev: State, now: Instant, out: &mut Vec<Emitted>) {
        let Some(g) = self.group_of[i] else { return };
        match (prev, self.instances[i].state()) {
            (State::Backup | State::Master | State::Fault, State::Master) => {
                self.sync_master(g, i, now, out)
            }
            (State::Master | State::Fault, State::Backup) => self.sync_backup(g, i, now, out),
            _ => {}
        }
    }

    /// A tracker or link change for instance `i` (`f` applies it and says whether the instance
    /// just became faulty), then what its sync group does about it.
    fn health_input(
        &mut self,
        i: usize,
        now: Instant,
        out: &mut Vec<Emitted>,
        f: impl FnOnce(&mut Instance, Option<GroupRecovery>, &mut Vec<Output>) -> bool,
    ) {
        let prev = self.instances[i].state();
        let recovery = self.recovery(i);
        let faulted = f(&mut self.instances[i], recovery, &mut self.scratch);
        self.flush(Source::Instance(i), out);
        self.after_health(i, prev, faulted, now, out);
    }

    fn after_health(
        &mut self,
        i: usize,
        prev: State,
        faulted: bool,
        now: Instant,
        out: &mut Vec<Emitted>,
    ) {
        let Some(g) = self.group_of[i] else { return };
        if faulted {
            self.sync_fault(g, i, now, out);
        } else {
            self.after(i, prev, now, out);
        }
    }

    fn sync_master(&mut self, g: usize, i: usize, now: Instant, out: &mut Vec<Emitted>) {
        if self.view(i).may_master {
            self.sync(g, i, State::Master, now, out);
        }
    }

    fn sync_backup(&mut self, g: usize, i: usize, now: Instant, out: &mut Vec<Emitted>) {
        self.sync(g, i, State::Backup, now, out);
    }

    fn sync_fault(&mut self, g: usize, i: usize, now: Instant, out: &mut Vec<Emitted>) {
        self.sync(g, i, State::Fault, now, out);
    }

    /// keepalived `vrrp_sync_master` / `_backup` / `_fault`: member `i` went to `to`, the
    /// others follow, then the group reports it (after its members, as keepalived).
    fn sync(&mut self, g: usize, i: usize, to: State, now: Instant, out: &mut Vec<Emitted>) {
        if self.groups[g].state == to {
            return;
        }
        self.group_log(g, &format!("Syncing instances to {to} state"), out);
        let name = self.groups[g].name.clone();
        self.for_other_members(g, i, out, |m, scratch| match to {
            State::Master => m.master_for_group(now, &name, scratch),
            State::Backup => m.backup_for_group(now, &name, scratch),
            _ => m.fault_for_group(now, &name, scratch),
        });
        self.set_group_state(g, to, out);
    }

    /// Runs `f` on every member of group `g` but `i`, passing their outputs on.
    fn for_other_members(
        &mut self,
        g: usize,
        i: usize,
        out: &mut Vec<Emitted>,
        mut f: impl FnMut(&mut Instance, &mut Vec<Output>),
    ) {
        for m in self.groups[g].members.clone() {
            if m != i {
                f(&mut self.instances[m], &mut self.scratch);
                self.flush(Source::Instance(m), out);
            }
        }
    }

    fn set_group_state(&mut self, g: usize, state: State, out: &mut Vec<Emitted>) {
        self.groups[g].state = state;
        // keepalived send_group_notifies: `GROUP name STATE 0`.
        out.push(Emitted {
            source: Source::Group(g),
            output: Output::Notify(Notify::State { state, priority: 0 }),
        });
    }

    fn group_log(&self, g: usize, message: &str, out: &mut Vec<Emitted>) {
        out.push(Emitted {
            source: Source::Group(g),
            output: Output::Log {
                message: format!("VRRP_Group({}) {message}", self.groups[g].name),
            },
        });
    }

    /// Moves an instance's outputs to `out`, dropping the notifies keepalived suppresses: a
    /// sync group member entering the state its group already has (send_instance_notifies).
    fn flush(&mut self, source: Source, out: &mut Vec<Emitted>) {
        let Source::Instance(i) = source else {
            return;
        };
        let group_state = self.group_of[i].map(|g| self.groups[g].state);
        for output in self.scratch.drain(..) {
            if let Output::Notify(Notify::State { state, .. }) = &output {
                if self.notified[i] && group_state == Some(*state) {
                    continue;
                }
                self.notified[i] = true;
            }
            out.push(Emitted { source, output });
        }
    }

    /// The instance sending from `src` with `vrid` (the simulator's delivery needs it).
    pub fn find(&self, interface: &str, vrid: u8, src: IpAddr) -> Option<usize> {
        self.instances.iter().position(|i| {
            let c = i.config();
            c.interface == interface && c.vrid == vrid && c.src == src
        })
    }
}
