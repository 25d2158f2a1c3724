//! One VRRP instance's state machine (RFC 3768 §6, RFC 5798 §6), with keepalived 2.2.7's
//! behaviour where it differs or adds, and no I/O: inputs come in with the time, outputs go into
//! a vector, and [`Instance::poll_timeout`] says when to call again.
//!
//! Sync groups are the [`Engine`](super::engine::Engine)'s business: it tells an instance
//! what its group allows ([`GroupView`]) and moves members with the `*_for_group` methods.
//!
//! Deliberate differences from keepalived 2.2.7 (README "Differences"):
//! - A MASTER re-arms its advert timer only when it has sent an advert. keepalived re-arms it on
//!   every packet that reaches the MASTER, valid or not, so a stream of foreign packets for the
//!   VRID silences a master.
//! - An address owner goes MASTER at start at once (RFC 5798 §6.4.1), not 1 µs later, and also
//!   when it recovers from a fault (keepalived waits a full Master_Down_Interval as BACKUP).
//! - Leaving MASTER for FAULT sends one priority-0 advert (keepalived sends two).
//! - A BACKUP whose priority changes shifts its deadline by the change of
//!   Master_Down_Interval; keepalived shifts a value that may hold the time remaining instead.

use std::cmp::Ordering;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::event::{Notify, Output, Reason, RxError, State, Stats};
use super::frame::Received;
use super::instance_config::{Auth as ConfigAuth, InstanceConfig};
use super::packet::{Advert, Auth, AuthType, Version};
use super::rx::{self, AhCounters};
use super::timers::{Timer, TimerTable};
use super::timing;
use super::track::{Effect, TrackStatus, effective_priority};
use crate::time::{Duration, Instant};

/// What an instance's sync group allows it (the engine computes it before each call).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupView {
    /// keepalived's `vrrp_sync_can_goto_master`: not in a group, or the group is MASTER, or
    /// every other member wants MASTER too.
    pub may_master: bool,
}

impl GroupView {
    pub const ALONE: GroupView = GroupView { may_master: true };
}

/// A deliberately wrong behaviour, for the test that shows the simulator's invariants catch a
/// broken engine. Never set outside that test.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sabotage {
    /// A MASTER ignores adverts with a higher priority (RFC 5798 §6.4.3 violated).
    MasterIgnoresHigherPriority,
}

/// Why an instance cannot run: the first fault found.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Health {
    Up,
    /// Weight-0 trackers that have not reported yet (keepalived's init scripts).
    Pending(String),
    Fault(String),
}

/// One VRRP instance.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Shared: the daemon reads it for every output without copying it.
    cfg: Arc<InstanceConfig>,
    state: State,
    /// keepalived's `wantstate`: where the instance would go, the sync group aside.
    want: State,
    /// The base priority; an owner that meets another owner drops to 254 until restarted.
    base: u8,
    effective: u8,
    track: Vec<TrackStatus>,
    link_up: bool,
    /// The interface exists and the daemon's sockets are open on it (false while it is
    /// deleted, renamed away or being reopened): FAULT, whatever `dont_track_primary` says.
    iface_present: bool,
    timers: TimerTable,
    /// RFC 5798 §6.1 Master_Adver_Interval: v3 learns it from the master.
    master_adver_int: Duration,
    /// The end of the preempt_delay window, once a lower-priority advert opened it.
    preempt_until: Option<Instant>,
    /// The last master heard (BACKUP), and its priority.
    master: Option<(IpAddr, u8)>,
    /// BACKUP timers at startup count from here (`vrrp_startup_delay`).
    delayed_start: Option<Instant>,
    installed: bool,
    garp_refresh_at: Option<Instant>,
    /// AH sequence numbers sent and received.
    ah: AhCounters,
    last_transition: Instant,
    /// When the last valid advert arrived, and the time since the one before: the console
    /// charts it against the advert interval (jitter shows before a false failover does).
    last_advert_at: Option<Instant>,
    last_advert_gap: Option<Duration>,
    /// Every gap so far, in buckets.
    gaps: super::gaps::Gaps,
    stats: Stats,
    #[doc(hidden)]
    pub sabotage: Option<Sabotage>,
}

impl Instance {
    pub fn new(mut cfg: InstanceConfig) -> Instance {
        // The smallest interval VRRPv3 can carry (RFC 5798 §5.2.7: centiseconds); the checked
        // configuration never has less, and a zero would spin the timer.
        cfg.adver_int = cfg.adver_int.max(Duration::centis(1));
        let track = vec![TrackStatus::Pending; cfg.trackers.len()];
        let base = cfg.priority;
        let mut i = Instance {
            state: State::Init,
            want: if cfg.initial_master {
                State::Master
            } else {
                State::Backup
            },
            base,
            effective: base,
            track,
            link_up: true,
            iface_present: true,
            timers: TimerTable::default(),
            master_adver_int: cfg.adver_int,
            preempt_until: None,
            master: None,
            delayed_start: None,
            installed: false,
            garp_refresh_at: None,
            ah: AhCounters::default(),
            last_transition: Instant::ZERO,
            last_advert_at: None,
            last_advert_gap: None,
            gaps: super::gaps::Gaps::default(),
            stats: Stats::default(),
            sabotage: None,
            cfg: Arc::new(cfg),
        };
        i.effective = effective_priority(i.base, i.total_weight());
        i
    }

