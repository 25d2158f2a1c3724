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
    // 80 columns: the routers first (the VIPs get what the other columns leave, then "+N"),
    // then their MACs and advert counts.
    let ip_w = snap
        .groups
        .iter()
        .flat_map(|g| &g.routers)
        .map(|(ip, _)| ip.to_string().len())
        .max()
        .unwrap_or(9)
        .max(9);
    let vips_w = 80usize
        .saturating_sub(4 + 8 + ip_w + 7 + 5 + 7 + 10 + 8 + 8)
        .max(15);
    let _ = writeln!(
        out,
        "{:<4} {:<7} {:<ip_w$} {:<6} {:>4} {:>6} {:<9} {:>7}  VIPS",
        "VRID", "FAMILY", "ROUTER", "", "PRIO", "INT", "AUTH", "LAST"
    );
    let mut macs = Vec::new();
    for g in &snap.groups {
        let key = g.key;
        for (ip, r) in &g.routers {
            let mac = r.macs.iter().next().cloned().unwrap_or_default();
            let vips: Vec<String> = r.addrs.iter().map(ToString::to_string).collect();
            let mut vips_text = fit_vips(&vips, vips_w);
            if r.addrs_more > 0 {
                vips_text.push_str(&format!(" (+{} more)", r.addrs_more));
            }
            let ago = snap.last_us.saturating_sub(r.last_us) as f64 / 1e6;
            let _ = writeln!(
                out,
                "{:<4} {:<7} {:<ip_w$} {:<6} {:>4} {:>5.2}s {:<9} {:>6.1}s  {}",
                key.vrid,
                format!(
                    "{}/v{}{}",
                    if key.ipv6 { "v6" } else { "v4" },
                    key.version,
                    if key.unicast { "/u" } else { "" }
                ),
                ip,
                if g.master == Some(*ip) { "MASTER" } else { "" },
                r.priority,
                f64::from(r.interval_cs) / 100.0,
                r.auth,
                ago,
                vips_text
            );
            macs.push((
                ip.to_string(),
                if r.vmac { format!("{mac}*") } else { mac },
                r.adverts,
                r.rate(),
            ));
        }
    }
    if !macs.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<ip_w$} {:<18} {:>8} {:>6}   (* a virtual MAC)",
            "ROUTER", "MAC", "ADVERTS", "ADV/S"
        );
        macs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        macs.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        for (ip, mac, adverts, rate) in macs {
            let _ = writeln!(out, "{ip:<ip_w$} {mac:<18} {adverts:>8} {rate:>6.2}");
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

/// As many of `vips` as fit in `width`, then `+N` for the others: never a cut address.
fn fit_vips(vips: &[String], width: usize) -> String {
    let mut shown = String::new();
    for (k, v) in vips.iter().enumerate() {
        let rest = vips.len() - k - 1;
        let more = if rest > 0 {
            2 + rest.to_string().len()
        } else {
            0
        };
        let sep = usize::from(!shown.is_empty());
        if !shown.is_empty() && shown.len() + sep + v.len() + more > width {
            let _ = write!(shown, " +{}", vips.len() - k);
            return shown;
        }
        if sep == 1 {
            shown.push(' ');
        }
        shown.push_str(v);
    }
    shown
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
        for l in text.lines() {
            assert!(l.chars().count() <= 80, "wider than 80 columns: {l}");
        }
        assert!(
            text.contains("ADVERTS") && text.contains("ADV/S"),
            "the MACs, below: {text}"
        );
        assert_eq!(
            fit_vips(
                &[
                    "10.99.0.100".into(),
                    "10.99.0.101".into(),
                    "10.99.0.102".into()
                ],
                16
            ),
            "10.99.0.100 +2"
        );
        assert!(text.contains("free VRIDs: 1-"), "{text}");
        let mut clock = String::new();
        write_clock(&mut clock, 3_723_000_001);
        assert_eq!(clock, "01:02:03.000001");
    }
}

/// One advert as a flat JSON object (`sniff --json`): the capture's fields and the advert's
/// side by side, the interval in centiseconds (`interval_cs`, as in the final table), the
/// authentication as the table names it (`none`, `none (v3)`, `PASS`, `AH`) with its data in
/// hex; a packet that does not decode has `error` instead of the advert's fields.
#[derive(serde::Serialize)]
struct JsonLine<'a> {
    ts_us: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vlan: Option<u16>,
    src: std::net::IpAddr,
    dst: std::net::IpAddr,
    ttl: u8,
    ah: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vrid: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval_cs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    addrs: Option<&'a [std::net::IpAddr]>,
    /// `plain`, `pseudo_header`, or null when the checksum does not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum: Option<Option<crate::vrrp::checksum::ChecksumForm>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// [`JsonLine`] of `s`.
pub fn json_line(s: &Observed) -> String {
    let mut line = JsonLine {
        ts_us: s.ts_us,
        src_mac: s.src_mac.as_ref().map(super::observe::mac),
        vlan: s.vlan,
        src: s.src,
        dst: s.dst,
        ttl: s.ttl,
        ah: s.ah,
        version: None,
        vrid: None,
        priority: None,
        interval_cs: None,
        auth: None,
        auth_data: None,
        addrs: None,
        checksum: None,
        error: None,
    };
    match &s.advert {
        Decoded::Advert { advert, checksum } => {
            line.version = Some(advert.version.number());
            line.vrid = Some(advert.vrid);
            line.priority = Some(advert.priority);
            line.interval_cs = Some(advert.interval.as_micros() / 10_000);
            line.auth = Some(super::router::auth_name(advert));
            line.auth_data = advert
                .auth
                .and_then(|a| a.data)
                .map(|d| crate::hex::encode(&d));
            line.addrs = Some(&advert.addrs);
            line.checksum = Some(*checksum);
        }
        Decoded::Malformed { error } => line.error = Some(error),
    }
    serde_json::to_string(&line).unwrap_or_default()
}
