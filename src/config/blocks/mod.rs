//! The configuration model, block by block: each file holds a block's typed model and its
//! keyword table. This module holds the top level.

pub mod addr;
pub mod checkers;
pub mod global;
pub mod groups;
pub mod inherit;
pub mod lvs;
pub mod scripts;
pub mod track;
pub mod vrrp;

use serde::Serialize;

use super::ast::{Line, Node};
use super::build::{Cx, apply_children};
use super::table::{Arg, Keyword, Level::*, Table, TableDoc};

use addr::{IpAddress, Route, Rule, parse_ip_address, parse_route, parse_rule};
use global::GlobalDefs;
use groups::{GarpGroup, SyncGroup, TrackGroup};
use lvs::{Ssl, VirtualServer, VirtualServerGroup};
use track::{TrackFile, TrackProcess, VrrpScript, read_named};
use vrrp::VrrpInstance;

/// A whole keepalived.conf.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Config {
    pub global_defs: GlobalDefs,
    pub vrrp_scripts: Vec<VrrpScript>,
    pub track_files: Vec<TrackFile>,
    pub track_processes: Vec<TrackProcess>,
    pub vrrp_sync_groups: Vec<SyncGroup>,
    pub garp_groups: Vec<GarpGroup>,
    pub track_groups: Vec<TrackGroup>,
    pub vrrp_instances: Vec<VrrpInstance>,
    pub static_ipaddress: Vec<IpAddress>,
    pub static_routes: Vec<Route>,
    pub static_rules: Vec<Rule>,
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    pub virtual_servers: Vec<VirtualServer>,
    pub ssl: Option<Ssl>,
    /// `net_namespace NAME`: the daemon runs in this network namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_namespace: Option<String>,
    /// `instance NAME`: the name in the daemon's pid file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

impl Config {
    /// For a configuration kept while the daemon runs: the lists trimmed to their length and
    /// the instances' keyword spans (needed only to report problems) dropped. A thousand
    /// instances take a megabyte less.
    pub fn compact(&mut self) {
        for i in &mut self.vrrp_instances {
            i.compact();
        }
        self.vrrp_instances.shrink_to_fit();
        self.vrrp_scripts.shrink_to_fit();
        self.track_files.shrink_to_fit();
        self.track_processes.shrink_to_fit();
        self.vrrp_sync_groups.shrink_to_fit();
        self.static_ipaddress.shrink_to_fit();
        self.static_routes.shrink_to_fit();
        self.static_rules.shrink_to_fit();
        self.virtual_server_groups.shrink_to_fit();
        self.virtual_servers.shrink_to_fit();
    }
}

/// The lines of a value block (`virtual_ipaddress { ... }`): one item per line. A line with a
/// block of its own is reported and skipped.
pub fn value_items<'n>(n: &'n Node, cx: &mut Cx<'_>) -> impl Iterator<Item = &'n Line> + use<'n> {
    for child in n.children() {
        if let Some(b) = &child.block {
            cx.error(
                "unexpected-block",
                b.open,
                format!(
                    "items of '{}' do not take a {{ }} block; it is skipped",
                    n.keyword()
                ),
            );
        }
    }
    n.children().iter().map(|c| &c.line)
}

/// A BFD session (accepted, not implemented: its keywords are only checked).
#[derive(Clone, Debug, Default)]
pub struct BfdInstance;

type BK = Keyword<BfdInstance>;

