//! `kaconsole lab --sim`: the lab's routers in the simulator, without privileges. The real
//! engines run on a virtual segment at wall-clock speed, on a thread of their own; each router
//! answers on a control socket (a unix socket in a temporary directory, which needs no root),
//! so the console attaches exactly as it does to a daemon.

use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;

use tokio::sync::mpsc;

use super::topology;
use crate::config::{self, Config, LoadOptions};
use crate::control::events::EventHub;
use crate::control::protocol::{DaemonStats, Event as ConsoleEvent, EventLine};
use crate::control::server::{self, Call, ServerConfig};
use crate::sim::scenario::{Event, RouterSpec, Scenario, SegmentSpec, Timed};
use crate::sim::trace::TraceLine;
use crate::sim::world::World;
use crate::time::{Duration, Instant};
use crate::vrrp::engine::instance_configs;
use crate::vrrp::track::TrackStatus;

/// The tracker the lab's H key flips.
pub const HEALTH: &str = "script:chk_health";

/// A simulated router as the lab shows it.
#[derive(Clone, Debug)]
pub struct SimRouter {
    pub name: String,
    pub socket: PathBuf,
    pub config: PathBuf,
    pub alive: bool,
    pub cable: bool,
    pub healthy: bool,
}

/// The running simulated lab; dropping it stops the simulation and removes its directory.
pub struct SimLab {
    pub dir: PathBuf,
    pub routers: Vec<SimRouter>,
    commands: std_mpsc::Sender<Event>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The lab's topology as a scenario, and each router's checked model (for the status).
pub fn scenario(n: usize, dir: &Path) -> Result<(Scenario, Vec<Config>), String> {
    let mut routers = Vec::new();
    let mut models = Vec::new();
    let mut events = Vec::new();
    for i in 1..=n {
        let name = topology::router_name(i);
        let rdir = dir.join(&name);
        let text = topology::router_config(&name, i, n, &rdir);
        let path = rdir.join("keepalived.conf");
        let opts = LoadOptions {
            config_id: name.clone(),
            random_seed: Some(0),
            ..Default::default()
        };
        let loaded = config::load_text(&path, text.as_bytes(), &opts, None);
        if loaded.has_errors() {
            return Err(format!("{name}: the generated configuration has errors"));
        }
        let addr = topology::router_addr(i)
            .parse()
            .map_err(|e| format!("{name}: {e}"))?;
        let (instances, groups) = instance_configs(&loaded.config, |_| addr);
        routers.push(RouterSpec {
            name: name.clone(),
            instances,
            groups,
            links: vec![("eth0".into(), "lan".into())],
        });
        models.push(loaded.config);
        // The health script passes at start, as the daemon's first run would say.
        events.push(Timed {
            at: Instant(1_000),
            event: Event::Track {
                router: name,
                id: HEALTH.into(),
                status: TrackStatus::Up,
            },
        });
    }
    let scenario = Scenario {
        name: "lab".into(),
        seed: 1,
        // The audits (once a second) are scheduled up front: a day of them.
        duration: Duration::secs(86_400),
        segments: vec![SegmentSpec {
            name: "lan".into(),
            latency: Duration::micros(200),
            jitter: Duration::micros(100),
            loss: 0,
            dup: 0,
        }],
        routers,
        events,
        quiet_from: None,
        expect: Vec::new(),
        sabotage: None,
    };
    Ok((scenario, models))
}

impl SimLab {
    pub fn start(n: usize) -> Result<SimLab, String> {
        let prefix = format!("kalab-sim-{}-", std::process::id());
        let dir = crate::sys::safe_file::private_dir(&std::env::temp_dir(), &prefix)
            .map_err(|e| format!("{}: {e}", std::env::temp_dir().display()))?;
        let (scenario, models) = scenario(n, &dir)?;
        let mut routers = Vec::new();
        for (k, spec) in scenario.routers.iter().enumerate() {
            let rdir = dir.join(&spec.name);
            std::fs::create_dir(&rdir).map_err(|e| format!("{}: {e}", rdir.display()))?;
            let config = rdir.join("keepalived.conf");
            let text = topology::router_config(&spec.name, k + 1, n, &rdir);
            crate::sys::safe_file::write_new(&config, 0o600, text.as_bytes())
                .map_err(|e| format!("{}: {e}", config.display()))?;
            routers.push(SimRouter {
                name: spec.name.clone(),
                socket: rdir.join("kaconsole.sock"),
                config,
                alive: true,
                cable: true,
                healthy: true,
            });
        }
        let (commands, command_rx) = std_mpsc::channel();
        let (ready_tx, ready_rx) = std_mpsc::channel();
        let servers: Vec<ServerConfig> = routers
            .iter()
            .map(|r| ServerConfig {
                socket: r.socket.clone(),
                config: r.config.clone(),
                config_id: r.name.clone(),
            })
            .collect();
        let thread = std::thread::Builder::new()
            .name("lab-sim".into())
            .spawn(move || drive(scenario, models, servers, command_rx, ready_tx))
            .map_err(|e| e.to_string())?;
        let lab = SimLab {
            dir,
            routers,
            commands,
            thread: Some(thread),
        };
        ready_rx
            .recv()
            .map_err(|_| "the simulation ended at start".to_string())??;
        Ok(lab)
    }

