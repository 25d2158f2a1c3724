//! VRRP engine and simulator throughput.
//!
//! `cargo bench --bench vrrp_engine` measures:
//! - engine inputs per second: a BACKUP taking real advert packets (IP header parsed, every
//!   receive check, the state machine) and a MASTER's advert timer (advert built);
//! - the simulator: 500 routers (50 segments of 10, one VRID each, v2, 1 s adverts) for one
//!   hour of virtual time, in simulated router-seconds per wall second.
//!
//! There is no keepalived counterpart: keepalived has neither a sans-IO engine nor a
//! simulator. Results go to the README by hand.

use std::hint::black_box;
use std::net::IpAddr;
use std::time::Instant as WallClock;

use kaconsole::sim::scenario::{RouterSpec, Scenario, SegmentSpec};
use kaconsole::sim::{self, wire};
use kaconsole::time::{Duration, Instant};
use kaconsole::vrrp::engine::Engine;
use kaconsole::vrrp::event::{Input, Output};
use kaconsole::vrrp::instance_config::InstanceConfig;
use kaconsole::vrrp::packet::Advert;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn config(priority: u8, src: &str) -> InstanceConfig {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51, priority, ip(src));
    c.vips = vec![ip("10.0.0.100")];
    c
}

/// Median of `runs` timings of `f`, which does `n` inputs; returns inputs per second.
fn rate(runs: usize, n: u64, mut f: impl FnMut()) -> f64 {
    let mut secs: Vec<f64> = (0..runs)
        .map(|_| {
            let t = WallClock::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    secs.sort_by(f64::total_cmp);
    n as f64 / secs[runs / 2]
}

fn backup_rx() -> f64 {
    let peer = config(200, "10.0.0.3");
    let advert = Advert {
        version: peer.version,
        vrid: 51,
        priority: 200,
        interval: peer.adver_int,
        auth: None,
        addrs: peer.vips.clone(),
    };
    let bytes = wire::encode(&peer, &advert, None, peer.mcast_dst);
    let n = 200_000;
    rate(5, n, || {
        let mut e = Engine::new(vec![config(100, "10.0.0.2")], vec![]).unwrap();
        let mut out = Vec::new();
        e.handle(Input::Start, Instant::ZERO, &mut out);
        for k in 1..=n {
            out.clear();
            let rx = wire::decode(&bytes).unwrap();
            e.handle(
                Input::Packet {
                    interface: "eth0".into(),
                    rx,
                },
                Instant(k * 1_000),
                &mut out,
            );
            black_box(&out);
        }
    })
}

fn master_tx() -> f64 {
    let n = 200_000;
    rate(5, n, || {
        let mut c = config(255, "10.0.0.2");
        c.initial_master = true;
        let mut e = Engine::new(vec![c], vec![]).unwrap();
        let mut out = Vec::new();
        e.handle(Input::Start, Instant::ZERO, &mut out);
        for _ in 0..n {
            out.clear();
            let at = e.poll_timeout().unwrap();
            e.handle(Input::Timeout, at, &mut out);
            assert!(matches!(out[0].output, Output::Send { .. }));
        }
    })
}

fn five_hundred_routers() -> Scenario {
    let segments = (0..50)
        .map(|s| SegmentSpec {
            name: format!("seg{s}"),
            latency: Duration::micros(200),
            jitter: Duration::micros(100),
            loss: 0,
            dup: 0,
        })
        .collect();
    let routers = (0..500)
        .map(|r| {
            let (s, h) = (r / 10, r % 10 + 1);
            let mut c = config(100 + h as u8, &format!("10.{}.{}.{h}", s / 200, s % 200));
            c.vips = vec![ip(&format!("10.{}.{}.100", s / 200, s % 200))];
            RouterSpec {
                name: format!("r{r}"),
                instances: vec![c],
                groups: vec![],
                links: vec![("eth0".into(), format!("seg{s}"))],
            }
        })
        .collect();
    Scenario {
        name: "500-routers-1h".into(),
        seed: 1,
        duration: Duration::secs(3600),
        segments,
        routers,
        events: vec![],
        quiet_from: Some(Instant::ZERO),
        expect: vec![],
        sabotage: None,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("vrrp_engine: bench");
        return;
    }
    println!("VRRP engine (median of 5 runs)");
    println!(
        "  BACKUP, real advert packets in:  {:>12.0} inputs/s",
        backup_rx()
    );
    println!(
        "  MASTER, advert timer:            {:>12.0} inputs/s",
        master_tx()
    );
    let s = five_hundred_routers();
    eprintln!("simulating 500 routers for 1 h of virtual time ...");
    let t = WallClock::now();
    let out = sim::run(&s, false);
    let wall = t.elapsed().as_secs_f64();
    assert!(out.violations.is_empty(), "{:?}", out.violations);
    let router_secs = out.router_time.as_micros() as f64 / 1e6;
    println!("Simulator: 500 routers x 1 h virtual time");
    println!(
        "  {wall:.2} s wall, {} engine inputs, {} packets",
        out.inputs, out.packets
    );
    println!(
        "  {:>12.0} router-seconds per wall second ({:.0}x real time for the whole network)",
        router_secs / wall,
        3600.0 / wall
    );
}
