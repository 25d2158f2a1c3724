//! Differential test against the real keepalived: `keepalived -t` and `kaconsole check` on
//! keepalived's own sample configurations and on tests/data/broken, both run in the same
//! throwaway network namespace (interfaces lo and eth0..eth3).
//!
//! For every configuration:
//! - the verdicts agree: keepalived exits non-zero exactly when kaconsole reports a problem;
//! - every `(FILE: Line N)` keepalived reports, kaconsole reports on line N of FILE too.
//!
//! Where kaconsole deliberately differs, the difference is named: in a broken configuration by
//! an annotation (`#@ keepalived-only LINES: REASON`, `#@ verdict-differs: REASON`), for the
//! samples in [`SAMPLE_DIFFERENCES`]. REASON must be one of [`REASONS`]. An annotation that no
//! longer describes a real difference fails the test too.
//!
//! Where both find errors, `kaconsole daemon -t` must exit with keepalived -t's status
//! (4/5/6) unless annotated `#@ exit-differs: REASON`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::NetNs;

/// The deliberate differences, and why.
const REASONS: &[(&str, &str)] = &[
    (
        "unknown-block",
        "keepalived reads the lines of an unknown block as keywords and lets its '}' close the \
         enclosing block, so it reports every line after it; kaconsole reports the unknown \
         keyword once and skips its block",
    ),
    (
        "missing-brace",
        "a missing '}' makes keepalived read the following blocks at the wrong level and report \
         their lines; kaconsole reports the block left open and resumes at the next top-level block",
    ),
    (
        "warnings-pass",
        "keepalived -t fails on warnings too (exit 5; 6 whenever scripts exist without \
         enable_script_security); kaconsole check reports them (exit 1, the same verdict) but \
         daemon -t passes, failing only on errors. Applied by rule to every configuration with \
         warnings and no errors",
    ),
    (
        "stricter",
        "kaconsole reports a problem keepalived 2.2 accepts silently (e.g. a flag given 'off' \
         that keepalived turns on, a route it cannot track, a value it rounds)",
    ),
    (
        "include-loop",
        "keepalived has no include loop detection: it recurses until it runs out of file \
         descriptors and reports the include line of every level",
    ),
    (
        "log-only",
        "keepalived only logs this problem (never shown by -t, exit status 0); kaconsole reports it",
    ),
    (
        "keepalived-crashes",
        "keepalived -t crashes on this configuration (SIGSEGV), so it has no exit status to match",
    ),
    (
        "missing-script",
        "kaconsole checks that notify and checker scripts exist; keepalived -t does not (it only \
         logs at run time that it disables them)",
    ),
];

/// Known differences on keepalived's sample configurations.
/// (file name, keepalived-only lines with their reason, reason the verdicts differ)
type SampleDifference = (
    &'static str,
    &'static [(u32, &'static str)],
    Option<&'static str>,
);

const SAMPLE_DIFFERENCES: &[SampleDifference] = &[
    // Uses the deprecated SMTP_CHECK host block, which keepalived only logs.
    ("keepalived.conf.SMTP_CHECK", &[], Some("log-only")),
    // Name scripts that do not exist on this machine.
    ("keepalived.conf.misc_check", &[], Some("missing-script")),
    (
        "keepalived.conf.misc_check_arg",
        &[],
        Some("missing-script"),
    ),
    ("keepalived.conf.quorum", &[], Some("missing-script")),
    ("keepalived.conf.vrrp.scripts", &[], Some("missing-script")),
    ("keepalived.conf.vrrp.sync", &[], Some("missing-script")),
];

struct KeepalivedRun {
    code: i32,
    /// (file, line) of each located message.
    lines: BTreeSet<(PathBuf, u32)>,
    output: String,
}

/// keepalived prints file names relative to the directory of the including file; find the
/// file among those kaconsole read (same name), else relative to the main file.
fn resolve(name: &str, config: &Path, known: &BTreeSet<(PathBuf, u32)>) -> PathBuf {
    if name.is_empty() {
        return canonical(config);
    }
    let direct = config.parent().unwrap().join(name);
    if direct.exists() {
        return canonical(&direct);
    }
    let base = Path::new(name).file_name();
    known
        .iter()
        .map(|(p, _)| p)
        .find(|p| p.file_name() == base)
        .cloned()
        .unwrap_or_else(|| canonical(config))
}