    pub fn config(&self) -> &InstanceConfig {
        &self.cfg
    }
    /// The configuration, shared.
    pub fn config_shared(&self) -> Arc<InstanceConfig> {
        self.cfg.clone()
    }
    pub fn name(&self) -> &str {
        &self.cfg.name
    }
    pub fn state(&self) -> State {
        self.state
    }
    /// Each tracker's last report, in the configuration's order.
    pub fn tracker_statuses(&self) -> &[TrackStatus] {
        &self.track
    }
    /// keepalived's `wantstate`.
    pub fn wanted_state(&self) -> State {
        self.want
    }
    pub fn wants_master(&self) -> bool {
        self.want == State::Master
    }
    pub fn base_priority(&self) -> u8 {
        self.base
    }
    pub fn effective_priority(&self) -> u8 {
        self.effective
    }
    pub fn master(&self) -> Option<(IpAddr, u8)> {
        self.master
    }
    pub fn master_adver_int(&self) -> Duration {
        self.master_adver_int
    }
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    /// keepalived's STATS_CLEAR.
    pub fn clear_stats(&mut self) {
        self.stats = Stats::default();
    }
    pub fn installed(&self) -> bool {
        self.installed
    }
    pub fn last_transition(&self) -> Instant {
        self.last_transition
    }
    /// The time between the last two valid adverts received.
    pub fn last_advert_gap(&self) -> Option<Duration> {
        self.last_advert_gap
    }
    /// The gaps between the valid adverts received, in buckets.
    pub fn advert_gaps(&self) -> &super::gaps::Gaps {
        &self.gaps
    }
    pub fn timer(&self, t: Timer) -> Option<Instant> {
        self.timers.get(t)
    }
    /// When to call [`on_timeout`](Self::on_timeout) next (quinn-proto's contract).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }
    /// Healthy: no fault tracker down, nothing pending, the interface up.
    pub fn healthy(&self) -> bool {
        self.health() == Health::Up
    }

    /// RFC 5798 §6.1 Master_Down_Interval with the current effective priority.
    pub fn master_down_interval(&self) -> Duration {
        timing::master_down_interval(
            self.cfg.version,
            self.effective,
            self.master_adver_int,
            self.cfg.down_timer_adverts,
        )
    }

    fn skew(&self) -> Duration {
        timing::skew(self.cfg.version, self.effective, self.master_adver_int)
    }

    fn total_weight(&self) -> i64 {
        self.cfg
            .trackers
            .iter()
            .zip(&self.track)
            .map(|(t, s)| match t.effect(*s) {
                Effect::Weight(w) => i64::from(w),
                _ => 0,
            })
            .sum()
    }

    fn health(&self) -> Health {
        if !self.iface_present {
            return Health::Fault(format!("interface {} is gone", self.cfg.interface));
        }
        if self.cfg.track_primary && !self.link_up {
            return Health::Fault(format!("interface {} down", self.cfg.interface));
        }
        let mut pending = None;
        for (t, s) in self.cfg.trackers.iter().zip(&self.track) {
            match t.effect(*s) {
                Effect::Fault => return Health::Fault(format!("{} failed", t.id)),
                Effect::Pending if pending.is_none() => pending = Some(t.id.clone()),
                _ => {}
            }
        }
        match pending {
            Some(id) => Health::Pending(format!("{id} has not reported")),
            None => Health::Up,
        }
    }

    // ---------------------------------------------------------------------------------------
    // Inputs

    /// Startup (keepalived `vrrp_init_state`). `group_fault`: a sync group member is faulty, so
    /// this one starts in FAULT too.
    pub fn start(&mut self, now: Instant, group_fault: bool, out: &mut Vec<Output>) {
        self.delayed_start =
            (self.cfg.startup_delay > Duration::ZERO).then(|| now + self.cfg.startup_delay);
        self.master_adver_int = self.cfg.adver_int;
        match self.health() {
            Health::Fault(cause) => self.enter_fault(now, Reason::Fault { cause }, true, out),
            // Pending init scripts: FAULT without a notify, as keepalived.
            Health::Pending(cause) => self.enter_fault(now, Reason::Fault { cause }, false, out),
            Health::Up if group_fault => {
                let cause = "a sync group member is faulty".to_string();
                self.enter_fault(now, Reason::Fault { cause }, true, out)
            }
            // RFC 5798 §6.4.1: "If the Priority = 255 ... transition to the Master state";
            // keepalived also requires `state MASTER` (an owner may be configured BACKUP).
            Health::Up if self.base == 255 && self.want == State::Master => {
                self.become_master(now, Reason::Owner, out)
            }
            // RFC 5798 §6.4.1: otherwise "Set the Master_Down_Timer to Master_Down_Interval
            // ... transition to the Backup state"; keepalived does so for `state MASTER` too.
            Health::Up => {
                self.log(out, "Entering BACKUP STATE (init)");
                self.set_state(State::Backup, Reason::Startup, now, out);
                self.arm_master_down(now, self.master_down_interval());
            }
        }
    }