pub static BFD_INSTANCE: Table<BfdInstance> = Table::new(
    "bfd_instance",
    "A BFD session (RFC 5880) that track_bfd and BFD_CHECK can follow.",
    &[
        BK::new("neighbor_ip", Arg::Ip, P2, "Address of the BFD peer.").aliases(&["neighbour_ip"]),
        BK::new("source_ip", Arg::Ip, P2, "Local address."),
        BK::new(
            "min_rx",
            // keepalived: 1..4294967 ms (UINT32_MAX / 1000), 3 decimals.
            Arg::Millis {
                min_us: 1_000,
                max_us: 4_294_967_000,
            },
            P2,
            "Required minimum receive interval (ms).",
        ),
        BK::new(
            "min_tx",
            // keepalived: 1..4294967 ms (UINT32_MAX / 1000), 3 decimals.
            Arg::Millis {
                min_us: 1_000,
                max_us: 4_294_967_000,
            },
            P2,
            "Desired minimum transmit interval (ms).",
        ),
        BK::new(
            "idle_tx",
            // keepalived: 1000..4294967 ms, 3 decimals.
            Arg::Millis {
                min_us: 1_000_000,
                max_us: 4_294_967_000,
            },
            P2,
            "Transmit interval while idle (ms).",
        ),
        BK::new(
            "multiplier",
            Arg::Int { min: 1, max: 255 },
            P2,
            "Detection multiplier.",
        ),
        BK::new("passive", Arg::Flag, P2, "Wait for the peer to start."),
        BK::new(
            "ttl",
            Arg::Int { min: 1, max: 255 },
            P2,
            "Outgoing TTL / hop limit.",
        )
        .aliases(&["hoplimit"]),
        BK::new(
            "max_hops",
            Arg::Int { min: -1, max: 255 },
            P2,
            "Largest TTL reduction accepted.",
        ),
        BK::new(
            "weight",
            Arg::Custom("-253..253 [reverse]"),
            P2,
            "Priority change for track_bfd.",
        ),
        BK::new(
            "multihop",
            Arg::Flag,
            P2,
            "Multihop BFD (RFC 5883, port 4784).",
        )
        .since("2.2.8"),
        BK::new("vrrp", Arg::Flag, P2, "Send events to VRRP only."),
        BK::new(
            "checker",
            Arg::Flag,
            P2,
            "Send events to the checkers only.",
        ),
    ],
);

type TopK = Keyword<Config>;

