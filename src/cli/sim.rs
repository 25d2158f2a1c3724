//! `kaconsole sim`: many routers in virtual time, invariants checked.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant as WallClock;

use clap::Args;

use crate::sim::{self, BatchReport, GenOptions, trace};

#[derive(Args, Debug)]
pub struct SimArgs {
    /// How many generated scenarios to run.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub scenarios: u64,
    /// The seed of the run: the same seed runs the same scenarios.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Routers per scenario, as MIN..MAX (1 <= MIN <= MAX <= 64).
    #[arg(long, default_value = "2..8", value_name = "MIN..MAX", value_parser = parse_range)]
    pub routers: (usize, usize),
    /// Most packet loss in a scenario's chaotic phase, in percent.
    #[arg(long, default_value_t = 30.0, value_name = "PCT")]
    pub loss: f64,
    /// Write the trace (JSON lines) of the first scenario, or of the first that fails (without
    /// this option a failure's trace goes to the temporary directory).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Run the scenario of a trace again and compare it line by line.
    #[arg(long, value_name = "FILE", conflicts_with = "trace")]
    pub replay: Option<PathBuf>,
    /// Run only scenario N of the run (to trace a failure the summary named); N < --scenarios.
    #[arg(long, value_name = "N")]
    pub only: Option<u64>,
    /// Worker threads (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Test only: a MASTER ignores higher priorities, to show that the checks catch it.
    #[arg(long, hide = true)]
    pub sabotage: bool,
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("'{s}' is not MIN..MAX"))?;
    let a: usize = a.parse().map_err(|_| format!("'{a}' is not a number"))?;
    let b: usize = b.parse().map_err(|_| format!("'{b}' is not a number"))?;
    if a < 1 || b < a || b > 64 {
        return Err(format!("{s}: need 1 <= MIN <= MAX <= 64"));
    }
    Ok((a, b))
}

pub fn run(args: &SimArgs) -> ExitCode {
    if let Some(path) = &args.replay {
        return replay(path);
    }
    if !(0.0..=100.0).contains(&args.loss) {
        eprintln!(
            "kaconsole sim: --loss {}: a percentage is 0 to 100",
            args.loss
        );
        return ExitCode::from(2);
    }
    let opt = GenOptions {
        routers: args.routers,
        max_vrids: 4,
        max_loss: (args.loss * 10.0).round() as u32,
        sabotage: args
            .sabotage
            .then_some(crate::vrrp::instance::Sabotage::MasterIgnoresHigherPriority),
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let started = WallClock::now();
    let tty = std::io::stderr().is_terminal();
    let last = Mutex::new(WallClock::now());
    let progress = |done: u64| {
        let mut last = last.lock().expect("progress lock");
        if tty
            && (last.elapsed().as_millis() >= 200 || done == args.scenarios)
            && args.only.is_none()
        {
            *last = WallClock::now();
            eprint!(
                "\rsim: {done}/{} scenarios, {:.1} s",
                args.scenarios,
                started.elapsed().as_secs_f64()
            );
            let _ = std::io::stderr().flush();
        }
    };
    let (first, count) = match args.only {
        Some(i) if i >= args.scenarios => {
            eprintln!(
                "kaconsole sim: --only {i}: the run has scenarios 0 to {} (--scenarios {})",
                args.scenarios.saturating_sub(1),
                args.scenarios
            );
            return ExitCode::from(2);
        }
        Some(i) => (i, 1),
        None => (0, args.scenarios),
    };
    let report = sim::run_batch(args.seed, first, count, &opt, threads, &progress);
    let wall = started.elapsed().as_secs_f64();
    if tty {
        eprintln!();
    }
    // The trace asked for, or else the first failure's, so that it can be replayed.
    let failed = report.failures.first().map(|f| f.index);
    let trace_path = args.trace.clone().or_else(|| {
        failed.map(|i| std::env::temp_dir().join(format!("kaconsole-sim-{}-{i}.jsonl", args.seed)))
    });
    if let Some(path) = &trace_path {
        let index = failed.unwrap_or(first);
        let scenario = sim::generate(sim::scenario_seed(args.seed, index), &opt);
        if let Err(e) = write_trace(path, &scenario) {
            eprintln!("kaconsole sim: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    print_report(&report, wall, args.json);
    if let (Some(i), Some(path), false) = (failed, &trace_path, args.json) {
        let (seed, n, path) = (args.seed, args.scenarios, path.display());
        println!(
            "trace of the first failure (--seed {seed} --scenarios {n} --only {i}): {path}\nreplay it: kaconsole sim --replay {path}"
        );
    }
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn write_trace(path: &std::path::Path, scenario: &sim::Scenario) -> std::io::Result<()> {
    let out = sim::run(scenario, true);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for line in &out.trace {
        writeln!(f, "{}", line.to_json())?;
    }
    f.flush()
}

fn print_report(r: &BatchReport, wall: f64, json: bool) {
    let hours = r.router_time.as_micros() as f64 / 3.6e9;
    if json {
        let failures: Vec<serde_json::Value> = r
            .failures
            .iter()
            .map(|f| {
                serde_json::json!({
                    "index": f.index,
                    "seed": f.seed,
                    "violations": f.violations.iter().map(|v| serde_json::json!({
                        "at_us": v.at.0, "what": v.what
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let v = serde_json::json!({
            "scenarios": r.scenarios,
            "violations": r.violations(),
            "router_hours": hours,
            "wall_seconds": wall,
            "engine_inputs": r.inputs,
            "packets": r.packets,
            "failures": failures,
        });
        println!("{v}");
        return;
    }
    for f in &r.failures {
        println!("scenario {} (seed {:#x}):", f.index, f.seed);
        for v in &f.violations {
            println!("  at {}: {}", v.at, v.what);
        }
    }
    println!(
        "sim: {} scenarios, {} violations, {:.1} router-hours simulated in {:.1} s",
        r.scenarios,
        r.violations(),
        hours,
        wall
    );
}

fn replay(path: &std::path::Path) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("kaconsole sim: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let scenario = match trace::read_scenario(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kaconsole sim: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let out = sim::run(&scenario, true);
    match trace::compare(&text, &out.trace) {
        Ok(()) => {
            println!(
                "replay: {} lines identical, {} violations",
                out.trace.len(),
                out.violations.len()
            );
            if out.violations.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(d) => {
            println!("replay: differs at line {}", d.line);
            println!("  recorded: {}", d.recorded.as_deref().unwrap_or("(end)"));
            println!("  replayed: {}", d.replayed.as_deref().unwrap_or("(end)"));
            ExitCode::from(1)
        }
    }
}
