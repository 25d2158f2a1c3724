//! keepalived's own sample configurations (installed with the keepalived package) parse: every
//! block is read into the model and every keyword is known. The one keyword mistake in them
//! (keepalived.conf.vrrp.lvs_syncd lists instances without `group { }`, which keepalived
//! reports too) is the only unknown keyword allowed.

mod common;

use kaconsole::config::{self, LoadOptions};

/// (sample, line, word): unknown keywords that are mistakes in the sample itself.
const SAMPLE_MISTAKES: &[(&str, u32, &str)] = &[
    ("keepalived.conf.vrrp.lvs_syncd", 4, "VI_2"),
    ("keepalived.conf.vrrp.lvs_syncd", 5, "VI_3"),
];

const GRAMMAR_CODES: &[&str] = &[
    "unclosed-block",
    "unexpected-brace",
    "unmatched-brace",
    "too-deep",
    "unterminated-quote",
    "missing-block",
    "unexpected-block",
];

#[test]
fn every_keepalived_sample_parses() {
    let samples = common::keepalived_samples("every_keepalived_sample_parses");
    let mut failures = Vec::new();
    for path in &samples {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let loaded = config::load(
            path,
            &LoadOptions {
                config_id: "high".into(),
                random_seed: Some(1),
                ..Default::default()
            },
            None,
        );
        for d in &loaded.diagnostics {
            let line = d.span.map_or(0, |s| s.line);
            let allowed = SAMPLE_MISTAKES
                .iter()
                .any(|(s, l, w)| *s == name && *l == line && d.message.contains(w));
            if GRAMMAR_CODES.contains(&d.code) || (d.code == "unknown-keyword" && !allowed) {
                failures.push(format!("{name}:{line}: {}: {}", d.code, d.message));
            }
        }
        // Every block written is in the model.
        let count = |kw: &str| {
            text.lines()
                .filter(|l| l.trim_start().starts_with(kw))
                .count()
        };
        let c = &loaded.config;
        if c.vrrp_instances.len() != count("vrrp_instance ") {
            failures.push(format!(
                "{name}: {} vrrp_instance blocks read, {} written",
                c.vrrp_instances.len(),
                count("vrrp_instance ")
            ));
        }
        if c.virtual_servers.len() != count("virtual_server ") {
            failures.push(format!(
                "{name}: {} virtual_server blocks read, {} written",
                c.virtual_servers.len(),
                count("virtual_server ")
            ));
        }
        let real_servers: usize = c.virtual_servers.iter().map(|v| v.real_servers.len()).sum();
        if real_servers != count("real_server ") {
            failures.push(format!(
                "{name}: {real_servers} real_server blocks read, {} written",
                count("real_server ")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
