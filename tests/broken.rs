//! Each configuration in tests/data/broken demonstrates one class of mistake; its `#@ expect`
//! lines say what `kaconsole check` must report. Runs without privileges: the machine is a
//! fixed fake with interfaces lo and eth0..eth3 (the differential test uses the same set).

mod common;

use std::path::{Path, PathBuf};

use kaconsole::config::env::{Env, FileInfo, IfInfo};
use kaconsole::config::{self, LoadOptions, Severity};
use kaconsole::sys::env::Machine;

/// lo and eth0..eth3; files and users from the real machine.
struct FakeNet(Machine);

impl Env for FakeNet {
    fn interface(&self, name: &str) -> Option<IfInfo> {
        match name {
            "lo" => Some(IfInfo {
                loopback: true,
                multicast: false,
            }),
            "eth0" | "eth1" | "eth2" | "eth3" => Some(IfInfo {
                loopback: false,
                multicast: true,
            }),
            _ => None,
        }
    }
    fn file(&self, path: &Path) -> Option<FileInfo> {
        self.0.file(path)
    }
    fn user_exists(&self, name: &str) -> bool {
        self.0.user_exists(name)
    }
    fn group_exists(&self, name: &str) -> bool {
        self.0.group_exists(name)
    }
}

/// `#@ expect <error|warning> <code> [FILE:]<line>` (FILE relative to the configuration's
/// directory; the configuration itself by default).
fn expectations(text: &str, path: &Path) -> Vec<(Severity, String, PathBuf, u32)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("#@ expect "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(w.len(), 3, "bad annotation: {l}");
            let sev = match w[0] {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                other => panic!("bad severity {other}"),
            };
            let (file, line) = match w[2].rsplit_once(':') {
                Some((f, l)) => (path.parent().unwrap().join(f), l),
                None => (path.to_path_buf(), w[2]),
            };
            (
                sev,
                w[1].to_string(),
                file,
                line.parse().expect("line number"),
            )
        })
        .collect()
}

#[test]
fn every_broken_config_reports_what_it_demonstrates() {
    let configs = common::broken_configs();
    assert!(
        configs.len() >= 30,
        "the corpus needs at least 30 configurations"
    );
    let env = FakeNet(Machine::new());
    let mut failures = Vec::new();
    for path in &configs {
        let text = std::fs::read_to_string(path).unwrap();
        let expected = expectations(&text, path);
        assert!(
            !expected.is_empty(),
            "{}: no #@ expect line",
            path.display()
        );
        let loaded = config::load(
            path,
            &LoadOptions {
                random_seed: Some(1),
                ..Default::default()
            },
            Some(&env),
        );
        for (sev, code, file, line) in expected {
            let found = loaded.diagnostics.iter().any(|d| {
                d.severity == sev
                    && d.code == code
                    && d.span.is_some_and(|s| {
                        s.line == line
                            && std::fs::canonicalize(loaded.sources.path(s.file)).ok()
                                == std::fs::canonicalize(&file).ok()
                    })
            });
            if !found {
                let got: Vec<String> = loaded
                    .diagnostics
                    .iter()
                    .map(|d| {
                        format!(
                            "{:?} {} {}: {}",
                            d.severity,
                            d.code,
                            d.span.map_or(0, |s| s.line),
                            d.message
                        )
                    })
                    .collect();
                failures.push(format!(
                    "{}: expected {sev:?} {code} at line {line}; got:\n    {}",
                    path.file_name().unwrap().to_string_lossy(),
                    got.join("\n    ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn errors_inside_a_seq_expansion_name_the_iteration() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/broken/seq-error-inside-expansion.conf");
    let loaded = config::load(&path, &LoadOptions::default(), None);
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "out-of-range")
        .expect("the VRID 256 of the third iteration is out of range");
    let notes = kaconsole::config::diag::origin_notes(&loaded.sources, d.span.unwrap());
    assert!(
        notes.iter().any(|n| n == "in ~SEQ iteration ID=256"),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("in the expansion of $VI")),
        "{notes:?}"
    );
    // The iterations before are fine: VI_254 and VI_255 exist.
    let names: Vec<&str> = loaded
        .config
        .vrrp_instances
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(names, ["VI_254", "VI_255", "VI_256"]);
}