    /// Timers due at `now`.
    pub fn on_timeout(&mut self, now: Instant, group: GroupView, out: &mut Vec<Output>) {
        while let Some(t) = self.timers.pop_expired(now) {
            match t {
                Timer::Adver if self.state == State::Master => self.master_tx(now, out),
                Timer::MasterDown if self.state == State::Backup => {
                    self.master_down(now, group, out)
                }
                Timer::GarpDelay if self.installed => self.garp(self.cfg.garp.master_repeat, out),
                Timer::LowerPrioGarpDelay if self.installed => {
                    self.garp(self.cfg.garp.lower_prio_repeat, out)
                }
                _ => {}
            }
        }
    }

    /// A VRRP packet for this instance's VRID arrived (keepalived `vrrp_dispatcher_read`).
    pub fn on_packet(&mut self, now: Instant, rx: &Received, out: &mut Vec<Output>) {
        match self.state {
            State::Backup => self.backup_rx(now, rx, out),
            State::Master => self.master_rx(now, rx, out),
            // keepalived: a FAULT or INIT instance ignores packets, counting nothing.
            State::Init | State::Fault | State::Stop => {}
        }
    }

    /// Tracker `index` (in the configuration's order) reports `status`. Returns true if the
    /// instance just became faulty (the engine then syncs its group to FAULT).
    pub fn on_track(
        &mut self,
        now: Instant,
        index: usize,
        status: TrackStatus,
        group: Option<GroupRecovery>,
        out: &mut Vec<Output>,
    ) -> bool {
        let before = self.health();
        self.track[index] = status;
        self.after_health_change(now, before, group, out)
    }

    /// The instance's own interface went up or down (RFC 5798 §6.4.1 "Shutdown event"; keepalived
    /// tracks it with weight 0 unless `dont_track_primary`).
    pub fn on_link(
        &mut self,
        now: Instant,
        up: bool,
        group: Option<GroupRecovery>,
        out: &mut Vec<Output>,
    ) -> bool {
        let before = self.health();
        self.link_up = up;
        self.after_health_change(now, before, group, out)
    }

    /// The instance's interface disappeared (deleted, renamed) or came back with its sockets
    /// open again (keepalived `cleanup_lost_interface` / `update_interface`): FAULT while it
    /// is away, whatever `dont_track_primary` says.
    pub fn on_interface(
        &mut self,
        now: Instant,
        present: bool,
        group: Option<GroupRecovery>,
        out: &mut Vec<Output>,
    ) -> bool {
        let before = self.health();
        self.iface_present = present;
        self.after_health_change(now, before, group, out)
    }

    /// Whether the instance's interface is there with the daemon's sockets on it.
    pub fn interface_present(&self) -> bool {
        self.iface_present
    }

    /// The interface came back with another source address (a re-created interface, a new
    /// link-local address): adverts go out from `src` from now on.
    pub fn set_source(&mut self, src: IpAddr) {
        if self.cfg.src != src {
            Arc::make_mut(&mut self.cfg).src = src;
        }
    }

    /// A VIP or eVIP of this instance was removed by someone else (keepalived
    /// `set_vrrp_backup`): a MASTER sends priority 0, releases the rest, goes BACKUP and takes
    /// over again after its Skew_Time, which puts the addresses back. Returns whether it
    /// stepped down.
    pub fn address_removed(&mut self, now: Instant, addr: IpAddr, out: &mut Vec<Output>) -> bool {
        let ours = self.cfg.vips.contains(&addr) || self.cfg.evips.contains(&addr);
        if !ours {
            return false;
        }
        self.step_down(now, addr, out)
    }

    /// keepalived `set_vrrp_backup` for a MASTER: priority 0, BACKUP, back after the skew.
    pub fn step_down(&mut self, now: Instant, addr: IpAddr, out: &mut Vec<Output>) -> bool {
        if self.state != State::Master {
            return false;
        }
        self.log(
            out,
            &format!("{addr} was removed by someone else: re-electing"),
        );
        self.want = State::Backup;
        self.say_goodbye(out);
        self.stats.release_master += 1;
        self.set_state(State::Backup, Reason::AddressRemoved { addr }, now, out);
        self.arm_master_down(now, self.skew());
        true
    }

