//! Parse + validate benchmark, kaconsole beside `keepalived -t`.
//!
//! `cargo bench --bench config_parse` generates two configurations - the man page's `~SEQ`
//! example (65,024 VRRP instances, 975,363 lines once expanded) and a flat
//! 10,000-line file - and times the reader on each: in process (parse + validate, median of
//! several runs), and as `kaconsole check --no-env` from process start to exit. When
//! keepalived is installed it times `keepalived -t` on the same files, start to exit, and
//! prints the ratio of the two command lines.
//!
//! `cargo bench --bench config_parse -- --emit DIR` only writes the files (for
//! benches/keepalived_vs_kaconsole.sh, which times both command lines with hyperfine).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kaconsole::config::{self, LoadOptions};

/// The keepalived.conf(5) example: 8 x 32 x 254 instances, each with a track_file.
/// `dynamic_interfaces` lets keepalived validate all of them although the bond interfaces do
/// not exist, so both programs do the whole job.
fn seq_65k() -> String {
    r#"global_defs {
    dynamic_interfaces
}

$VI4= \
track_file offset_instance_4.${IF}.${NUM}.${ID} { \
    file "/run/kaconsole-bench/4.${IF}.${NUM}.${ID}" \
    weight -100 \
} \
vrrp_instance vrrp4.${IF}.${NUM}.${ID} { \
    interface bond${IF}.${NUM} \
    virtual_router_id ${ID} \
    priority 130 \
    virtual_ipaddress { \
        10.${IF}.${NUM}.${ID}/24 \
    } \
    track_file { \
        offset_instance_4.${IF}.${NUM}.${ID} \
    } \
}

~SEQ(IF,0,7) ~SEQ(NUM,0,31) ~SEQ(ID,1,254) $VI4
"#
    .to_string()
}

/// 10,000 lines written out: global settings, scripts, and 433 instances of 23 lines.
fn flat_10k() -> String {
    let mut s = String::from(
        "global_defs {\n    router_id bench\n    dynamic_interfaces\n    vrrp_garp_master_delay 1\n}\n",
    );
    for n in 0..8 {
        let _ = write!(
            s,
            "vrrp_script chk_{n} {{\n    script \"/bin/true {n}\"\n    interval 2\n    weight -10\n}}\n"
        );
    }
    let mut i = 0;
    while s.lines().count() < 10_000 {
        let ifname = format!("vlan{}", i / 200);
        let vrid = i % 200 + 1;
        let _ = write!(
            s,
            "vrrp_instance VI_{i} {{\n    state BACKUP\n    interface {ifname}\n    virtual_router_id {vrid}\n    priority {}\n    advert_int 1\n    authentication {{\n        auth_type PASS\n        auth_pass pw{vrid}\n    }}\n    virtual_ipaddress {{\n        10.{}.{}.1/24 dev {ifname}\n        10.{}.{}.2/24 dev {ifname}\n    }}\n    track_script {{\n        chk_{}\n    }}\n    notify_master \"/etc/keepalived/notify.sh master {i}\"\n    notify_backup \"/etc/keepalived/notify.sh backup {i}\"\n    garp_master_repeat 3\n    preempt_delay 5\n    smtp_alert\n}}\n",
            100 + i % 100,
            i / 250,
            i % 250,
            i / 250,
            i % 250,
            i % 8
        );
        i += 1;
    }
    s
}

struct Case {
    name: &'static str,
    text: String,
    runs: usize,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "seq-65024-instances",
            text: seq_65k(),
            runs: 5,
        },
        Case {
            name: "flat-10k-lines",
            text: flat_10k(),
            runs: 20,
        },
    ]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_kaconsole(path: &Path, runs: usize) -> (Duration, usize, usize) {
    let opts = LoadOptions {
        random_seed: Some(1),
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut instances = 0;
    let mut errors = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let loaded = config::load(path, &opts, None);
        times.push(t.elapsed());
        instances = loaded.config.vrrp_instances.len();
        errors = loaded.count(config::Severity::Error);
        drop(loaded);
    }
    (median(times), instances, errors)
}

