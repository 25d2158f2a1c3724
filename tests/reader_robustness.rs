//! The reader survives anything: the fuzz seed corpus (fuzz/seeds/config_reader: our own
//! configurations, past crashes, and small inputs the fuzzer found) replayed, and the
//! inputs that break naive parsers. Every diagnostic must point at a line that exists.

use std::path::Path;
use std::time::Instant;

use kaconsole::config::{self, LoadOptions, Loaded, load_text};

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: "fuzz".into(),
        random_seed: Some(1),
        max_lines: 20_000,
        all_config: false,
    }
}

fn check(name: &str, data: &[u8]) -> Loaded {
    let path = Path::new("/nonexistent-kaconsole-fuzz/keepalived.conf");
    let loaded = load_text(path, data, &opts(), None);
    for d in &loaded.diagnostics {
        if let Some(s) = d.span {
            assert!(
                loaded.sources.file(s.file).line(s.line).is_some(),
                "{name}: {} points at a line that does not exist: {s:?}",
                d.code
            );
        }
    }
    loaded
}

fn codes(l: &Loaded) -> Vec<&'static str> {
    l.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn fuzz_corpus_replays_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/config_reader");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("fuzz corpus") {
        let p = e.unwrap().path();
        check(&p.display().to_string(), &std::fs::read(&p).unwrap());
        n += 1;
    }
    assert!(n >= 200, "the corpus has {n} inputs");
}

#[test]
fn non_utf8_bytes_are_replaced_and_reported() {
    let l = check("latin1", b"global_defs {\n  router_id caf\xe9\n}\n");
    assert_eq!(codes(&l), ["invalid-utf8"]);
    assert_eq!(
        l.config.global_defs.router_id.as_deref(),
        Some("caf\u{fffd}")
    );
}

#[test]
fn a_megabyte_line_is_read_whole() {
    let mut text = b"global_defs {\n  router_id ".to_vec();
    text.extend(std::iter::repeat_n(b'x', 1 << 20));
    text.extend(b"\n}\n");
    let l = check("1MB line", &text);
    assert_eq!(codes(&l), ["line-too-long"]);
    assert_eq!(
        l.config.global_defs.router_id.as_ref().map(String::len),
        Some(1 << 20)
    );
}

#[test]
fn ten_thousand_nested_blocks_do_not_overflow() {
    let mut text = String::new();
    for _ in 0..10_000 {
        text.push_str("a {\n");
    }
    for _ in 0..10_000 {
        text.push_str("}\n");
    }
    let l = check("nesting", text.as_bytes());
    assert!(codes(&l).contains(&"too-deep"));
    assert!(codes(&l).contains(&"unknown-keyword"));
}

#[test]
fn unbalanced_braces_in_bulk() {
    let l = check("opens", "{\n".repeat(100_000).as_bytes());
    assert!(codes(&l).contains(&"unexpected-brace"));
    let l = check("closes", "}\n".repeat(100_000).as_bytes());
    assert!(
        codes(&l)
            .iter()
            .all(|c| *c == "unmatched-brace" || *c == "too-many-lines")
    );
}

#[test]
fn include_loops_end() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("k.conf"), "include k.conf\n").unwrap();
    let l = config::load(&d.path().join("k.conf"), &opts(), None);
    assert_eq!(codes(&l), ["include-loop"]);
    // A glob that matches the including file itself.
    std::fs::write(d.path().join("k.conf"), "include *.conf\n").unwrap();
    let l = config::load(&d.path().join("k.conf"), &opts(), None);
    assert_eq!(codes(&l), ["include-loop"]);
}

#[test]
fn runaway_expansions_stop_quickly() {
    let started = Instant::now();
    for text in [
        "$A=$A$A\nx $A\n",
        "$A=${A}x\nx ${A}\n",
        "$M= \\\n$M\n\n$M\n",
        "~SEQ(a,1,1000000000) ~SEQ(b,1,1000000000) x\n",
        "~SEQ(a,1,100000) \n",
        "~LST(a,1,2) ~LST(b,1,2) ~LST(c,1,2) ~LST(d,1,2) ~LST(e,1,2) ~LST(f,1,2) ~LST(g,1,2) ~LST(h,1,2) ~LST(i,1,2) ~LST(j,1,2) ~LST(k,1,2) ~LST(l,1,2) ~LST(m,1,2) ~LST(n,1,2) ~LST(o,1,2) ~LST(p,1,2) x\n",
    ] {
        let l = check(text, text.as_bytes());
        assert!(!l.diagnostics.is_empty(), "{text}: the runaway is reported");
    }
    // Not a timing assertion on the code's speed, only that the guards hold: without them this
    // loops for hours.
    assert!(started.elapsed().as_secs() < 120);
}

#[test]
fn every_keyword_with_garbage_values() {
    // Each keyword of each table, given an absurd value: reported, never a panic.
    let mut text = String::new();
    for t in kaconsole::config::blocks::all_tables() {
        for k in t.docs() {
            text.push_str(&format!(
                "{} \"\" -1 999999999999999999999 ]] {{ x }}\n",
                k.name
            ));
        }
    }
    let root = format!(
        "global_defs {{\n{text}}}\nvrrp_instance X {{\n{text}}}\nvirtual_server 10.0.0.1 80 {{\n{text}\nreal_server 10.0.0.2 80 {{\n{text}\nHTTP_GET {{\n{text}url {{\n{text}}}\n}}\n}}\n}}\n"
    );
    let l = check("garbage", root.as_bytes());
    assert!(l.diagnostics.len() > 100);
}