    /// Makes `event` happen in the simulation now.
    pub fn inject(&self, event: Event) -> Result<(), String> {
        self.commands
            .send(event)
            .map_err(|_| "the simulation has ended".to_string())
    }
}

impl Drop for SimLab {
    fn drop(&mut self) {
        // Closing the channel ends the simulation thread.
        let (closed, _) = std_mpsc::channel();
        self.commands = closed;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The simulation thread: the world at wall-clock speed, the routers' control sockets, and
/// the lab's events.
fn drive(
    scenario: Scenario,
    models: Vec<Config>,
    servers: Vec<ServerConfig>,
    commands: std_mpsc::Receiver<Event>,
    ready: std_mpsc::Sender<Result<(), String>>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    rt.block_on(async move {
        let mut world = World::new(&scenario, true);
        world.start();
        let names: Vec<String> = scenario.routers.iter().map(|r| r.name.clone()).collect();
        let hubs: Vec<EventHub> = names.iter().map(|_| EventHub::new(4096)).collect();
        let (calls_tx, mut calls) = mpsc::channel::<(usize, Call)>(64);
        for (k, cfg) in servers.iter().enumerate() {
            let (tx, mut rx) = mpsc::channel(64);
            if let Err(e) = server::start(cfg.clone(), tx, hubs[k].clone()) {
                let _ = ready.send(Err(format!("{}: {e}", cfg.socket.display())));
                return;
            }
            let calls_tx = calls_tx.clone();
            tokio::spawn(async move {
                while let Some(c) = rx.recv().await {
                    if calls_tx.send((k, c)).await.is_err() {
                        return;
                    }
                }
            });
        }
        let _ = ready.send(Ok(()));
        let start = tokio::time::Instant::now();
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(10));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    loop {
                        match commands.try_recv() {
                            Ok(e) => world.inject(&e),
                            Err(std_mpsc::TryRecvError::Empty) => break,
                            Err(std_mpsc::TryRecvError::Disconnected) => {
                                for s in &servers {
                                    let _ = std::fs::remove_file(&s.socket);
                                }
                                return;
                            }
                        }
                    }
                    world.step_until(Instant(start.elapsed().as_micros() as u64));
                    publish(&mut world, &names, &hubs);
                }
                Some((k, call)) = calls.recv() => {
                    answer(&world, &names[k], &models[k], &servers[k], call);
                }
            }
        }
    });
}

/// The simulation's outputs as the routers' events.
fn publish(world: &mut World<'_>, names: &[String], hubs: &[EventHub]) {
    for line in world.take_trace() {
        let (router, event) = match line {
            TraceLine::Output {
                t,
                router,
                from,
                out,
            } => match out {
                crate::vrrp::event::Output::Log { message } => (
                    router,
                    ConsoleEvent::Log {
                        line: format!("t={:.3}s: {message}", t.0 as f64 / 1e6),
                    },
                ),
                out if crate::control::from_engine::interesting(&out) => (
                    router,
                    ConsoleEvent::Vrrp {
                        source: from,
                        output: out.into(),
                    },
                ),
                _ => continue,
            },
            // The health checks' first reports set the simulation up; they are not news.
            TraceLine::Event { t, .. } if t.0 <= 1_000 => continue,
            TraceLine::Event { t, event } => {
                let text = describe(&event);
                for hub in hubs {
                    send(
                        hub,
                        ConsoleEvent::Log {
                            line: format!("t={:.3}s: lab: {text}", t.0 as f64 / 1e6),
                        },
                    );
                }
                continue;
            }
            _ => continue,
        };
        if let Some(k) = names.iter().position(|n| *n == router) {
            send(&hubs[k], event);
        }
    }
}