/// A command's time on the file (process start to exit, like `time`), or `Err(limit)` when it
/// takes longer than the limit (KACONSOLE_BENCH_KEEPALIVED_LIMIT seconds, default 120: on the
/// 65,024-instance file keepalived -t runs for many minutes).
fn time_command(
    program: &str,
    args: &[&str],
    path: &Path,
    runs: usize,
) -> Option<Result<Duration, Duration>> {
    let limit = Duration::from_secs(
        std::env::var("KACONSOLE_BENCH_KEEPALIVED_LIMIT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(120),
    );
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut child = Command::new(program)
            .args(args)
            .arg(path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        loop {
            if child.try_wait().ok()?.is_some() {
                break;
            }
            if t.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                return Some(Err(limit));
            }
            // Fine-grained, so that polling does not inflate times of a few milliseconds.
            std::thread::sleep(Duration::from_micros(100));
        }
        times.push(t.elapsed());
    }
    Some(Ok(median(times)))
}

fn emit(dir: &Path) -> Vec<(Case, PathBuf)> {
    std::fs::create_dir_all(dir).expect("bench directory");
    cases()
        .into_iter()
        .map(|c| {
            let p = dir.join(format!("{}.conf", c.name));
            std::fs::write(&p, &c.text).expect("write bench config");
            (c, p)
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--emit") {
        let dir = PathBuf::from(args.get(i + 1).expect("--emit DIR"));
        for (_, p) in emit(&dir) {
            println!("{}", p.display());
        }
        return;
    }
    // cargo bench passes --bench; cargo test --benches passes nothing: keep that run short.
    let quick = !args.iter().any(|a| a == "--bench");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("config_parse");
    let keepalived = !quick
        && Command::new("keepalived")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success() || !o.stderr.is_empty());
    println!(
        "{:<22} {:>9} {:>9} {:>16} {:>17} {:>15} {:>9}",
        "configuration",
        "instances",
        "lines",
        "kaconsole load",
        "kaconsole check",
        "keepalived -t",
        "speedup"
    );
    for (case, path) in emit(&dir) {
        let runs = if quick { 1 } else { case.runs };
        let (t, instances, errors) = time_kaconsole(&path, runs);
        assert_eq!(
            errors, 0,
            "{}: the generated configuration should be valid",
            case.name
        );
        let lines = expanded_lines(&case.text, instances);
        // Both command lines, process start to exit: the fair comparison.
        let kc = time_command(
            env!("CARGO_BIN_EXE_kaconsole"),
            &["check", "--no-env", "-f"],
            &path,
            runs,
        )
        .and_then(Result::ok)
        .unwrap_or(t);
        let ka = if keepalived {
            time_command("keepalived", &["-t", "-f"], &path, runs.min(3))
        } else {
            None
        };
        let (ka_text, ratio) = match ka {
            None => ("-".to_string(), "-".to_string()),
            Some(Ok(k)) => (
                fmt(k),
                format!("{:.1}x", k.as_secs_f64() / kc.as_secs_f64()),
            ),
            Some(Err(limit)) => (
                format!("> {}", fmt(limit)),
                format!("> {:.0}x", limit.as_secs_f64() / kc.as_secs_f64()),
            ),
        };
        println!(
            "{:<22} {:>9} {:>9} {:>16} {:>17} {:>15} {:>9}",
            case.name,
            instances,
            lines,
            fmt(t),
            fmt(kc),
            ka_text,
            ratio
        );
    }
    if !keepalived && !quick {
        println!("(keepalived is not installed: apt-get install keepalived to compare)");
    }
}

/// Lines read after expansion: the flat file's own; for the ~SEQ file, its definition's body
/// once per instance, and the lines around it.
fn expanded_lines(text: &str, instances: usize) -> usize {
    if !text.contains("~SEQ") {
        return text.lines().count();
    }
    let body = text
        .lines()
        .skip_while(|l| !l.starts_with('$'))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .count();
    let outside = text
        .lines()
        .take_while(|l| !l.starts_with('$'))
        .filter(|l| !l.is_empty())
        .count();
    instances * body + outside
}

fn fmt(d: Duration) -> String {
    if d.as_secs_f64() >= 1.0 {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}
