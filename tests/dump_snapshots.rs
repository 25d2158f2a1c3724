//! Golden snapshots of the resolved model (`kaconsole check --dump`) of the example
//! configurations in assets/examples: every keyword they use, with keepalived's defaults
//! filled in. A change to the model or to a default shows up here as a snapshot diff.

use std::path::Path;

use kaconsole::config::{self, LoadOptions};

fn dump(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/examples")
        .join(name);
    let opts = LoadOptions {
        config_id: "a".into(),
        random_seed: Some(1),
        ..Default::default()
    };
    let loaded = config::load(&path, &opts, None);
    let problems: Vec<String> = loaded
        .diagnostics
        .iter()
        // Keywords kaconsole reads and does not act on (the SSL block's files) are reported,
        // and still in the model.
        .filter(|d| d.code != "not-implemented")
        .map(|d| d.message.clone())
        .collect();
    assert!(problems.is_empty(), "{name} should be clean: {problems:?}");
    serde_json::to_string_pretty(&loaded.config).unwrap()
}

#[test]
fn vrrp_pair() {
    insta::assert_snapshot!("vrrp_pair", dump("vrrp-pair.conf"));
}

#[test]
fn lvs_web() {
    insta::assert_snapshot!("lvs_web", dump("lvs-web.conf"));
}

#[test]
fn conditional_with_sequences() {
    insta::assert_snapshot!("conditional", dump("conditional.conf"));
}

#[test]
fn every_example_is_covered() {
    let mut names: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    names.sort();
    assert_eq!(
        names,
        ["conditional.conf", "lvs-web.conf", "vrrp-pair.conf"],
        "add a snapshot test for a new example"
    );
}
