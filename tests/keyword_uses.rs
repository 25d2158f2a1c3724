//! No keyword is read and then dropped: every keyword of the tables (src/config/blocks) either
//! has a setter whose field something outside the parser reads, or is reported as not
//! implemented (no setter, or `.inert()`), by `check` and in the daemon's log.
//!
//! Read from the source, like tests/architecture.rs: each `X::new("name", ...)` of a table,
//! the fields its `.set(...)` writes (`c.field = ...`, `c.field.push(...)`), and whether any
//! of them is read (`.field`) in src/ outside the tables, the editor and the dump writers
//! (which only echo the configuration back).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Where a read of a field counts as a use.
fn counts_as_use(rel: &str) -> bool {
    ![
        "config/blocks/",
        "config/table.rs",
        "tui/",
        // The dump writers only echo the configuration back; dumps/mod.rs decides things.
        "daemon/dumps/data.rs",
        "daemon/dumps/json.rs",
        "daemon/dumps/text.rs",
        "daemon/dumps/stats.rs",
        "daemon/dumps/interfaces.rs",
        "daemon/dumps/tests.rs",
        "control/",
    ]
    .iter()
    .any(|p| rel.starts_with(p))
}

/// Each keyword of a table source: (name, the text of its definition up to the next one).
fn definitions(text: &str) -> Vec<(String, String)> {
    let mut starts = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(k) = text[i..].find("::new(") {
        let at = i + k;
        // `K::new(`, `TopK::new(`, ...: a type name right before.
        let before = text[..at]
            .rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next()
            .unwrap_or("");
        let after = text[at + 6..].trim_start();
        if before.starts_with(|c: char| c.is_ascii_uppercase())
            && before.ends_with('K')
            && after.starts_with('"')
        {
            let name: String = after[1..].chars().take_while(|c| *c != '"').collect();
            starts.push((at, name));
        }
        i = at + 6;
        let _ = bytes;
    }
    let mut out = Vec::new();
    for (n, (at, name)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(text.len(), |s| s.0);
        out.push((name.clone(), text[*at..end].to_string()));
    }
    out
}