    /// Shut down (RFC 5798 §6.4.3 "If a Shutdown event is received": a MASTER sends an advert
    /// with priority 0; keepalived then reports STOP for every instance).
    pub fn stop(&mut self, now: Instant, out: &mut Vec<Output>) {
        if self.state == State::Master {
            self.say_goodbye(out);
        }
        self.timers.clear();
        self.set_state(State::Stop, Reason::Stop, now, out);
    }

    /// RFC 5798 §6.4.3 Shutdown: "Send an ADVERTISEMENT with Priority = 0", then the addresses
    /// go (keepalived `vrrp_restore_interface` with advF).
    fn say_goodbye(&mut self, out: &mut Vec<Output>) {
        self.send(0, out);
        self.stats.pri_zero_sent += 1;
        self.uninstall(out);
    }

    /// A reload kept this instance (keepalived `clear_diff_vrrp`): it takes the new
    /// configuration and keeps its state, counters and AH sequence. A MASTER stays MASTER
    /// without a flap: it advertises at once with the new settings and re-installs its
    /// addresses (the new ones get a GARP burst); a BACKUP waits a new Master_Down_Interval.
    pub fn reconfigure(&mut self, cfg: InstanceConfig, now: Instant, out: &mut Vec<Output>) {
        let track = cfg
            .trackers
            .iter()
            .map(|t| {
                (self.cfg.trackers.iter().zip(&self.track))
                    .find(|(old, _)| old.id == t.id)
                    .map_or(TrackStatus::Pending, |(_, s)| *s)
            })
            .collect();
        let added: Vec<IpAddr> = (cfg.vips.iter().chain(&cfg.evips))
            .filter(|a| !self.cfg.vips.contains(a) && !self.cfg.evips.contains(a))
            .copied()
            .collect();
        self.track = track;
        self.base = cfg.priority;
        let mut cfg = cfg;
        cfg.adver_int = cfg.adver_int.max(Duration::centis(1));
        self.cfg = Arc::new(cfg);
        self.update_priority(now, out);
        self.master_adver_int = self.cfg.adver_int;
        match self.state {
            State::Master => {
                self.send(self.effective, out);
                self.timers.set(Timer::Adver, now + self.cfg.adver_int);
                out.push(Output::Install);
                if !added.is_empty() {
                    let rounds = self.cfg.garp.master_repeat;
                    out.push(Output::Garp {
                        addrs: added,
                        rounds,
                    });
                }
            }
            State::Backup => self.arm_master_down(now, self.master_down_interval()),
            _ => {}
        }
        // A fault the new configuration brings (or clears) is handled like any other.
        let healthy = self.healthy();
        if !healthy && matches!(self.state, State::Master | State::Backup) {
            if let Health::Fault(cause) | Health::Pending(cause) = self.health() {
                self.enter_fault(now, Reason::Fault { cause }, true, out);
            }
        } else if healthy && self.state == State::Fault {
            self.recover(now, out);
        }
    }

    /// A reload removed this instance: a MASTER says goodbye with priority 0 and releases
    /// its addresses (keepalived `clear_diff_vrrp`).
    pub fn remove(&mut self, now: Instant, out: &mut Vec<Output>) {
        let was_fault = self.state == State::Fault;
        if self.state == State::Master {
            self.say_goodbye(out);
        }
        self.timers.clear();
        self.change_state(State::Stop, Reason::Stop, now, out);
        out.push(Output::Notify(Notify::Deleted {
            priority: self.effective,
            was_fault,
        }));
    }

    /// Whether a reloaded configuration is the same virtual router (keepalived matches VRID,
    /// family, interface and unicast/multicast).
    pub fn same_router(&self, other: &InstanceConfig) -> bool {
        let c = &self.cfg;
        c.vrid == other.vrid
            && c.v6() == other.v6()
            && c.interface == other.interface
            && c.unicast() == other.unicast()
    }

    // ---------------------------------------------------------------------------------------
    // BACKUP