fn keepalived_test(ns: &NetNs, config: &Path, known: &BTreeSet<(PathBuf, u32)>) -> KeepalivedRun {
    let mut cmd = Command::new("ip");
    cmd.args([
        "netns",
        "exec",
        &ns.name,
        "timeout",
        "60",
        // keepalived follows an include loop until it runs out of file descriptors, so
        // its output depends on RLIMIT_NOFILE: with CI's large limit it recurses until
        // its stack overflows. Pin the limit so the comparison is the same everywhere.
        "prlimit",
        "--nofile=1024:1024",
        "keepalived",
        "-t",
        "-l",
        "-i",
        "kactest",
        "-f",
    ])
    .arg(config);
    // Descriptors inherited from whoever started the tests (a CI runner leaves some open)
    // shift where the include loop runs out; start keepalived with only 0, 1 and 2.
    // SAFETY: close(2) is async-signal-safe and touches no memory.
    unsafe {
        cmd.pre_exec(|| {
            for fd in 3..1024 {
                nix::libc::close(fd);
            }
            Ok(())
        });
    }
    let out = cmd.output().expect("keepalived");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let mut lines = BTreeSet::new();
    for l in text.lines() {
        // "(FILE: Line N) message" or "(Line N) message"
        let Some(rest) = l.strip_prefix('(') else {
            continue;
        };
        let Some((loc, _)) = rest.split_once(')') else {
            continue;
        };
        let (file, n) = match loc.rsplit_once("Line ") {
            Some((f, n)) => (f.trim_end_matches(": ").trim(), n),
            None => continue,
        };
        let Ok(n) = n.parse::<u32>() else { continue };
        lines.insert((resolve(file, config, known), n));
    }
    KeepalivedRun {
        code: out.status.code().unwrap_or(-1),
        lines,
        output: text,
    }
}

struct KaconsoleRun {
    code: i32,
    lines: BTreeSet<(PathBuf, u32)>,
    output: String,
}

fn kaconsole_check(ns: &NetNs, config: &Path) -> KaconsoleRun {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(common::kaconsole())
        .args(["check", "--json", "-i", "kactest", "-f"])
        .arg(config)
        .output()
        .expect("kaconsole");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = BTreeSet::new();
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("JSON lines");
        if let (Some(f), Some(n)) = (v["file"].as_str(), v["line"].as_u64()) {
            lines.insert((canonical(Path::new(f)), n as u32));
        }
    }
    KaconsoleRun {
        code: out.status.code().unwrap_or(-1),
        lines,
        output: text,
    }
}

/// Collapses runs of one repeated line (an include loop prints thousands) to one line + count.
fn squeeze_repeats(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut last: Option<(&str, usize)> = None;
    for line in text.lines().chain(std::iter::once("\0")) {
        match &mut last {
            Some((prev, n)) if *prev == line => *n += 1,
            _ => {
                if let Some((prev, n)) = last {
                    out.push(if n > 1 {
                        format!("{prev}   [x{n}]")
                    } else {
                        prev.to_string()
                    });
                }
                last = Some((line, 1));
            }
        }
    }
    out.join("\n")
}

/// `kaconsole daemon -t`'s exit status (keepalived's 0/4/5/6).
fn kaconsole_daemon_t(ns: &NetNs, config: &Path) -> i32 {
    Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(common::kaconsole())
        .args(["daemon", "-t", "-i", "kactest", "-f"])
        .arg(config)
        .output()
        .expect("kaconsole")
        .status
        .code()
        .unwrap_or(-1)
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Annotations of a broken configuration.
fn annotations(config: &Path) -> (BTreeMap<u32, String>, Option<String>, Option<String>) {
    let text = std::fs::read_to_string(config).unwrap_or_default();
    let mut only = BTreeMap::new();
    let mut verdict = None;
    let mut exit = None;
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("#@ keepalived-only ") {
            let (lines, reason) = rest
                .split_once(':')
                .expect("#@ keepalived-only LINES: REASON");
            for n in lines.split_whitespace() {
                only.insert(n.parse().expect("line number"), reason.trim().to_string());
            }
        } else if let Some(reason) = l.strip_prefix("#@ verdict-differs:") {
            verdict = Some(reason.trim().to_string());
        } else if let Some(reason) = l.strip_prefix("#@ exit-differs:") {
            exit = Some(reason.trim().to_string());
        }
    }
    (only, verdict, exit)
}

