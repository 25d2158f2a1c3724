//! What a simulation runs: routers with their VRRP instances, the segments that join them, and
//! a timeline of events (crashes, restarts, link and tracker flips, partitions, loss). Plain
//! serde data: a trace file starts with its scenario, so a trace replays.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::time::{Duration, Instant};
use crate::vrrp::engine::SyncGroupConfig;
use crate::vrrp::instance::Sabotage;
use crate::vrrp::instance_config::{Auth, InstanceConfig};
use crate::vrrp::packet::Version;
use crate::vrrp::track::{TrackStatus, TrackerConfig};

/// A shared link (a bridge).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentSpec {
    pub name: String,
    /// One-way delay, plus up to `jitter` more.
    pub latency: Duration,
    pub jitter: Duration,
    /// Per-mille of packets lost / duplicated.
    pub loss: u32,
    pub dup: u32,
}

/// One router: its instances and which segment each interface is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouterSpec {
    pub name: String,
    pub instances: Vec<InstanceConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<SyncGroupConfig>,
    /// (interface, segment name).
    pub links: Vec<(String, String)>,
}

/// Something that happens to the world.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The process dies: nothing is sent, its state is gone.
    Crash {
        router: String,
    },
    /// Shut down cleanly: masters send priority 0 first.
    Stop {
        router: String,
    },
    /// A dead router starts again with a fresh engine.
    Restart {
        router: String,
    },
    /// The router's interface loses or regains carrier.
    Link {
        router: String,
        interface: String,
        up: bool,
    },
    /// A tracked object (script, file, ...) reports.
    Track {
        router: String,
        id: String,
        status: TrackStatus,
    },
    /// The segment splits: packets cross only inside a side (routers not named form one more
    /// side).
    Partition {
        segment: String,
        sides: Vec<Vec<String>>,
    },
    Heal {
        segment: String,
    },
    /// Loss in per-mille.
    Loss {
        segment: String,
        loss: u32,
    },
}

/// An event at a time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timed {
    pub at: Instant,
    pub event: Event,
}

/// A check that a scenario states about its outcome: at `at`, the router named is MASTER of
/// `instance` and every other live router's instance of that name is not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expect {
    pub at: Instant,
    pub instance: String,
    /// `None`: no router is MASTER.
    pub master: Option<String>,
}

/// A whole simulation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    /// Drives latency jitter, loss and duplication.
    pub seed: u64,
    pub duration: Duration,
    pub segments: Vec<SegmentSpec>,
    pub routers: Vec<RouterSpec>,
    pub events: Vec<Timed>,
    /// From this time the network is quiet (no loss, no partition, no more events): after a
    /// settling time, every VRID must have converged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_from: Option<Instant>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expect>,
    /// Test only: every engine misbehaves this way.
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sabotage: Option<Sabotage>,
}

/// The knobs of generated scenarios (`kaconsole sim` options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenOptions {
    pub routers: (usize, usize),
    pub max_vrids: usize,
    /// Maximum loss in the chaotic phase, per-mille.
    pub max_loss: u32,
    /// Test only: run a broken engine.
    #[doc(hidden)]
    pub sabotage: Option<Sabotage>,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            routers: (2, 8),
            max_vrids: 4,
            max_loss: 300,
            sabotage: None,
        }
    }
}

/// How the routers of one VRID are configured alike (VRRP only converges when they agree on
/// version, interval, addresses and authentication; the misconfigured cases are rule tests).
struct VridPlan {
    vrid: u8,
    segment: usize,
    version: Version,
    v6: bool,
    adver_int: Duration,
    auth: Auth,
}