    /// keepalived `vrrp_state_backup` (RFC 5798 §6.4.2 "If an ADVERTISEMENT is received").
    fn backup_rx(&mut self, now: Instant, rx: &Received, out: &mut Vec<Output>) {
        // skip_check_adv_addr: the address checks are skipped for the master already known.
        let check_addrs =
            !(self.cfg.skip_check_adv_addr && self.master.is_some_and(|(a, _)| a == rx.src));
        let Some(advert) = self.check(now, rx, check_addrs, out) else {
            // An invalid advert does not move the deadline.
            return;
        };
        let prio = advert.priority;
        if prio == 0 {
            // RFC 5798 §6.4.2: "If the Priority in the ADVERTISEMENT is zero, then: Set the
            // Master_Down_Timer to Skew_Time".
            self.arm_master_down(now, self.skew());
            return;
        }
        let window_open = self.cfg.preempt_delay > Duration::ZERO
            && self.preempt_until.is_none_or(|until| now < until);
        // RFC 5798 §6.4.2: "If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT
        // is greater than or equal to the local Priority, then: ... reset the
        // Master_Down_Timer". keepalived adds preempt_delay: lower priorities are accepted
        // until the window that the first one opened has passed.
        if !self.cfg.preempt || prio >= self.effective || window_open {
            if self.cfg.version == Version::V3 && advert.interval != self.master_adver_int {
                // RFC 5798 §6.4.2: "Set Master_Adver_Interval to Adver Interval contained in
                // the ADVERTISEMENT".
                self.master_adver_int = advert.interval;
                out.push(Output::LearnedInterval {
                    interval: advert.interval,
                });
            }
            self.master = Some((rx.src, prio));
            if self.cfg.preempt_delay > Duration::ZERO {
                if prio >= self.effective {
                    self.preempt_until = None;
                } else if self.preempt_until.is_none() {
                    self.preempt_until = Some(now + self.cfg.preempt_delay);
                }
            }
            // A wish to become MASTER that the sync group vetoed is dropped.
            self.want = State::Backup;
            self.arm_master_down(now, self.master_down_interval());
        } else {
            // RFC 5798 §6.4.2: "Otherwise: Discard the ADVERTISEMENT"; the deadline stays.
            self.master = Some((rx.src, prio));
            self.log(
                out,
                &format!(
                    "received lower priority ({prio}) advert from {} - discarding",
                    rx.src
                ),
            );
        }
    }

    /// keepalived `vrrp_goto_master` (RFC 5798 §6.4.2 "If the Master_Down_Timer fires").
    fn master_down(&mut self, now: Instant, group: GroupView, out: &mut Vec<Output>) {
        self.want = State::Master;
        if !group.may_master {
            // keepalived `vrrp_sync_can_goto_master`: stay BACKUP for another interval until
            // every member of the group wants MASTER.
            self.log(
                out,
                "sync group vetoes MASTER: waiting for the other members",
            );
            self.arm_master_down(now, self.master_down_interval());
            return;
        }
        self.become_master(now, Reason::MasterDown, out);
    }

    fn arm_master_down(&mut self, now: Instant, after: Duration) {
        // vrrp_startup_delay: a BACKUP's timers count from the end of the delay.
        let from = match self.delayed_start {
            Some(d) if d > now => d,
            _ => {
                self.delayed_start = None;
                now
            }
        };
        self.timers.set(Timer::MasterDown, from + after);
    }

    // ---------------------------------------------------------------------------------------
    // MASTER

    /// RFC 5798 §6.4.2 / §6.4.1: "Send an ADVERTISEMENT ... Broadcast a gratuitous ARP ...
    /// Set the Adver_Timer ... Transition to the Master state". keepalived sends the advert
    /// first, then installs the addresses, then the first GARP burst.
    fn become_master(&mut self, now: Instant, reason: Reason, out: &mut Vec<Output>) {
        self.want = State::Master;
        self.timers.stop(Timer::MasterDown);
        self.preempt_until = None;
        // RFC 5798 §6.4.3 uses our own Advertisement_Interval as MASTER (keepalived 2.2.7
        // reverts a learned interval only with -D: a bug we do not copy).
        self.master_adver_int = self.cfg.adver_int;
        self.send(self.effective, out);
        self.log(out, "Entering MASTER STATE");
        self.stats.become_master += 1;
        self.installed = true;
        out.push(Output::Install);
        self.garp(self.cfg.garp.master_repeat, out);
        let g = self.cfg.garp;
        if g.master_delay > Duration::ZERO {
            self.timers.set(Timer::GarpDelay, now + g.master_delay);
        }
        self.garp_refresh_at = (g.master_refresh > Duration::ZERO).then(|| now + g.master_refresh);
        self.timers.set(Timer::Adver, now + self.cfg.adver_int);
        self.master = None;
        self.set_state(State::Master, reason, now, out);
    }

    /// keepalived `vrrp_state_master_tx` (RFC 5798 §6.4.3 "If the Adver_Timer fires").
    fn master_tx(&mut self, now: Instant, out: &mut Vec<Output>) {
        self.send(self.effective, out);
        self.timers.set(Timer::Adver, now + self.cfg.adver_int);
        // garp_master_refresh is looked at on advert ticks only.
        if let Some(at) = self.garp_refresh_at
            && now > at
        {
            self.garp(self.cfg.garp.master_refresh_repeat, out);
            self.garp_refresh_at = Some(now + self.cfg.garp.master_refresh);
        }
    }

