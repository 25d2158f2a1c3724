//! How sniff prints: one line per advert (tcpdump-like), and the table with its findings.

use std::fmt::Write as _;

use super::observe::{Decoded, Observed};
use super::table::{Dropped, Table};
use crate::ranges::ranges;
use crate::vrrp::packet::AuthType;

/// `10:24:59.246123` (UTC) from microseconds since the epoch.
fn write_clock(out: &mut String, ts_us: u64) {
    let s = ts_us / 1_000_000 % 86_400;
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}.{:06}",
        s / 3600,
        s % 3600 / 60,
        s % 60,
        ts_us % 1_000_000
    );
}

/// One advert as a line, appended to `out` (sniff reuses one buffer for a whole capture).
pub fn write_line(out: &mut String, s: &Observed) {
    write_clock(out, s.ts_us);
    let _ = write!(out, " {} > {}: ", s.src, s.dst);
    match &s.advert {
        Decoded::Malformed { error } => {
            let _ = write!(out, "VRRP malformed: {error}");
        }
        Decoded::Advert { advert, checksum } => {
            let interval = advert.interval.as_micros() as f64 / 1e6;
            let auth = match advert.auth.map(|a| a.kind) {
                None => "",
                Some(AuthType::None) => " auth none",
                Some(AuthType::Pass) => " auth PASS",
                Some(AuthType::Ah) => " auth AH",
                Some(AuthType::Unknown(_)) => " auth ?",
            };
            let _ = write!(
                out,
                "VRRPv{} vrid {} prio {} int {interval}s{auth} addrs ",
                advert.version.number(),
                advert.vrid,
                advert.priority,
            );
            for (k, a) in advert.addrs.iter().enumerate() {
                let _ = write!(out, "{}{a}", if k == 0 { "" } else { "," });
            }
            let _ = write!(out, " ttl {}", s.ttl);
            if let Some(v) = s.vlan {
                let _ = write!(out, " vlan {v}");
            }
            if s.ah {
                out.push_str(" [AH]");
            }
            if s.vmac() {
                out.push_str(" [vmac]");
            }
            if advert.priority == 0 {
                out.push_str(" [priority 0: master leaving]");
            }
            if s.ttl != 255 {
                out.push_str(" [TTL not 255]");
            }
            if checksum.is_none() {
                out.push_str(" [bad checksum]");
            }
        }
    }
}

/// The table and the findings, for a terminal or a pipe.
pub fn summary(t: &Table) -> String {
    let snap = t.snapshot();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<5} {:<4} {:<3} {:<5} {:<26} {:<17} {:>4} {:>6} {:<8} {:>6} {:>8}  VIPS",
        "VRID", "FAM", "VER", "MODE", "ROUTER", "MAC", "PRIO", "INT", "AUTH", "ADV/S", "LAST"
    );
    for g in &snap.groups {
        let key = g.key;
        for (ip, r) in &g.routers {
            let who = if g.master == Some(*ip) {
                format!("{ip} MASTER")
            } else {
                ip.to_string()
            };
            let mac = r.macs.iter().next().cloned().unwrap_or_default();
            let mut vips: Vec<String> = r.addrs.iter().map(ToString::to_string).collect();
            if r.addrs_more > 0 {
                vips.push(format!("(+{} more)", r.addrs_more));
            }
            let ago = snap.last_us.saturating_sub(r.last_us) as f64 / 1e6;
            let _ = writeln!(
                out,
                "{:<5} {:<4} {:<3} {:<5} {:<26} {:<17} {:>4} {:>5.2}s {:<8} {:>6.2} {:>7.1}s  {}",
                key.vrid,
                if key.ipv6 { "v6" } else { "v4" },
                format!("v{}", key.version),
                if key.unicast { "ucast" } else { "mcast" },
                who,
                if r.vmac { format!("{mac}*") } else { mac },
                r.priority,
                f64::from(r.interval_cs) / 100.0,
                r.auth,
                r.rate(),
                ago,
                vips.join(" ")
            );
        }
    }
    if let Some(line) = dropped_line(&snap.dropped) {
        let _ = writeln!(out, "\n{line}");
    }
    let findings = &snap.findings;
    if findings.is_empty() {
        let _ = writeln!(out, "\nno conflicts ({} packets)", snap.packets);
    } else {
        let _ = writeln!(out, "\n{} conflict(s):", findings.len());
        for f in findings {
            let _ = writeln!(out, "  {}: {}", f.kind, f.message);
            for e in &f.evidence {
                let _ = writeln!(out, "      {e}");
            }
        }
    }
    let _ = writeln!(out, "free VRIDs: {}", ranges(&snap.free_vrids));
    out
}

/// What the table's bounds dropped, in words; `None` while nothing was.
pub fn dropped_line(d: &Dropped) -> Option<String> {
    let mut parts = Vec::new();
    if d.evicted > 0 {
        parts.push(format!(
            "table full: {} router(s) made way for newer ones (at most {} routers, {} per group)",
            d.evicted, d.max_routers, d.max_per_group
        ));
    }
    if d.expired > 0 {
        parts.push(format!(
            "{} router(s) expired after a long silence",
            d.expired
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_reads_as_lines_and_a_table() {
        let path = format!(
            "{}/tests/data/pcaps/vrrp2-auth-pass.pcap",
            env!("CARGO_MANIFEST_DIR")
        );
        let c = crate::pcap::parse(&std::fs::read(path).unwrap()).unwrap();
        let mut t = Table::default();
        let mut lines = Vec::new();
        for r in &c.records {
            if let Some(s) = super::super::observe::observe(c.linktype, r.ts_us, &r.data) {
                let mut l = String::new();
                write_line(&mut l, &s);
                lines.push(l);
                t.add(&s);
            }
        }
        assert!(lines[0].contains("VRRPv2 vrid"), "{}", lines[0]);
        assert!(lines[0].contains("auth PASS"), "{}", lines[0]);
        let text = summary(&t);
        // The capture ends with the master leaving (priority 0): nobody is MASTER.
        assert!(
            text.contains("10.77.0.11 ") && text.contains("10.77.0.12 "),
            "{text}"
        );
        assert!(!text.contains("MASTER"), "{text}");
        assert!(text.contains("no conflicts"), "{text}");
        assert!(text.contains("free VRIDs: 1-"), "{text}");
        let mut clock = String::new();
        write_clock(&mut clock, 3_723_000_001);
        assert_eq!(clock, "01:02:03.000001");
    }
}