pub static ROOT: Table<Config> = Table::new(
    "",
    "keepalived.conf",
    &[
        TopK::new(
            "global_defs",
            Arg::Block(&global::TABLE),
            P0,
            "Settings for the whole daemon.",
        )
        .set(|c, v, cx| {
            if let Some(n) = v.node() {
                cx.extra(&n.line, 0);
                let seen = apply_children(
                    &global::TABLE,
                    &mut c.global_defs,
                    n.line.span,
                    n.children(),
                    cx,
                );
                c.global_defs.seen.extend(seen);
            }
        }),
        TopK::new(
            "vrrp_script",
            Arg::Block(&track::VRRP_SCRIPT),
            P0,
            "A health script: vrrp_script NAME { ... }.",
        )
        .set(|c, v, cx| {
            if let Some((name, mut s, seen)) = v
                .node()
                .and_then(|n| read_named(&track::VRRP_SCRIPT, n, cx))
            {
                s.name = name;
                s.seen = seen;
                c.vrrp_scripts.push(s);
            }
        }),
        TopK::new(
            "track_file",
            Arg::Block(&track::TRACK_FILE),
            P1,
            "A tracked file: track_file NAME { ... }.",
        )
        .deprecated(&["vrrp_track_file"])
        .set(|c, v, cx| {
            if let Some((name, mut f, seen)) =
                v.node().and_then(|n| read_named(&track::TRACK_FILE, n, cx))
            {
                f.name = name;
                f.seen = seen;
                c.track_files.push(f);
            }
        }),
        TopK::new(
            "vrrp_track_process",
            Arg::Block(&track::TRACK_PROCESS),
            P1,
            "A tracked process: vrrp_track_process NAME { ... }.",
        )
        .set(|c, v, cx| {
            if let Some((name, mut p, seen)) = v
                .node()
                .and_then(|n| read_named(&track::TRACK_PROCESS, n, cx))
            {
                p.name = name;
                p.seen = seen;
                c.track_processes.push(p);
            }
        }),
        TopK::new(
            "vrrp_sync_group",
            Arg::Block(&groups::SYNC_GROUP),
            P1,
            "Instances that fail over together: vrrp_sync_group NAME { group { ... } }.",
        )
        .set(|c, v, cx| {
            if let Some((name, mut g, seen)) = v
                .node()
                .and_then(|n| read_named(&groups::SYNC_GROUP, n, cx))
            {
                g.name = name;
                g.seen = seen;
                c.vrrp_sync_groups.push(g);
            }
        }),
        TopK::new(
            "garp_group",
            Arg::Block(&groups::GARP_GROUP),
            P2,
            "Gratuitous ARP rate limits over interfaces.",
        )
        .inert()
        .set(|c, v, cx| {
            if let Some(n) = v.node() {
                let (mut g, seen) = groups::GARP_GROUP.read(n, cx);
                g.seen = seen;
                c.garp_groups.push(g);
            }
        }),
        TopK::new(
            "track_group",
            Arg::Block(&groups::TRACK_GROUP),
            P2,
            "Instances that static addresses/routes/rules put in FAULT.",
        )
        .set(|c, v, cx| {
            if let Some((name, mut g, seen)) = v
                .node()
                .and_then(|n| read_named(&groups::TRACK_GROUP, n, cx))
            {
                g.name = name;
                g.seen = seen;
                c.track_groups.push(g);
            }
        }),
        TopK::new(
            "vrrp_instance",
            Arg::Block(&vrrp::VRRP_INSTANCE),
            P0,
            "A VRRP virtual router: vrrp_instance NAME { ... }.",
        )
        .set(|c, v, cx| {
            if let Some((name, mut i, seen)) = v
                .node()
                .and_then(|n| read_named(&vrrp::VRRP_INSTANCE, n, cx))
            {
                i.name = name;
                i.seen = seen;
                c.vrrp_instances.push(i);
            }
        }),
        TopK::new(
            "static_ipaddress",
            Arg::Values("ADDRESS[/LEN] [dev IF] ... [track_group G]"),
            P1,
            "Addresses set at startup whatever the VRRP state.",
        )
        .set(|c, v, cx| {
            if let Some(n) = v.node() {
                for item in value_items(n, cx) {
                    c.static_ipaddress.extend(parse_ip_address(item, true, cx));
                }
            }
        }),
        TopK::new(
            "static_routes",
            Arg::Values("ip route syntax [track_group G]"),
            P1,
            "Routes set at startup whatever the VRRP state.",
        )
        .set(|c, v, cx| {
            if let Some(n) = v.node() {
                for item in value_items(n, cx) {
                    c.static_routes.extend(parse_route(item, true, cx));
                }
            }
        }),
        TopK::new(
            "static_rules",
            Arg::Values("ip rule syntax [track_group G]"),
            P1,
            "Rules set at startup whatever the VRRP state.",
        )
        .set(|c, v, cx| {
            if let Some(n) = v.node() {
                for item in value_items(n, cx) {
                    c.static_rules.extend(parse_rule(item, true, cx));
                }
            }
        }),
        TopK::new(
            "virtual_server_group",
            Arg::NamedValues("ADDRESS[-LAST|/LEN] [PORT] | fwmark N [inet|inet6]"),
            P1,
            "Addresses and fwmarks sharing one virtual server definition.",
        )
        .set(|c, v, cx| {
            c.virtual_server_groups
                .extend(v.node().and_then(|n| lvs::read_vs_group(n, cx)))
        }),
        TopK::new(
            "virtual_server",
            Arg::Block(&lvs::VIRTUAL_SERVER),
            P0,
            "An IPVS service: virtual_server ADDRESS PORT | fwmark N | group NAME { ... }.",
        )
        .set(|c, v, cx| {
            c.virtual_servers
                .extend(v.node().and_then(|n| lvs::read_virtual_server(n, cx)))
        }),
        TopK::new(
            "SSL",
            Arg::Block(&lvs::SSL),
            P1,
            "TLS client settings of SSL_GET.",
        )
        .set(|c, v, cx| {
            if let Some(n) = v.node() {
                let (mut s, seen) = lvs::SSL.read(n, cx);
                s.seen = seen;
                c.ssl = Some(s);
            }
        }),
        TopK::new(
            "bfd_instance",
            Arg::Block(&BFD_INSTANCE),
            P2,
            "A BFD session: bfd_instance NAME { ... }.",
        ),
        TopK::new(
            "linkbeat_interfaces",
            Arg::Values("IFNAME [MII|ETHTOOL|IOCTL]"),
            P2,
            "Interfaces whose link state is polled.",
        ),
        TopK::new(
            "interface_up_down_delays",
            Arg::Values("IFNAME DOWN_DELAY [UP_DELAY]"),
            P2,
            "Debounce of interface state changes.",
        ),
        TopK::new(
            "net_namespace",
            Arg::Word,
            P1,
            "Run in this network namespace (made with `ip netns add NAME`), entered before any socket is opened; `daemon -s NAME` overrides it.",
        )
        .set(|c, v, _| c.net_namespace = Some(v.word().to_string())),
        TopK::new(
            "net_namespace_ipvs",
            Arg::Custom("[NAME]"),
            P2,
            "Network namespace of IPVS.",
        ),
        TopK::new(
            "namespace_with_ipsets",
            Arg::Flag,
            P2,
            "Allow ipsets in a namespace on old kernels.",
        ),
        TopK::new(
            "use_pid_dir",
            Arg::Flag,
            P2,
            "Put pid files in /run/keepalived/.",
        ),
        TopK::new(
            "instance",
            Arg::Word,
            P1,
            "Instance name: the default pid file is /run/kaconsole_NAME.pid.",
        )
        .set(|c, v, _| c.instance = Some(v.word().to_string())),
        TopK::new(
            "child_wait_time",
            Arg::Int {
                min: 0,
                max: u32::MAX as i64,
            },
            P2,
            "Seconds to wait for children at shutdown.",
        ),
        TopK::new(
            "linkbeat_use_polling",
            Arg::Flag,
            P2,
            "Poll link state of every interface.",
        ),
    ],
);

