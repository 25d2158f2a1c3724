//! The simulator: generated scenarios hold the invariants, runs are deterministic, a broken
//! engine is caught, and the golden scenarios (tests/data/sim/*.jsonl) replay line by line and
//! meet their expectations.
//!
//! `KACONSOLE_SIM_SCENARIOS=100000 cargo test --release --test sim` is the soak run;
//! `KACONSOLE_BLESS=1 cargo test --test sim` rewrites the golden traces after a deliberate
//! change (review the diff).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use kaconsole::sim::scenario::{Event, Expect, RouterSpec, SegmentSpec, Timed};
use kaconsole::sim::{self, GenOptions, Scenario, trace};
use kaconsole::time::{Duration, Instant};
use kaconsole::vrrp::engine::SyncGroupConfig;
use kaconsole::vrrp::instance::Sabotage;
use kaconsole::vrrp::instance_config::InstanceConfig;
use kaconsole::vrrp::packet::Version;
use kaconsole::vrrp::track::{TrackStatus, TrackerConfig};

fn scenario_count() -> u64 {
    std::env::var("KACONSOLE_SIM_SCENARIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// Half the generated scenarios in each of two tests, so that the two cores share them.
fn run_half(half: u64) {
    let n = scenario_count();
    let (first, count) = (half * (n / 2), if half == 0 { n / 2 } else { n - n / 2 });
    let started = std::time::Instant::now();
    let r = sim::run_batch(1, first, count, &GenOptions::default(), 1, &|_| {});
    let hours = r.router_time.as_micros() as f64 / 3.6e9;
    println!(
        "sim: {} scenarios, {} violations, {hours:.1} router-hours simulated in {:.1} s",
        r.scenarios,
        r.violations(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(r.scenarios, count);
    assert!(hours > count as f64 * 0.05, "scenarios simulate real time");
    let report: Vec<String> = r
        .failures
        .iter()
        .take(5)
        .map(|f| {
            format!(
                "scenario {} (kaconsole sim --seed 1 --only {} --trace FILE):\n  {}",
                f.index,
                f.index,
                f.violations
                    .iter()
                    .map(|v| format!("at {}: {}", v.at, v.what))
                    .collect::<Vec<_>>()
                    .join("\n  ")
            )
        })
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn generated_scenarios_hold_the_invariants_first_half() {
    run_half(0);
}

#[test]
fn generated_scenarios_hold_the_invariants_second_half() {
    run_half(1);
}

#[test]
fn generated_scenarios_cover_what_the_issue_asks() {
    // 2-8 routers, 1-4 VRIDs, 0-30% loss, partitions, crashes, restarts, tracker flips.
    let mut routers = std::collections::BTreeSet::new();
    let mut vrids = std::collections::BTreeSet::new();
    let (mut partitions, mut crashes, mut restarts, mut flips, mut lossy, mut syncs, mut v3) =
        (0, 0, 0, 0, 0, 0, 0);
    for i in 0..300 {
        let s = sim::generate(sim::scenario_seed(1, i), &GenOptions::default());
        routers.insert(s.routers.len());
        vrids.insert(s.routers[0].instances.len());
        syncs += usize::from(!s.routers[0].groups.is_empty());
        v3 += usize::from(s.routers[0].instances[0].version == Version::V3);
        for e in &s.events {
            match &e.event {
                Event::Partition { .. } => partitions += 1,
                Event::Crash { .. } | Event::Stop { .. } => crashes += 1,
                Event::Restart { .. } => restarts += 1,
                Event::Track { .. } if e.at > Instant(2_000_000) => flips += 1,
                Event::Loss { loss, .. } if *loss > 0 => {
                    assert!(*loss <= 300, "loss is at most 30%");
                    lossy += 1
                }
                _ => {}
            }
        }
    }
    assert_eq!(routers, (2..=8).collect(), "2 to 8 routers");
    assert_eq!(vrids, (1..=4).collect(), "1 to 4 VRIDs");
    for (what, n) in [
        ("partitions", partitions),
        ("crashes", crashes),
        ("restarts", restarts),
        ("tracker flips", flips),
        ("lossy segments", lossy),
        ("sync groups", syncs),
        ("VRRPv3", v3),
    ] {
        assert!(n >= 10, "only {n} {what} in 300 scenarios");
    }
}

#[test]
fn the_same_seed_runs_the_same_way() {
    for i in 0..20 {
        let s = sim::generate(sim::scenario_seed(42, i), &GenOptions::default());
        let a = sim::run(&s, true);
        let b = sim::run(&s, true);
        assert_eq!(a.digest, b.digest);
        assert_eq!(a.trace, b.trace, "scenario {i} ran differently twice");
        let text: String = a.trace.iter().map(|l| l.to_json() + "\n").collect();
        assert_eq!(
            trace::read_scenario(&text).unwrap(),
            s,
            "the trace starts with its scenario"
        );
        trace::compare(&text, &b.trace).unwrap();
    }
    let one = sim::generate(1, &GenOptions::default());
    let other = sim::generate(2, &GenOptions::default());
    assert_ne!(sim::run(&one, false).digest, sim::run(&other, false).digest);
}

#[test]
fn a_broken_engine_is_caught() {
    // A MASTER that ignores higher priorities (RFC 5798 §6.4.3) must not get past the checker.
    let mut caught = 0;
    let mut tried = 0;
    for i in 0..100 {
        let mut s = sim::generate(sim::scenario_seed(3, i), &GenOptions::default());
        s.sabotage = Some(Sabotage::MasterIgnoresHigherPriority);
        tried += 1;
        let out = sim::run(&s, false);
        if out
            .violations
            .iter()
            .any(|v| v.what.contains("MASTERs") || v.what.contains("preempts"))
        {
            caught += 1;
        }
    }
    assert!(
        caught >= tried / 4,
        "the invariants caught the broken engine in only {caught} of {tried} scenarios"
    );
    // And on the plainest scenario: the better router comes back and the old master never
    // steps down.
    let mut s = golden().into_iter().find(|s| s.name == "preempt").unwrap();
    s.sabotage = Some(Sabotage::MasterIgnoresHigherPriority);
    let out = sim::run(&s, false);
    assert!(
        out.violations
            .iter()
            .any(|v| v.what.contains("found [r1, r2]")),
        "{:?}",
        out.violations
    );
}

// ------------------------------------------------------------------------------------------
// Golden scenarios

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn inst(name: &str, iface: &str, vrid: u8, prio: u8, src: &str) -> InstanceConfig {
    let mut c = InstanceConfig::new(name, iface, vrid, prio, ip(src));
    let net = src.rsplit_once('.').map_or(src, |(n, _)| n);
    c.vips = vec![ip(&format!("{net}.100"))];
    c
}

fn router(name: &str, instances: Vec<InstanceConfig>) -> RouterSpec {
    let mut links: Vec<(String, String)> = Vec::new();
    for c in &instances {
        if !links.iter().any(|(i, _)| *i == c.interface) {
            let seg = format!("seg{}", c.interface.trim_start_matches("eth"));
            links.push((c.interface.clone(), seg));
        }
    }
    RouterSpec {
        name: name.into(),
        instances,
        groups: Vec::new(),
        links,
    }
}

fn seg(name: &str) -> SegmentSpec {
    SegmentSpec {
        name: name.into(),
        latency: Duration::millis(1),
        jitter: Duration::ZERO,
        loss: 0,
        dup: 0,
    }
}

fn at(secs: f64, event: Event) -> Timed {
    Timed {
        at: Instant((secs * 1e6) as u64),
        event,
    }
}

fn expect(secs: f64, instance: &str, master: Option<&str>) -> Expect {
    Expect {
        at: Instant((secs * 1e6) as u64),
        instance: instance.into(),
        master: master.map(str::to_string),
    }
}

fn crash(r: &str) -> Event {
    Event::Crash { router: r.into() }
}
fn restart(r: &str) -> Event {
    Event::Restart { router: r.into() }
}
fn track(r: &str, id: &str, status: TrackStatus) -> Event {
    Event::Track {
        router: r.into(),
        id: id.into(),
        status,
    }
}

fn scenario(
    name: &str,
    secs: u64,
    routers: Vec<RouterSpec>,
    events: Vec<Timed>,
    expect: Vec<Expect>,
) -> Scenario {
    let mut segments = vec![seg("seg0")];
    if routers.iter().any(|r| r.links.len() > 1) {
        segments.push(seg("seg1"));
    }
    Scenario {
        name: name.into(),
        seed: 1,
        duration: Duration::secs(secs),
        segments,
        routers,
        events,
        quiet_from: None,
        expect,
        sabotage: None,
    }
}

/// Three routers on one segment, VI_1 with priorities 100, 150, 50.
fn trio(tweak: impl Fn(&str, &mut InstanceConfig)) -> Vec<RouterSpec> {
    [
        ("r1", 100, "10.0.0.1"),
        ("r2", 150, "10.0.0.2"),
        ("r3", 50, "10.0.0.3"),
    ]
    .into_iter()
    .map(|(n, p, a)| {
        let mut c = inst("VI_1", "eth0", 1, p, a);
        tweak(n, &mut c);
        router(n, vec![c])
    })
    .collect()
}

fn golden() -> Vec<Scenario> {
    let v3 = |c: &mut InstanceConfig| c.version = Version::V3;
    vec![
        // r2 (150) wins: MDI(150) = 3 + 106/256 s after start.
        scenario(
            "election",
            8,
            trio(|_, _| {}),
            vec![],
            vec![expect(3.0, "VI_1", None), expect(4.0, "VI_1", Some("r2"))],
        ),
        // The master dies silently: the next best takes over 3.609375 s after its last advert.
        scenario(
            "silent-master-death",
            16,
            trio(|_, _| {}),
            vec![at(10.0, crash("r2"))],
            vec![expect(12.9, "VI_1", None), expect(13.1, "VI_1", Some("r1"))],
        ),
        // A clean stop sends priority 0: the backup takes over after Skew_Time (0.609 s).
        scenario(
            "graceful-stop",
            14,
            trio(|_, _| {}),
            vec![at(
                10.0,
                Event::Stop {
                    router: "r2".into(),
                },
            )],
            vec![expect(10.5, "VI_1", None), expect(10.7, "VI_1", Some("r1"))],
        ),
        // The better router comes back and preempts after its Master_Down_Interval.
        scenario(
            "preempt",
            30,
            trio(|_, _| {}),
            vec![at(10.0, crash("r2")), at(20.0, restart("r2"))],
            vec![
                expect(23.0, "VI_1", Some("r1")),
                expect(24.0, "VI_1", Some("r2")),
            ],
        ),
        // With nopreempt it does not.
        scenario(
            "nopreempt",
            40,
            trio(|n, c| c.preempt = n != "r2"),
            vec![at(10.0, crash("r2")), at(20.0, restart("r2"))],
            vec![expect(39.0, "VI_1", Some("r1"))],
        ),
        // preempt_delay 5 s: r1's adverts are accepted from the first (20.025 s) until 5 s
        // later; the last accepted (24.025 s) plus Master_Down_Interval: 27.44 s.
        scenario(
            "preempt-delay",
            40,
            trio(|n, c| {
                if n == "r2" {
                    c.preempt_delay = Duration::secs(5)
                }
            }),
            vec![at(10.0, crash("r2")), at(20.0, restart("r2"))],
            vec![
                expect(27.0, "VI_1", Some("r1")),
                expect(28.0, "VI_1", Some("r2")),
            ],
        ),
        // Equal priorities start together: both become MASTER, the higher address wins.
        scenario(
            "equal-priority-tie-break",
            10,
            trio(|_, c| c.priority = 100),
            vec![],
            vec![expect(5.0, "VI_1", Some("r3"))],
        ),
        // v3: r1 learns r2's 1 s interval although its own is 0.5 s, so it waits 3.609 s,
        // not 1.8 s, after r2's last advert.
        scenario(
            "v3-interval-learning",
            20,
            trio(|n, c| {
                v3(c);
                if n == "r1" {
                    c.adver_int = Duration::centis(50)
                }
            }),
            vec![at(10.0, crash("r2"))],
            vec![expect(12.5, "VI_1", None), expect(13.5, "VI_1", Some("r1"))],
        ),
        // A tracker adds 60 to r1 (100 -> 160 > 150): r1 takes over from r2.
        scenario(
            "tracker-weight-crossing",
            20,
            trio(|n, c| {
                if n == "r1" {
                    c.trackers.push(TrackerConfig {
                        id: "script:w".into(),
                        weight: 60,
                        reverse: false,
                        valued: false,
                    })
                }
            }),
            vec![at(10.0, track("r1", "script:w", TrackStatus::Up))],
            vec![
                expect(9.0, "VI_1", Some("r2")),
                expect(14.0, "VI_1", Some("r1")),
            ],
        ),
        // r2's weight-0 check fails: FAULT with a priority-0 advert; r1 takes over at skew;
        // the check recovers and r2 preempts again.
        scenario(
            "fault-and-recovery",
            30,
            trio(|n, c| {
                if n == "r2" {
                    c.trackers.push(TrackerConfig {
                        id: "script:chk".into(),
                        weight: 0,
                        reverse: false,
                        valued: false,
                    })
                }
            }),
            vec![
                at(0.5, track("r2", "script:chk", TrackStatus::Up)),
                at(10.0, track("r2", "script:chk", TrackStatus::Down)),
                at(20.0, track("r2", "script:chk", TrackStatus::Up)),
            ],
            vec![
                expect(9.0, "VI_1", Some("r2")),
                expect(11.0, "VI_1", Some("r1")),
                expect(24.0, "VI_1", Some("r2")),
            ],
        ),
        // The address owner is MASTER at once, and again at once when it comes back.
        scenario(
            "owner-255",
            25,
            trio(|n, c| {
                if n == "r3" {
                    c.priority = 255;
                    c.initial_master = true;
                }
            }),
            vec![at(10.0, crash("r3")), at(20.0, restart("r3"))],
            vec![
                expect(0.5, "VI_1", Some("r3")),
                expect(15.0, "VI_1", Some("r2")),
                expect(20.1, "VI_1", Some("r3")),
            ],
        ),
        sync_group(),
    ]
}

/// Two routers, each with VI_1 on seg0 and VI_2 on seg1 in sync group G. r1's eth1 loses
/// carrier: its whole group goes FAULT and r2 takes both; carrier back, r1 takes both back.
fn sync_group() -> Scenario {
    let pair = |n: &str, p: u8, host: u8| {
        let mut r = router(
            n,
            vec![
                inst("VI_1", "eth0", 1, p, &format!("10.0.0.{host}")),
                inst("VI_2", "eth1", 2, p, &format!("10.1.0.{host}")),
            ],
        );
        r.groups = vec![SyncGroupConfig {
            name: "G".into(),
            members: vec!["VI_1".into(), "VI_2".into()],
        }];
        r
    };
    let link = |up| Event::Link {
        router: "r1".into(),
        interface: "eth1".into(),
        up,
    };
    scenario(
        "sync-group",
        30,
        vec![pair("r1", 150, 1), pair("r2", 100, 2)],
        vec![at(10.0, link(false)), at(20.0, link(true))],
        vec![
            expect(9.0, "VI_1", Some("r1")),
            expect(9.0, "VI_2", Some("r1")),
            // VI_1 hears r1's priority 0 and wants MASTER after the skew, but the group
            // waits for VI_2, whose master fell silent with its link (9.4 s + 3.6 s).
            expect(12.0, "VI_1", None),
            expect(12.0, "VI_2", None),
            expect(14.0, "VI_1", Some("r2")),
            expect(14.0, "VI_2", Some("r2")),
            expect(28.0, "VI_1", Some("r1")),
            expect(28.0, "VI_2", Some("r1")),
        ],
    )
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sim")
}

#[test]
fn golden_scenarios_replay_and_meet_their_expectations() {
    let bless = std::env::var_os("KACONSOLE_BLESS").is_some();
    let mut problems = Vec::new();
    let scenarios = golden();
    assert_eq!(scenarios.len(), 12);
    for s in &scenarios {
        let out = sim::run(s, true);
        for v in &out.violations {
            problems.push(format!("{}: at {}: {}", s.name, v.at, v.what));
        }
        let path = golden_dir().join(format!("{}.jsonl", s.name));
        let text: String = out.trace.iter().map(|l| l.to_json() + "\n").collect();
        if bless {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let recorded = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (KACONSOLE_BLESS=1 writes it)", path.display()));
        // The file's own scenario replays to the file...
        let from_file = trace::read_scenario(&recorded).unwrap();
        if let Err(d) = trace::compare(&recorded, &sim::run(&from_file, true).trace) {
            problems.push(format!(
                "{}: replay differs at line {}:\n  recorded {}\n  replayed {}",
                s.name,
                d.line,
                d.recorded.unwrap_or_default(),
                d.replayed.unwrap_or_default()
            ));
        }
        // ...and is the scenario defined here.
        if from_file != *s {
            problems.push(format!(
                "{}: the file's scenario differs from the test's",
                s.name
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn golden_traces_show_the_exact_takeover_times() {
    // The trace of silent-master-death: r2's last advert at 9.414 s (+1 ms on the wire) and
    // r1's takeover exactly 3.609375 s after it arrived.
    let s = golden()
        .into_iter()
        .find(|s| s.name == "silent-master-death")
        .unwrap();
    let out = sim::run(&s, true);
    let times = |router: &str, pred: &dyn Fn(&kaconsole::vrrp::event::Output) -> bool| {
        out.trace
            .iter()
            .filter_map(|l| match l {
                trace::TraceLine::Output {
                    t, router: r, out, ..
                } if r == router && pred(out) => Some(*t),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    use kaconsole::vrrp::event::{Output, State};
    let last_advert = *times("r2", &|o| matches!(o, Output::Send { .. }))
        .last()
        .unwrap();
    let takeover = times("r1", &|o| {
        matches!(
            o,
            Output::StateChange {
                to: State::Master,
                ..
            }
        )
    })[0];
    assert_eq!(
        takeover - last_advert,
        Duration::micros(1_000 + 3_609_375),
        "RFC 3768 §6.1: Master_Down_Interval (3.609375 s) after the last advert arrived"
    );
}