/// What the lab did, in words.
fn describe(e: &Event) -> String {
    match e {
        Event::Crash { router } => format!("{router} crashed"),
        Event::Stop { router } => format!("{router} stopped"),
        Event::Restart { router } => format!("{router} restarted"),
        Event::Link { router, up, .. } => {
            format!("{router}'s link {}", if *up { "up" } else { "down" })
        }
        Event::Track { router, id, status } => format!("{router}'s {id} is {status:?}"),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn send(hub: &EventHub, event: ConsoleEvent) {
    if let Ok(mut s) = serde_json::to_string(&EventLine::now(event)) {
        s.push('\n');
        hub.publish(s);
    }
}

/// A console's request to router `name`. A crashed router does not answer: its reply is
/// dropped, which the console hears as a daemon going away.
fn answer(world: &World<'_>, name: &str, model: &Config, cfg: &ServerConfig, call: Call) {
    let now = world.now();
    match call {
        Call::Status(reply) => {
            if let Some(engine) = world.engine(name) {
                let mut s = crate::control::status::snapshot(
                    engine,
                    model,
                    now,
                    &cfg.config.display().to_string(),
                );
                s.config_id = name.to_string();
                let _ = reply.send(s);
            }
        }
        Call::Stats(reply) => {
            if let Some(engine) = world.engine(name) {
                let instances = engine.instances();
                let _ = reply.send(DaemonStats {
                    uptime_s: now.0 as f64 / 1e6,
                    instances: instances.len(),
                    adverts_sent: instances.iter().map(|i| i.stats().advert_sent).sum(),
                    adverts_rcvd: instances.iter().map(|i| i.stats().advert_rcvd).sum(),
                    ..Default::default()
                });
            }
        }
        // The simulated segment carries no captured packets.
        Call::Segment(reply) => {
            let _ = reply.send(Default::default());
        }
        Call::Reload(reply) => {
            let _ = reply.send(Err(
                "the simulated lab runs the configuration it started with".into(),
            ));
        }
    }
}

impl super::console::Nodes for SimLab {
    fn label(&self) -> String {
        "simulated".into()
    }
    fn routers(&self) -> usize {
        self.routers.len()
    }
    fn name(&self, k: usize) -> String {
        self.routers[k].name.clone()
    }
    fn socket(&self, k: usize) -> Option<PathBuf> {
        Some(self.routers[k].socket.clone())
    }
    fn state(&mut self, k: usize) -> &'static str {
        let r = &self.routers[k];
        if !r.alive {
            "DEAD"
        } else if !r.cable {
            "UNPLUGGED"
        } else if !r.healthy {
            "unhealthy"
        } else {
            "up"
        }
    }
    fn backends(&self) -> Vec<(String, bool)> {
        Vec::new()
    }
    fn can(&self, key: char) -> bool {
        // Crash, restart, cable and health check: what the simulator's events can do.
        "KRLH".contains(key)
    }
    fn act(&mut self, k: usize, key: char) -> Result<String, String> {
        let router = self.routers[k].name.clone();
        let (event, message) = match key {
            'K' => {
                self.routers[k].alive = false;
                (
                    Event::Crash {
                        router: router.clone(),
                    },
                    format!("{router} crashed: the others take over after Master_Down_Interval"),
                )
            }
            'R' => {
                self.routers[k].alive = true;
                (
                    Event::Restart {
                        router: router.clone(),
                    },
                    format!("{router} restarted"),
                )
            }
            'L' => {
                let up = !self.routers[k].cable;
                self.routers[k].cable = up;
                (
                    Event::Link {
                        router: router.clone(),
                        interface: "eth0".into(),
                        up,
                    },
                    format!("{router}'s link {}", if up { "back up" } else { "down" }),
                )
            }
            'H' => {
                let healthy = !self.routers[k].healthy;
                self.routers[k].healthy = healthy;
                (
                    Event::Track {
                        router: router.clone(),
                        id: HEALTH.into(),
                        status: if healthy {
                            TrackStatus::Up
                        } else {
                            TrackStatus::Down
                        },
                    },
                    format!(
                        "{router}'s health check {}",
                        if healthy {
                            "passes again"
                        } else {
                            "fails now (VI_1 -50)"
                        }
                    ),
                )
            }
            'P' => return Err("the simulated lab cannot pause a router".into()),
            'B' | 'N' => return Err("the simulated lab has no backends".into()),
            _ => return Err("not a lab key".into()),
        };
        self.inject(event)?;
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lab's topology in virtual time, stepped by hand: the election, r1 crashing, r1
    /// coming back - each router's view as its control socket would report it.
    #[test]
    fn the_simulated_lab_elects_fails_over_and_preempts_back() {
        let (scenario, models) = scenario(3, Path::new("/kalab-sim")).unwrap();
        let mut world = World::new(&scenario, false);
        world.start();
        let states = |w: &World<'_>| -> Vec<String> {
            ["r1", "r2", "r3"]
                .iter()
                .enumerate()
                .map(|(k, r)| match w.engine(r) {
                    Some(e) => {
                        let s = crate::control::status::snapshot(e, &models[k], w.now(), "c");
                        let i: Vec<String> = s
                            .instances
                            .iter()
                            .map(|i| format!("{} {} {}", i.name, i.state, i.effective_priority))
                            .collect();
                        format!("{r}: {}", i.join(", "))
                    }
                    None => format!("{r}: dead"),
                })
                .collect()
        };
        let mut log = Vec::new();
        world.step_until(Instant(10_000_000));
        log.extend(states(&world));
        world.inject(&Event::Crash {
            router: "r1".into(),
        });
        world.step_until(Instant(20_000_000));
        log.extend(states(&world));
        world.inject(&Event::Restart {
            router: "r1".into(),
        });
        world.step_until(Instant(30_000_000));
        log.extend(states(&world));
        world.inject(&Event::Track {
            router: "r2".into(),
            id: HEALTH.into(),
            status: TrackStatus::Down,
        });
        world.step_until(Instant(40_000_000));
        log.extend(states(&world));
        assert!(world.violations().is_empty(), "{:?}", world.violations());
        insta::assert_snapshot!("sim_lab_timeline", log.join("\n"));
    }
}