    /// keepalived `vrrp_state_master_rx` (RFC 5798 §6.4.3 "If an ADVERTISEMENT is received").
    fn master_rx(&mut self, now: Instant, rx: &Received, out: &mut Vec<Output>) {
        let Some(advert) = self.check(now, rx, true, out) else {
            return;
        };
        let prio = advert.priority;
        let theirs = address_order(rx.src, self.cfg.src);
        let higher = |eff: u8| prio > eff || (prio == eff && theirs == Ordering::Greater);
        // RFC 5798 §6.4.3: "If the Priority in the ADVERTISEMENT is zero, then: Send an
        // ADVERTISEMENT"; keepalived's higher_prio_send_advert also answers a winner, so that
        // it sees us and the election ends quickly.
        if prio == 0 || (self.cfg.higher_prio_send_advert && higher(self.effective)) {
            self.send(self.effective, out);
            self.timers.set(Timer::Adver, now + self.cfg.adver_int);
            if prio == 0 {
                return;
            }
        }
        if prio == self.effective {
            if theirs == Ordering::Equal {
                self.log(
                    out,
                    "WARNING - equal priority advert received from remote host with our IP address.",
                );
            } else if self.effective == 255 {
                // keepalived: two address owners; the one that hears the other steps down.
                self.log(
                    out,
                    "CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority",
                );
                self.base = 254;
                self.effective = 254;
            }
        }
        if prio < self.effective || (prio == self.effective && theirs == Ordering::Less) {
            self.master_rx_lower(now, rx, prio, out);
        } else if higher(self.effective) {
            if self.sabotage == Some(Sabotage::MasterIgnoresHigherPriority) {
                return;
            }
            // RFC 5798 §6.4.3: "If the Priority in the ADVERTISEMENT is greater than the local
            // Priority, or the Priority is equal and the primary IP Address of the sender is
            // greater than the local primary IP Address, then: Cancel Adver_Timer, Set
            // Master_Down_Timer to Master_Down_Interval, Transition to the Backup state".
            let why = if prio > self.effective {
                format!(
                    "Master received advert from {} with higher priority {prio}, ours {}",
                    rx.src, self.effective
                )
            } else {
                format!(
                    "Master received advert from {} with same priority {prio} but higher IP address than ours",
                    rx.src
                )
            };
            self.log(out, &why);
            if self.cfg.version == Version::V3 {
                self.master_adver_int = advert.interval;
            }
            self.master = Some((rx.src, prio));
            self.leave_master_to_backup(
                now,
                Reason::Preempted {
                    from: rx.src,
                    priority: prio,
                },
                out,
            );
        }
    }

    /// An advert with a lower priority reached the MASTER. RFC 5798 §6.4.3 says discard it;
    /// keepalived forces a new election with an advert (unless `lower_prio_no_advert`) and
    /// re-announces its addresses.
    fn master_rx_lower(&mut self, now: Instant, rx: &Received, prio: u8, out: &mut Vec<Output>) {
        let forcing = if self.cfg.lower_prio_no_advert {
            ""
        } else {
            ", forcing new election"
        };
        self.log(
            out,
            &format!(
                "Received advert from {} with lower priority {prio}, ours {}{forcing}",
                rx.src, self.effective
            ),
        );
        // keepalived: the AH counter continues from the lower-priority sender's.
        if let Some(ah) = &rx.ah {
            self.ah.counter = self.ah.counter.max(ah.seq.saturating_add(1));
        }
        if !self.cfg.lower_prio_no_advert {
            self.send(self.effective, out);
            self.timers.set(Timer::Adver, now + self.cfg.adver_int);
        }
        let g = self.cfg.garp;
        if g.lower_prio_repeat > 0 {
            self.garp(g.lower_prio_repeat, out);
            if g.lower_prio_delay > Duration::ZERO {
                self.timers
                    .set(Timer::LowerPrioGarpDelay, now + g.lower_prio_delay);
            }
        }
        out.push(Output::Notify(Notify::MasterRxLowerPri { priority: prio }));
    }

    /// keepalived `vrrp_state_leave_master` towards BACKUP: no priority-0 advert.
    fn leave_master_to_backup(&mut self, now: Instant, reason: Reason, out: &mut Vec<Output>) {
        self.want = State::Backup;
        self.log(out, "Entering BACKUP STATE");
        self.preempt_until = None;
        self.uninstall(out);
        self.stats.release_master += 1;
        self.set_state(State::Backup, reason, now, out);
        self.arm_master_down(now, self.master_down_interval());
    }

    fn uninstall(&mut self, out: &mut Vec<Output>) {
        self.installed = false;
        self.garp_refresh_at = None;
        for t in [Timer::Adver, Timer::GarpDelay, Timer::LowerPrioGarpDelay] {
            self.timers.stop(t);
        }
        out.push(Output::Uninstall);
    }

    // ---------------------------------------------------------------------------------------
    // FAULT

