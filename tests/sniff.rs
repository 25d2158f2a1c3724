//! `kaconsole sniff` on live segments (root, network namespaces): it lists every VRID with the
//! right master and interval where kaconsole and keepalived pairs run cleanly (exit 0), and on
//! a segment built to be wrong it reports each conflict for the VRID that has it (exit 1).
//! Its -w file is read back by tshark with the same packet count, and -r reads tcpdump's.
//! Capture files built to break readers (and the pcap fuzz seeds) are errors, never panics.

mod common;

/// The fuzz targets' checks.
#[path = "../fuzz/checks.rs"]
mod fuzz_checks;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::segment::{Segment, wait_for};
use common::tmux::Tmux;
use serde_json::Value;

/// An instance block: VRID, priority, VIP last octet, and extra lines.
fn instance(vrid: u8, prio: u8, vip: u8, extra: &str) -> String {
    format!(
        "vrrp_instance VI_{vrid} {{
    state BACKUP
    interface eth0
    virtual_router_id {vrid}
    priority {prio}
    advert_int 1
{extra}
    virtual_ipaddress {{
        10.77.0.{vip}/24
    }}
}}
"
    )
}

/// `kaconsole sniff eth0 --json` for `secs` in host `h`: (exit status, per-advert lines, the
/// final object).
fn sniff(h: &common::segment::Host, secs: u32, extra: &[&str]) -> (i32, Vec<Value>, Value) {
    let kac = common::kaconsole();
    let secs = secs.to_string();
    let mut args = vec![
        kac.to_str().unwrap(),
        "sniff",
        "eth0",
        "--json",
        "--duration",
        &secs,
    ];
    args.extend_from_slice(extra);
    let out = Command::new("ip")
        .args(["netns", "exec", &h.ns])
        .args(&args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let end = lines
        .pop()
        .unwrap_or_else(|| panic!("no output: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), lines, end)
}

/// VRID -> (master, interval in centiseconds) from the final table.
fn masters(end: &Value) -> BTreeMap<u64, (String, u64)> {
    end["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let vrid = g["key"]["vrid"].as_u64().unwrap();
            let master = g["master"].as_str().unwrap_or("none").to_string();
            // routers: [[address, router], ...]
            let interval = g["routers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r[0] == master.as_str())
                .and_then(|r| r[1]["interval_cs"].as_u64())
                .unwrap_or(0);
            (vrid, (master, interval))
        })
        .collect()
}

#[test]
fn sniff_lists_the_routers_of_a_clean_segment() {
    let test = "sniff_lists_the_routers_of_a_clean_segment";
    if !common::require_root(test) {
        return;
    }
    let keepalived = common::require_program(test, "keepalived");
    let seg = Segment::new(7);
    let h = &seg.hosts;
    let mut daemons = Vec::new();
    // Two kaconsole pairs (VRIDs 51, 53) and a keepalived pair (52).
    for (k, (vrid, prio)) in [(51, 150), (51, 100), (53, 120), (53, 110)]
        .iter()
        .enumerate()
    {
        let conf = instance(*vrid, *prio, 100 + *vrid, "");
        daemons.push(common::start_kaconsole(&h[k], &conf, &[], &[]));
    }
    if let Some(bin) = &keepalived {
        for (k, prio) in [(4, 200), (5, 90)] {
            let conf = instance(52, prio, 152, "");
            daemons.push(common::start_keepalived(&h[k], bin, &conf, &[]));
        }
    }
    let elected = wait_for(Duration::from_secs(10), || {
        h[0].has_address("10.77.0.151") && h[2].has_address("10.77.0.153")
    });
    assert!(elected.is_some(), "{}", daemons[0].log_text());
    let (code, lines, end) = sniff(&h[6], 4, &[]);
    assert!(lines.len() >= 8, "{} adverts in 4 s", lines.len());
    // Flat objects, the interval in centiseconds like the table's.
    for l in &lines {
        assert!(l.get("advert").is_none(), "not flat: {l}");
        assert_eq!(l["interval_cs"], 100, "{l}");
        assert!(l["vrid"].is_u64() && l["src"].is_string(), "{l}");
    }
    let m = masters(&end);
    assert_eq!(m[&51], ("10.77.0.1".to_string(), 100), "{end}");
    assert_eq!(m[&53], ("10.77.0.3".to_string(), 100), "{end}");
    if keepalived.is_some() {
        assert_eq!(m[&52], ("10.77.0.5".to_string(), 100), "{end}");
    }
    assert_eq!(end["findings"], serde_json::json!([]), "{end}");
    assert_eq!(code, 0, "a clean segment exits 0");
    let free = end["free_vrids"].as_array().unwrap();
    assert!(!free.contains(&Value::from(51)) && free.contains(&Value::from(50)));
}

#[test]
fn sniff_reports_each_conflict_on_its_vrid() {
    let test = "sniff_reports_each_conflict_on_its_vrid";
    if !common::require_root(test) {
        return;
    }
    let seg = Segment::new(11);
    let h = &seg.hosts;
    let sniffer = "10.77.0.11";
    let pass = |pw: &str| {
        format!("    authentication {{\n        auth_type PASS\n        auth_pass {pw}\n    }}")
    };
    let unicast = format!("    unicast_peer {{\n        {sniffer}\n    }}");
    // Pairs built to be wrong, one conflict per VRID.
    let confs = [
        // 60: the same VRID with other VIPs.
        instance(60, 150, 160, ""),
        instance(60, 100, 161, ""),
        // 61: other passwords.
        instance(61, 150, 170, &pass("secret1")),
        instance(61, 100, 170, &pass("secret2")),
        // 62: other advert intervals.
        instance(62, 150, 180, ""),
        instance(62, 100, 180, "").replace("advert_int 1", "advert_int 2"),
        // 63: VRRPv2 and v3.
        instance(63, 150, 190, ""),
        instance(63, 100, 190, "    version 3"),
        // 64: a partition (each unicasts to the sniffer only, so neither hears the other).
        instance(64, 150, 200, &unicast),
        instance(64, 100, 200, &unicast),
    ];
    let daemons: Vec<_> = confs
        .iter()
        .enumerate()
        .map(|(k, c)| common::start_kaconsole(&h[k], c, &[], &[]))
        .collect();
    // Wait until the wrong pairs have all gone MASTER on both sides (3.6 s plus a margin).
    let up = wait_for(Duration::from_secs(10), || h[9].has_address("10.77.0.200"));
    assert!(up.is_some(), "{}", daemons[9].log_text());
    std::thread::sleep(Duration::from_secs(2));
    let (code, _, end) = sniff(&h[10], 5, &[]);
    assert_eq!(code, 1, "conflicts exit 1: {end}");
    let found: Vec<(u64, String)> = end["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["vrid"].as_u64().unwrap_or(0),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (vrid, kind) in [
        (60, "vip-mismatch"),
        (61, "auth-mismatch"),
        (62, "interval-mismatch"),
        (63, "version-mix"),
        (64, "split-brain"),
    ] {
        assert!(
            found.contains(&(vrid, kind.to_string())),
            "VRID {vrid}: no {kind} in {found:?}"
        );
    }
    // The password evidence names both.
    let auth = end["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "auth-mismatch")
        .unwrap();
    let evidence = auth["evidence"].to_string();
    assert!(
        evidence.contains("secret1") && evidence.contains("secret2"),
        "{evidence}"
    );
}

#[test]
fn sniff_writes_a_pcap_tshark_reads_and_reads_tcpdumps() {
    let test = "sniff_writes_a_pcap_tshark_reads_and_reads_tcpdumps";
    if !common::require_root(test) {
        return;
    }
    let Some(tshark) = common::require_program(test, "tshark") else {
        return;
    };
    let Some(tcpdump) = common::require_program(test, "tcpdump") else {
        return;
    };
    let seg = Segment::new(3);
    let h = &seg.hosts;
    let _d1 = common::start_kaconsole(&h[0], &instance(51, 150, 100, ""), &[], &[]);
    let _d2 = common::start_kaconsole(&h[1], &instance(51, 100, 100, ""), &[], &[]);
    let elected = wait_for(Duration::from_secs(8), || h[0].has_address("10.77.0.100"));
    assert!(elected.is_some());
    // -w: tshark reads the same number of VRRP packets.
    let file = h[2].dir.join("sniff.pcap");
    let (_, lines, _) = sniff(&h[2], 3, &["-w", file.to_str().unwrap()]);
    assert!(lines.len() >= 2);
    let out = Command::new(&tshark)
        .args([
            "-r",
            file.to_str().unwrap(),
            "-Y",
            "vrrp",
            "-T",
            "fields",
            "-e",
            "vrrp.virt_rtr_id",
        ])
        .output()
        .unwrap();
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), lines.len(), "tshark: {ids:?}");
    assert!(ids.iter().all(|i| i == "51"), "{ids:?}");
    // -r: what tcpdump captured.
    let dump = h[2].dir.join("tcpdump.pcap");
    let out = Command::new("ip")
        .args(["netns", "exec", &h[2].ns])
        .arg(&tcpdump)
        .args([
            "-i",
            "eth0",
            "-c",
            "3",
            "-w",
            dump.to_str().unwrap(),
            "ip proto 112",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(common::kaconsole())
        .args(["sniff", "-r", dump.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 4, "3 adverts and the table: {text}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn on_a_terminal_sniff_shows_a_live_table() {
    let test = "on_a_terminal_sniff_shows_a_live_table";
    if !common::require_root(test) || common::require_program(test, "tmux").is_none() {
        return;
    }
    let seg = Segment::new(3);
    let h = &seg.hosts;
    let _d1 = common::start_kaconsole(&h[0], &instance(51, 150, 100, ""), &[], &[]);
    let _d2 = common::start_kaconsole(&h[1], &instance(51, 100, 100, ""), &[], &[]);
    // The pane stays open after sniff ends, to show the summary it prints.
    let cmd = format!(
        "ip netns exec {} {} sniff eth0; sleep 30",
        h[2].ns,
        common::kaconsole().display()
    );
    let t = Tmux::start("sniff", 110, 30, &cmd);
    t.wait_until(10, |s| {
        s.contains("kaconsole sniff eth0") && s.contains("10.77.0.1 ") && s.contains("MASTER")
    })
    .unwrap_or_else(|s| panic!("no live table:\n{s}"));
    assert!(t.capture().contains("no conflicts"), "{}", t.capture());
    // q: the table closes and the summary is printed.
    t.keys(&["q"]);
    let summary = t.wait_for(5, &["free VRIDs: 1-50, 52-255"]);
    assert!(summary.is_ok(), "{}", t.capture());
}

#[test]
fn pcap_fuzz_seeds_replay() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/pcap_read");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("fuzz seeds") {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        let ran = std::panic::catch_unwind(|| fuzz_checks::pcap_read(&data));
        assert!(ran.is_ok(), "{}: the capture reader panicked", p.display());
        n += 1;
    }
    assert!(n >= 13, "only {n} seeds");
}

/// pcapng files whose blocks have a total length of 12 (no body) where fields are expected:
/// `sniff -r` exits 2 and says which file and what is wrong with it.
#[test]
fn sniff_r_names_the_file_and_the_problem_of_a_crafted_pcapng() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pcaps/crafted");
    for (name, block) in [
        ("epb-length-12.pcapng", "enhanced packet block"),
        ("idb-length-12.pcapng", "interface description block"),
        ("spb-length-12.pcapng", "simple packet block"),
    ] {
        let file = dir.join(name);
        let out = Command::new(common::kaconsole())
            .args(["sniff", "-r", file.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains(file.to_str().unwrap()) && err.contains(block) && err.contains("12 bytes"),
            "{name}: {err}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}
