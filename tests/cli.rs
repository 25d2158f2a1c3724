//! The command line: `kaconsole check`, `kaconsole daemon -t` and `kaconsole sim`, run as a user would.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CLEAN: &str = "vrrp_instance VI_1 {
    state BACKUP
    interface lo
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        10.1.1.1/24
    }
}
";

const WARNING_ONLY: &str = "vrrp_instance VI_1 {
    state BACKUP
    interface lo
    virtual_router_id 51
    priority 100
    authentication {
        auth_type PASS
        auth_pass 1234567890
    }
    virtual_ipaddress {
        10.1.1.1/24
    }
}
";

const WITH_ERROR: &str = "vrrp_instance VI_1 {
    state MASTRE
    interface lo
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        10.1.1.1/24
    }
}
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn kaconsole(args: &[&str]) -> Output {
    Command::new(common::kaconsole())
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn check_exit_status_is_0_clean_1_warnings_2_errors() {
    let d = tempfile::tempdir().unwrap();
    for (text, code) in [(CLEAN, 0), (WARNING_ONLY, 1), (WITH_ERROR, 2)] {
        let f = write(d.path(), "k.conf", text);
        let o = kaconsole(&["check", "--no-env", "-f", f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(code), "{}", stdout(&o));
    }
}

#[test]
fn check_reports_like_a_compiler() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "k.conf", WITH_ERROR);
    let o = kaconsole(&[
        "check",
        "--no-env",
        "--color",
        "never",
        "-f",
        f.to_str().unwrap(),
    ]);
    let out = stdout(&o);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "{}:2:11: error[invalid-value]: 'state': 'MASTRE' is not one of MASTER, BACKUP",
            f.display()
        )
    );
    assert!(
        out.contains(" 2 |     state MASTRE\n   |           ^^^^^^\n"),
        "{out}"
    );
    assert!(out.contains("help: did you mean 'MASTER'?"), "{out}");
    let last = out.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "{}: 1 error, 0 warnings (1 vrrp_instance, 0 virtual_servers)",
            f.display()
        )
    );
}

#[test]
fn check_json_prints_one_object_per_diagnostic() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "k.conf", WITH_ERROR);
    let o = kaconsole(&["check", "--no-env", "--json", "-f", f.to_str().unwrap()]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 1);
    let v = &lines[0];
    assert_eq!(v["severity"], "error");
    assert_eq!(v["code"], "invalid-value");
    assert_eq!(v["line"], 2);
    assert_eq!(v["column"], 11);
    assert_eq!(v["file"], f.to_str().unwrap());
    assert_eq!(v["help"], "did you mean 'MASTER'?");
}

#[test]
fn check_dump_prints_the_resolved_model() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "k.conf", CLEAN);
    let o = kaconsole(&["check", "--no-env", "--dump", "-f", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("the dump is JSON");
    let i = &v["vrrp_instances"][0];
    assert_eq!(i["name"], "VI_1");
    assert_eq!(i["priority"], 100);
    assert_eq!(i["version"], 2, "resolved from vrrp_version");
    assert_eq!(i["advert_int"], 1, "keepalived's default");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim_end(),
        format!("{}: OK (1 vrrp_instance, 0 virtual_servers)", f.display()),
        "the summary goes to stderr, leaving stdout to the JSON"
    );
}

#[test]
fn check_names_a_missing_file() {
    let o = kaconsole(&["check", "-f", "/nonexistent/keepalived.conf"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "keepalived -t exits 0 here; kaconsole does not"
    );
    assert!(stdout(&o).contains("cannot read configuration file /nonexistent/keepalived.conf"));
}

#[test]
fn check_config_id_selects_conditional_lines() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "k.conf",
        &CLEAN.replace("    priority 100\n", "@a  priority 100\n@b  priority 300\n"),
    );
    let a = kaconsole(&["check", "--no-env", "-i", "a", "-f", f.to_str().unwrap()]);
    let b = kaconsole(&["check", "--no-env", "-i", "b", "-f", f.to_str().unwrap()]);
    assert_eq!(a.status.code(), Some(0), "{}", stdout(&a));
    assert_eq!(b.status.code(), Some(2), "priority 300 is out of range");
}