    fn after_health_change(
        &mut self,
        now: Instant,
        before: Health,
        group: Option<GroupRecovery>,
        out: &mut Vec<Output>,
    ) -> bool {
        if self.state == State::Init {
            // Before start: a status to start with, not an event.
            self.effective = effective_priority(self.base, self.total_weight());
            return false;
        }
        self.update_priority(now, out);
        let after = self.health();
        match (&before, &after) {
            (Health::Up, Health::Fault(_) | Health::Pending(_)) if self.state == State::Fault => {
                // Already FAULT (its sync group put it there): nothing to leave.
                self.want = State::Fault;
                true
            }
            (Health::Up, Health::Fault(cause) | Health::Pending(cause)) => {
                self.want = State::Fault;
                let reason = Reason::Fault {
                    cause: cause.clone(),
                };
                self.enter_fault(now, reason, true, out);
                true
            }
            (Health::Fault(_) | Health::Pending(_), Health::Up) => {
                // keepalived `try_up_instance`: a sync group member stays FAULT until every
                // member is up; the engine then brings the whole group back.
                if group.is_none_or(|g| g.all_others_up) {
                    self.recover(now, out);
                }
                false
            }
            _ => false,
        }
    }

    /// Every fault cleared (keepalived `try_up_instance` → `vrrp_state_leave_fault`).
    pub(super) fn recover(&mut self, now: Instant, out: &mut Vec<Output>) {
        if self.state != State::Fault && self.state != State::Init {
            return;
        }
        self.master_adver_int = self.cfg.adver_int;
        if self.base == 255 && self.cfg.initial_master {
            // RFC 5798 §6.4.1 applies on every Startup event: the owner is MASTER at once.
            self.become_master(now, Reason::Owner, out);
            return;
        }
        self.leave_fault_to_backup(now, Reason::Recovered, out);
        // keepalived try_up_instance: a unicast instance announces its own address once, so
        // that its peers' ARP entries (unicast adverts need them) are fresh again.
        if self.cfg.unicast() {
            out.push(Output::Garp {
                addrs: vec![self.cfg.src],
                rounds: 1,
            });
        }
    }

    /// keepalived `vrrp_state_leave_fault` towards BACKUP: our own interval again, a full
    /// Master_Down_Interval to wait.
    fn leave_fault_to_backup(&mut self, now: Instant, reason: Reason, out: &mut Vec<Output>) {
        self.want = State::Backup;
        self.master_adver_int = self.cfg.adver_int;
        self.log(out, "Entering BACKUP STATE");
        self.set_state(State::Backup, reason, now, out);
        self.arm_master_down(now, self.master_down_interval());
    }

