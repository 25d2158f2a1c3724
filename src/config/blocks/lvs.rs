//! `virtual_server_group`, `virtual_server`, `real_server` and `SSL` (keepalived's
//! check/check_parser.c).

use std::net::IpAddr;

use serde::Serialize;

use crate::config::ast::{Line, Node};
use crate::config::build::{Cx, Seen};
use crate::config::table::{Arg, Command, Keyword, Level::*, Table, UINT, Val};
use crate::config::values::{Family, Micros};

use super::checkers::{self, CheckKind, Checker};
use super::inherit::{At, CheckOption, CheckOptions, InheritsCheckOptions};
use super::value_items;

pub const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TunType {
    #[default]
    Ipip,
    Gue,
    Gre,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TunCsum {
    #[default]
    Nocsum,
    Csum,
    Remcsum,
}

/// `lvs_method` / `lb_kind`: how IPVS forwards to a real server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "UPPERCASE")]
pub enum Method {
    Nat,
    Dr,
    Tun {
        #[serde(rename = "type")]
        kind: TunType,
        #[serde(skip_serializing_if = "Option::is_none")]
        port: Option<u16>,
        csum: TunCsum,
    },
}

/// What a `virtual_server` line names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VsKey {
    Address {
        addr: IpAddr,
        #[serde(skip_serializing_if = "Option::is_none")]
        port: Option<u16>,
    },
    Fwmark(u32),
    Group(String),
}

