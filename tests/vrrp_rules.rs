//! One test per rule of RFC 3768 / RFC 5798 and per keepalived 2.2.7 behaviour the engine
//! implements; each assertion quotes the rule it checks. A router here is one engine driven by
//! hand: adverts from "peers" are built with the real codec.

use std::net::IpAddr;

use kaconsole::time::{Duration, Instant};
use kaconsole::vrrp::checksum::ChecksumForm;
use kaconsole::vrrp::engine::{Emitted, Engine, GroupError, Source, SyncGroupConfig};
use kaconsole::vrrp::event::{Input, Notify, Output, Reason, RxError, State};
use kaconsole::vrrp::frame::{Received, parse_ip};
use kaconsole::vrrp::instance_config::{Auth as CfgAuth, GROUP_V4, InstanceConfig};
use kaconsole::vrrp::ip::{AH_LEN, IPPROTO_AH, Ipv4Repr};
use kaconsole::vrrp::packet::{Advert, Auth, AuthType, Version};
use kaconsole::vrrp::timers::Timer;
use kaconsole::vrrp::track::{TrackStatus, TrackerConfig};

const ME: &str = "10.0.0.2";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn cfg(priority: u8) -> InstanceConfig {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51, priority, ip(ME));
    c.vips = vec![ip("10.0.0.100")];
    c
}

/// One router: an engine, the clock, and everything it emitted with the time.
struct Router {
    engine: Engine,
    now: Instant,
    log: Vec<(Instant, Emitted)>,
}

impl Router {
    fn new(c: InstanceConfig) -> Router {
        Router::group(vec![c], vec![])
    }

    fn group(cs: Vec<InstanceConfig>, groups: Vec<SyncGroupConfig>) -> Router {
        let mut r = Router {
            engine: Engine::new(cs, groups).unwrap(),
            now: Instant::ZERO,
            log: Vec::new(),
        };
        r.input(Input::Start);
        r
    }

    fn input(&mut self, input: Input) {
        let mut out = Vec::new();
        self.engine.handle(input, self.now, &mut out);
        self.log.extend(out.into_iter().map(|e| (self.now, e)));
    }

    /// Runs the timers up to `t`.
    fn run_until(&mut self, t: Instant) {
        while let Some(at) = self.engine.poll_timeout() {
            if at > t {
                break;
            }
            self.now = at;
            self.input(Input::Timeout);
        }
        self.now = t;
    }

    fn at(&mut self, secs: f64) -> &mut Router {
        self.run_until(Instant((secs * 1e6).round() as u64));
        self
    }

    fn rx(&mut self, r: Received) {
        self.input(Input::Packet {
            interface: "eth0".into(),
            rx: r,
        });
    }

    fn state(&self) -> State {
        self.engine.instances()[0].state()
    }

    fn outputs(&self) -> impl Iterator<Item = &(Instant, Emitted)> {
        self.log.iter()
    }

    /// The adverts sent, with their times.
    fn sent(&self) -> Vec<(Instant, Advert)> {
        self.outputs()
            .filter_map(|(t, e)| match &e.output {
                Output::Send { advert, .. } => Some((*t, advert.clone())),
                _ => None,
            })
            .collect()
    }

    /// When the instance entered `state`, the first time.
    fn entered(&self, state: State) -> Option<Instant> {
        self.transitions()
            .into_iter()
            .find(|(_, to, _)| *to == state)
            .map(|(t, _, _)| t)
    }

