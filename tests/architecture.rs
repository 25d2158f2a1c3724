//! The architecture of docs/ARCHITECTURE.md, checked on the source: the daemon and the
//! control layer stay small functions, and a module may use the layers above it, never those
//! below. From the top:
//!
//! ```text
//! foundation  time, hex, rng, ranges, pcap  plain values and formats
//! config      keepalived.conf -> Config
//! engines     vrrp, check, ipvs, sniff, sim (each may use those before it)
//! sys         the machine; check::probe (the probes' I/O) belongs here
//! daemon      the engines on real time and real packets
//! control     the protocol and the socket server; its protocol uses the foundation only
//! tui         the console: control and config (for the editor) only
//! lab, cli    the commands
//! ```
//!
//! Test code (`#[cfg(test)]` modules) may reach anywhere.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layer order; a module's rank is its place here.
#[rustfmt::skip]
const ORDER: &[&str] = &[
    "time", "hex", "rng", "ranges", "pcap",     // foundation
    "config",                                   // config
    "vrrp", "check", "ipvs", "sniff", "sim",    // engines
    "sys",                                      // sys (and check::probe)
    "daemon",                                   // daemon
    "control",                                  // control
    "tui",                                      // tui
    "lab", "cli",                               // commands
];

/// The last rank of the foundation.
const FOUNDATION: usize = 4;

fn rank(module: &str) -> usize {
    ORDER
        .iter()
        .position(|m| *m == module)
        .unwrap_or_else(|| panic!("module {module} is in no layer: add it to ORDER"))
}

/// The top module a file belongs to for layering (src/check/probe is sys), or None for the
/// crate root files.
fn layer_of(rel: &Path) -> Option<&'static str> {
    let parts: Vec<&str> = rel.iter().map(|p| p.to_str().unwrap()).collect();
    if parts.len() >= 2 && parts[0] == "check" && parts[1] == "probe" {
        return Some("sys");
    }
    let top = parts[0].trim_end_matches(".rs");
    ORDER.iter().copied().find(|m| *m == top)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Files that are test code as a whole: declared with `#[cfg(test)] mod NAME;`.
fn test_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut tests = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for w in lines.windows(2) {
            let decl = w[1].trim();
            if w[0].trim() == "#[cfg(test)]" && decl.starts_with("mod ") && decl.ends_with(';') {
                let name = decl.trim_start_matches("mod ").trim_end_matches(';').trim();
                let dir = if f.file_name().unwrap() == "mod.rs" {
                    f.parent().unwrap().to_path_buf()
                } else {
                    f.with_extension("")
                };
                tests.insert(dir.join(format!("{name}.rs")));
                tests.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    tests
}

/// The source without its `#[cfg(test)]` modules (they run to the end of their block).
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        if l.trim() == "#[cfg(test)]" {
            let Some(next) = lines.peek() else { break };
            let decl = next.trim_start();
            let decl = decl
                .strip_prefix("pub(crate) ")
                .or_else(|| decl.strip_prefix("pub "))
                .unwrap_or(decl);
            if decl.starts_with("mod ") && next.trim_end().ends_with('{') {
                // Skip to the closing brace at the same indentation.
                let indent = next.len() - next.trim_start().len();
                let close = format!("{}}}", " ".repeat(indent));
                for m in lines.by_ref() {
                    if m.trim_end() == close {
                        break;
                    }
                }
                continue;
            }
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// Every `crate::MODULE` the text names, with its second segment (to tell check::probe).
fn crate_paths(text: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let mut segs = item.trim().split("::");
                let first = segs.next().unwrap_or_default().trim();
                if !first.is_empty() && first != "self" {
                    found.push((first.to_string(), segs.next().map(|s| s.trim().to_string())));
                }
            }
            continue;
        }
        let ident = |s: &str| {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        };
        let first = ident(rest);
        let second = rest[first.len()..].strip_prefix("::").map(ident);
        found.push((first, second));
    }
    found
}

