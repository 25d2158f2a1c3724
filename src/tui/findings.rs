//! What is wrong between nodes, found from what the daemons report: for one virtual router
//! (VRID and family), different VIPs, authentication, interval, version or unicast peers
//! ("drift"); equal base priorities; a tracker whose weight cannot take its node below a peer,
//! so that its failure never moves the VIP; a mix of preempt and nopreempt that keeps a
//! recovered node from taking the VIP back; and the conflicts a node is part of on its
//! segment (adverts it rejects, a second MASTER). With one node, its routers are compared with
//! the routers its segment hears.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use super::model::Node;
use crate::config::{self, LoadOptions};
use crate::control::protocol::segment::{
    Finding as SegmentFinding, GroupSnapshot, Key, Router, Snapshot,
};
use crate::control::protocol::{InstanceStatus, Status};

/// A virtual router: its VRID, whether it is IPv6, and its segment - the interface, taken
/// to be the same segment on every node when its name is.
pub type RouterKey = (u8, bool, String);

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// `drift`, `tie`, `tracker`, `preempt`, `segment`.
    pub kind: &'static str,
    pub router: RouterKey,
    pub message: String,
}

/// What a node's configuration says of an instance, beyond its status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceConf {
    /// `none`, `PASS <password>`, `AH <password>`.
    pub auth: String,
    pub peers: Vec<String>,
    pub nopreempt: bool,
}

/// The instances of a configuration text, by name.
pub fn read_config(path: &str, text: &str) -> BTreeMap<String, InstanceConf> {
    let opts = LoadOptions {
        random_seed: Some(0),
        ..Default::default()
    };
    let loaded = config::load_text(Path::new(path), text.as_bytes(), &opts, None);
    loaded
        .config
        .vrrp_instances
        .iter()
        .map(|i| {
            let auth = match &i.authentication {
                Some(a) => format!(
                    "{} {}",
                    match a.auth_type {
                        Some(config::blocks::vrrp::AuthType::Ah) => "AH",
                        _ => "PASS",
                    },
                    a.auth_pass.as_deref().unwrap_or("")
                ),
                None => "none".into(),
            };
            let mut peers: Vec<String> =
                i.unicast_peer.iter().map(|p| p.addr.to_string()).collect();
            peers.sort();
            (
                i.name.clone(),
                InstanceConf {
                    auth,
                    peers,
                    nopreempt: i.nopreempt,
                },
            )
        })
        .collect()
}

/// An instance's virtual router.
pub fn router_of(i: &InstanceStatus) -> RouterKey {
    (
        i.vrid,
        i.vips.first().is_some_and(|v| v.contains(':')),
        i.interface.clone(),
    )
}

/// `VRID 51` or `VRID 51 (IPv6)`.
pub fn router_name((vrid, v6, _): &RouterKey) -> String {
    if *v6 {
        format!("VRID {vrid} (IPv6)")
    } else {
        format!("VRID {vrid}")
    }
}

/// Each virtual router, and each node's instance of it.
pub fn by_router(nodes: &[Node]) -> BTreeMap<RouterKey, Vec<(usize, &InstanceStatus)>> {
    let mut routers: BTreeMap<RouterKey, Vec<(usize, &InstanceStatus)>> = BTreeMap::new();
    for (k, n) in nodes.iter().enumerate() {
        for i in n.status.iter().flat_map(|s| &s.instances) {
            routers.entry(router_of(i)).or_default().push((k, i));
        }
    }
    routers
}

/// Every finding over the nodes.
pub fn findings(nodes: &[Node]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (key, members) in by_router(nodes) {
        if members.len() > 1 {
            drift(nodes, &key, &members, &mut out);
            ties(nodes, &key, &members, &mut out);
            preempt(nodes, &key, &members, &mut out);
        }
        trackers(nodes, &key, &members, &mut out);
    }
    // Alone, a node is compared with the routers its segment hears instead of its peers.
    let alone = nodes.len() == 1;
    for n in nodes {
        segment(n, alone, &mut out);
    }
    // Two instances of one VRID (IPv4 and IPv6) see the same segment conflict once.
    let mut seen = BTreeSet::new();
    out.retain(|f| seen.insert(f.message.clone()));
    out
}