    fn transitions(&self) -> Vec<(Instant, State, Reason)> {
        self.outputs()
            .filter_map(|(t, e)| match &e.output {
                Output::StateChange { to, reason, .. } if e.source == Source::Instance(0) => {
                    Some((*t, *to, reason.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn clear(&mut self) {
        self.log.clear();
    }

    fn has(&self, pred: impl Fn(&Output) -> bool) -> bool {
        self.outputs().any(|(_, e)| pred(&e.output))
    }
}

/// An advert from `src` as a peer with the same configuration would send it.
fn advert(c: &InstanceConfig, priority: u8) -> Advert {
    Advert {
        version: c.version,
        vrid: c.vrid,
        priority,
        interval: c.adver_int,
        auth: (c.version == Version::V2).then_some(Auth {
            kind: match c.auth {
                CfgAuth::None => AuthType::None,
                CfgAuth::Pass(_) => AuthType::Pass,
                CfgAuth::Ah(_) => AuthType::Ah,
            },
            data: Some(match c.auth {
                CfgAuth::Pass(p) => p,
                _ => [0; 8],
            }),
        }),
        addrs: c.vips.clone(),
    }
}

fn received_ttl(c: &InstanceConfig, a: &Advert, src: &str, ttl: u8) -> Received {
    Received {
        src: ip(src),
        dst: GROUP_V4,
        ttl,
        ah: None,
        msg: a.to_bytes(c.wire_checksum(), ip(src), GROUP_V4),
    }
}

fn from(c: &InstanceConfig, src: &str, priority: u8) -> Received {
    received_ttl(c, &advert(c, priority), src, 255)
}

fn secs(t: f64) -> Instant {
    Instant((t * 1e6).round() as u64)
}

// ------------------------------------------------------------------------------------------
// Startup (RFC 5798 §6.4.1)

#[test]
fn owner_starts_master_and_advertises_at_once() {
    let mut c = cfg(255);
    c.initial_master = true;
    let r = Router::new(c);
    assert_eq!(
        r.entered(State::Master),
        Some(Instant::ZERO),
        "RFC 5798 §6.4.1: if the Priority = 255 ... transition to the Master state"
    );
    assert_eq!(
        r.sent()[0].1.priority,
        255,
        "RFC 5798 §6.4.1: Send an ADVERTISEMENT"
    );
}

#[test]
fn advert_goes_out_before_the_addresses_are_installed() {
    let mut c = cfg(255);
    c.initial_master = true;
    let r = Router::new(c);
    let kinds: Vec<&str> = r
        .outputs()
        .filter_map(|(_, e)| match e.output {
            Output::Send { .. } => Some("send"),
            Output::Install => Some("install"),
            Output::Garp { .. } => Some("garp"),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        ["send", "install", "garp"],
        "keepalived vrrp_state_master_tx: the advert first, then the VIPs, then the GARP burst"
    );
}

#[test]
fn non_owner_starts_backup_even_with_state_master() {
    let mut c = cfg(100);
    c.initial_master = true;
    let mut r = Router::new(c);
    assert_eq!(
        r.transitions()[0].1,
        State::Backup,
        "RFC 5798 §6.4.1: else transition to the Backup state (keepalived: also for state MASTER)"
    );
    r.at(10.0);
    assert_eq!(
        r.entered(State::Master),
        Some(Instant(3_609_375)),
        "keepalived: a non-owner with state MASTER waits the full Master_Down_Interval"
    );
}

#[test]
fn owner_configured_backup_starts_as_backup() {
    let mut c = cfg(255);
    // `state BACKUP` given; without a state an owner wants MASTER (keepalived).
    c.initial_master = false;
    let r = Router::new(c);
    assert_eq!(
        r.transitions()[0].1,
        State::Backup,
        "keepalived: an owner must also say state MASTER to start as MASTER"
    );
}

// ------------------------------------------------------------------------------------------
// BACKUP (RFC 5798 §6.4.2)

#[test]
fn v2_backup_takes_over_3_609375_s_after_the_last_advert() {
    let c = cfg(100);
    let mut r = Router::new(c.clone());
    r.at(1.0).rx(from(&c, "10.0.0.3", 200));
    r.at(2.0).rx(from(&c, "10.0.0.3", 200));
    r.at(10.0);
    assert_eq!(
        r.entered(State::Master),
        Some(secs(2.0 + 3.609375)),
        "RFC 3768 §6.4.2: reset the Master_Down_Timer to Master_Down_Interval (3 + 156/256 s)"
    );
    assert_eq!(
        r.transitions().last().unwrap().2,
        Reason::MasterDown,
        "the reason names the expired timer"
    );
}

#[test]
fn the_gap_between_valid_adverts_is_kept_for_the_console() {
    let c = cfg(100);
    let mut r = Router::new(c.clone());
    r.at(1.0).rx(from(&c, "10.0.0.3", 200));
    assert_eq!(
        r.engine.instances()[0].last_advert_gap(),
        None,
        "one advert, no gap"
    );
    r.at(2.25).rx(from(&c, "10.0.0.3", 200));
    // An invalid advert (TTL 64, RFC 3768 §7.1: must be 255) is not a gap boundary.
    r.at(2.5)
        .rx(received_ttl(&c, &advert(&c, 200), "10.0.0.3", 64));
    assert_eq!(
        r.engine.instances()[0].last_advert_gap(),
        Some(Duration::micros(1_250_000))
    );
}

#[test]
fn v3_backup_takes_over_after_0_360937_s() {
    let mut c = cfg(100);
    c.version = Version::V3;
    c.adver_int = Duration::centis(10);
    let mut r = Router::new(c.clone());
    r.at(0.05).rx(from(&c, "10.0.0.3", 200));
    r.at(5.0);
    assert_eq!(
        r.entered(State::Master),
        Some(Instant(50_000 + 360_937)),
        "RFC 5798 §6.1: Master_Down_Interval = 3 * 0.10 s + 156 * 10 cs / 256 (truncated to µs as keepalived)"
    );
}

#[test]
fn priority_zero_advert_means_takeover_after_skew() {
    let c = cfg(100);
    let mut r = Router::new(c.clone());
    r.at(1.0).rx(from(&c, "10.0.0.3", 200));
    r.at(1.5).rx(from(&c, "10.0.0.3", 0));
    r.at(10.0);
    assert_eq!(
        r.entered(State::Master),
        Some(secs(1.5 + 0.609375)),
        "RFC 5798 §6.4.2: if the Priority in the ADVERTISEMENT is zero, set the Master_Down_Timer to Skew_Time"
    );
    assert_eq!(
        r.engine.instances()[0].stats().pri_zero_rcvd,
        1,
        "pri_zero_rcvd counts it"
    );
}

#[test]
fn lower_priority_advert_is_discarded_when_preempting() {
    let c = cfg(100);
    let mut r = Router::new(c.clone());
    r.at(1.0).rx(from(&c, "10.0.0.3", 50));
    r.at(2.0).rx(from(&c, "10.0.0.3", 50));
    r.at(10.0);
    assert_eq!(
        r.entered(State::Master),
        Some(Instant(3_609_375)),
        "RFC 5798 §6.4.2: otherwise (Preempt_Mode and lower priority) discard the ADVERTISEMENT: the deadline stays"
    );
    assert!(
        r.has(|o| matches!(o, Output::Log { message } if message.contains("received lower priority (50) advert from 10.0.0.3 - discarding"))),
        "keepalived logs the discarded advert"
    );
}

#[test]
fn nopreempt_accepts_a_lower_priority_master() {
    let mut c = cfg(100);
    c.preempt = false;
    let mut r = Router::new(c.clone());
    for k in 1..10 {
        r.at(f64::from(k)).rx(from(&c, "10.0.0.3", 50));
    }
    r.at(10.0);
    assert_eq!(
        r.entered(State::Master),
        None,
        "RFC 5798 §6.4.2: if Preempt_Mode is False ... reset the Master_Down_Timer"
    );
    r.at(20.0);
    assert_eq!(
        r.entered(State::Master),
        Some(secs(9.0 + 3.609375)),
        "nopreempt still takes over when the master falls silent"
    );
}

#[test]
fn preempt_delay_accepts_lower_priority_until_the_window_ends() {
    let mut c = cfg(100);
    c.preempt_delay = Duration::secs(5);
    let mut r = Router::new(c.clone());
    for k in 1..20 {
        r.at(f64::from(k)).rx(from(&c, "10.0.0.3", 50));
        if r.state() == State::Master {
            break;
        }
    }
    // The window opens with the first lower advert (t=1) and closes at t=6: the adverts at
    // 1..=5 are accepted, the one at 6 is discarded; takeover at 5 + MDI.
    assert_eq!(
        r.entered(State::Master),
        Some(secs(5.0 + 3.609375)),
        "keepalived preempt_delay: lower-priority adverts are accepted until preempt_delay after the first"
    );
}

#[test]
fn equal_priority_is_accepted_by_a_backup() {
    let c = cfg(100);
    let mut r = Router::new(c.clone());
    for k in 1..10 {
        // A lower address and the same priority: the backup does not compare addresses.
        r.at(f64::from(k)).rx(from(&c, "10.0.0.1", 100));
    }
    assert_eq!(
        r.entered(State::Master),
        None,
        "RFC 5798 §6.4.2: priority greater than or equal to the local priority resets the timer"
    );
}

#[test]
fn startup_delay_shifts_the_backup_deadline() {
    let mut c = cfg(100);
    c.startup_delay = Duration::secs(10);
    let mut r = Router::new(c);
    r.at(20.0);
    assert_eq!(
        r.entered(State::Master),
        Some(secs(10.0 + 3.609375)),
        "keepalived vrrp_startup_delay: BACKUP timers count from the end of the delay"
    );
}

// ------------------------------------------------------------------------------------------
// MASTER (RFC 5798 §6.4.3)

fn master(c: InstanceConfig) -> Router {
    let mut r = Router::new(c);
    r.at(4.0);
    assert_eq!(r.state(), State::Master);
    r.clear();
    r
}

#[test]
fn master_advertises_every_interval() {
    let mut r = master(cfg(100));
    r.at(10.0);
    let times: Vec<u64> = r.sent().iter().map(|(t, _)| t.0).collect();
    assert_eq!(
        times,
        (1..=6)
            .map(|k| 3_609_375 + k * 1_000_000)
            .collect::<Vec<_>>(),
        "RFC 5798 §6.4.3: if the Adver_Timer fires, send an ADVERTISEMENT and reset the timer"
    );
}

#[test]
fn master_yields_to_a_higher_priority() {
    let c = cfg(100);
    let mut r = master(c.clone());
    r.rx(from(&c, "10.0.0.3", 150));
    assert_eq!(
        r.state(),
        State::Backup,
        "RFC 5798 §6.4.3: greater priority ... transition to the Backup state"
    );
    assert!(r.has(|o| *o == Output::Uninstall), "the VIPs are released");
    let down = r.engine.instances()[0].timer(Timer::MasterDown).unwrap();
    assert_eq!(
        down,
        secs(4.0 + 3.609375),
        "RFC 5798 §6.4.3: set Master_Down_Timer to Master_Down_Interval"
    );
    assert!(
        r.engine.instances()[0].timer(Timer::Adver).is_none(),
        "RFC 5798 §6.4.3: cancel Adver_Timer"
    );
}

#[test]
fn equal_priority_tie_goes_to_the_higher_address() {
    let c = cfg(100);
    let mut r = master(c.clone());
    r.rx(from(&c, "10.0.0.1", 100));
    assert_eq!(
        r.state(),
        State::Master,
        "RFC 5798 §6.4.3: the same priority from a lower primary address does not win"
    );
    r.rx(from(&c, "10.0.0.9", 100));
    assert_eq!(
        r.state(),
        State::Backup,
        "RFC 5798 §6.4.3: the Priority is equal and the primary IP Address of the sender is greater"
    );
}

#[test]
fn master_answers_a_lower_priority_with_an_advert_and_garps() {
    let c = cfg(100);
    let mut r = master(c.clone());
    r.rx(from(&c, "10.0.0.3", 50));
    assert_eq!(r.state(), State::Master);
    assert_eq!(
        r.sent().len(),
        1,
        "keepalived: a lower-priority advert makes the master advertise at once (forcing a new election)"
    );
    assert!(
        r.has(|o| matches!(o, Output::Garp { rounds: 5, .. })),
        "keepalived: garp_lower_prio_repeat (5) gratuitous ARPs"
    );
    assert!(
        r.has(|o| *o == Output::Notify(Notify::MasterRxLowerPri { priority: 50 })),
        "keepalived: notify_master_rx_lower_pri"
    );
    r.clear();
    r.at(9.5);
    assert!(
        r.has(|o| matches!(o, Output::Garp { rounds: 5, .. })),
        "keepalived: the second lower-priority burst after garp_lower_prio_delay (5 s)"
    );
}

#[test]
fn lower_prio_no_advert_stays_quiet() {
    let mut c = cfg(100);
    c.lower_prio_no_advert = true;
    let mut r = master(c.clone());
    r.rx(from(&c, "10.0.0.3", 50));
    assert!(
        r.sent().is_empty(),
        "keepalived lower_prio_no_advert: no advert in answer to a lower priority"
    );
}

#[test]
fn master_answers_priority_zero_and_stays() {
    let c = cfg(100);
    let mut r = master(c.clone());
    r.rx(from(&c, "10.0.0.3", 0));
    assert_eq!(
        (r.state(), r.sent().len()),
        (State::Master, 1),
        "RFC 5798 §6.4.3: if the Priority in the ADVERTISEMENT is zero, then: Send an ADVERTISEMENT"
    );
}

#[test]
fn higher_prio_send_advert_answers_before_yielding() {
    let mut c = cfg(100);
    c.higher_prio_send_advert = true;
    let mut r = master(c.clone());
    r.rx(from(&c, "10.0.0.3", 150));
    assert_eq!(
        (r.state(), r.sent().len()),
        (State::Backup, 1),
        "keepalived higher_prio_send_advert: send an advert, then become BACKUP"
    );
}

#[test]
fn invalid_packets_do_not_delay_the_masters_adverts() {
    let c = cfg(100);
    let mut r = master(c.clone());
    // A foreign router on the VRID with other VIPs, every 0.3 s.
    let mut other = c.clone();
    other.vips = vec![ip("10.0.0.200")];
    for k in 0..20 {
        r.at(4.0 + 0.3 * f64::from(k))
            .rx(from(&other, "10.0.0.3", 200));
    }
    r.at(10.0);
    assert!(
        r.sent().len() >= 5,
        "kaconsole: invalid packets do not re-arm the master's advert timer (keepalived's does, silencing it)"
    );
}

#[test]
fn duplicate_owners_one_steps_down() {
    let mut c = cfg(255);
    c.initial_master = true;
    let mut r = Router::new(c.clone());
    r.clear();
    r.rx(from(&c, "10.0.0.3", 255));
    let i = &r.engine.instances()[0];
    assert_eq!(
        (i.state(), i.effective_priority()),
        (State::Backup, 254),
        "keepalived: both address owners - the one hearing the other reduces its priority to 254"
    );
    assert!(r.has(
        |o| matches!(o, Output::Log { message } if message.contains("both configured as address owner"))
    ));
}

#[test]
fn v3_backup_learns_the_masters_interval_and_master_reverts() {
    let mut c = cfg(100);
    c.version = Version::V3;
    let mut r = Router::new(c.clone());
    let mut theirs = c.clone();
    theirs.adver_int = Duration::centis(50);
    r.at(1.0).rx(from(&theirs, "10.0.0.3", 200));
    assert_eq!(
        r.engine.instances()[0].master_adver_int(),
        Duration::centis(50),
        "RFC 5798 §6.4.2: set Master_Adver_Interval to Adver Interval contained in the ADVERTISEMENT"
    );
    r.at(10.0);
    assert_eq!(
        r.entered(State::Master),
        Some(Instant(1_000_000 + 1_500_000 + 304_687)),
        "RFC 5798 §6.1: the Master_Down_Interval uses the learned interval (3 * 0.5 s + skew)"
    );
    assert_eq!(
        r.engine.instances()[0].master_adver_int(),
        Duration::secs(1),
        "RFC 5798 §6.4.3: the master advertises at its own Advertisement_Interval"
    );
    let sent = r.sent();
    assert_eq!(sent[1].0 - sent[0].0, Duration::secs(1));
}

// ------------------------------------------------------------------------------------------
// Receive checks (keepalived 2.2.7 vrrp_check_packet, in order, each counted)

fn rejected(c: &InstanceConfig, r: Received) -> (RxError, kaconsole::vrrp::event::Stats) {
    let mut router = Router::new(c.clone());
    router.at(1.0).rx(r);
    let e = router
        .outputs()
        .find_map(|(_, e)| match &e.output {
            Output::Rejected { error, .. } => Some(error.clone()),
            _ => None,
        })
        .expect("the packet is rejected");
    (e, router.engine.instances()[0].stats().clone())
}

#[test]
fn ttl_must_be_255() {
    let c = cfg(100);
    let (e, s) = rejected(&c, received_ttl(&c, &advert(&c, 200), "10.0.0.3", 64));
    assert_eq!(
        (e, s.ip_ttl_err),
        (RxError::Ttl { got: 64 }, 1),
        "RFC 5798 §7.1: MUST verify that the IPvX TTL/Hop Limit is 255"
    );
}

#[test]
fn unicast_adverts_may_cross_routers() {
    let mut c = cfg(100);
    c.unicast_peers = vec![kaconsole::vrrp::instance_config::Peer {
        addr: ip("10.0.0.3"),
        min_ttl: 0,
        max_ttl: 255,
    }];
    let mut r = Router::new(c.clone());
    let mut rx = received_ttl(&c, &advert(&c, 200), "10.0.0.3", 60);
    rx.dst = ip(ME);
    rx.msg = advert(&c, 200).to_bytes(c.wire_checksum(), rx.src, rx.dst);
    r.at(1.0).rx(rx);
    assert_eq!(
        r.engine.instances()[0].stats().advert_rcvd,
        1,
        "keepalived: unicast adverts are not held to TTL 255"
    );
}

#[test]
fn version_must_match() {
    let c = cfg(100);
    let mut v3 = c.clone();
    v3.version = Version::V3;
    let (e, s) = rejected(&c, from(&v3, "10.0.0.3", 200));
    assert_eq!(
        (e, s.version_err),
        (
            RxError::Version {
                got: 3,
                expected: 2
            },
            1
        ),
        "RFC 5798 §7.1: MUST verify the VRRP version field"
    );
}

#[test]
fn v2_interval_must_match() {
    let c = cfg(100);
    let mut other = c.clone();
    other.adver_int = Duration::secs(2);
    let (e, s) = rejected(&c, from(&other, "10.0.0.3", 200));
    assert_eq!(
        (e, s.advert_interval_err),
        (RxError::Interval { mine: 1, got: 2 }, 1),
        "RFC 3768 §7.1: MUST verify that the Adver Interval in the packet is the same as the locally configured"
    );
}

#[test]
fn auth_type_and_password_must_match() {
    let mut c = cfg(100);
    c.auth = CfgAuth::Pass(*b"secret\0\0");
    let (e, s) = rejected(&c, from(&cfg(100), "10.0.0.3", 200));
    assert_eq!(
        (e, s.authtype_mismatch),
        (
            RxError::AuthTypeMismatch {
                got: 0,
                expected: 1
            },
            1
        ),
        "RFC 3768 §7.1: MUST verify that the Auth Type matches the locally configured"
    );
    let mut wrong = c.clone();
    wrong.auth = CfgAuth::Pass(*b"guess\0\0\0");
    let (e, s) = rejected(&c, from(&wrong, "10.0.0.3", 200));
    assert_eq!(
        (e, s.auth_failure),
        (RxError::Password, 1),
        "RFC 2338 §5.3.6.1: the password must match"
    );
}

#[test]
fn address_count_and_list_must_match() {
    let c = cfg(100);
    let mut more = c.clone();
    more.vips.push(ip("10.0.0.101"));
    let (e, s) = rejected(&c, from(&more, "10.0.0.3", 200));
    assert_eq!(
        (e, s.addr_list_err),
        (
            RxError::AddrCount {
                got: 2,
                expected: 1
            },
            1
        ),
        "keepalived: an advert with another number of addresses is rejected"
    );
    let mut other = c.clone();
    other.vips = vec![ip("10.0.0.200")];
    let (e, s) = rejected(&c, from(&other, "10.0.0.3", 200));
    assert_eq!(
        (e, s.addr_list_err),
        (
            RxError::VipMissing {
                vrid: 51,
                addr: ip("10.0.0.100")
            },
            1
        ),
        "keepalived: ip address associated with VRID not present in MASTER advert"
    );
}

#[test]
fn checksum_must_verify() {
    let c = cfg(100);
    let mut rx = from(&c, "10.0.0.3", 200);
    rx.msg[7] ^= 0xff;
    let (e, s) = rejected(&c, rx);
    assert_eq!(
        (e, s.checksum_err),
        (RxError::Checksum { version: 2 }, 1),
        "RFC 5798 §7.1: MUST verify the VRRP checksum"
    );
}

#[test]
fn skip_check_adv_addr_trusts_the_known_master() {
    let mut c = cfg(100);
    c.skip_check_adv_addr = true;
    let mut r = Router::new(c.clone());
    r.at(1.0).rx(from(&c, "10.0.0.3", 200));
    let mut other = c.clone();
    other.vips = vec![ip("10.0.0.200")];
    r.at(2.0).rx(from(&other, "10.0.0.3", 200));
    assert!(
        !r.has(|o| matches!(o, Output::Rejected { .. })),
        "keepalived skip_check_adv_addr: the addresses of the current master's adverts are not checked"
    );
    r.at(3.0).rx(from(&other, "10.0.0.4", 200));
    assert!(
        r.has(|o| matches!(o, Output::Rejected { .. })),
        "skip_check_adv_addr: another sender is still checked"
    );
}

#[test]
fn ah_sequence_numbers_count_up_and_replays_are_dropped() {
    let mut c = cfg(255);
    c.initial_master = true;
    c.auth = CfgAuth::Ah(*b"kt51pass");
    let mut r = Router::new(c.clone());
    r.at(3.0);
    let seqs: Vec<u32> = r
        .outputs()
        .filter_map(|(_, e)| match &e.output {
            Output::Send { ah_seq, .. } => *ah_seq,
            _ => None,
        })
        .collect();
    assert_eq!(
        seqs,
        [1, 2, 3, 4],
        "RFC 2402 §3.3.2: the sequence number starts at 1"
    );

    // As a backup: a sealed advert is accepted once; the same sequence again is a replay.
    let mut b = Router::new(cfg_ah(100));
    let sealed = sealed_advert(&cfg_ah(100), "10.0.0.3", 200, 7);
    b.at(1.0).rx(sealed.clone());
    b.at(2.0).rx(sealed);
    let s = b.engine.instances()[0].stats().clone();
    assert_eq!(
        (s.advert_rcvd, s.auth_failure),
        (1, 1),
        "RFC 2402 §3.4.3: a sequence number already received is a replay"
    );
}

fn cfg_ah(p: u8) -> InstanceConfig {
    let mut c = cfg(p);
    c.auth = CfgAuth::Ah(*b"kt51pass");
    c
}

/// An AH-sealed advert, built and taken apart by the codec as a raw socket would.
fn sealed_advert(c: &InstanceConfig, src: &str, prio: u8, seq: u32) -> Received {
    let a = advert(c, prio);
    let msg = a.to_bytes(ChecksumForm::Plain, ip(src), GROUP_V4);
    let mut buf = vec![0; Ipv4Repr::HEADER_LEN + AH_LEN + msg.len()];
    let IpAddr::V4(s) = ip(src) else { panic!() };
    let IpAddr::V4(d) = GROUP_V4 else { panic!() };
    Ipv4Repr {
        src: s,
        dst: d,
        protocol: IPPROTO_AH,
        ttl: 255,
        tos: 0xc0,
        ident: 1,
        payload_len: AH_LEN + msg.len(),
    }
    .emit(&mut buf);
    buf[Ipv4Repr::HEADER_LEN + AH_LEN..].copy_from_slice(&msg);
    kaconsole::vrrp::ah::seal(&mut buf, Ipv4Repr::HEADER_LEN, seq, b"kt51pass", false);
    parse_ip(&buf).unwrap()
}

#[test]
fn fault_and_backup_states_ignore_nothing_they_should_not() {
    // FAULT: keepalived ignores packets entirely, counting nothing.
    let mut c = cfg(100);
    c.trackers = vec![tracker("script:chk", 0)];
    let mut r = Router::new(c.clone());
    r.at(1.0).rx(from(&c, "10.0.0.3", 200));
    assert_eq!(
        (r.state(), r.engine.instances()[0].stats().advert_rcvd),
        (State::Fault, 0),
        "keepalived: a FAULT or INIT instance ignores received adverts"
    );
}

// ------------------------------------------------------------------------------------------
// Trackers, priority, FAULT

fn tracker(id: &str, weight: i32) -> TrackerConfig {
    TrackerConfig {
        id: id.into(),
        weight,
        reverse: false,
        valued: false,
    }
}

fn track(r: &mut Router, id: &str, status: TrackStatus) {
    r.input(Input::Track {
        id: id.into(),
        status,
    });
}

#[test]
fn pending_fault_tracker_holds_fault_silently_then_backup() {
    let mut c = cfg(100);
    c.trackers = vec![tracker("script:chk", 0)];
    let mut r = Router::new(c);
    assert_eq!(r.state(), State::Fault);
    assert!(
        !r.has(|o| matches!(o, Output::Notify(_))),
        "keepalived: an instance waiting for its first script result is FAULT without a notify"
    );
    r.at(1.0);
    track(&mut r, "script:chk", TrackStatus::Up);
    r.at(10.0);
    assert_eq!(
        r.entered(State::Master),
        Some(secs(1.0 + 3.609375)),
        "keepalived try_up_instance: BACKUP with the full Master_Down_Interval"
    );
}

#[test]
fn weight_zero_tracker_failure_faults_the_master() {
    let mut c = cfg(100);
    c.trackers = vec![tracker("script:chk", 0)];
    let mut r = Router::new(c);
    track(&mut r, "script:chk", TrackStatus::Up);
    r.at(5.0);
    r.clear();
    track(&mut r, "script:chk", TrackStatus::Down);
    assert_eq!(r.state(), State::Fault);
    assert_eq!(
        r.sent().iter().map(|(_, a)| a.priority).collect::<Vec<_>>(),
        [0],
        "RFC 5798 §6.4.3 Shutdown event: send an ADVERTISEMENT with Priority = 0"
    );
    assert!(r.has(|o| *o == Output::Uninstall), "the VIPs go");
    assert!(
        r.has(|o| *o
            == Output::Notify(Notify::State {
                state: State::Fault,
                priority: 100
            })),
        "keepalived: notify FAULT"
    );
    r.clear();
    r.at(20.0);
    assert!(r.sent().is_empty(), "a FAULT instance sends nothing");
}

#[test]
fn link_down_faults_unless_dont_track_primary() {
    let mut r = Router::new(cfg(100));
    r.input(Input::Link {
        interface: "eth0".into(),
        up: false,
    });
    assert_eq!(
        r.state(),
        State::Fault,
        "keepalived: the instance's interface is tracked with weight 0"
    );
    let mut c = cfg(100);
    c.track_primary = false;
    let mut r = Router::new(c);
    r.input(Input::Link {
        interface: "eth0".into(),
        up: false,
    });
    assert_eq!(r.state(), State::Backup, "keepalived dont_track_primary");
}

#[test]
fn tracker_weight_moves_the_backup_deadline_by_the_skew() {
    let mut c = cfg(100);
    c.trackers = vec![tracker("script:w", 50)];
    let mut r = Router::new(c.clone());
    r.at(1.0).rx(from(&c, "10.0.0.3", 200));
    track(&mut r, "script:w", TrackStatus::Up);
    assert_eq!(r.engine.instances()[0].effective_priority(), 150);
    assert!(r.has(|o| *o == Output::Priority { from: 100, to: 150 }));
    r.at(10.0);
    assert_eq!(
        r.entered(State::Master),
        Some(Instant(1_000_000 + 3_000_000 + 414_062)),
        "keepalived vrrp_set_effective_priority: the BACKUP deadline moves by the change of skew"
    );
}

#[test]
fn priority_crossing_preempts_a_live_master() {
    let mut c = cfg(100);
    c.trackers = vec![tracker("script:w", 60)];
    let mut r = Router::new(c.clone());
    let mut t = 1.0;
    while t < 30.0 {
        r.at(t).rx(from(&c, "10.0.0.3", 150));
        if t == 5.0 {
            track(&mut r, "script:w", TrackStatus::Up);
        }
        t += 1.0;
    }
    let m = r.entered(State::Master).expect("takes over");
    assert!(
        m > secs(5.0) && m <= secs(5.0 + 3.609375),
        "RFC 5798 §6.4.2 with Preempt_Mode: once our priority (160) is higher, the master's adverts are discarded and we take over; took over at {m}"
    );
}

#[test]
fn owner_priority_is_never_changed_by_trackers() {
    let mut c = cfg(255);
    c.initial_master = true;
    c.trackers = vec![tracker("script:w", -50)];
    let mut r = Router::new(c);
    track(&mut r, "script:w", TrackStatus::Down);
    assert_eq!(
        r.engine.instances()[0].effective_priority(),
        255,
        "keepalived vrrp_set_effective_priority: an owner's priority is not changed"
    );
}

#[test]
fn effective_priority_is_clamped_to_1_254() {
    let mut c = cfg(200);
    c.trackers = vec![tracker("script:a", 100), tracker("script:b", -250)];
    let mut r = Router::new(c);
    track(&mut r, "script:a", TrackStatus::Up);
    assert_eq!(
        r.engine.instances()[0].effective_priority(),
        254,
        "clamped to 254"
    );
    track(&mut r, "script:a", TrackStatus::Down);
    track(&mut r, "script:b", TrackStatus::Down);
    assert_eq!(
        r.engine.instances()[0].effective_priority(),
        1,
        "keepalived: a tracker can lower the priority to 1, never to 0"
    );
}

#[test]
fn master_priority_change_shows_in_the_next_advert_only() {
    let mut c = cfg(100);
    c.trackers = vec![tracker("script:w", -20)];
    let mut r = master(c);
    r.at(4.2);
    track(&mut r, "script:w", TrackStatus::Down);
    assert!(
        r.sent().is_empty(),
        "keepalived: no immediate advert on a priority change"
    );
    r.at(5.0);
    assert_eq!(
        r.sent().last().unwrap().1.priority,
        80,
        "the next periodic advert carries the new priority"
    );
}

#[test]
fn recovered_backup_waits_a_full_interval() {
    let mut r = Router::new(cfg(100));
    r.at(1.0);
    r.input(Input::Link {
        interface: "eth0".into(),
        up: false,
    });
    r.at(2.0);
    r.input(Input::Link {
        interface: "eth0".into(),
        up: true,
    });
    r.at(10.0);
    assert_eq!(
        r.entered(State::Master),
        Some(secs(2.0 + 3.609375)),
        "keepalived vrrp_state_leave_fault: BACKUP with Master_Down_Interval"
    );
}

// ------------------------------------------------------------------------------------------
// GARP schedule, stop

#[test]
fn garp_bursts_follow_master_delay_and_refresh() {
    let mut c = cfg(255);
    c.initial_master = true;
    c.garp.master_refresh = Duration::secs(10);
    let mut r = Router::new(c);
    r.at(30.0);
    let garps: Vec<(u64, u32)> = r
        .outputs()
        .filter_map(|(t, e)| match e.output {
            Output::Garp { rounds, .. } => Some((t.0 / 1_000_000, rounds)),
            _ => None,
        })
        .collect();
    assert_eq!(
        garps,
        [(0, 5), (5, 5), (11, 1), (22, 1)],
        "keepalived: garp_master_repeat at once and after garp_master_delay; garp_master_refresh at the first advert after each interval"
    );
}

#[test]
fn stop_sends_priority_zero_and_releases() {
    let mut r = master(cfg(100));
    r.input(Input::Stop);
    assert_eq!(
        r.sent()[0].1.priority,
        0,
        "RFC 5798 §6.4.3 Shutdown: Priority = 0"
    );
    assert!(r.has(|o| *o == Output::Uninstall));
    assert_eq!(r.state(), State::Stop);
    assert_eq!(
        r.engine.instances()[0].stats().pri_zero_sent,
        1,
        "pri_zero_sent counts it"
    );
}

// ------------------------------------------------------------------------------------------
// Sync groups (keepalived vrrp_sync.c)

fn pair() -> (InstanceConfig, InstanceConfig, Vec<SyncGroupConfig>) {
    let a = cfg(100);
    let mut b = InstanceConfig::new("VI_2", "eth1", 52, 100, ip("10.1.0.2"));
    b.vips = vec![ip("10.1.0.100")];
    let g = vec![SyncGroupConfig {
        name: "G".into(),
        members: vec!["VI_1".into(), "VI_2".into()],
    }];
    (a, b, g)
}

fn states(r: &Router) -> Vec<State> {
    r.engine.instances().iter().map(|i| i.state()).collect()
}

#[test]
fn sync_group_vetoes_master_until_every_member_wants_it() {
    let (a, b, g) = pair();
    let mut r = Router::group(vec![a.clone(), b.clone()], g);
    // VI_2 keeps hearing a master; VI_1 does not.
    for k in 1..10 {
        r.at(f64::from(k));
        r.input(Input::Packet {
            interface: "eth1".into(),
            rx: from(&b, "10.1.0.3", 200),
        });
    }
    assert_eq!(
        states(&r),
        [State::Backup, State::Backup],
        "keepalived vrrp_sync_can_goto_master: a member may not become MASTER while another does not want to"
    );
    r.at(20.0);
    assert_eq!(
        states(&r),
        [State::Master, State::Master],
        "keepalived vrrp_sync_master: when all want MASTER, the group goes MASTER together"
    );
    assert!(r.has(|o| matches!(o, Output::Log { message } if message == "VRRP_Group(G) Syncing instances to MASTER state")));
}

#[test]
fn sync_group_member_fault_pulls_the_group_to_fault() {
    let (a, b, g) = pair();
    let mut r = Router::group(vec![a, b], g);
    r.at(5.0);
    assert_eq!(states(&r), [State::Master, State::Master]);
    r.clear();
    r.input(Input::Link {
        interface: "eth1".into(),
        up: false,
    });
    assert_eq!(
        states(&r),
        [State::Fault, State::Fault],
        "keepalived vrrp_sync_fault: one member's FAULT puts every member in FAULT"
    );
    assert!(r.has(|o| *o
        == Output::Notify(Notify::State {
            state: State::Fault,
            priority: 0
        })));
    r.at(6.0);
    r.input(Input::Link {
        interface: "eth1".into(),
        up: true,
    });
    assert_eq!(
        states(&r),
        [State::Backup, State::Backup],
        "keepalived try_up_instance: when the last member is up, the group leaves FAULT as BACKUP"
    );
}

#[test]
fn sync_group_member_preempted_takes_the_group_to_backup() {
    let (a, b, g) = pair();
    let mut r = Router::group(vec![a.clone(), b], g);
    r.at(5.0);
    r.clear();
    r.rx(from(&a, "10.0.0.3", 200));
    assert_eq!(
        states(&r),
        [State::Backup, State::Backup],
        "keepalived vrrp_sync_backup: a member leaving MASTER takes the others to BACKUP"
    );
    let uninstalls = r
        .outputs()
        .filter(|(_, e)| e.output == Output::Uninstall)
        .count();
    assert_eq!(uninstalls, 2, "both members release their addresses");
    assert!(
        r.sent().is_empty(),
        "keepalived: members synced to BACKUP send no priority-0 advert"
    );
}

#[test]
fn ah_replays_are_checked_per_sender() {
    // Two masters that both reached sequence 5 must still hear each other (keepalived's one
    // counter per instance rejects the second as a replay, and both stay MASTER).
    let mut b = Router::new(cfg_ah(100));
    b.at(1.0)
        .rx(sealed_advert(&cfg_ah(100), "10.0.0.3", 200, 5));
    b.at(1.1)
        .rx(sealed_advert(&cfg_ah(100), "10.0.0.4", 200, 5));
    let s = b.engine.instances()[0].stats().clone();
    assert_eq!(
        (s.advert_rcvd, s.auth_failure),
        (2, 0),
        "RFC 2402 §3.4.3: the replay window is per security association (per sender)"
    );
    b.at(1.2)
        .rx(sealed_advert(&cfg_ah(100), "10.0.0.4", 200, 5));
    assert_eq!(
        b.engine.instances()[0].stats().auth_failure,
        1,
        "a real replay is still dropped"
    );
}

#[test]
fn a_new_master_continues_the_ah_sequence_it_heard() {
    let mut b = Router::new(cfg_ah(100));
    b.at(1.0)
        .rx(sealed_advert(&cfg_ah(100), "10.0.0.3", 200, 40));
    b.at(10.0);
    let first = b
        .outputs()
        .find_map(|(_, e)| match &e.output {
            Output::Send { ah_seq, .. } => *ah_seq,
            _ => None,
        })
        .unwrap();
    assert_eq!(
        first, 41,
        "keepalived: the counter continues from the highest number heard, so the old master's listeners accept the new one"
    );
}

#[test]
fn check_unicast_src_accepts_only_the_peers() {
    let mut c = cfg(100);
    c.unicast_peers = vec![kaconsole::vrrp::instance_config::Peer {
        addr: ip("10.0.0.3"),
        min_ttl: 0,
        max_ttl: 255,
    }];
    c.check_unicast_src = true;
    let unicast = |src: &str| {
        let a = advert(&c, 200);
        Received {
            src: ip(src),
            dst: ip(ME),
            ttl: 64,
            ah: None,
            msg: a.to_bytes(c.wire_checksum(), ip(src), ip(ME)),
        }
    };
    let (e, s) = rejected(&c, unicast("10.0.0.9"));
    assert_eq!(
        (e, s.addr_list_err),
        (RxError::UnicastSource(ip("10.0.0.9")), 1),
        "keepalived check_unicast_src: adverts only from a unicast_peer"
    );
    let mut r = Router::new(c.clone());
    r.at(1.0).rx(unicast("10.0.0.3"));
    assert_eq!(
        r.engine.instances()[0].stats().advert_rcvd,
        1,
        "a peer is heard"
    );
    let (e, _) = rejected(&c, from(&c, "10.0.0.3", 200));
    assert_eq!(
        e,
        RxError::Destination { unicast: true },
        "keepalived: a unicast instance drops multicast adverts"
    );
}

// ------------------------------------------------------------------------------------------
// Reload (keepalived clear_diff_vrrp)

fn reload(
    r: &mut Router,
    cs: Vec<InstanceConfig>,
    groups: Vec<SyncGroupConfig>,
) -> Result<usize, GroupError> {
    let mut out = Vec::new();
    let removed = r.engine.reload(cs, groups, r.now, &mut out)?;
    r.log.extend(out.into_iter().map(|e| (r.now, e)));
    Ok(removed.len())
}

#[test]
fn reload_keeps_a_master_master_without_a_flap() {
    let mut r = master(cfg(100));
    let mut new = cfg(120);
    new.vips.push(ip("10.0.0.101"));
    assert_eq!(reload(&mut r, vec![new], vec![]), Ok(0));
    assert_eq!(r.state(), State::Master);
    assert!(
        !r.has(|o| matches!(o, Output::StateChange { .. } | Output::Uninstall)),
        "keepalived reload: a kept MASTER stays MASTER, no VIP flap"
    );
    assert_eq!(
        r.sent()
            .iter()
            .map(|(t, a)| (*t, a.priority, a.addrs.len()))
            .collect::<Vec<_>>(),
        [(secs(4.0), 120, 2)],
        "keepalived reload_master: an advert at once, with the new settings"
    );
    assert!(
        r.has(|o| matches!(o, Output::Garp { addrs, .. } if *addrs == [ip("10.0.0.101")])),
        "the added VIP is announced"
    );
}

#[test]
fn reload_removes_and_adds_instances() {
    let mut r = master(cfg(100));
    let other = InstanceConfig::new("VI_9", "eth0", 9, 100, ip(ME));
    assert_eq!(reload(&mut r, vec![other], vec![]), Ok(1));
    let removed: Vec<&Output> = r
        .outputs()
        .filter(|(_, e)| e.source == Source::Removed(0))
        .map(|(_, e)| &e.output)
        .collect();
    assert!(
        matches!(removed[0], Output::Send { advert, .. } if advert.priority == 0),
        "keepalived: a removed MASTER sends priority 0"
    );
    assert!(
        removed.contains(&&Output::Uninstall),
        "and releases its addresses"
    );
    assert!(
        removed.contains(&&Output::Notify(Notify::Deleted {
            priority: 100,
            was_fault: false
        })),
        "keepalived clear_diff_vrrp: the removed instance is reported DELETED (or FAULT)"
    );
    assert_eq!(r.engine.instances()[0].name(), "VI_9");
    assert_eq!(r.state(), State::Backup, "a new instance starts");
}

#[test]
fn a_reload_that_cannot_be_built_changes_nothing() {
    let mut r = master(cfg(100));
    let bad = vec![SyncGroupConfig {
        name: "G".into(),
        members: vec!["nope".into()],
    }];
    assert_eq!(
        reload(&mut r, vec![cfg(100)], bad),
        Err(GroupError::NoSuchMember {
            group: "G".into(),
            member: "nope".into()
        })
    );
    assert_eq!(
        r.state(),
        State::Master,
        "the old configuration keeps running"
    );
    r.at(6.0);
    assert!(!r.sent().is_empty(), "and keeps advertising");
}

#[test]
fn a_vip_removed_by_someone_else_makes_the_master_step_down_and_return() {
    let mut r = master(cfg(100));
    r.input(Input::AddressRemoved {
        addr: ip("10.0.0.100"),
    });
    assert_eq!(r.state(), State::Backup);
    assert_eq!(
        r.sent().iter().map(|(_, a)| a.priority).collect::<Vec<_>>(),
        [0],
        "keepalived set_vrrp_backup: a priority-0 advert"
    );
    r.at(10.0);
    assert_eq!(
        r.transitions().last().map(|(t, s, _)| (*t, *s)),
        Some((secs(4.0 + 0.609375), State::Master)),
        "keepalived set_vrrp_backup: MASTER again after Skew_Time, which reinstalls the VIP"
    );
    r.input(Input::AddressRemoved {
        addr: ip("10.9.9.9"),
    });
    assert_eq!(
        r.state(),
        State::Master,
        "someone else's address is none of our business"
    );
}

#[test]
fn a_unicast_instance_announces_its_own_address_when_it_recovers() {
    let mut c = cfg(100);
    c.unicast_peers = vec![kaconsole::vrrp::instance_config::Peer {
        addr: ip("10.0.0.3"),
        min_ttl: 0,
        max_ttl: 255,
    }];
    let mut r = Router::new(c);
    let link = |up| Input::Link {
        interface: "eth0".into(),
        up,
    };
    r.input(link(false));
    r.clear();
    r.input(link(true));
    assert!(
        r.has(|o| *o
            == Output::Garp {
                addrs: vec![ip(ME)],
                rounds: 1
            }),
        "keepalived try_up_instance: one gratuitous ARP for our own address in unicast mode"
    );
}

#[test]
fn an_interface_that_is_gone_is_a_fault_even_with_dont_track_primary() {
    let mut c = cfg(150);
    c.track_primary = false;
    let mut r = master(c);
    assert_eq!(r.state(), State::Master);
    let gone = |present| Input::Interface {
        interface: "eth0".into(),
        present,
    };
    r.input(Input::Link {
        interface: "eth0".into(),
        up: false,
    });
    assert_eq!(
        r.state(),
        State::Master,
        "dont_track_primary: a link down is ignored"
    );
    r.clear();
    r.input(gone(false));
    assert_eq!(
        r.state(),
        State::Fault,
        "keepalived cleanup_lost_interface: no interface, no instance"
    );
    assert!(
        r.has(|o| matches!(o, Output::Send { advert, .. } if advert.priority == 0)),
        "a MASTER says goodbye first"
    );
    assert!(r.has(|o| *o == Output::Uninstall));
    let t = r.now.0 as f64 / 1e6;
    r.at(t + 1.0);
    r.input(gone(true));
    assert_eq!(
        r.state(),
        State::Backup,
        "back, as BACKUP, with its sockets open"
    );
    r.at(t + 1.0 + 3.7);
    assert_eq!(r.state(), State::Master);
}

#[test]
fn a_new_source_address_is_used_from_the_next_advert() {
    let mut r = master(cfg(150));
    r.engine.instances_mut()[0].set_source(ip("10.0.0.9"));
    assert_eq!(r.engine.instances()[0].config().src, ip("10.0.0.9"));
}