/// A random scenario from `seed`: 2-8 routers, 1-4 VRIDs on one or two segments, a chaotic
/// phase (loss, latency, duplication, partitions, crashes, restarts, link and tracker flips)
/// and a quiet phase long enough to converge.
pub fn generate(seed: u64, opt: &GenOptions) -> Scenario {
    let mut rng = Rng::new(seed);
    let n = rng.range(opt.routers.0 as u64, opt.routers.1 as u64) as usize;
    let k = rng.range(1, opt.max_vrids as u64) as usize;
    let nseg = if k >= 2 && rng.chance(300) { 2 } else { 1 };
    let segments: Vec<SegmentSpec> = (0..nseg)
        .map(|s| SegmentSpec {
            name: format!("seg{s}"),
            latency: Duration::micros(rng.range(50, 2_000)),
            jitter: Duration::micros(rng.range(0, 1_000)),
            loss: 0,
            dup: rng.range(0, 20) as u32,
        })
        .collect();
    let v3 = rng.chance(300);
    let plans: Vec<VridPlan> = (0..k)
        .map(|j| {
            let version = if v3 { Version::V3 } else { Version::V2 };
            let v6 = v3 && rng.chance(300);
            let adver_int = match version {
                Version::V2 => Duration::secs(*rng.pick(&[1, 1, 1, 2])),
                Version::V3 => Duration::centis(*rng.pick(&[10, 50, 100, 100])),
            };
            let auth = match (version, rng.range(0, 9)) {
                (Version::V2, 0..=1) => Auth::Pass(*b"secret\0\0"),
                (Version::V2, 2) => Auth::Ah(*b"kt51pass"),
                _ => Auth::None,
            };
            VridPlan {
                vrid: 10 + j as u8,
                segment: j % nseg,
                version,
                v6: v6 && !matches!(auth, Auth::Ah(_)),
                adver_int,
                auth,
            }
        })
        .collect();
    let sync = k >= 2 && rng.chance(300);
    let owner_of: Vec<Option<usize>> = plans
        .iter()
        .map(|_| rng.chance(80).then(|| rng.range(0, n as u64 - 1) as usize))
        .collect();

    let mut routers = Vec::new();
    let mut events = Vec::new();
    for r in 0..n {
        let name = format!("r{}", r + 1);
        // Sync group members share their router's priority and preemption settings (with
        // different ones a group cannot agree; keepalived.conf(5) says so).
        let router_prio = rng.range(1, 254) as u8;
        let router_preempt = !rng.chance(100);
        let router_delay = if rng.chance(100) {
            Duration::secs(rng.range(1, 8))
        } else {
            Duration::ZERO
        };
        let mut instances = Vec::new();
        for (j, p) in plans.iter().enumerate() {
            let src: IpAddr = if p.v6 {
                format!("fe80::{}", r + 1).parse().unwrap()
            } else {
                format!("10.{}.0.{}", p.segment, r + 1).parse().unwrap()
            };
            let mut priority = if sync {
                router_prio
            } else if rng.chance(150) {
                100 // ties happen in real networks: the address breaks them
            } else {
                rng.range(1, 254) as u8
            };
            if owner_of[j] == Some(r) && !sync {
                priority = 255;
            }
            let mut c = InstanceConfig::new(
                &format!("VI_{}", p.vrid),
                &format!("eth{}", p.segment),
                p.vrid,
                priority,
                src,
            );
            c.version = p.version;
            c.adver_int = p.adver_int;
            c.auth = p.auth;
            // v3 routers may differ in interval: backups learn the master's (RFC 5798 §6.4.2).
            if p.version == Version::V3 && rng.chance(200) {
                c.adver_int = Duration::centis(*rng.pick(&[10, 50, 100, 200]));
            }
            c.vips = if p.v6 {
                vec![format!("2001:db8:{}::100", p.vrid).parse().unwrap()]
            } else {
                vec![format!("10.{}.{}.100", p.segment, p.vrid).parse().unwrap()]
            };
            if sync {
                c.preempt = router_preempt;
                c.preempt_delay = if router_preempt {
                    router_delay
                } else {
                    Duration::ZERO
                };
            } else if priority != 255 {
                c.initial_master = rng.chance(100);
                c.preempt = !rng.chance(100);
                if c.preempt && rng.chance(100) {
                    c.preempt_delay = Duration::secs(rng.range(1, 8));
                }
            }
            if rng.chance(300) {
                let weight = if sync || rng.chance(400) {
                    0
                } else {
                    rng.range(0, 120) as i32 - 60
                };
                let id = format!("script:chk_{}", p.vrid);
                c.trackers.push(TrackerConfig {
                    id: id.clone(),
                    weight,
                    reverse: false,
                    valued: false,
                });
                events.push(Timed {
                    at: Instant(rng.range(0, 2_000_000)),
                    event: Event::Track {
                        router: name.clone(),
                        id,
                        status: TrackStatus::Up,
                    },
                });
            }
            instances.push(c);
        }
        let groups = if sync {
            vec![SyncGroupConfig {
                name: "G".into(),
                members: instances.iter().map(|c| c.name.clone()).collect(),
            }]
        } else {
            Vec::new()
        };
        let links = (0..nseg)
            .map(|s| (format!("eth{s}"), format!("seg{s}")))
            .collect();
        routers.push(RouterSpec {
            name,
            instances,
            groups,
            links,
        });
    }

    // The chaotic phase.
    let chaos = Duration::secs(rng.range(15, 60));
    let max_loss = opt.max_loss;
    for s in &segments {
        let loss = rng.range(0, u64::from(max_loss)) as u32;
        events.push(Timed {
            at: Instant::ZERO,
            event: Event::Loss {
                segment: s.name.clone(),
                loss,
            },
        });
    }
    let mut dead = vec![false; n];
    let n_events = rng.range(0, 10);
    let mut times: Vec<u64> = (0..n_events)
        .map(|_| rng.range(1_000_000, chaos.as_micros()))
        .collect();
    times.sort_unstable();
    for at in times {
        let r = rng.range(0, n as u64 - 1) as usize;
        let router = routers[r].name.clone();
        let seg = rng.range(0, nseg as u64 - 1) as usize;
        let event = match rng.range(0, 7) {
            0 | 1 if !dead[r] => {
                dead[r] = true;
                if rng.chance(500) {
                    Event::Crash { router }
                } else {
                    Event::Stop { router }
                }
            }
            0 | 1 => {
                dead[r] = false;
                Event::Restart { router }
            }
            2 => Event::Link {
                router,
                interface: format!("eth{seg}"),
                up: rng.chance(400),
            },
            3 => {
                let trackers: Vec<String> = routers[r]
                    .instances
                    .iter()
                    .flat_map(|c| c.trackers.iter().map(|t| t.id.clone()))
                    .collect();
                if trackers.is_empty() {
                    continue;
                }
                let id = rng.pick(&trackers).clone();
                let status = if rng.chance(500) {
                    TrackStatus::Up
                } else {
                    TrackStatus::Down
                };
                Event::Track { router, id, status }
            }
            4 | 5 => {
                let side: Vec<String> = routers
                    .iter()
                    .filter(|_| rng.chance(500))
                    .map(|r| r.name.clone())
                    .collect();
                Event::Partition {
                    segment: segments[seg].name.clone(),
                    sides: vec![side],
                }
            }
            6 => Event::Heal {
                segment: segments[seg].name.clone(),
            },
            _ => Event::Loss {
                segment: segments[seg].name.clone(),
                loss: rng.range(0, u64::from(max_loss)) as u32,
            },
        };
        events.push(Timed {
            at: Instant(at),
            event,
        });
    }
    // The quiet phase: heal, no loss, carrier back; some dead routers come back.
    let quiet = Instant(chaos.as_micros());
    for s in &segments {
        events.push(Timed {
            at: quiet,
            event: Event::Heal {
                segment: s.name.clone(),
            },
        });
        events.push(Timed {
            at: quiet,
            event: Event::Loss {
                segment: s.name.clone(),
                loss: 0,
            },
        });
    }
    for (r, spec) in routers.iter().enumerate() {
        for (iface, _) in &spec.links {
            events.push(Timed {
                at: quiet,
                event: Event::Link {
                    router: spec.name.clone(),
                    interface: iface.clone(),
                    up: true,
                },
            });
        }
        if dead[r] && rng.chance(600) {
            events.push(Timed {
                at: quiet,
                event: Event::Restart {
                    router: spec.name.clone(),
                },
            });
        }
    }
    events.sort_by_key(|t| t.at);
    let scenario = Scenario {
        name: format!("generated-{seed:016x}"),
        seed,
        duration: Duration::ZERO,
        segments,
        routers,
        events,
        quiet_from: Some(quiet),
        expect: Vec::new(),
        sabotage: opt.sabotage,
    };
    let duration = Duration(quiet.0) + scenario.settle_time() + Duration::secs(10);
    Scenario {
        duration,
        ..scenario
    }
}

impl Scenario {
    /// How long after `quiet_from` every VRID must have converged: a sync group veto can cost
    /// one Master_Down_Interval more than a takeover, a preempt_delay window adds itself, and
    /// the loser of a dual-master meeting needs one more advert.
    pub fn settle_time(&self) -> Duration {
        let instances = self.routers.iter().flat_map(|r| &r.instances);
        let max_int = instances
            .clone()
            .map(|c| c.adver_int)
            .max()
            .unwrap_or(Duration::secs(1));
        let max_delay = instances
            .clone()
            .map(|c| c.preempt_delay + c.startup_delay)
            .max()
            .unwrap_or(Duration::ZERO);
        // 3 intervals + skew (< 1 interval) per Master_Down_Interval.
        let mdi = max_int.saturating_mul(4);
        mdi.saturating_mul(3) + max_delay + max_int.saturating_mul(2) + Duration::secs(1)
    }
}