    /// Into FAULT: a MASTER first says goodbye with priority 0 and releases its addresses.
    fn enter_fault(&mut self, now: Instant, reason: Reason, notify: bool, out: &mut Vec<Output>) {
        self.want = State::Fault;
        if self.state == State::Master {
            self.say_goodbye(out);
            self.stats.release_master += 1;
        }
        self.timers.clear();
        self.log(out, "Entering FAULT STATE");
        if notify {
            self.set_state(State::Fault, reason, now, out);
        } else {
            self.change_state(State::Fault, reason, now, out);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Moves a sync group makes (keepalived vrrp_sync.c)

    /// `vrrp_sync_master`: another member became MASTER, so this one does too.
    pub fn master_for_group(&mut self, now: Instant, group: &str, out: &mut Vec<Output>) {
        if self.state != State::Master {
            let reason = Reason::SyncGroup {
                group: group.to_string(),
            };
            self.become_master(now, reason, out);
        }
    }

    /// `vrrp_sync_backup`: another member became BACKUP (no priority-0 advert).
    pub fn backup_for_group(&mut self, now: Instant, group: &str, out: &mut Vec<Output>) {
        let reason = Reason::SyncGroup {
            group: group.to_string(),
        };
        match self.state {
            State::Master => self.leave_master_to_backup(now, reason, out),
            State::Fault | State::Init => self.leave_fault_to_backup(now, reason, out),
            State::Backup | State::Stop => {}
        }
    }

    /// `vrrp_sync_fault`: another member is faulty, so this one goes FAULT too.
    pub fn fault_for_group(&mut self, now: Instant, group: &str, out: &mut Vec<Output>) {
        if matches!(self.state, State::Fault | State::Stop) {
            return;
        }
        let reason = Reason::SyncGroup {
            group: group.to_string(),
        };
        self.enter_fault(now, reason, true, out);
    }

    // ---------------------------------------------------------------------------------------
    // Helpers

    /// Recomputes the effective priority from the trackers (keepalived
    /// `vrrp_set_effective_priority`).
    fn update_priority(&mut self, now: Instant, out: &mut Vec<Output>) {
        let new = effective_priority(self.base, self.total_weight());
        if new == self.effective {
            return;
        }
        let old_mdi = self.master_down_interval();
        let from = self.effective;
        self.effective = new;
        self.log(
            out,
            &format!("Changing effective priority from {from} to {new}"),
        );
        out.push(Output::Priority { from, to: new });
        // A BACKUP's deadline moves with its skew; a MASTER's next advert carries the new
        // priority (no immediate advert, as keepalived).
        if self.state == State::Backup
            && let Some(at) = self.timers.get(Timer::MasterDown)
        {
            let new_mdi = self.master_down_interval();
            let at = Instant((at.0 + new_mdi.as_micros()).saturating_sub(old_mdi.as_micros()));
            self.timers.set(Timer::MasterDown, at.max(now));
        }
        if self.cfg.notify_priority_changes {
            out.push(Output::Notify(Notify::Priority {
                state: self.state,
                priority: new,
            }));
        }
    }

    /// The receive checks, counters and the Rejected output.
    fn check(
        &mut self,
        now: Instant,
        rx: &Received,
        check_addrs: bool,
        out: &mut Vec<Output>,
    ) -> Option<Advert> {
        match rx::check(&self.cfg, rx, check_addrs, &mut self.ah) {
            Ok(advert) => {
                self.stats.advert_rcvd += 1;
                if let Some(prev) = self.last_advert_at.replace(now) {
                    let gap = Duration::micros(now.0.saturating_sub(prev.0));
                    self.last_advert_gap = Some(gap);
                    self.gaps.record(gap);
                }
                if advert.priority == 0 {
                    self.stats.pri_zero_rcvd += 1;
                }
                Some(advert)
            }
            Err(error) => {
                // keepalived counts an advert as received once the header checks passed.
                if matches!(
                    error,
                    RxError::VipMissing { .. }
                        | RxError::UnicastSource(_)
                        | RxError::TtlRange { .. }
                ) {
                    self.stats.advert_rcvd += 1;
                }
                self.stats.count(&error);
                out.push(Output::Rejected {
                    from: rx.src,
                    error,
                });
                None
            }
        }
    }

    /// Our advert with `priority` (RFC 5798 §5.2; keepalived `vrrp_build_pkt`).
    fn send(&mut self, priority: u8, out: &mut Vec<Output>) {
        self.stats.advert_sent += 1;
        let auth = (self.cfg.version == Version::V2).then(|| {
            let (kind, data) = match self.cfg.auth {
                ConfigAuth::None => (AuthType::None, [0; 8]),
                ConfigAuth::Pass(p) => (AuthType::Pass, p),
                ConfigAuth::Ah(_) => (AuthType::Ah, [0; 8]),
            };
            Auth {
                kind,
                data: (!self.cfg.v6()).then_some(data),
            }
        });
        let ah_seq = matches!(self.cfg.auth, ConfigAuth::Ah(_)).then(|| {
            // RFC 2402 §3.3.2: the sequence number starts at 1 and counts every packet.
            self.ah.next_to_send()
        });
        out.push(Output::Send {
            advert: Advert {
                version: self.cfg.version,
                vrid: self.cfg.vrid,
                priority,
                interval: self.cfg.adver_int,
                auth,
                addrs: self.cfg.vips.clone(),
            },
            ah_seq,
        });
    }

    /// A GARP / unsolicited NA burst for every VIP and eVIP (keepalived
    /// `vrrp_send_link_update`, only while the addresses are installed).
    fn garp(&self, rounds: u32, out: &mut Vec<Output>) {
        if !self.installed || rounds == 0 {
            return;
        }
        let addrs: Vec<IpAddr> = self
            .cfg
            .vips
            .iter()
            .chain(&self.cfg.evips)
            .copied()
            .collect();
        if !addrs.is_empty() {
            out.push(Output::Garp { addrs, rounds });
        }
    }

    /// A transition with its notify.
    fn set_state(&mut self, to: State, reason: Reason, now: Instant, out: &mut Vec<Output>) {
        self.change_state(to, reason, now, out);
        let priority = self.effective;
        out.push(Output::Notify(Notify::State {
            state: to,
            priority,
        }));
    }

    fn change_state(&mut self, to: State, reason: Reason, now: Instant, out: &mut Vec<Output>) {
        let from = self.state;
        self.state = to;
        self.last_transition = now;
        out.push(Output::StateChange { from, to, reason });
    }

    fn log(&self, out: &mut Vec<Output>, message: &str) {
        out.push(Output::Log {
            message: format!("({}) {message}", self.cfg.name),
        });
    }
}

/// What a recovering sync group member needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupRecovery {
    pub all_others_up: bool,
}

/// The sender's address against ours (keepalived `vrrp_saddr_cmp`: network byte order;
/// addresses of different families compare equal).
pub fn address_order(theirs: IpAddr, ours: IpAddr) -> Ordering {
    match (theirs, ours) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets().cmp(&b.octets()),
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets().cmp(&b.octets()),
        _ => Ordering::Equal,
    }
}