#[test]
fn check_env_finds_missing_interfaces_and_no_env_skips_them() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "k.conf",
        &CLEAN.replace("interface lo", "interface kaconsole-nope0"),
    );
    let with_env = kaconsole(&["check", "--json", "-f", f.to_str().unwrap()]);
    assert_eq!(with_env.status.code(), Some(2));
    assert!(stdout(&with_env).contains("\"code\":\"no-interface\""));
    let no_env = kaconsole(&["check", "--no-env", "-f", f.to_str().unwrap()]);
    assert_eq!(no_env.status.code(), Some(0));
}

/// `daemon -t` always checks the machine, as keepalived -t does; `dynamic_interfaces` makes
/// the unknown interface used here a warning.
fn dynamic(text: &str) -> String {
    format!(
        "global_defs {{\n    dynamic_interfaces\n}}\n{}",
        text.replace("interface lo", "interface kac-dyn0")
    )
}

#[test]
fn daemon_t_uses_keepalived_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    let clean = write(d.path(), "clean.conf", &dynamic(CLEAN));
    let warn = write(d.path(), "warn.conf", &dynamic(WARNING_ONLY));
    let bad = write(d.path(), "bad.conf", &dynamic(WITH_ERROR));
    let noif = write(
        d.path(),
        "noif.conf",
        &CLEAN.replace("interface lo", "interface kaconsole-nope0"),
    );
    let lo = write(d.path(), "lo.conf", CLEAN);
    let run = |f: &Path| {
        let o = kaconsole(&["daemon", "-t", "-f", f.to_str().unwrap()]);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // keepalived -t also exits 5 on warnings; kaconsole daemon -t does not fail on them.
    assert_eq!(run(&clean).0, Some(0), "{}", run(&clean).1);
    assert_eq!(run(&warn).0, Some(0), "{}", run(&warn).1);
    assert!(
        run(&warn).1.contains("auth_pass is longer than 8"),
        "warnings are still printed"
    );
    assert_eq!(run(&bad).0, Some(5));
    // As keepalived: a missing interface is a general error (5); only files that cannot be
    // read make 4 (where keepalived itself exits 0 for a missing main file).
    assert_eq!(run(&noif).0, Some(5));
    assert_eq!(run(Path::new("/nonexistent.conf")).0, Some(4));
    let (c, err) = run(&lo);
    assert_eq!(c, Some(5), "VRRP refuses the loopback interface: {err}");
    assert!(err.contains("loopback"), "{err}");
    // A script others can write, run as root: keepalived's security class, 6.
    use std::os::unix::fs::PermissionsExt;
    let script = write(d.path(), "chk.sh", "#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o777)).unwrap();
    let insecure = write(
        d.path(),
        "insecure.conf",
        &dynamic(&format!(
            "global_defs {{\n    enable_script_security\n    script_user root\n}}\nvrrp_script chk {{\n    script \"{}\"\n}}\n{}",
            script.display(),
            CLEAN.replace(
                "priority 100",
                "priority 100\n    track_script {\n        chk\n    }"
            )
        )),
    );
    let (c, err) = run(&insecure);
    assert_eq!(c, Some(6), "{err}");
    assert!(err.contains("insecure-script"), "{err}");
}

#[test]
fn daemon_t_writes_to_the_log_file_when_given() {
    let d = tempfile::tempdir().unwrap();
    let bad = write(d.path(), "bad.conf", &dynamic(WITH_ERROR));
    let log = d.path().join("test.log");
    let arg = format!("--config-test={}", log.display());
    let o = kaconsole(&["daemon", &arg, "-f", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("error[invalid-value]"), "{text}");
}

#[test]
fn daemon_accepts_keepalived_flags_and_refuses_a_missing_config() {
    // keepalived's run-time exit codes: 2 configuration, 4 missing permission.
    let o = kaconsole(&["daemon", "-n", "-l", "-D", "-P", "-f", "/nonexistent"]);
    let expected = if common::is_root() { 2 } else { 4 };
    assert_eq!(
        o.status.code(),
        Some(expected),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    if common::is_root() {
        assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent"));
    }
    let o = kaconsole(&["daemon", "--bogus"]);
    assert_eq!(o.status.code(), Some(2), "clap rejects unknown flags");
    let o = kaconsole(&["daemon", "-v"]);
    assert!(stdout(&o).starts_with("kaconsole "));
    // -g takes an optional file, as in keepalived.
    let o = kaconsole(&["daemon", "-g", "-n", "-f", "/nonexistent"]);
    assert_eq!(
        o.status.code(),
        Some(expected),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn daemon_signum_answers_as_keepalived() {
    let test = "daemon_signum_answers_as_keepalived";
    let Some(keepalived) = common::require_program(test, "keepalived") else {
        return;
    };
    for f in [
        "STOP",
        "RELOAD",
        "DATA",
        "STATS",
        "STATS_CLEAR",
        "JSON",
        "NOPE",
    ] {
        let ka = Command::new(&keepalived)
            .arg(format!("--signum={f}"))
            .output()
            .unwrap();
        let kc = kaconsole(&["daemon", &format!("--signum={f}")]);
        assert_eq!(kc.status.code(), ka.status.code(), "{f}");
        assert_eq!(stdout(&kc), String::from_utf8_lossy(&ka.stdout), "{f}");
    }
}

#[test]
fn the_readme_screenshot_is_current() {
    // screenshots/check-mistakes.txt is shown in the README; it must be what check prints.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = Command::new(common::kaconsole())
        .current_dir(root)
        .args([
            "check",
            "-f",
            "assets/demo/mistakes.conf",
            "--no-env",
            "--color",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let expected = std::fs::read_to_string(root.join("screenshots/check-mistakes.txt")).unwrap();
    assert_eq!(
        stdout(&o),
        expected,
        "regenerate: kaconsole check -f assets/demo/mistakes.conf --no-env --color never > screenshots/check-mistakes.txt"
    );
}

#[test]
fn sim_prints_its_summary_and_exits_0_without_violations() {
    let o = kaconsole(&["sim", "--scenarios", "40", "--seed", "9", "--threads", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("sim: 40 scenarios, 0 violations, ")
            && last.contains(" router-hours simulated in "),
        "{last}"
    );
    let json = kaconsole(&["sim", "--scenarios", "5", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (v["scenarios"].as_u64(), v["violations"].as_u64()),
        (Some(5), Some(0))
    );
    assert!(v["router_hours"].as_f64().unwrap() > 0.0);
}

#[test]
fn sim_trace_replays_and_a_changed_trace_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let t = trace.to_str().unwrap();
    let o = kaconsole(&["sim", "--seed", "5", "--only", "3", "--trace", t]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("sim: 1 scenarios, 0 violations"));
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.lines().count() > 10 && text.starts_with("{\"scenario\":"));
    let o = kaconsole(&["sim", "--replay", t]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("replay: ") && stdout(&o).contains("lines identical"));

    // A trace whose outputs were edited no longer replays.
    let edited = text.replacen("\"to\":\"MASTER\"", "\"to\":\"FAULT\"", 1);
    assert_ne!(edited, text);
    std::fs::write(&trace, edited).unwrap();
    let o = kaconsole(&["sim", "--replay", t]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("replay: differs at line"),
        "{}",
        stdout(&o)
    );
    assert!(
        !stdout(&o).contains("at line 1\n"),
        "the scenario line is intact"
    );

    let o = kaconsole(&["sim", "--routers", "5..2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("MIN <= MAX"));
}

#[test]
fn sim_replays_the_golden_traces() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sim");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let o = kaconsole(&["sim", "--replay", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), stdout(&o));
        n += 1;
    }
    assert_eq!(n, 12);
}

#[test]
fn sim_reports_a_broken_engine_with_the_failures_trace() {
    // --sabotage (hidden, test only) runs an engine whose MASTER ignores higher priorities.
    let o = kaconsole(&["sim", "--scenarios", "30", "--seed", "11", "--sabotage"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let summary = out
        .lines()
        .find(|l| l.starts_with("sim: 30 scenarios, "))
        .unwrap();
    assert!(!summary.contains(" 0 violations"), "{summary}");
    let path = out
        .lines()
        .find_map(|l| l.strip_prefix("replay it: kaconsole sim --replay "))
        .expect("the failure's trace is named");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains("\"violation\":"),
        "the trace records the violation"
    );
    std::fs::remove_file(path).unwrap();
}
