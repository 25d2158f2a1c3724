//! The reader survives anything: the fuzz seed corpus (fuzz/seeds/config_reader: our own
//! configurations, past crashes, and small inputs the fuzzer found) replayed, and the
//! inputs that break naive parsers. Every diagnostic must point at a line that exists.

use std::path::Path;
use std::time::Instant;

use kaconsole::config::table::{Arg, TableDoc};
use kaconsole::config::{self, LoadOptions, Loaded};

/// The fuzz targets' checks.
#[path = "../fuzz/checks.rs"]
mod fuzz_checks;

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: "fuzz".into(),
        random_seed: Some(1),
        max_lines: 20_000,
        max_bytes: 64 << 20,
        all_config: false,
    }
}

/// The fuzz target's checks (includes reach tests/data/include-tree).
fn check(name: &str, data: &[u8]) -> Loaded {
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/include-tree");
    let loaded = std::panic::catch_unwind(|| fuzz_checks::config_reader(data, &tree));
    loaded.unwrap_or_else(|_| panic!("{name}: the reader's invariants broke"))
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
    let c = codes(&l);
    assert!(c.contains(&"unmatched-brace"), "{:?}", &c[..c.len().min(5)]);
    assert!(
        c.iter()
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

/// Every keyword of every table, written in its own block with a value that is wrong for any
/// syntax; the blocks nest as they do in a configuration. Inside blocks that are accepted but
/// not implemented (only their header is reported) the garbage is marked `[[` instead of `]]`.
fn garbage_config(
    table: &'static (dyn TableDoc + Sync),
    depth: usize,
    unimplemented: bool,
    out: &mut String,
) {
    let docs = table.docs();
    for (name, arg) in table.args() {
        let implemented = docs.iter().any(|d| d.name == name && d.implemented);
        let inner_unimplemented = unimplemented || !implemented;
        let garbage = |inside: bool| {
            let mark = if inside { "[[" } else { "]]" };
            format!("\"\" -1 999999999999999999999 {mark} \\q")
        };
        // A header the block accepts, so that its keywords are read.
        let header = match name {
            "virtual_server" => "10.0.0.1 80",
            "real_server" => "10.0.0.2 80",
            "global_defs" | "authentication" | "url" | "host" | "ssl" => "",
            n if n.ends_with("_CHECK") || n.ends_with("_GET") => "",
            _ if matches!(arg, Arg::NamedValues(_) | Arg::Block(_)) => "X",
            _ => "",
        };
        if let Some(sub) = table.sub(name) {
            if depth < 6 {
                out.push_str(&format!("{name} {header} {{\n"));
                garbage_config(sub, depth + 1, inner_unimplemented, out);
                out.push_str("}\n");
            }
        } else if table.takes_values(name) {
            let g = garbage(inner_unimplemented);
            out.push_str(&format!("{name} {header} {{\n{g}\n}}\n"));
        } else if !matches!(arg, Arg::Flag | Arg::OptInt { .. }) {
            out.push_str(&format!("{name} {}\n", garbage(unimplemented)));
        }
    }
}

#[test]
fn every_keyword_with_garbage_values() {
    let mut text = String::new();
    garbage_config(&kaconsole::config::blocks::ROOT, 0, false, &mut text);
    let l = check("garbage", text.as_bytes());
    // Every keyword was found in its block...
    let misplaced: Vec<_> = l
        .diagnostics
        .iter()
        .filter(|d| d.code == "unknown-keyword" || d.code == "unknown-block")
        .map(|d| format!("{}: {}", d.span.map_or(0, |s| s.line), d.message))
        .collect();
    assert!(misplaced.is_empty(), "{misplaced:#?}");
    // ...and every line of garbage drew a diagnostic of its own.
    let lines_with_diags: std::collections::HashSet<u32> = l
        .diagnostics
        .iter()
        .filter_map(|d| d.span.map(|s| s.line))
        .collect();
    let silent: Vec<_> = text
        .lines()
        .enumerate()
        .filter(|(_, t)| t.contains("]]"))
        .filter(|(i, _)| !lines_with_diags.contains(&(*i as u32 + 1)))
        .map(|(i, t)| format!("{}: {t}", i + 1))
        .collect();
    assert!(silent.is_empty(), "garbage accepted silently: {silent:#?}");
}