#[test]
fn check_agrees_with_keepalived_t() {
    let test = "check_agrees_with_keepalived_t";
    if !common::require_root(test) || common::require_program(test, "keepalived").is_none() {
        return;
    }
    let samples = common::keepalived_samples(test);
    let ns = NetNs::with_interfaces(4);
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut used_reasons = BTreeSet::new();
    for config in samples.iter().chain(common::broken_configs().iter()) {
        let name = config.file_name().unwrap().to_string_lossy().into_owned();
        let (only, verdict_reason, exit_reason) =
            match SAMPLE_DIFFERENCES.iter().find(|(n, _, _)| *n == name) {
                Some((_, lines, v)) => (
                    lines.iter().map(|(l, r)| (*l, r.to_string())).collect(),
                    v.map(str::to_string),
                    None,
                ),
                None => annotations(config),
            };
        for reason in only.values().chain(&verdict_reason).chain(&exit_reason) {
            assert!(
                REASONS.iter().any(|(r, _)| r == reason),
                "{name}: unknown reason '{reason}'"
            );
            used_reasons.insert(reason.clone());
        }
        let kc = kaconsole_check(&ns, config);
        let ka = keepalived_test(&ns, config, &kc.lines);
        compared += 1;
        let main = canonical(config);
        let mut problems = Vec::new();

        let ka_bad = ka.code != 0;
        let kc_bad = kc.code != 0;
        match (&verdict_reason, ka_bad == kc_bad) {
            (None, false) => problems.push(format!(
                "verdicts differ: keepalived exit {}, kaconsole exit {}",
                ka.code, kc.code
            )),
            (Some(r), true) => problems.push(format!(
                "annotated verdict difference ({r}) no longer exists"
            )),
            _ => {}
        }
        // daemon -t exits as keepalived -t does (4/5/6), except that warnings pass.
        if ka_bad && verdict_reason.is_none() {
            let dt = kaconsole_daemon_t(&ns, config);
            let warnings_only = kc.code == 1;
            if warnings_only {
                used_reasons.insert("warnings-pass".to_string());
            }
            let expected = if warnings_only { 0 } else { ka.code };
            match (dt == expected, &exit_reason) {
                (false, None) => problems.push(format!(
                    "exit status differs: keepalived -t {}, kaconsole daemon -t {dt} (expected {expected})",
                    ka.code
                )),
                (true, Some(r)) => problems.push(format!(
                    "annotated exit difference ({r}) no longer exists"
                )),
                _ => {}
            }
        }
        for (file, line) in &ka.lines {
            let covered = kc.lines.contains(&(file.clone(), *line));
            let excused = file == &main && only.contains_key(line);
            if !covered && !excused {
                problems.push(format!(
                    "keepalived reports {}:{line}, kaconsole does not",
                    file.file_name().unwrap().to_string_lossy()
                ));
            }
        }
        let keepalived_only = |line: &u32| {
            ka.lines.contains(&(main.clone(), *line)) && !kc.lines.contains(&(main.clone(), *line))
        };
        for (line, reason) in &only {
            // Where an include loop runs out of descriptors (the include line in one file or
            // the other) depends on how many keepalived holds open itself, so of the lines
            // annotated include-loop one must be keepalived-only, not each.
            let real = if reason == "include-loop" {
                only.iter()
                    .filter(|(_, r)| *r == reason)
                    .any(|(l, _)| keepalived_only(l))
            } else {
                keepalived_only(line)
            };
            if !real {
                problems.push(format!(
                    "annotation 'keepalived-only {line}' does not describe a real difference"
                ));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name}:\n  {}\n  keepalived (exit {}):\n    {}\n  kaconsole (exit {}):\n    {}",
                problems.join("\n  "),
                ka.code,
                squeeze_repeats(ka.output.trim()).replace('\n', "\n    "),
                kc.code,
                kc.output.trim().replace('\n', "\n    ")
            ));
        }
    }
    assert!(compared >= 30, "compared only {compared} configurations");
    let unused: Vec<_> = REASONS
        .iter()
        .filter(|(r, _)| !used_reasons.contains(*r))
        .map(|(r, _)| r)
        .collect();
    assert!(
        unused.is_empty(),
        "reasons no configuration uses: {unused:?}"
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// The one difference that is not about a configuration's contents: keepalived -t passes when
/// the `-f` file does not exist; kaconsole fails (check 2, daemon -t 4, keepalived's status for
/// a configuration that cannot be read).
#[test]
fn a_missing_main_file_fails_where_keepalived_passes() {
    let test = "a_missing_main_file_fails_where_keepalived_passes";
    let Some(keepalived) = common::require_program(test, "keepalived") else {
        return;
    };
    let missing = "/nonexistent-kaconsole-test/keepalived.conf";
    let ka = Command::new(keepalived)
        .args(["-t", "-f", missing])
        .output()
        .expect("keepalived");
    assert_eq!(ka.status.code(), Some(0), "keepalived -t on a missing file");
    let status = |args: &[&str]| {
        Command::new(common::kaconsole())
            .args(args)
            .output()
            .expect("kaconsole")
            .status
            .code()
    };
    assert_eq!(status(&["check", "-f", missing]), Some(2));
    assert_eq!(status(&["daemon", "-t", "-f", missing]), Some(4));
}
