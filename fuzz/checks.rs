//! The bodies of the fuzz targets (fuzz/fuzz_targets), shared with the tests so that `cargo
//! test` replays their seed corpora through exactly the same checks (tests/reader_robustness.rs,
//! tests/vrrp_vectors.rs, tests/sniff.rs). Each panics when an invariant breaks. Included with `#[path]` by
//! both, so the library (and the release binary) carries none of it.

// Each includer uses one of them.
#![allow(dead_code)]

use std::path::Path;

use kaconsole::config::{LoadOptions, Loaded, load_text};
use kaconsole::pcap;
use kaconsole::sniff::observe::observe;
use kaconsole::sniff::table::Table;
use kaconsole::vrrp::checksum::ChecksumForm;
use kaconsole::vrrp::frame::parse_ip;
use kaconsole::vrrp::packet::{Advert, Packet, Version, verify_checksum};

/// The configuration reader never panics or hangs, and every diagnostic points at a line that
/// exists. Includes are read relative to `include_tree/keepalived.conf` (the repository's
/// tests/data/include-tree: small files and include loops), so that they reach real files.
pub fn config_reader(data: &[u8], include_tree: &Path) -> Loaded {
    let opts = LoadOptions {
        config_id: "fuzz".into(),
        random_seed: Some(1),
        max_lines: 20_000,
        max_bytes: 64 << 20,
        all_config: false,
    };
    let loaded = load_text(&include_tree.join("keepalived.conf"), data, &opts, None);
    for d in &loaded.diagnostics {
        if let Some(s) = d.span {
            assert!(
                loaded.sources.file(s.file).line(s.line).is_some(),
                "{} points at a line that does not exist: {s:?}",
                d.code
            );
        }
    }
    loaded
}

/// The VRRP decoder never panics: `data` as an IP packet (IPv4, IPv6, AH) and as a bare VRRP
/// message of either family. An advert whose checksum verifies re-encodes to the same bytes
/// (unless it set the reserved bits of v3, which are not kept).
pub fn vrrp_decode(data: &[u8]) {
    let mut messages = vec![(data.to_vec(), None)];
    if let Ok(r) = parse_ip(data) {
        messages.push((r.msg.clone(), Some((r.src, r.dst))));
    }
    for (msg, addrs) in messages {
        for v6 in [false, true] {
            let Ok(p) = Packet::new_checked(&msg[..]) else {
                continue;
            };
            let Ok(a) = Advert::parse(&p, v6) else {
                continue;
            };
            let _ = a.to_string();
            let Some((src, dst)) = addrs.filter(|(s, _)| s.is_ipv6() == v6) else {
                continue;
            };
            let form = verify_checksum(&msg, a.version, src, dst);
            let again = a.to_bytes(form.unwrap_or(ChecksumForm::Plain), src, dst);
            assert_eq!(again.len(), msg.len());
            let reserved_set = a.version == Version::V3 && msg[4] & 0xf0 != 0;
            if form.is_some() && !reserved_set {
                assert_eq!(again, msg, "a valid advert re-encodes to the same bytes");
            }
        }
    }
}

/// The capture reader never panics: `data` as a pcap or pcapng file. What it reads takes
/// `kaconsole sniff -r`'s path (frame decode, the segment table, its snapshot). A capture that
/// reads writes back as classic pcap and reads the same, when its times and frames fit that
/// format (seconds in 32 bits, frames up to the 256 KiB snap length `write` declares).
pub fn pcap_read(data: &[u8]) {
    let Ok(c) = pcap::parse(data) else {
        return;
    };
    let mut table = Table::default();
    for r in &c.records {
        assert!(r.data.len() <= data.len(), "a frame larger than the file");
        if let Some(s) = observe(c.linktype, r.ts_us, &r.data) {
            table.add(&s);
        }
    }
    let _ = table.snapshot();
    let fits = c
        .records
        .iter()
        .all(|r| r.ts_us / 1_000_000 <= u64::from(u32::MAX) && r.data.len() <= 262_144);
    if fits {
        let mut again = Vec::new();
        pcap::write(&mut again, &c).unwrap();
        assert_eq!(
            pcap::parse(&again).unwrap(),
            c,
            "written back, read the same"
        );
    }
}
