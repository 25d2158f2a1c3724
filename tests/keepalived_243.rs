//! keepalived 2.4.3 (built from the vendored source) and `kaconsole check` agree on the
//! verdict for the 2.4-era configurations of tests/data/keepalived-2.4, run side by side in a
//! throwaway network namespace with eth0, with the same environment (`${_ENV ...}`).
//!
//! The verdict: keepalived -t exits 0, or not; kaconsole finds nothing, or something - not
//! counting its own two warnings, that a keyword is newer than 2.2.7 (`newer-keyword`) or not
//! acted on (`not-implemented`), which keepalived 2.4.3 has no reason to give. A file whose
//! verdicts differ on purpose says why on a `#@ verdict-differs: REASON` line.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::NetNs;

const NOTICES: &[&str] = &["newer-keyword", "not-implemented"];

fn env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("KH_ROUTER_ID", "lb-2".to_string()),
        ("KH_VIP", "10.1.2.3/24".to_string()),
        ("KH_DIR", dir.join("inc").display().to_string()),
    ]
}

fn run_in(ns: &NetNs, program: &Path, args: &[&str], env: &[(&str, String)]) -> (i32, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("KH_NOT_SET")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn keepalived_2_4_3_and_check_agree_on_2_4_configurations() {
    if !common::require_root("keepalived_2_4_3_and_check_agree_on_2_4_configurations") {
        return;
    }
    let Some(ka) = common::ka243::keepalived_243("keepalived_2_4_3_and_check_agree") else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keepalived-2.4");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    let ns = NetNs::with_interfaces(1);
    let env = env(&dir);
    let mut wrong = Vec::new();
    for f in &files {
        let path = f.to_str().unwrap();
        let (code, ka_text) = run_in(&ns, &ka, &["-t", "-l", "-f", path], &env);
        let (_, kc_text) = run_in(
            &ns,
            &common::kaconsole(),
            &["check", "--json", "-f", path],
            &env,
        );
        let findings: Vec<serde_json::Value> = kc_text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|d: &serde_json::Value| {
                d["severity"] == "error" || !NOTICES.contains(&d["code"].as_str().unwrap_or(""))
            })
            .collect();
        let (ka_ok, kc_ok) = (code == 0, findings.is_empty());
        let differs = std::fs::read_to_string(f)
            .unwrap()
            .lines()
            .any(|l| l.starts_with("#@ verdict-differs: "));
        if (ka_ok == kc_ok) == differs {
            wrong.push(format!(
                "{}: keepalived 2.4.3 exit {code}, kaconsole {} finding(s){}\n  keepalived: {}\n  kaconsole: {:?}",
                f.file_name().unwrap().to_string_lossy(),
                findings.len(),
                if differs { " (annotated verdict-differs, but they agree)" } else { "" },
                ka_text.trim(),
                findings
                    .iter()
                    .map(|d| format!("{}: {}", d["code"], d["message"]))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
