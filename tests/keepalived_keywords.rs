//! kaconsole's keyword tables against keepalived's own registrations, extracted once from its
//! source (scripts/keepalived_keywords.py) into tests/data/keepalived-keywords/TAG.txt:
//! - every keyword keepalived 2.4.3 registers, in its block, is in kaconsole's table for that
//!   block (so `check` accepts it: the parser reads only what the tables hold);
//! - a keyword 2.4.3 has and 2.2.7 does not carries as its `since` the first release that
//!   registers it (the file's second column), and no keyword 2.2.7 knows carries one (the
//!   "older nodes reject it" warning is right both ways).

use std::path::Path;

use kaconsole::config::blocks::ROOT;
use kaconsole::config::table::TableDoc;

/// (block path and keyword, the release that added it if newer than 2.2.7).
fn registrations(tag: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/keepalived-keywords")
        .join(format!("{tag}.txt"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (entry, since) = l.split_once(' ').unwrap_or((l, ""));
            (entry.to_string(), since.to_string())
        })
        .collect()
}

/// The table of the block `path` names (`vrrp_instance/authentication`), or why not.
fn table_of(path: &[&str]) -> Result<&'static (dyn TableDoc + Sync), String> {
    let mut table: &'static (dyn TableDoc + Sync) = &ROOT;
    for (i, word) in path.iter().enumerate() {
        table = table
            .sub(word)
            .ok_or_else(|| format!("'{}' is not a block", path[..=i].join("/")))?;
    }
    Ok(table)
}

/// The keyword's documentation (its canonical entry) in the table of its block.
fn keyword(entry: &str) -> Result<kaconsole::config::table::KeywordDoc, String> {
    let parts: Vec<&str> = entry.split('/').collect();
    let (name, block) = parts.split_last().unwrap();
    let table = table_of(block)?;
    table
        .docs()
        .into_iter()
        .find(|d| d.name == *name || d.aliases.contains(name) || d.deprecated.contains(name))
        .ok_or_else(|| format!("unknown in {}", block.join("/")))
}

#[test]
fn every_keyword_of_keepalived_2_4_3_is_in_its_blocks_table() {
    let missing: Vec<String> = registrations("v2.4.3")
        .iter()
        .filter_map(|(e, _)| keyword(e).err().map(|why| format!("{e}: {why}")))
        .collect();
    assert!(missing.is_empty(), "\n{}", missing.join("\n"));
}

#[test]
fn keywords_newer_than_2_2_7_say_since_when() {
    let mut wrong = Vec::new();
    for (entry, since) in registrations("v2.4.3") {
        let Ok(doc) = keyword(&entry) else { continue };
        // An alias names the same keyword: only the canonical name's entry decides.
        if entry.rsplit('/').next() != Some(doc.name) {
            continue;
        }
        if doc.since != since {
            wrong.push(format!(
                "{entry}: keepalived added it in {}, the table says {}",
                if since.is_empty() {
                    "2.2.7 or before"
                } else {
                    &since
                },
                if doc.since.is_empty() {
                    "nothing"
                } else {
                    doc.since
                }
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn the_2_2_7_list_is_the_2_4_3_list_without_the_newer_keywords() {
    let old: Vec<String> = registrations("v2.2.7")
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    let new = registrations("v2.4.3");
    for (entry, since) in &new {
        assert_eq!(old.contains(entry), since.is_empty(), "{entry} {since}");
    }
    for entry in &old {
        assert!(
            new.iter().any(|(e, _)| e == entry),
            "{entry} is gone in 2.4.3"
        );
    }
}
