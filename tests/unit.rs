//! The systemd unit (assets/kaconsole.service): `systemd-analyze security --offline=true` at
//! 6.0 or better, `systemd-analyze verify` silent, and what the unit must say. Skipped only
//! when systemd-analyze is missing and CI is not set.

mod common;

use std::path::Path;
use std::process::Command;

fn unit() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/kaconsole.service"))
        .unwrap()
}

/// The unit in a scratch directory (its file name is the unit's name), with `/usr/sbin`
/// replaced by `bin` if given (verify checks that ExecStart's program exists).
fn unit_file(dir: &Path, bin: Option<&Path>) -> std::path::PathBuf {
    let mut text = unit();
    if let Some(bin) = bin {
        text = text.replace("/usr/sbin/kaconsole", bin.to_str().unwrap());
    }
    let p = dir.join("kaconsole.service");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_unit_says_what_the_daemon_needs() {
    let u = unit();
    for line in [
        "Type=notify",
        "RuntimeDirectory=kaconsole",
        "EnvironmentFile=-/etc/default/kaconsole",
        "ExecStart=/usr/sbin/kaconsole daemon --dont-fork ",
        "ExecReload=/usr/sbin/kaconsole reload",
        "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW ",
        "ReadWritePaths=-/etc/keepalived",
    ] {
        assert!(u.lines().any(|l| l.starts_with(line)), "{line}");
    }
    assert!(u.contains("$DAEMON_ARGS"));
    assert!(
        !u.contains("/usr/local"),
        "the package's path, not /usr/local"
    );
    // The pid file where the service may write (ProtectSystem=strict leaves /run read-only
    // but for the runtime directory).
    assert!(u.contains("-p /run/kaconsole/kaconsole.pid"));
}

#[test]
fn systemd_analyze_scores_the_unit_6_or_better_and_verify_is_silent() {
    let Some(analyze) = common::require_program("unit", "systemd-analyze") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = unit_file(dir.path(), None);
    let o = Command::new(&analyze)
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&path)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("{out}{}", String::from_utf8_lossy(&o.stderr)));
    let score: f64 = line
        .split(':')
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    assert!(score <= 6.0, "{line}");

    let path = unit_file(dir.path(), Some(&common::kaconsole()));
    let o = Command::new(&analyze)
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        o.status.success() && o.stdout.is_empty() && o.stderr.is_empty(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