/// IPVS scheduler flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SchedFlags {
    pub flag_1: bool,
    pub flag_2: bool,
    pub flag_3: bool,
    /// One-packet scheduling (UDP only).
    pub ops: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SorryServer {
    pub addr: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    pub inhibit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lvs_method: Option<Method>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RealServer {
    pub addr: IpAddr,
    pub port: Option<u16>,
    pub weight: Option<u32>,
    pub lvs_method: Option<Method>,
    pub uthreshold: u32,
    pub lthreshold: u32,
    pub inhibit_on_failure: Option<bool>,
    pub notify_up: Option<Command>,
    pub notify_down: Option<Command>,
    pub alpha: Option<bool>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Micros>,
    pub warmup: Option<Micros>,
    pub connect_timeout: Option<Micros>,
    pub delay_loop: Option<Micros>,
    pub smtp_alert: Option<bool>,
    pub virtualhost: Option<String>,
    pub checkers: Vec<Checker>,
    #[serde(skip)]
    pub seen: Seen,
}

impl Default for RealServer {
    fn default() -> Self {
        RealServer {
            addr: IpAddr::from([0, 0, 0, 0]),
            port: None,
            weight: None,
            lvs_method: None,
            uthreshold: 0,
            lthreshold: 0,
            inhibit_on_failure: None,
            notify_up: None,
            notify_down: None,
            alpha: None,
            retry: None,
            delay_before_retry: None,
            warmup: None,
            connect_timeout: None,
            delay_loop: None,
            smtp_alert: None,
            virtualhost: None,
            checkers: Vec::new(),
            seen: Seen::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct VirtualServer {
    #[serde(flatten)]
    pub key: VsKey,
    pub ip_family: Option<Family>,
    pub lvs_sched: Option<&'static str>,
    pub sched_flags: SchedFlags,
    pub lvs_method: Option<Method>,
    pub protocol: Option<Protocol>,
    pub persistence_timeout: Option<u32>,
    pub persistence_granularity: Option<String>,
    pub persistence_engine: Option<String>,
    pub delay_loop: Micros,
    pub connect_timeout: Micros,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Micros>,
    pub warmup: Option<Micros>,
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up: Option<Command>,
    pub quorum_down: Option<Command>,
    pub sorry_server: Option<SorryServer>,
    pub alpha: bool,
    pub omega: bool,
    pub ha_suspend: bool,
    pub inhibit_on_failure: bool,
    pub virtualhost: Option<String>,
    pub smtp_alert: Option<bool>,
    pub weight: u32,
    pub real_servers: Vec<RealServer>,
    #[serde(skip)]
    pub seen: Seen,
}

impl Default for VirtualServer {
    fn default() -> Self {
        VirtualServer {
            key: VsKey::Fwmark(0),
            ip_family: None,
            lvs_sched: None,
            sched_flags: SchedFlags::default(),
            lvs_method: None,
            protocol: None,
            persistence_timeout: None,
            persistence_granularity: None,
            persistence_engine: None,
            delay_loop: Micros::secs(60),
            connect_timeout: Micros::secs(5),
            retry: None,
            delay_before_retry: None,
            warmup: None,
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            sorry_server: None,
            alpha: false,
            omega: false,
            ha_suspend: false,
            inhibit_on_failure: false,
            virtualhost: None,
            smtp_alert: None,
            weight: 1,
            real_servers: Vec::new(),
            seen: Seen::default(),
        }
    }
}

impl VirtualServer {
    /// The virtual server as written after `virtual_server`: `10.0.0.1 80`, `fwmark 1`,
    /// `group NAME`.
    pub fn label(&self) -> String {
        match &self.key {
            VsKey::Address {
                addr,
                port: Some(p),
            } => format!("{addr} {p}"),
            VsKey::Address { addr, port: None } => addr.to_string(),
            VsKey::Fwmark(m) => format!("fwmark {m}"),
            VsKey::Group(g) => format!("group {g}"),
        }
    }
}

/// One line of a `virtual_server_group`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VsgEntry {
    /// An address or an inclusive range of addresses.
    Range {
        start: IpAddr,
        end: IpAddr,
        #[serde(skip_serializing_if = "Option::is_none")]
        port: Option<u16>,
    },
    Fwmark {
        mark: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        family: Option<Family>,
    },
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct VirtualServerGroup {
    pub name: String,
    pub entries: Vec<VsgEntry>,
    #[serde(skip)]
    pub seen: Seen,
    /// Line of each entry.
    #[serde(skip)]
    pub entry_spans: Vec<crate::config::source::Span>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Ssl {
    pub password: Option<String>,
    pub ca: Option<String>,
    pub certificate: Option<String>,
    pub key: Option<String>,
    #[serde(skip)]
    pub seen: Seen,
}

type VK = Keyword<VirtualServer>;
type RK = Keyword<RealServer>;
type SK = Keyword<Ssl>;
type RO = CheckOptions<RealServer>;
type VO = CheckOptions<VirtualServer>;

impl InheritsCheckOptions for RealServer {
    const AT: At = At::RealServer;
    fn set_check_option(&mut self, v: CheckOption) {
        match v {
            CheckOption::ConnectTimeout(t) => self.connect_timeout = Some(t),
            CheckOption::Retry(n) => self.retry = Some(n),
            CheckOption::DelayBeforeRetry(t) => self.delay_before_retry = Some(t),
            CheckOption::Warmup(t) => self.warmup = Some(t),
            CheckOption::DelayLoop(t) => self.delay_loop = Some(t),
            CheckOption::Alpha(b) => self.alpha = Some(b),
        }
    }
}

impl InheritsCheckOptions for VirtualServer {
    const AT: At = At::VirtualServer;
    fn set_check_option(&mut self, v: CheckOption) {
        match v {
            CheckOption::ConnectTimeout(t) => self.connect_timeout = t,
            CheckOption::Retry(n) => self.retry = Some(n),
            CheckOption::DelayBeforeRetry(t) => self.delay_before_retry = Some(t),
            CheckOption::Warmup(t) => self.warmup = Some(t),
            CheckOption::DelayLoop(t) => self.delay_loop = t,
            CheckOption::Alpha(b) => self.alpha = b,
        }
    }
}

pub const METHOD_SYNTAX: &str = "NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]";

pub static SSL: Table<Ssl> = Table::new(
    "SSL",
    "TLS client settings of SSL_GET checkers (none given: no client certificate).",
    &[
        SK::new("password", Arg::Word, P1, "Password of the private key.")
            .inert()
            .set(|s, v, _| s.password = Some(v.word().into())),
        SK::new("ca", Arg::Word, P1, "CA certificate file.")
            .inert()
            .set(|s, v, _| s.ca = Some(v.word().into())),
        SK::new("certificate", Arg::Word, P1, "Client certificate file.")
            .inert()
            .set(|s, v, _| s.certificate = Some(v.word().into())),
        SK::new("key", Arg::Word, P1, "Private key file.")
            .inert()
            .set(|s, v, _| s.key = Some(v.word().into())),
    ],
);

pub static REAL_SERVER: Table<RealServer> = Table::new(
    "real_server",
    "A real server of a virtual server, with its health checkers.",
    &[
        RK::new(
            "weight",
            Arg::Int {
                min: 0,
                max: i32::MAX as i64,
            },
            P0,
            "IPVS weight.",
        )
        .default("the virtual server's weight (1)")
        .set(|r, v, _| r.weight = Some(v.int() as u32)),
        RK::new(
            "lvs_method",
            Arg::Custom(METHOD_SYNTAX),
            P1,
            "Forwarding method for this server.",
        )
        .default("the virtual server's")
        .set(|r, v, cx| r.lvs_method = v.node().and_then(|n| method(&n.line, 1, cx))),
        RK::new(
            "uthreshold",
            Arg::Int { min: 0, max: UINT },
            P1,
            "Upper connection limit (0: none).",
        )
        .set(|r, v, _| r.uthreshold = v.int() as u32),
        RK::new(
            "lthreshold",
            Arg::Int { min: 0, max: UINT },
            P1,
            "Lower connection limit (0: none).",
        )
        .set(|r, v, _| r.lthreshold = v.int() as u32),
        RK::new(
            "inhibit_on_failure",
            Arg::Bool,
            P1,
            "On failure set the weight to 0 instead of removing the server.",
        )
        .set(|r, v, _| r.inhibit_on_failure = Some(v.bool())),
        RK::new(
            "notify_up",
            Arg::Command,
            P0,
            "Script run when the server comes up.",
        )
        .keep_first()
        .set(|r, v, _| r.notify_up = Some(v.command())),
        RK::new(
            "notify_down",
            Arg::Command,
            P0,
            "Script run when the server goes down.",
        )
        .keep_first()
        .set(|r, v, _| r.notify_down = Some(v.command())),
        RO::ALPHA,
        RO::RETRY,
        RO::DELAY_BEFORE_RETRY,
        RO::WARMUP,
        RO::CONNECT_TIMEOUT,
        RO::DELAY_LOOP,
        RK::new(
            "smtp_alert",
            Arg::Bool,
            P1,
            "Mail on state changes of this server.",
        )
        .default("on")
        .set(|r, v, _| r.smtp_alert = Some(v.bool())),
        RK::new(
            "virtualhost",
            Arg::Word,
            P1,
            "Host header of HTTP_GET/SSL_GET checks.",
        )
        .set(|r, v, _| r.virtualhost = Some(v.word().into())),
        RK::new("snmp_name", Arg::Word, P2, "Name shown over SNMP."),
        RK::new(
            "TCP_CHECK",
            Arg::Block(&checkers::TCP_CHECK),
            P0,
            "TCP connect check.",
        )
        .set(|r, v, cx| {
            if let Some(n) = v.node() {
                checkers::read_checker(&checkers::TCP_CHECK, CheckKind::Tcp, r, n, cx);
            }
        }),
        RK::new(
            "HTTP_GET",
            Arg::Block(&checkers::HTTP_GET),
            P0,
            "HTTP request check.",
        )
        .set(|r, v, cx| {
            if let Some(n) = v.node() {
                checkers::read_checker(&checkers::HTTP_GET, CheckKind::HttpGet, r, n, cx);
            }
        }),
        RK::new(
            "SSL_GET",
            Arg::Block(&checkers::SSL_GET),
            P1,
            "HTTPS request check.",
        )
        .set(|r, v, cx| {
            if let Some(n) = v.node() {
                checkers::read_checker(&checkers::SSL_GET, CheckKind::SslGet, r, n, cx);
            }
        }),
        RK::new(
            "SMTP_CHECK",
            Arg::Block(&checkers::SMTP_CHECK),
            P2,
            "SMTP greeting check.",
        )
        .set(|r, v, cx| {
            if let Some(n) = v.node() {
                checkers::read_checker(&checkers::SMTP_CHECK, CheckKind::Smtp, r, n, cx);
            }
        }),
        RK::new(
            "DNS_CHECK",
            Arg::Block(&checkers::DNS_CHECK),
            P2,
            "DNS query check.",
        )
        .set(|r, v, cx| {
            if let Some(n) = v.node() {
                checkers::read_checker(&checkers::DNS_CHECK, CheckKind::Dns, r, n, cx);
            }
        }),
        RK::new(
            "MISC_CHECK",
            Arg::Block(&checkers::MISC_CHECK),
            P1,
            "Script check.",
        )
        .set(|r, v, cx| {
            if let Some(n) = v.node() {
                checkers::read_checker(&checkers::MISC_CHECK, CheckKind::Misc, r, n, cx);
            }
        }),
        RK::new(
            "UDP_CHECK",
            Arg::Block(&checkers::UDP_CHECK),
            P2,
            "UDP datagram check.",
        )
        .set(|r, v, cx| {
            if let Some(n) = v.node() {
                checkers::read_checker(&checkers::UDP_CHECK, CheckKind::Udp, r, n, cx);
            }
        }),
        RK::new(
            "PING_CHECK",
            Arg::Block(&checkers::PING_CHECK),
            P2,
            "ICMP echo check.",
        )
        .set(|r, v, cx| {
            if let Some(n) = v.node() {
                checkers::read_checker(&checkers::PING_CHECK, CheckKind::Ping, r, n, cx);
            }
        }),
        RK::new(
            "FILE_CHECK",
            Arg::Block(&checkers::FILE_CHECK),
            P2,
            "Weight from a tracked file.",
        )
        .set(|r, v, cx| {
            if let Some(n) = v.node() {
                checkers::read_checker(&checkers::FILE_CHECK, CheckKind::File, r, n, cx);
            }
        }),
        RK::new(
            "BFD_CHECK",
            Arg::Block(&checkers::BFD_CHECK),
            P2,
            "Up while a BFD session is up.",
        ),
    ],
);

pub static VIRTUAL_SERVER: Table<VirtualServer> = Table::new(
    "virtual_server",
    "An IPVS service (address and port, fwmark or group) and its real servers.",
    &[
        VK::new("lvs_sched", Arg::Choice(SCHEDULERS), P0, "IPVS scheduler.")
            .aliases(&["lb_algo"])
            .default("wlc")
            .set(|s, v, _| s.lvs_sched = Some(match v {
                Val::Choice(c) => c,
                _ => "wlc",
            })),
        VK::new("lvs_method", Arg::Custom(METHOD_SYNTAX), P0, "Forwarding method: NAT, direct routing or tunnel.")
            .aliases(&["lb_kind"])
            .default("NAT")
            .set(|s, v, cx| s.lvs_method = v.node().and_then(|n| method(&n.line, 1, cx))),
        VK::new("protocol", Arg::Custom("TCP|UDP|SCTP"), P0, "Transport protocol of the service.")
            .set(|s, v, cx| {
                if let Some(n) = v.node() {
                    s.protocol = protocol(&n.line, cx);
                }
            }),
        VO::DELAY_LOOP,
        VK::new("persistence_timeout", Arg::OptInt { min: 1, max: 86400 * 31, bare: 360 }, P0, "Seconds a client sticks to the same real server.")
            .default("off; 360 if given without a value")
            .set(|s, v, _| s.persistence_timeout = Some(v.int() as u32)),
        VK::new("persistence_granularity", Arg::Word, P1, "Netmask (IPv4) or prefix length (IPv6) grouping clients for persistence.")
            .set(|s, v, cx| {
                let w = v.word();
                let ok = w.parse::<std::net::Ipv4Addr>().is_ok()
                    || w.parse::<u8>().is_ok_and(|n| (1..=128).contains(&n));
                if ok {
                    s.persistence_granularity = Some(w.to_string());
                } else {
                    let here = cx.here;
                    cx.error("invalid-value", here, format!("'persistence_granularity': '{w}' is neither an IPv4 netmask nor a prefix length 1..128"));
                }
            }),
        VK::new("persistence_engine", Arg::Word, P1, "IPVS persistence engine (sip).")
            .set(|s, v, _| s.persistence_engine = Some(v.word().to_string())),
        VK::new("quorum", Arg::Int { min: 1, max: UINT }, P1, "Smallest total weight of live real servers for the service to be up.")
            .default("1")
            .set(|s, v, _| s.quorum = v.int() as u32),
        VK::new("hysteresis", Arg::Int { min: 0, max: UINT }, P1, "Margin around the quorum against flapping.")
            .default("0")
            .set(|s, v, _| s.hysteresis = v.int() as u32),
        VK::new("quorum_up", Arg::Command, P1, "Script run when the quorum is gained.")
            .keep_first()
            .set(|s, v, _| s.quorum_up = Some(v.command())),
        VK::new("quorum_down", Arg::Command, P1, "Script run when the quorum is lost.")
            .keep_first()
            .set(|s, v, _| s.quorum_down = Some(v.command())),
        VK::new("sorry_server", Arg::Custom("ADDRESS [PORT]"), P1, "Server used while the quorum is lost.")
            .set(|s, v, cx| {
                if let Some(n) = v.node()
                    && let Some((addr, port)) = addr_port(&n.line, 1, cx)
                {
                    cx.extra(&n.line, 2);
                    s.sorry_server = Some(SorryServer {
                        addr,
                        port,
                        inhibit: false,
                        lvs_method: None,
                    });
                }
            }),
        VK::new("sorry_server_inhibit", Arg::Flag, P1, "Keep the sorry server with weight 0 instead of removing it.")
            .set(|s, _, cx| match &mut s.sorry_server {
                Some(ss) => ss.inhibit = true,
                None => {
                    let here = cx.here;
                    cx.error("order", here, "'sorry_server_inhibit' before or without 'sorry_server'")
                        .help("put it after the sorry_server line");
                }
            }),
        VK::new("sorry_server_lvs_method", Arg::Custom(METHOD_SYNTAX), P1, "Forwarding method of the sorry server.")
            .set(|s, v, cx| {
                let m = v.node().and_then(|n| method(&n.line, 1, cx));
                match &mut s.sorry_server {
                    Some(ss) => ss.lvs_method = m,
                    None => {
                        let here = cx.here;
                        cx.error("order", here, "'sorry_server_lvs_method' before or without 'sorry_server'");
                    }
                }
            }),
        VO::ALPHA,
        VK::new("omega", Arg::Flag, P1, "Run notify_down and quorum_down for servers removed at shutdown.")
            .set(|s, _, _| s.omega = true),
        VK::new("ha_suspend", Arg::Flag, P1, "Suspend checks while the virtual address is not on this node.")
            .set(|s, _, _| s.ha_suspend = true),
        VK::new("inhibit_on_failure", Arg::Flag, P1, "Failed real servers get weight 0 instead of being removed.")
            .set(|s, _, _| s.inhibit_on_failure = true),
        VK::new("virtualhost", Arg::Word, P1, "Host header of HTTP_GET/SSL_GET checks.")
            .set(|s, v, _| s.virtualhost = Some(v.word().into())),
        VK::new("smtp_alert", Arg::Bool, P1, "Mail on quorum changes.")
            .set(|s, v, _| s.smtp_alert = Some(v.bool())),
        VO::CONNECT_TIMEOUT,
        VO::RETRY,
        VO::DELAY_BEFORE_RETRY,
        VO::WARMUP,
        VK::new("weight", Arg::Int { min: 1, max: i32::MAX as i64 }, P2, "Default weight of the real servers.")
            .default("1")
            .set(|s, v, _| s.weight = v.int() as u32),
        VK::new("ip_family", Arg::Choice(&["inet", "inet6"]), P2, "Address family of a fwmark or group service.")
            .set(|s, v, _| s.ip_family = Some(if v.word() == "inet" { Family::Inet } else { Family::Inet6 })),
        VK::new("ops", Arg::Flag, P2, "One-packet scheduling (UDP only).")
            .set(|s, _, _| s.sched_flags.ops = true),
        VK::new("flag-1", Arg::Flag, P2, "Scheduler flag 1 (sh-fallback, mh-fallback).")
            .aliases(&["sh-fallback", "mh-fallback"])
            .set(|s, _, _| s.sched_flags.flag_1 = true),
        VK::new("flag-2", Arg::Flag, P2, "Scheduler flag 2 (sh-port, mh-port).")
            .aliases(&["sh-port", "mh-port"])
            .set(|s, _, _| s.sched_flags.flag_2 = true),
        VK::new("flag-3", Arg::Flag, P2, "Scheduler flag 3.")
            .set(|s, _, _| s.sched_flags.flag_3 = true),
        VK::new("hashed", Arg::Flag, P2, "Obsolete; has no effect in keepalived either."),
        VK::new("snmp_name", Arg::Word, P2, "Name shown over SNMP."),
        VK::new("real_server", Arg::Block(&REAL_SERVER), P0, "A real server: ADDRESS [PORT] { ... }.")
            .set(|s, v, cx| {
                if let Some(n) = v.node()
                    && let Some(rs) = read_real_server(n, cx)
                {
                    s.real_servers.push(rs);
                }
            }),
    ],
);

/// `real_server ADDRESS [PORT] { ... }`
fn read_real_server(n: &Node, cx: &mut Cx<'_>) -> Option<RealServer> {
    let (addr, port) = addr_port(&n.line, 1, cx)?;
    cx.extra(&n.line, 2);
    let (mut rs, seen) = REAL_SERVER.read(n, cx);
    rs.addr = addr;
    rs.port = port;
    rs.seen = seen;
    Some(rs)
}

/// `virtual_server ADDRESS [PORT] | fwmark N | group NAME { ... }`
pub fn read_virtual_server(n: &Node, cx: &mut Cx<'_>) -> Option<VirtualServer> {
    let line = &n.line;
    let key = match line.word(1) {
        Some("fwmark") => {
            let m = cx.int(line, 2, 0, UINT)?;
            cx.extra(line, 2);
            VsKey::Fwmark(m as u32)
        }
        Some("group") => {
            let g = cx.word(line, 2, "a virtual_server_group name")?;
            cx.extra(line, 2);
            VsKey::Group(g.to_string())
        }
        _ => {
            let (addr, port) = addr_port(line, 1, cx)?;
            cx.extra(line, 2);
            VsKey::Address { addr, port }
        }
    };
    let (mut vs, seen) = VIRTUAL_SERVER.read(n, cx);
    if let VsKey::Address { addr, .. } = &key {
        vs.ip_family.get_or_insert(Family::of(addr));
    }
    vs.key = key;
    vs.seen = seen;
    Some(vs)
}

/// `virtual_server_group NAME { entries }`
pub fn read_vs_group(n: &Node, cx: &mut Cx<'_>) -> Option<VirtualServerGroup> {
    let line = &n.line;
    let name = cx.word(line, 1, "a group name")?.to_string();
    cx.extra(line, 1);
    let mut g = VirtualServerGroup {
        name,
        seen: Seen::new(line.span),
        ..Default::default()
    };
    for item in value_items(n, cx) {
        if let Some(e) = vsg_entry(item, cx) {
            g.entries.push(e);
            g.entry_spans.push(item.span);
        }
    }
    if g.entries.is_empty() {
        cx.error(
            "empty-block",
            line.span_of(0),
            format!("virtual_server_group {} has no entries", g.name),
        );
    }
    Some(g)
}

fn vsg_entry(item: &Line, cx: &mut Cx<'_>) -> Option<VsgEntry> {
    let first = item.keyword();
    if first == "fwmark" {
        let mark = cx.int(item, 1, 0, UINT)? as u32;
        let family = match item.word(2) {
            None => None,
            Some("inet") => Some(Family::Inet),
            Some("inet6") => Some(Family::Inet6),
            Some(w) => {
                cx.error(
                    "invalid-value",
                    item.span_of(2),
                    format!("fwmark family '{w}' is not inet or inet6"),
                );
                return None;
            }
        };
        cx.extra(item, 2);
        return Some(VsgEntry::Fwmark { mark, family });
    }
    let port = match item.word(1) {
        Some(p) => match cx.int_str(item, 1, p, 0, 65535)? {
            0 => None,
            p => Some(p as u16),
        },
        None => None,
    };
    cx.extra(item, 1);
    let span = item.span_of(0);
    let (start, end) = match parse_range(first) {
        Ok(r) => r,
        Err(e) => {
            cx.error(
                "invalid-address",
                span,
                format!("virtual_server_group entry '{first}': {e}"),
            )
            .help("write ADDRESS, ADDRESS/PREFIX, FIRST-LAST, ADDRESS-LASTPART or fwmark N");
            return None;
        }
    };
    Some(VsgEntry::Range { start, end, port })
}

/// `a.b.c.d`, `a.b.c.d/nn`, `a.b.c.d-e.f.g.h`, `a.b.c.d-N` (N the last octet; for IPv6 the last
/// group, in hex).
pub fn parse_range(s: &str) -> Result<(IpAddr, IpAddr), String> {
    if let Some((a, m)) = s.split_once('/') {
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("'{a}' is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len: u32 = m
            .parse()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| format!("'/{m}' is not a prefix length 1..{max}"))?;
        let bits = u128::from_be_bytes(to16(addr));
        let host_bits = max - len;
        let mask: u128 = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        if bits & mask != 0 {
            return Err(format!(
                "host bits are set; the network is {}",
                from_bits(addr, bits & !mask)
            ));
        }
        return Ok((addr, from_bits(addr, bits | mask)));
    }
    if let Some((a, b)) = s.split_once('-') {
        let start: IpAddr = a
            .parse()
            .map_err(|_| format!("'{a}' is not an IP address"))?;
        let end: IpAddr = if b.contains('.') || b.contains(':') {
            let e: IpAddr = b
                .parse()
                .map_err(|_| format!("'{b}' is not an IP address"))?;
            if e.is_ipv4() != start.is_ipv4() {
                return Err("the two ends are of different address families".into());
            }
            e
        } else {
            match start {
                IpAddr::V4(v4) => {
                    let n: u8 = b
                        .parse()
                        .map_err(|_| format!("'{b}' is not a last octet 0..255"))?;
                    let mut o = v4.octets();
                    o[3] = n;
                    IpAddr::from(o)
                }
                IpAddr::V6(v6) => {
                    let n = u16::from_str_radix(b, 16)
                        .map_err(|_| format!("'{b}' is not a hex group 0..ffff"))?;
                    let mut seg = v6.segments();
                    seg[7] = n;
                    IpAddr::from(seg)
                }
            }
        };
        if u128::from_be_bytes(to16(end)) < u128::from_be_bytes(to16(start)) {
            return Err("the range ends before it starts".into());
        }
        return Ok((start, end));
    }
    let a: IpAddr = s
        .parse()
        .map_err(|_| format!("'{s}' is not an IP address"))?;
    Ok((a, a))
}

fn to16(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v) => {
            let mut b = [0u8; 16];
            b[12..].copy_from_slice(&v.octets());
            b
        }
        IpAddr::V6(v) => v.octets(),
    }
}

fn from_bits(like: IpAddr, bits: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::from((bits as u32).to_be_bytes()),
        IpAddr::V6(_) => IpAddr::from(bits.to_be_bytes()),
    }
}

/// `ADDRESS [PORT]` at word `i`; a port of 0 means none. keepalived silently cuts `/len` and
/// `-range` suffixes off; here they are errors.
pub fn addr_port(line: &Line, i: usize, cx: &mut Cx<'_>) -> Option<(IpAddr, Option<u16>)> {
    let a = cx.word(line, i, "an address")?;
    let addr = match a.parse::<IpAddr>() {
        Ok(addr) => addr,
        Err(_) => {
            let d = cx.error(
                "invalid-address",
                line.span_of(i),
                format!("'{}': '{a}' is not an IP address", line.keyword()),
            );
            if a.contains('/') || a.contains('-') {
                d.help("ranges and prefixes belong in a virtual_server_group; keepalived would silently use only the first address");
            }
            return None;
        }
    };
    let port = match line.word(i + 1) {
        None => None,
        Some(p) => match cx.int_str(line, i + 1, p, 0, 65535)? {
            0 => None,
            p => Some(p as u16),
        },
    };
    Some((addr, port))
}

fn protocol(line: &Line, cx: &mut Cx<'_>) -> Option<Protocol> {
    let w = cx.word(line, 1, "TCP, UDP or SCTP")?;
    cx.extra(line, 1);
    match w.to_ascii_uppercase().as_str() {
        "TCP" => Some(Protocol::Tcp),
        "UDP" => Some(Protocol::Udp),
        "SCTP" => Some(Protocol::Sctp),
        _ => {
            cx.error(
                "invalid-value",
                line.span_of(1),
                format!("'protocol': '{w}' is not TCP, UDP or SCTP"),
            );
            None
        }
    }
}

/// `NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]` from word `i`.
pub fn method(line: &Line, i: usize, cx: &mut Cx<'_>) -> Option<Method> {
    let kw = line.keyword();
    let m = cx.word(line, i, "NAT, DR or TUN")?;
    let base = match m {
        "NAT" => Method::Nat,
        "DR" => Method::Dr,
        "TUN" => Method::Tun {
            kind: TunType::Ipip,
            port: None,
            csum: TunCsum::Nocsum,
        },
        _ => {
            let d = cx.error(
                "invalid-value",
                line.span_of(i),
                format!("'{kw}': '{m}' is not NAT, DR or TUN"),
            );
            if ["nat", "dr", "tun"].contains(&m.to_ascii_lowercase().as_str()) {
                d.help(format!(
                    "keepalived only accepts uppercase: {}",
                    m.to_ascii_uppercase()
                ));
            }
            return None;
        }
    };
    let (mut kind, mut port, mut csum) = (TunType::Ipip, None, TunCsum::Nocsum);
    let mut j = i + 1;
    let mut ok = true;
    while let Some(w) = line.word(j) {
        match w {
            "type" => {
                match line.word(j + 1) {
                    Some("ipip") => kind = TunType::Ipip,
                    Some("gue") => kind = TunType::Gue,
                    Some("gre") => kind = TunType::Gre,
                    Some(t) => {
                        cx.error(
                            "invalid-value",
                            line.span_of(j + 1),
                            format!("'{kw}': unknown tunnel type '{t}'"),
                        )
                        .help("tunnel types are ipip, gue and gre");
                        ok = false;
                    }
                    None => {
                        cx.error(
                            "missing-value",
                            line.end_span(),
                            format!("'{kw}': 'type' needs ipip, gue or gre"),
                        );
                        ok = false;
                    }
                }
                j += 2;
            }
            "port" => {
                match cx.int(line, j + 1, 1, 65535) {
                    Some(p) => port = Some(p as u16),
                    None => ok = false,
                }
                j += 2;
            }
            "nocsum" => {
                csum = TunCsum::Nocsum;
                j += 1;
            }
            "csum" => {
                csum = TunCsum::Csum;
                j += 1;
            }
            "remcsum" => {
                csum = TunCsum::Remcsum;
                j += 1;
            }
            _ => {
                cx.error(
                    "invalid-value",
                    line.span_of(j),
                    format!("'{kw}': unknown tunnel option '{w}'"),
                );
                ok = false;
                j += 1;
            }
        }
    }
    if !ok {
        return None;
    }
    let tunnel_opts = line.argc() > i;
    match base {
        Method::Tun { .. } => {
            if (kind == TunType::Gue) != port.is_some() {
                cx.error(
                    "invalid-value",
                    line.span_from(i),
                    format!("'{kw}': gue tunnels need a port, other tunnels cannot have one"),
                );
                return None;
            }
            if kind == TunType::Ipip && csum != TunCsum::Nocsum {
                cx.error(
                    "invalid-value",
                    line.span_from(i),
                    format!("'{kw}': ipip tunnels do not support checksum options"),
                );
                return None;
            }
            if kind == TunType::Gre && csum == TunCsum::Remcsum {
                cx.error(
                    "invalid-value",
                    line.span_from(i),
                    format!("'{kw}': gre tunnels do not support remcsum"),
                );
                return None;
            }
            Some(Method::Tun { kind, port, csum })
        }
        other => {
            if tunnel_opts {
                cx.warning(
                    "extra-words",
                    line.span_from(i + 1),
                    format!("'{kw}': tunnel options only apply to TUN and are ignored"),
                );
            }
            Some(other)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            parse_range("10.0.0.1"),
            Ok((ip("10.0.0.1"), ip("10.0.0.1")))
        );
        assert_eq!(
            parse_range("10.0.0.0/30"),
            Ok((ip("10.0.0.0"), ip("10.0.0.3")))
        );
        assert!(
            parse_range("10.0.0.1/30")
                .unwrap_err()
                .contains("host bits")
        );
        assert_eq!(
            parse_range("10.0.0.3-5"),
            Ok((ip("10.0.0.3"), ip("10.0.0.5")))
        );
        assert_eq!(
            parse_range("10.0.0.3-10.0.1.5"),
            Ok((ip("10.0.0.3"), ip("10.0.1.5")))
        );
        assert!(parse_range("10.0.0.5-3").is_err());
        assert_eq!(
            parse_range("fd00::1-ff"),
            Ok((ip("fd00::1"), ip("fd00::ff")))
        );
        assert!(parse_range("10.0.0.1-fd00::1").is_err());
        assert!(parse_range("10.0.0.0/33").is_err());
    }
}
