//! A deterministic simulator: many routers running the real VRRP engine in virtual time, on
//! segments with latency, jitter, loss, duplication and partitions, through the real codec,
//! with crashes, restarts, link and tracker flips, and invariants checked as it runs.
//!
//! Everything random comes from the scenario's seed, events at the same time keep their
//! order (a sequence number), so a scenario always runs the same way and a trace replays.

pub mod invariants;
pub mod scenario;
pub mod trace;
pub mod wire;
pub mod world;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

pub use scenario::{GenOptions, Scenario, generate};
pub use world::{Outcome, Violation, World};

use crate::time::Duration;

/// The seed of scenario `index` of a run started with `seed`.
pub fn scenario_seed(seed: u64, index: u64) -> u64 {
    crate::rng::Rng::new(seed ^ index.wrapping_mul(0xa076_1d64_78bd_642f)).next_u64()
}

/// Runs one scenario; with `trace`, the outcome holds every line.
pub fn run(scenario: &Scenario, trace: bool) -> Outcome {
    World::new(scenario, trace).run()
}

/// A failed scenario of a batch.
#[derive(Clone, Debug)]
pub struct Failure {
    pub index: u64,
    pub seed: u64,
    pub violations: Vec<Violation>,
}

/// The totals of a batch.
#[derive(Clone, Debug, Default)]
pub struct BatchReport {
    pub scenarios: u64,
    pub failures: Vec<Failure>,
    pub router_time: Duration,
    pub inputs: u64,
    pub packets: u64,
}

impl BatchReport {
    pub fn violations(&self) -> usize {
        self.failures.iter().map(|f| f.violations.len()).sum()
    }
}

/// Generates and runs scenarios `first..first + count` of the run `seed` on `threads` threads;
/// `progress` is called with the number done after each scenario.
pub fn run_batch(
    seed: u64,
    first: u64,
    count: u64,
    opt: &GenOptions,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> BatchReport {
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let report = Mutex::new(BatchReport::default());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let index = first + next.fetch_add(1, Ordering::Relaxed);
                    if index >= first + count {
                        break;
                    }
                    let sseed = scenario_seed(seed, index);
                    let scenario = generate(sseed, opt);
                    let out = run(&scenario, false);
                    {
                        let mut r = report.lock().expect("no panics while held");
                        r.scenarios += 1;
                        r.router_time = r.router_time + out.router_time;
                        r.inputs += out.inputs;
                        r.packets += out.packets;
                        if !out.violations.is_empty() {
                            r.failures.push(Failure {
                                index,
                                seed: sseed,
                                violations: out.violations,
                            });
                        }
                    }
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                }
            });
        }
    });
    let mut r = report.into_inner().expect("threads joined");
    r.failures.sort_by_key(|f| f.index);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scenario_of_a_run_has_its_own_seed_and_the_same_one_every_time() {
        assert_ne!(scenario_seed(1, 0), scenario_seed(1, 1));
        assert_ne!(scenario_seed(1, 0), scenario_seed(2, 0));
        assert_eq!(scenario_seed(7, 3), scenario_seed(7, 3));
    }
}
