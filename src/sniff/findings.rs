//! The conflict rules: what the routers of each VRRP group, the adverts that failed a check
//! and the packets that do not decode say is wrong on the segment, each with its evidence.
//! They read a snapshot's groups, so their cost is bounded by the table's caps.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::rejected::Rejected;
use super::router::{Key, Router};
use super::table::GroupSnapshot;

/// A problem on the segment, with what shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `vip-mismatch`, `auth-mismatch`, `interval-mismatch`, `version-mix`, `split-brain`,
    /// `two-owners`, `bad-ttl`, `bad-checksum`, `malformed`.
    pub kind: Cow<'static, str>,
    pub vrid: Option<u8>,
    pub message: String,
    pub evidence: Vec<String>,
}

fn finding(
    kind: &'static str,
    vrid: Option<u8>,
    message: String,
    evidence: Vec<String>,
) -> Finding {
    Finding {
        kind: Cow::Borrowed(kind),
        vrid,
        message,
        evidence,
    }
}

/// Packets that do not decode: how many, and the first few as (time, source, why).
pub struct Malformed<'a> {
    pub count: u64,
    pub kept: &'a [(u64, IpAddr, String)],
}

/// Every finding, group by group (in key order), then the version mix and malformed packets.
pub fn findings(
    groups: &[GroupSnapshot],
    rejected: &BTreeMap<Key, Rejected>,
    malformed: Malformed,
) -> Vec<Finding> {
    let mut keys: BTreeMap<Key, (Option<&GroupSnapshot>, Option<&Rejected>)> = BTreeMap::new();
    for g in groups {
        keys.entry(g.key).or_default().0 = Some(g);
    }
    for (k, r) in rejected {
        keys.entry(*k).or_default().1 = Some(r);
    }
    let mut out = Vec::new();
    for (key, (group, rejected)) in keys {
        if let Some(g) = group {
            of_routers(key.vrid, &g.routers, &mut out);
        }
        if let Some(r) = rejected {
            of_rejected(key.vrid, r, &mut out);
        }
    }
    version_mix(groups, &mut out);
    if malformed.count > 0 {
        out.push(finding(
            "malformed",
            None,
            format!("{} packet(s) that do not decode", malformed.count),
            malformed
                .kept
                .iter()
                .take(5)
                .map(|(_, ip, e)| format!("{ip}: {e}"))
                .collect(),
        ));
    }
    out
}

/// What the routers of one group disagree on.
fn of_routers(vrid: u8, routers: &[(IpAddr, Router)], out: &mut Vec<Finding>) {
    let each = |f: &dyn Fn(&Router) -> String| -> Vec<String> {
        routers
            .iter()
            .map(|(ip, r)| format!("{ip}: {}", f(r)))
            .collect()
    };
    let differ = |f: &dyn Fn(&Router) -> String| {
        routers
            .iter()
            .map(|(_, r)| f(r))
            .collect::<BTreeSet<_>>()
            .len()
            > 1
    };
    let show_addrs = |r: &Router| {
        let mut a: Vec<String> = r.addrs.iter().map(IpAddr::to_string).collect();
        a.sort();
        if r.addrs_more > 0 {
            a.push(format!("(+{} more)", r.addrs_more));
        }
        a.join(" ")
    };
    if differ(&show_addrs) {
        out.push(finding(
            "vip-mismatch",
            Some(vrid),
            format!(
                "VRID {vrid}: routers advertise different virtual addresses (keepalived logs \
                 \"ip address associated with VRID not present in MASTER advert\")"
            ),
            each(&show_addrs),
        ));
    }
    let show_auth = |r: &Router| match &r.password {
        Some(p) => format!("{} \"{p}\"", r.auth),
        None => r.auth.to_string(),
    };
    if differ(&show_auth) {
        out.push(finding(
            "auth-mismatch",
            Some(vrid),
            format!(
                "VRID {vrid}: different authentication: each side drops the other's adverts \
                 and both become MASTER"
            ),
            each(&show_auth),
        ));
    }
    let show_interval = |r: &Router| format!("{:.2} s", f64::from(r.interval_cs) / 100.0);
    if differ(&show_interval) {
        out.push(finding(
            "interval-mismatch",
            Some(vrid),
            format!("VRID {vrid}: different advert intervals (v2 backups drop such adverts)"),
            each(&show_interval),
        ));
    }
    // A preemption overlaps for an advert or two on one side; two masters keep
    // overlapping on both.
    let concurrent: Vec<String> = routers
        .iter()
        .filter(|(_, r)| r.concurrent >= 3)
        .map(|(ip, r)| {
            format!(
                "{ip}: {} of its {} adverts while another router advertised",
                r.concurrent, r.adverts
            )
        })
        .collect();
    if concurrent.len() > 1 {
        out.push(finding(
            "split-brain",
            Some(vrid),
            format!("VRID {vrid}: more than one router advertises at the same time (two MASTERs)"),
            concurrent,
        ));
    }
    let owners: Vec<String> = routers
        .iter()
        .filter(|(_, r)| r.priority == 255)
        .map(|(ip, _)| ip.to_string())
        .collect();
    if owners.len() > 1 {
        out.push(finding(
            "two-owners",
            Some(vrid),
            format!("VRID {vrid}: more than one address owner (priority 255)"),
            owners,
        ));
    }
}

/// The adverts of one group that failed a check.
fn of_rejected(vrid: u8, r: &Rejected, out: &mut Vec<Finding>) {
    if r.bad_ttl.count > 0 {
        out.push(finding(
            "bad-ttl",
            Some(vrid),
            format!(
                "VRID {vrid}: {} advert(s) with a TTL/hop limit other than 255 (RFC 5798 \
                 §5.1.1.3: discarded; routed from another link?)",
                r.bad_ttl.count
            ),
            r.bad_ttl.evidence(),
        ));
    }
    if r.bad_checksum.count > 0 {
        out.push(finding(
            "bad-checksum",
            Some(vrid),
            format!(
                "VRID {vrid}: {} advert(s) whose checksum does not verify",
                r.bad_checksum.count
            ),
            r.bad_checksum.evidence(),
        ));
    }
}

/// The same VRID and family in both versions (keepalived's version mismatch).
fn version_mix(groups: &[GroupSnapshot], out: &mut Vec<Finding>) {
    let mut by_vrid: BTreeMap<(u8, bool), Vec<&GroupSnapshot>> = BTreeMap::new();
    for g in groups {
        by_vrid.entry((g.key.vrid, g.key.ipv6)).or_default().push(g);
    }
    for ((vrid, _), gs) in by_vrid {
        let versions: BTreeSet<u8> = gs.iter().map(|g| g.key.version).collect();
        if versions.len() > 1 {
            let evidence = gs
                .iter()
                .flat_map(|g| {
                    g.routers
                        .iter()
                        .map(move |(ip, _)| format!("{ip}: VRRPv{}", g.key.version))
                })
                .collect();
            out.push(finding(
                "version-mix",
                Some(vrid),
                format!("VRID {vrid}: VRRPv2 and VRRPv3 on the same segment"),
                evidence,
            ));
        }
    }
}