/// The fields the setter writes: `x.field =`, `x.field.push(`, `x.a.b =` (the last name).
fn written_fields(def: &str) -> Option<Vec<String>> {
    let set = &def[def.find(".set(")?..];
    let set = &set[..set.len().min(1500)];
    let mut fields = Vec::new();
    let chars: Vec<char> = set.chars().collect();
    let mut i = 0;
    while i + 2 < chars.len() {
        // a one-letter binding followed by a field path
        let starts = chars[i].is_ascii_lowercase()
            && (i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '_'))
            && chars[i + 1] == '.';
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + 2;
        let mut last = String::new();
        loop {
            let word: String = chars[j..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            if word.is_empty() {
                break;
            }
            j += word.len();
            last = word;
            if chars.get(j) == Some(&'.')
                && chars
                    .get(j + 1)
                    .is_some_and(|c| c.is_ascii_lowercase() || *c == '_')
            {
                let next: String = chars[j + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .collect();
                if ["push", "extend", "insert", "extend_from_slice"].contains(&next.as_str()) {
                    fields.push(last.clone());
                    break;
                }
                j += 1;
                continue;
            }
            break;
        }
        let rest: String = chars[j..].iter().take(3).collect();
        if !last.is_empty()
            && rest.trim_start().starts_with('=')
            && !rest.trim_start().starts_with("==")
        {
            fields.push(last);
        }
        i = j.max(i + 1);
    }
    Some(fields)
}

#[test]
fn every_keyword_with_a_setter_is_acted_on_or_marked_inert() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut used_text = String::new();
    let mut tables = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(f).unwrap();
        if rel.starts_with("config/blocks/") {
            tables.push((rel.clone(), text.clone()));
        }
        if counts_as_use(&rel) {
            used_text.push_str(&text);
            used_text.push('\n');
        }
    }
    let read = |field: &str| {
        used_text.match_indices(&format!(".{field}")).any(|(i, m)| {
            !used_text[i + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let mut dropped = Vec::new();
    let mut checked = 0;
    for (rel, text) in &tables {
        for (name, def) in definitions(text) {
            if !def.contains(".set(") || def.contains(".inert()") {
                continue;
            }
            let Some(fields) = written_fields(&def) else {
                continue;
            };
            if fields.is_empty() {
                continue; // a setter that calls a helper: not decidable from here
            }
            checked += 1;
            if !fields.iter().any(|f| read(f)) {
                dropped.push(format!(
                    "{rel}: '{name}' writes {fields:?}, which nothing reads"
                ));
            }
        }
    }
    assert!(
        checked > 150,
        "the source scan found only {checked} setters"
    );
    assert!(
        dropped.is_empty(),
        "keywords read and then dropped: act on them or mark them .inert()\n{}",
        dropped.join("\n")
    );
}

/// The keywords the issue found parsed and dropped are now reported by `check` (or acted on).
#[test]
fn keywords_parsed_and_dropped_before_are_reported() {
    let conf = "global_defs {
    nftables
    vrrp_iptables
    max_auto_priority 50
    vrrp_rt_priority 10
    checker_rt_priority 10
    vrrp_no_swap
    checker_no_swap
    enable_snmp_vrrp
    enable_dbus
    reload_check_config
    vrrp_garp_interval 0.01
    vrrp_gna_interval 0.01
}
garp_group {
    garp_interval 1
    interface eth0
}
SSL {
    ca /etc/ssl/ca.pem
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    priority 100
    promote_secondaries
    virtual_ipaddress {
        10.0.0.1/24
    }
}
";
    let loaded = kaconsole::config::load_text(
        Path::new("/k.conf"),
        conf.as_bytes(),
        &Default::default(),
        None,
    );
    let reported: Vec<&str> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "not-implemented")
        .filter_map(|d| d.keyword)
        .collect();
    for k in [
        "nftables",
        "vrrp_iptables",
        "max_auto_priority",
        "checker_rt_priority",
        "enable_snmp_vrrp",
        "enable_dbus",
        "reload_check_config",
        "garp_group",
        "ca",
    ] {
        assert!(reported.contains(&k), "{k} is not reported: {reported:?}");
    }
    // Acted on since: not reported.
    for k in [
        "vrrp_rt_priority",
        "vrrp_no_swap",
        "checker_no_swap",
        "vrrp_garp_interval",
        "vrrp_gna_interval",
        "promote_secondaries",
    ] {
        assert!(!reported.contains(&k), "{k} is acted on: {reported:?}");
    }
}

/// Every keyword kaconsole accepts and does not act on, by block path (`global_defs`,
/// `vrrp_instance/auth_hmac`, ...), walking the tables from the root.
fn not_acted_on() -> Vec<(String, &'static str)> {
    use kaconsole::config::table::TableDoc;
    fn walk(
        t: &'static (dyn TableDoc + Sync),
        path: &str,
        seen: &mut Vec<String>,
        out: &mut Vec<(String, &'static str)>,
    ) {
        if seen.iter().any(|p| p == path) {
            return;
        }
        seen.push(path.to_string());
        for d in t.docs() {
            if !d.implemented {
                out.push((path.to_string(), d.name));
                continue; // inside an unimplemented block, the block is what is reported
            }
            if let Some(sub) = t.sub(d.name) {
                let p = if path.is_empty() {
                    d.name.to_string()
                } else {
                    format!("{path}/{}", d.name)
                };
                walk(sub, &p, seen, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &kaconsole::config::blocks::ROOT,
        "",
        &mut Vec::new(),
        &mut out,
    );
    out
}

/// README's table of what kaconsole does not do names every keyword accepted and not acted on.
#[test]
fn the_readme_names_every_keyword_not_acted_on() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("### What kaconsole does not do")
        .expect("README: ### What kaconsole does not do");
    let section = &readme[start..];
    let section = &section[..section[4..].find("\n## ").map_or(section.len(), |e| e + 4)];
    let missing: Vec<String> = not_acted_on()
        .into_iter()
        .filter(|(_, k)| !section.contains(&format!("`{k}`")))
        .map(|(p, k)| {
            format!(
                "{}{k}",
                if p.is_empty() {
                    String::new()
                } else {
                    format!("{p}/")
                }
            )
        })
        .collect();
    assert!(
        missing.is_empty(),
        "not in README's table:\n{}",
        missing.join("\n")
    );
}