#[test]
fn modules_use_only_the_layers_above_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let tests = test_files(&files);
    let mut wrong = Vec::new();
    let mut checked = 0;
    for f in &files {
        if tests.contains(f) {
            continue;
        }
        let rel = f.strip_prefix(&src).unwrap();
        let Some(layer) = layer_of(rel) else {
            continue; // lib.rs, main.rs
        };
        let text = without_tests(&std::fs::read_to_string(f).unwrap());
        let protocol =
            rel.starts_with("control/protocol") || rel == Path::new("control/protocol.rs");
        for (module, second) in crate_paths(&text) {
            let target = if module == "check" && second.as_deref() == Some("probe") {
                "sys"
            } else {
                ORDER
                    .iter()
                    .copied()
                    .find(|m| *m == module)
                    .unwrap_or_else(|| panic!("{}: crate::{module} is in no layer", rel.display()))
            };
            checked += 1;
            let allowed = if protocol {
                rank(target) <= FOUNDATION
            } else if layer == "tui" {
                rank(target) <= FOUNDATION || ["config", "control", "tui"].contains(&target)
            } else {
                rank(target) <= rank(layer)
            };
            if !allowed {
                wrong.push(format!("{} ({layer}) uses crate::{module}", rel.display()));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        checked > 300,
        "only {checked} imports found: is the scan broken?"
    );
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scanner_sees_grouped_and_nested_paths_and_skips_tests() {
    let text = "use crate::{config, vrrp::event::Output};\nfn f() { crate::check::probe::run(); }\n\
                #[cfg(test)]\nmod tests {\n    use crate::tui::x;\n}\nuse crate::sys::y;\n";
    let paths: Vec<_> = crate_paths(&without_tests(text))
        .into_iter()
        .map(|(a, b)| format!("{a}/{}", b.unwrap_or_default()))
        .collect();
    assert_eq!(paths, ["config/", "vrrp/event", "check/probe", "sys/y"]);
    assert_eq!(layer_of(Path::new("check/probe/tcp.rs")), Some("sys"));
    assert_eq!(layer_of(Path::new("check/engine.rs")), Some("check"));
    assert_eq!(layer_of(Path::new("lib.rs")), None);
}

/// The functions of `text` longer than `limit` lines: (name, first line, length). Braces are
/// counted outside strings, characters and comments, which is enough for this code.
fn long_functions(text: &str, limit: usize) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let t = t.strip_prefix("pub ").unwrap_or(t);
        let t = t.strip_prefix("pub(crate) ").unwrap_or(t);
        let t = t.strip_prefix("pub(super) ").unwrap_or(t);
        let t = t.strip_prefix("async ").unwrap_or(t);
        let Some(rest) = t.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let mut depth = 0i32;
        let mut opened = false;
        for (j, l) in lines.iter().enumerate().skip(i) {
            let code = l.split("//").next().unwrap_or_default();
            let mut in_str = false;
            let mut prev = ' ';
            for c in code.chars() {
                match c {
                    '"' if prev != '\\' => in_str = !in_str,
                    '{' if !in_str && prev != '\'' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' if !in_str && prev != '\'' => depth -= 1,
                    _ => {}
                }
                prev = c;
            }
            if (opened && depth == 0) || (!opened && code.trim_end().ends_with(';')) {
                if j + 1 - i > limit {
                    found.push((name.clone(), i + 1, j + 1 - i));
                }
                break;
            }
        }
    }
    found
}

/// The daemon and the control layer are small functions: a new input or request gets its own
/// handler instead of a longer loop.
#[test]
fn no_function_in_the_daemon_or_control_is_longer_than_100_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("daemon"), &mut files);
    rust_files(&src.join("control"), &mut files);
    let mut long = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (name, line, len) in long_functions(&text, 100) {
            let rel = f.strip_prefix(&src).unwrap().display().to_string();
            long.push(format!("{rel}:{line} {name}: {len} lines"));
        }
    }
    assert!(files.len() > 20, "only {} files", files.len());
    assert!(long.is_empty(), "{}", long.join("\n"));
    // The scan itself: a 102-line function is found, braces in strings do not count.
    let body = "    let s = \"{\";\n".repeat(100);
    let text = format!("fn big() {{\n{body}}}\nfn small() {{ }}\n");
    assert_eq!(long_functions(&text, 100), [("big".to_string(), 1, 102)]);
}