/// Every table, for "belongs in ..." hints and documentation.
pub fn all_tables() -> Vec<&'static (dyn TableDoc + Sync)> {
    vec![
        &ROOT,
        &global::TABLE,
        &track::VRRP_SCRIPT,
        &track::TRACK_FILE,
        &track::TRACK_PROCESS,
        &groups::SYNC_GROUP,
        &groups::GARP_GROUP,
        &groups::TRACK_GROUP,
        &vrrp::VRRP_INSTANCE,
        &vrrp::AUTHENTICATION,
        &lvs::VIRTUAL_SERVER,
        &lvs::REAL_SERVER,
        &lvs::SSL,
        &checkers::TCP_CHECK,
        &checkers::HTTP_GET,
        &checkers::SSL_GET,
        &checkers::URL,
        &checkers::SMTP_CHECK,
        &checkers::SMTP_HOST,
        &checkers::DNS_CHECK,
        &checkers::MISC_CHECK,
        &checkers::UDP_CHECK,
        &checkers::PING_CHECK,
        &checkers::FILE_CHECK,
        &checkers::BFD_CHECK,
        &BFD_INSTANCE,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ast::Block;
    use crate::config::diag::Diagnostics;
    use crate::config::grammar::tokenize;
    use crate::config::prelex::ColMap;
    use crate::config::source::Span;
    use crate::config::table::{fmt_millis, fmt_secs};

    fn line(text: &str) -> Line {
        Line {
            text: text.to_string(),
            toks: tokenize(text).0,
            cols: ColMap::linear(1),
            span: Span::default(),
        }
    }

    /// A valid value for each simple kind of argument.
    fn sample(arg: Arg) -> Option<String> {
        Some(match arg {
            Arg::Flag => String::new(),
            Arg::Bool => "on".into(),
            Arg::Int { min, .. } | Arg::OptInt { min, .. } => min.to_string(),
            Arg::Secs { min_us, .. } => fmt_secs(min_us.max(1_000_000)),
            Arg::Millis { min_us, .. } => fmt_millis(min_us.max(1_000)),
            Arg::Word => "x".into(),
            Arg::Choice(c) => c[0].into(),
            Arg::Ip => "10.0.0.1".into(),
            Arg::Command => "/bin/true".into(),
            Arg::Custom(_) | Arg::Block(_) | Arg::Values(_) | Arg::NamedValues(_) => return None,
        })
    }

    #[test]
    fn every_setter_takes_the_value_its_syntax_produces() {
        // A mismatch between a keyword's Arg and its setter trips a debug assertion.
        for table in all_tables() {
            let children: Vec<Node> = table
                .args()
                .into_iter()
                .filter_map(|(name, arg)| {
                    let v = match name {
                        "vrrp_mcast_group4" | "mcast_dst_ip" => Some("224.0.0.18".into()),
                        "vrrp_mcast_group6" => Some("ff02::12".into()),
                        "persistence_granularity" => Some("255.255.255.0".into()),
                        "digest" => Some("0123456789abcdef0123456789abcdef".into()),
                        _ => sample(arg),
                    };
                    v.map(|v| format!("{name} {v}"))
                })
                .map(|t| Node {
                    line: line(&t),
                    block: None,
                })
                .collect();
            let node = Node {
                line: line(table.block()),
                block: Some(Block {
                    open: Span::default(),
                    close: None,
                    children,
                }),
            };
            let mut d = Diagnostics::default();
            let tables = all_tables();
            let mut cx = Cx::new(&mut d, &tables);
            table.check_block(&node, &mut cx);
            let unexpected: Vec<String> = d
                .iter()
                .filter(|x| !matches!(x.code, "not-implemented" | "newer-keyword" | "order"))
                .map(|x| format!("{}: {}", x.code, x.message))
                .collect();
            assert!(unexpected.is_empty(), "{}: {unexpected:?}", table.block());
        }
    }
}