/// `lb1=a, lb2=b`.
fn values(nodes: &[Node], members: &[(usize, String)]) -> String {
    members
        .iter()
        .map(|(k, v)| format!("{}={v}", nodes[*k].name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn conf<'a>(nodes: &'a [Node], k: usize, i: &InstanceStatus) -> Option<&'a InstanceConf> {
    nodes[k].instances.get(&i.name)
}

fn drift(
    nodes: &[Node],
    key: &RouterKey,
    members: &[(usize, &InstanceStatus)],
    out: &mut Vec<Finding>,
) {
    type Field = fn(&[Node], usize, &InstanceStatus) -> Option<String>;
    let fields: [(&str, Field); 5] = [
        ("VIPs", |_, _, i| {
            let set: BTreeSet<&String> = i.vips.iter().collect();
            Some(set.into_iter().cloned().collect::<Vec<_>>().join(" "))
        }),
        ("advert interval", |_, _, i| {
            Some(format!("{}s", i.adver_int_s))
        }),
        ("version", |_, _, i| Some(format!("v{}", i.version))),
        ("authentication", |n, k, i| {
            conf(n, k, i).map(|c| c.auth.clone())
        }),
        ("unicast peers", |n, k, i| {
            conf(n, k, i).map(|c| match c.peers.len() {
                0 => "multicast".to_string(),
                _ => c.peers.len().to_string() + " peer(s)",
            })
        }),
    ];
    for (field, value) in fields {
        let vals: Vec<(usize, String)> = members
            .iter()
            .filter_map(|(k, i)| value(nodes, *k, i).map(|v| (*k, v)))
            .collect();
        let distinct: BTreeSet<&String> = vals.iter().map(|(_, v)| v).collect();
        if distinct.len() > 1 {
            // A password is not shown: that they differ is enough.
            let shown = if field == "authentication" {
                vals.iter()
                    .map(|(k, v)| (*k, v.split(' ').next().unwrap_or("").to_string()))
                    .collect()
            } else {
                vals
            };
            out.push(Finding {
                kind: "drift",
                router: key.clone(),
                message: format!(
                    "drift in {}: {field} differ: {}",
                    router_name(key),
                    values(nodes, &shown)
                ),
            });
        }
    }
}

fn ties(
    nodes: &[Node],
    key: &RouterKey,
    members: &[(usize, &InstanceStatus)],
    out: &mut Vec<Finding>,
) {
    let mut seen: BTreeMap<u8, Vec<(usize, String)>> = BTreeMap::new();
    for (k, i) in members {
        if i.base_priority < 255 {
            seen.entry(i.base_priority)
                .or_default()
                .push((*k, i.base_priority.to_string()));
        }
    }
    for (prio, tied) in seen {
        if tied.len() > 1 {
            out.push(Finding {
                kind: "tie",
                router: key.clone(),
                message: format!(
                    "{}: equal base priority {prio} on {}: the higher address wins",
                    router_name(key),
                    tied.iter()
                        .map(|(k, _)| nodes[*k].name())
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            });
        }
    }
}

/// A node with nopreempt next to one that preempts: when the preferred node comes back it
/// does not take the VIP back (or takes it from a node that never gives way), which is
/// rarely what was meant.
fn preempt(
    nodes: &[Node],
    key: &RouterKey,
    members: &[(usize, &InstanceStatus)],
    out: &mut Vec<Finding>,
) {
    let vals: Vec<(usize, String)> = members
        .iter()
        .filter_map(|(k, i)| {
            conf(nodes, *k, i)
                .map(|c| (*k, if c.nopreempt { "nopreempt" } else { "preempt" }.into()))
        })
        .collect();
    let distinct: BTreeSet<&String> = vals.iter().map(|(_, v)| v).collect();
    if distinct.len() > 1 {
        out.push(Finding {
            kind: "preempt",
            router: key.clone(),
            message: format!(
                "{}: preempt mix ({}): the VIP is not handed back when the preferred node returns",
                router_name(key),
                values(nodes, &vals)
            ),
        });
    }
}

/// A tracker whose failure leaves its node above every peer: the VIP never moves for it.
/// The peers are the other nodes' instances, or with one node the routers its segment hears.
fn trackers(
    nodes: &[Node],
    key: &RouterKey,
    members: &[(usize, &InstanceStatus)],
    out: &mut Vec<Finding>,
) {
    for (k, i) in members {
        let mut peers: Vec<(String, u8)> = members
            .iter()
            .filter(|(j, _)| j != k)
            .map(|(j, p)| (nodes[*j].name().to_string(), p.effective_priority))
            .collect();
        if peers.is_empty() {
            peers = heard(&nodes[*k], key);
        }
        let Some((peer, best)) = peers.iter().max_by_key(|(_, p)| *p) else {
            continue;
        };
        for t in i.trackers.iter().filter(|t| t.weight < 0) {
            let after = (i.base_priority as i32 + t.weight).max(1);
            if i.base_priority < 255 && i.base_priority > *best && after > *best as i32 {
                out.push(Finding {
                    kind: "tracker",
                    router: key.clone(),
                    message: format!(
                        "{}: {} on {} has weight {}: failed, {} stays at {after}, above {peer}'s {best}; the VIP does not move",
                        router_name(key),
                        t.id,
                        nodes[*k].name(),
                        t.weight,
                        i.name
                    ),
                });
            }
        }
    }
}

/// The routers node `n` hears for `key` on its segment, with their priorities.
fn heard(n: &Node, key: &RouterKey) -> Vec<(String, u8)> {
    n.segment
        .iter()
        .flat_map(|s| &s.groups)
        .filter(|g| g.key.vrid == key.0 && g.key.ipv6 == key.1)
        .flat_map(|g| &g.routers)
        .map(|(addr, r)| (addr.to_string(), r.priority))
        .collect()
}

/// The conflicts on node `n`'s segment that its own routers are part of: adverts they reject
/// (an authentication mismatch is a split brain), another router advertising while they are
/// MASTER, and what the segment table found on their VRIDs.
fn segment(n: &Node, alone: bool, out: &mut Vec<Finding>) {
    let Some(status) = &n.status else {
        return;
    };
    let table = n.segment.clone().unwrap_or_default();
    let merged = with_this_node(&table, status, &n.instances);
    for i in &status.instances {
        for f in merged.findings.iter().filter(|f| f.vrid == Some(i.vrid)) {
            out.push(Finding {
                kind: "segment",
                router: router_of(i),
                message: format!("{} on {}: {}", f.kind, n.name(), f.message),
            });
        }
        if alone {
            against_heard(n, i, &table, out);
        }
    }
}

/// Node `n`'s instance `i` against the routers its segment hears for the same VRID: other
/// VIPs or another interval there is drift too, found without the peer's console.
fn against_heard(n: &Node, i: &InstanceStatus, table: &Snapshot, out: &mut Vec<Finding>) {
    let key = router_of(i);
    let mut ours: Vec<String> = i
        .vips
        .iter()
        .map(|v| v.split('/').next().unwrap_or(v).to_string())
        .collect();
    ours.sort();
    let our_cs = (i.adver_int_s * 100.0).round() as u32;
    let groups = table
        .groups
        .iter()
        .filter(|g| g.key.vrid == key.0 && g.key.ipv6 == key.1);
    for (ip, r) in groups.flat_map(|g| &g.routers) {
        let mut theirs: Vec<String> = r.addrs.iter().map(ToString::to_string).collect();
        theirs.sort();
        let here = n.name();
        if r.addrs_more == 0 && theirs != ours {
            out.push(Finding {
                kind: "drift",
                router: key.clone(),
                message: format!(
                    "drift in {} with {ip} (heard): VIPs differ: {here}={}, {ip}={}",
                    router_name(&key),
                    ours.join(" "),
                    theirs.join(" ")
                ),
            });
        }
        if r.interval_cs != our_cs {
            out.push(Finding {
                kind: "drift",
                router: key.clone(),
                message: format!(
                    "drift in {} with {ip} (heard): advert interval differ: {here}={}s, {ip}={}s",
                    router_name(&key),
                    f64::from(our_cs) / 100.0,
                    f64::from(r.interval_cs) / 100.0
                ),
            });
        }
    }
}

/// The address standing for this node in the table (it is never an advert's source).
pub fn this_node(ipv6: bool) -> IpAddr {
    if ipv6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

/// The daemon's table with this node's instances added as routers (at [`this_node`]), their
/// VRIDs taken out of the free ones, and the conflicts they are part of: adverts they reject
/// (authentication, VIPs, interval) and another router advertising while they are MASTER.
pub fn with_this_node(
    snap: &Snapshot,
    status: &Status,
    conf: &std::collections::BTreeMap<String, InstanceConf>,
) -> Snapshot {
    let mut s = snap.clone();
    let mut index: std::collections::HashMap<(u8, bool), usize> = s
        .groups
        .iter()
        .enumerate()
        .map(|(k, g)| ((g.key.vrid, g.key.ipv6), k))
        .collect();
    for i in &status.instances {
        let ipv6 = i.vips.first().is_some_and(|v| v.contains(':'));
        let key = Key {
            vrid: i.vrid,
            ipv6,
            version: i.version,
            unicast: conf.get(&i.name).is_some_and(|c| !c.peers.is_empty()),
        };
        let me = this_node(ipv6);
        let router = Router {
            priority: i.effective_priority,
            interval_cs: (i.adver_int_s * 100.0).round() as u32,
            addrs: i
                .vips
                .iter()
                .filter_map(|v| v.split('/').next()?.parse().ok())
                .collect(),
            auth: conf
                .get(&i.name)
                .map_or("?", |c| c.auth.split(' ').next().unwrap_or("?"))
                .to_string(),
            adverts: i.stats.advert_sent,
            last_us: snap.last_us,
            first_us: snap.last_us,
            ..Router::default()
        };
        let g = *index.entry((i.vrid, ipv6)).or_insert_with(|| {
            s.groups.push(GroupSnapshot {
                key,
                master: None,
                routers: Vec::new(),
            });
            s.groups.len() - 1
        });
        let master = i.state == "MASTER";
        let others: Vec<String> = s.groups[g]
            .routers
            .iter()
            .filter(|(ip, r)| {
                // This node's other instances of the VRID (on other interfaces) are not others.
                !ip.is_unspecified()
                    && !r.left
                    && snap.last_us.saturating_sub(r.last_us)
                        < 3 * u64::from(r.interval_cs.max(1)) * 10_000
            })
            .map(|(ip, r)| format!("{ip} advertises with priority {}", r.priority))
            .collect();
        if master && !others.is_empty() {
            s.findings.push(SegmentFinding {
                kind: "split-brain".into(),
                vrid: Some(i.vrid),
                message: format!(
                    "VRID {}: this node ({}) is MASTER and another router advertises too",
                    i.vrid, i.name
                ),
                evidence: others,
            });
        }
        for (count, kind, what) in [
            (
                i.stats.auth_failure,
                "auth-mismatch",
                "authentication failed",
            ),
            (
                i.stats.authtype_mismatch,
                "auth-mismatch",
                "another authentication type",
            ),
            (i.stats.addr_list_err, "vip-mismatch", "other VIPs"),
            (
                i.stats.advert_interval_err,
                "interval-mismatch",
                "another interval",
            ),
        ] {
            if count > 0 {
                s.findings.push(SegmentFinding {
                    kind: kind.into(),
                    vrid: Some(i.vrid),
                    message: format!(
                        "VRID {}: this node ({}) rejected {count} advert(s): {what}",
                        i.vrid, i.name
                    ),
                    evidence: Vec::new(),
                });
            }
        }
        if master {
            s.groups[g].master = Some(me);
        }
        s.groups[g].routers.insert(0, (me, router));
        s.free_vrids.retain(|v| *v != i.vrid);
    }
    s.groups.sort_by_key(|g| (g.key.vrid, g.key.ipv6));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::TrackerStatus;
    use crate::control::protocol::fixture::instance;

    fn node(name: &str, instances: Vec<InstanceStatus>) -> Node {
        let mut s = crate::control::protocol::fixture::status();
        s.host = name.into();
        s.instances = instances;
        Node {
            status: Some(s),
            connected: true,
            ..Node::new(name)
        }
    }

    fn tracked(base: u8, weight: i32) -> InstanceStatus {
        let mut i = instance("VI_1", "MASTER", base);
        i.trackers = vec![TrackerStatus {
            id: "script:chk".into(),
            weight,
            status: "up".into(),
            effect: "+0".into(),
        }];
        i
    }

    #[test]
    fn a_tracker_that_cannot_move_the_vip_is_found_and_one_that_can_is_not() {
        let peer = instance("VI_1", "BACKUP", 100);
        // 150 - 20 = 130 stays above 100: the failure changes nothing.
        let f = findings(&[
            node("lb1", vec![tracked(150, -20)]),
            node("lb2", vec![peer.clone()]),
        ]);
        let t: Vec<&Finding> = f.iter().filter(|f| f.kind == "tracker").collect();
        assert_eq!(t.len(), 1, "{f:?}");
        assert!(
            t[0].message.contains("weight -20") && t[0].message.contains("above lb2's 100"),
            "{}",
            t[0].message
        );
        // 150 - 60 = 90 goes below 100: the VIP moves.
        let f = findings(&[
            node("lb1", vec![tracked(150, -60)]),
            node("lb2", vec![peer]),
        ]);
        assert!(f.iter().all(|f| f.kind != "tracker"), "{f:?}");
    }

    #[test]
    fn drift_names_the_field_and_each_nodes_value() {
        let a = instance("VI_1", "MASTER", 150);
        let mut b = instance("VI_1", "BACKUP", 100);
        b.vips.push("10.0.0.101/24".into());
        b.adver_int_s = 2.0;
        let mut n1 = node("lb1", vec![a]);
        let mut n2 = node("lb2", vec![b]);
        let conf = |auth: &str, nopreempt| InstanceConf {
            auth: auth.into(),
            peers: Vec::new(),
            nopreempt,
        };
        n1.instances
            .insert("VI_1".into(), conf("PASS secret1", false));
        n2.instances
            .insert("VI_1".into(), conf("PASS secret2", true));
        let f: Vec<String> = findings(&[n1, n2]).into_iter().map(|f| f.message).collect();
        let has = |s: &str| f.iter().any(|m| m.contains(s));
        assert!(
            has("VIPs differ: lb1=10.0.0.100/24, lb2=10.0.0.100/24 10.0.0.101/24"),
            "{f:?}"
        );
        assert!(has("advert interval differ: lb1=1s, lb2=2s"), "{f:?}");
        assert!(has("authentication differ"), "{f:?}");
        assert!(
            !f.iter().any(|m| m.contains("secret")),
            "no password shown: {f:?}"
        );
        assert!(has("preempt mix (lb1=preempt, lb2=nopreempt)"), "{f:?}");
    }

    /// With one node, its instances are compared with the routers its segment hears.
    #[test]
    fn one_node_is_compared_with_the_routers_it_hears() {
        use crate::control::protocol::segment::{GroupSnapshot, Key, Router};
        let mut n = node("lb1", vec![instance("VI_1", "MASTER", 150)]);
        let heard = |addr: &str, cs| Router {
            priority: 100,
            interval_cs: cs,
            addrs: vec![addr.parse().unwrap()],
            ..Router::default()
        };
        n.segment = Some(Snapshot {
            groups: vec![GroupSnapshot {
                key: Key {
                    vrid: 51,
                    ipv6: false,
                    version: 2,
                    unicast: false,
                },
                master: None,
                routers: vec![
                    ("10.0.0.2".parse().unwrap(), heard("10.0.0.100", 100)),
                    ("10.0.0.3".parse().unwrap(), heard("10.0.0.109", 200)),
                ],
            }],
            ..Snapshot::default()
        });
        let f: Vec<String> = findings(&[n]).into_iter().map(|f| f.message).collect();
        assert!(
            f.iter().any(|m| m
                == "drift in VRID 51 with 10.0.0.3 (heard): VIPs differ: lb1=10.0.0.100, 10.0.0.3=10.0.0.109"),
            "{f:?}"
        );
        assert!(
            f.iter().any(|m| m
                .contains("with 10.0.0.3 (heard): advert interval differ: lb1=1s, 10.0.0.3=2s")),
            "{f:?}"
        );
        assert!(
            !f.iter().any(|m| m.contains("10.0.0.2 (heard)")),
            "the same: {f:?}"
        );
    }

    #[test]
    fn a_configuration_says_auth_peers_and_preempt() {
        let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n priority 100\n nopreempt\n state BACKUP\n authentication {\n  auth_type PASS\n  auth_pass abc\n }\n unicast_peer {\n  10.0.0.2\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n";
        let c = read_config("/nonexistent/keepalived.conf", text);
        assert_eq!(
            c["VI_1"],
            InstanceConf {
                auth: "PASS abc".into(),
                peers: vec!["10.0.0.2".into()],
                nopreempt: true
            }
        );
    }
}
