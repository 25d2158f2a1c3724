//! The lines of `virtual_ipaddress`, `virtual_routes`, `virtual_rules` and their `static_*`
//! forms: `ip address`, `ip route` and `ip rule` syntax as keepalived reads it
//! (vrrp_ipaddress.c, vrrp_iproute.c, vrrp_iprule.c).

use std::net::IpAddr;

use serde::Serialize;

use crate::config::ast::Line;
use crate::config::build::{Cx, parse_int};
use crate::config::source::Span;
use crate::config::values::{Family, Prefix};

/// Walks the words of a line after the first `start` words.
struct Words<'a> {
    line: &'a Line,
    i: usize,
}

impl<'a> Words<'a> {
    fn new(line: &'a Line, start: usize) -> Self {
        Words { line, i: start }
    }
    fn next(&mut self) -> Option<(usize, &'a str)> {
        let w = self.line.word(self.i)?;
        self.i += 1;
        Some((self.i - 1, w))
    }
    fn peek(&self) -> Option<&'a str> {
        self.line.word(self.i)
    }
    /// The value after option `opt` (at word `at`), or an error.
    fn value(&mut self, cx: &mut Cx<'_>, opt: &str) -> Option<(usize, &'a str)> {
        let v = self.next();
        if v.is_none() {
            cx.error(
                "missing-value",
                self.line.end_span(),
                format!("'{opt}' needs a value"),
            );
        }
        v
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Broadcast {
    Addr(IpAddr),
    /// `brd +`: host bits set.
    Plus,
    /// `brd -`: host bits clear.
    Minus,
}

/// One address line: `ADDR[/LEN] [brd A|+|-] [dev IF] [scope S] [label L] [peer A] ...`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpAddress {
    pub addr: Prefix,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brd: Option<Broadcast>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<Prefix>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<&'static str>,
    /// `preferred_lft`: seconds, or `None` for forever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_lft: Option<Option<u32>>,
    pub no_track: bool,
    pub use_vmac: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_group: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

impl IpAddress {
    pub fn family(&self) -> Family {
        Family::of(&self.addr.addr)
    }
}

const ADDR_FLAGS: &[&str] = &["home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin"];
const SCOPES: &[&str] = &["global", "site", "link", "host", "nowhere"];

fn scope_ok(s: &str) -> bool {
    SCOPES.contains(&s) || s.parse::<u8>().is_ok()
}

/// Parses an address line; `static_addr` allows `track_group` instead of `use_vmac`.
pub fn parse_ip_address(line: &Line, static_addr: bool, cx: &mut Cx<'_>) -> Option<IpAddress> {
    let first = line.keyword();
    let addr: Prefix = match first.parse() {
        Ok(p) => p,
        Err(e) => {
            cx.error(
                "invalid-address",
                line.span_of(0),
                format!("invalid address '{first}': {e}"),
            );
            return None;
        }
    };
    let mut a = IpAddress {
        addr,
        brd: None,
        dev: None,
        scope: None,
        label: None,
        peer: None,
        flags: Vec::new(),
        preferred_lft: None,
        no_track: false,
        use_vmac: false,
        track_group: None,
        span: line.span_of(0),
    };
    let v6 = addr.addr.is_ipv6();
    let mut w = Words::new(line, 1);
    let mut ok = true;
    while let Some((i, opt)) = w.next() {
        match opt {
            "dev" => {
                let (j, v) = w.value(cx, opt)?;
                if !cx.ifname_ok(line.span_of(j), "dev", v) {
                    return None;
                }
                if a.dev.is_some() {
                    cx.error(
                        "repeated",
                        line.span_of(i),
                        format!("'dev' is given twice for {first}"),
                    );
                    ok = false;
                }
                a.dev = Some(v.to_string());
            }
            "scope" => {
                let (j, v) = w.value(cx, opt)?;
                if !scope_ok(v) {
                    cx.error(
                        "invalid-value",
                        line.span_of(j),
                        format!("invalid scope '{v}' for {first}"),
                    )
                    .help("scopes are global, site, link, host, nowhere or a number");
                    ok = false;
                } else if v6 {
                    cx.warning(
                        "ignored",
                        line.span_of(i),
                        format!("IPv6 addresses have no scope; keepalived ignores it for {first}"),
                    );
                } else {
                    a.scope = Some(v.to_string());
                }
            }
            "brd" | "broadcast" => {
                let (j, v) = w.value(cx, opt)?;
                if v6 {
                    cx.error(
                        "invalid-value",
                        line.span_of(i),
                        format!("IPv6 address {first} cannot have a broadcast address"),
                    );
                    ok = false;
                    continue;
                }
                a.brd = match v {
                    "+" => Some(Broadcast::Plus),
                    "-" => Some(Broadcast::Minus),
                    _ => match v.parse::<IpAddr>() {
                        Ok(b @ IpAddr::V4(_)) => Some(Broadcast::Addr(b)),
                        _ => {
                            cx.error(
                                "invalid-address",
                                line.span_of(j),
                                format!("invalid broadcast address '{v}'"),
                            );
                            ok = false;
                            None
                        }
                    },
                };
                if matches!(a.brd, Some(Broadcast::Plus | Broadcast::Minus)) && addr.len > 30 {
                    cx.error(
                        "invalid-value",
                        line.span_of(j),
                        format!("prefix /{} is too long for a broadcast address", addr.len),
                    );
                    ok = false;
                }
            }
            "label" => {
                let (j, v) = w.value(cx, opt)?;
                if v.len() > 15 {
                    cx.error(
                        "invalid-value",
                        line.span_of(j),
                        format!("label '{v}' is longer than 15 characters"),
                    );
                    ok = false;
                } else if v6 {
                    cx.warning(
                        "ignored",
                        line.span_of(i),
                        format!("IPv6 addresses have no label; keepalived ignores it for {first}"),
                    );
                } else {
                    a.label = Some(v.to_string());
                }
            }
            "peer" => {
                let (j, v) = w.value(cx, opt)?;
                match v.parse::<Prefix>() {
                    Ok(p) if p.addr.is_ipv6() == v6 => {
                        if a.peer.is_some() {
                            cx.error(
                                "repeated",
                                line.span_of(j),
                                "another peer was already given",
                            );
                            ok = false;
                        }
                        a.peer = Some(p);
                    }
                    Ok(_) => {
                        cx.error(
                            "family-mismatch",
                            line.span_of(j),
                            format!("peer {v} is not of the address family of {first}"),
                        );
                        ok = false;
                    }
                    Err(e) => {
                        cx.error(
                            "invalid-address",
                            line.span_of(j),
                            format!("invalid peer '{v}': {e}"),
                        );
                        ok = false;
                    }
                }
            }
            "home" | "-nodad" | "mngtmpaddr" | "noprefixroute" | "autojoin" => {
                let f = ADDR_FLAGS
                    .iter()
                    .find(|f| **f == opt)
                    .copied()
                    .unwrap_or("home");
                if f != "noprefixroute" && !v6 && f != "autojoin" {
                    cx.warning(
                        "ignored",
                        line.span_of(i),
                        format!("'{f}' only applies to IPv6 addresses"),
                    );
                }
                a.flags.push(f);
            }
            "no_track" => a.no_track = true,
            "preferred_lft" => {
                let (j, v) = w.value(cx, opt)?;
                a.preferred_lft = if v == "forever" {
                    Some(None)
                } else {
                    match cx.int_str(line, j, v, 0, u32::MAX as i64) {
                        Some(n) => Some(Some(n as u32)),
                        None => {
                            ok = false;
                            None
                        }
                    }
                };
            }
            "track_group" if static_addr => {
                let (_, v) = w.value(cx, opt)?;
                a.track_group = Some(v.to_string());
            }
            "use_vmac" if !static_addr => a.use_vmac = true,
            _ => {
                let d = cx.error(
                    "unknown-option",
                    line.span_of(i),
                    format!("unknown address option '{opt}'"),
                );
                let known = [
                    "dev",
                    "scope",
                    "brd",
                    "broadcast",
                    "label",
                    "peer",
                    "home",
                    "-nodad",
                    "mngtmpaddr",
                    "noprefixroute",
                    "autojoin",
                    "no_track",
                    "preferred_lft",
                    if static_addr {
                        "track_group"
                    } else {
                        "use_vmac"
                    },
                ];
                if let Some(s) = crate::config::table::suggest(opt, known) {
                    d.help(format!("did you mean '{s}'?"));
                }
                // What follows would be misread; one report is enough.
                return None;
            }
        }
    }
    if a.brd.is_some() && a.peer.is_some() {
        cx.error(
            "invalid-value",
            line.span_of(0),
            "an address cannot have both a broadcast and a peer address",
        );
        ok = false;
    }
    if a.peer.is_some() && addr.len != Prefix::max_len(addr.addr) {
        cx.warning(
            "ignored",
            line.span_of(0),
            "with a peer address the prefix length is ignored",
        );
    }
    ok.then_some(a)
}

/// A route option kept as written (`mtu lock 1400`, `realms 2`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteOpt {
    pub name: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lock: bool,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Nexthop {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    pub onlink: bool,
}

/// One route line, `ip route` syntax.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    /// `None` for `default`.
    pub to: Option<Prefix>,
    #[serde(rename = "type")]
    pub rtype: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Prefix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos: Option<String>,
    pub onlink: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nexthops: Vec<Nexthop>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<RouteOpt>,
    pub no_track: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_group: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

const ROUTE_TYPES: &[&str] = &[
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "throw",
    "unreachable",
    "prohibit",
    "blackhole",
    "nat",
    "anycast",
];
/// Metrics taking `[lock] VALUE`.
const LOCKABLE: &[&str] = &[
    "mtu",
    "hoplimit",
    "advmss",
    "rtt",
    "rttvar",
    "reordering",
    "cwnd",
    "ssthresh",
    "rto_min",
    "congctl",
];
/// Options taking one value.
const ROUTE_VALUE_OPTS: &[&str] = &[
    "window",
    "initcwnd",
    "initrwnd",
    "features",
    "quickack",
    "pref",
    "ttl-propagate",
    "fastopen_no_cookie",
    "realms",
    "expires",
    "vrf",
];

/// Records the family of `a`, or reports a mix.
/// Records the family of address `a`, or reports it if the line (a `what`: route or rule)
/// already has the other one.
fn same_family(
    family: &mut Option<Family>,
    what: &str,
    a: &IpAddr,
    line: &Line,
    at: usize,
    cx: &mut Cx<'_>,
) -> bool {
    let f = Family::of(a);
    match family {
        None => {
            *family = Some(f);
            true
        }
        Some(x) if *x == f => true,
        Some(_) => {
            cx.error(
                "family-mismatch",
                line.span_of(at),
                format!("cannot mix IPv4 and IPv6 addresses in a {what} ('{a}')"),
            );
            false
        }
    }
}

/// `inet` / `inet6`: the family, which must agree with the addresses of the line.
fn family_word(
    family: &mut Option<Family>,
    what: &str,
    opt: &str,
    line: &Line,
    at: usize,
    cx: &mut Cx<'_>,
) -> bool {
    let f = if opt == "inet" {
        Family::Inet
    } else {
        Family::Inet6
    };
    if family.is_some_and(|x| x != f) {
        cx.error(
            "family-mismatch",
            line.span_of(at),
            format!("'{opt}' contradicts the addresses of the {what}"),
        );
        return false;
    }
    *family = Some(f);
    true
}

fn parse_addr(line: &Line, j: usize, v: &str, what: &str, cx: &mut Cx<'_>) -> Option<IpAddr> {
    match v.parse::<IpAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            cx.error(
                "invalid-address",
                line.span_of(j),
                format!("invalid {what} address '{v}'"),
            );
            None
        }
    }
}

/// Parses a route line; `static_route` allows `track_group`.
pub fn parse_route(line: &Line, static_route: bool, cx: &mut Cx<'_>) -> Option<Route> {
    let mut r = Route {
        to: None,
        rtype: "unicast",
        family: None,
        src: None,
        via: None,
        from: None,
        dev: None,
        table: None,
        metric: None,
        scope: None,
        protocol: None,
        tos: None,
        onlink: false,
        nexthops: Vec::new(),
        options: Vec::new(),
        no_track: false,
        track_group: None,
        span: line.span_of(0),
    };
    let mut have_dest = false;
    let mut w = Words::new(line, 0);
    while let Some((i, opt)) = w.next() {
        match opt {
            "inet" | "inet6" => {
                if !family_word(&mut r.family, "route", opt, line, i, cx) {
                    return None;
                }
            }
            "src" => {
                let (j, v) = w.value(cx, opt)?;
                let a = parse_addr(line, j, v, "route src", cx)?;
                if !same_family(&mut r.family, "route", &a, line, j, cx) {
                    return None;
                }
                r.src = Some(a);
            }
            "via" | "gw" => {
                if opt == "gw" {
                    cx.warning(
                        "deprecated",
                        line.span_of(i),
                        "'gw' is deprecated; use 'via'",
                    );
                }
                let (mut j, mut v) = w.value(cx, opt)?;
                if v == "inet" || v == "inet6" {
                    (j, v) = w.value(cx, opt)?;
                }
                let a = parse_addr(line, j, v, "route via", cx)?;
                if !same_family(&mut r.family, "route", &a, line, j, cx) {
                    return None;
                }
                r.via = Some(a);
            }
            "from" => {
                let (j, v) = w.value(cx, opt)?;
                match v.parse::<Prefix>() {
                    Ok(p) if p.addr.is_ipv6() => {
                        if !same_family(&mut r.family, "route", &p.addr, line, j, cx) {
                            return None;
                        }
                        r.from = Some(p);
                    }
                    Ok(_) => {
                        cx.error(
                            "invalid-value",
                            line.span_of(j),
                            "route 'from' is only supported for IPv6",
                        );
                        return None;
                    }
                    Err(e) => {
                        cx.error(
                            "invalid-address",
                            line.span_of(j),
                            format!("invalid route from '{v}': {e}"),
                        );
                        return None;
                    }
                }
            }
            "tos" | "dsfield" => r.tos = Some(w.value(cx, opt)?.1.to_string()),
            "table" => r.table = Some(w.value(cx, opt)?.1.to_string()),
            "protocol" => r.protocol = Some(w.value(cx, opt)?.1.to_string()),
            "scope" => {
                let (j, v) = w.value(cx, opt)?;
                if !scope_ok(v) {
                    cx.error(
                        "invalid-value",
                        line.span_of(j),
                        format!("invalid route scope '{v}'"),
                    );
                    return None;
                }
                r.scope = Some(v.to_string());
            }
            "metric" | "priority" | "preference" => {
                let (j, v) = w.value(cx, opt)?;
                r.metric = Some(cx.int_str(line, j, v, 0, u32::MAX as i64)? as u32);
            }
            "dev" | "oif" => {
                let (j, v) = w.value(cx, opt)?;
                if !cx.ifname_ok(line.span_of(j), opt, v) {
                    return None;
                }
                r.dev = Some(v.to_string());
            }
            "onlink" => r.onlink = true,
            "no_track" => r.no_track = true,
            "track_group" if static_route => r.track_group = Some(w.value(cx, opt)?.1.to_string()),
            "add" | "append" | "prepend" => {}
            "as" => {
                if w.peek() == Some("to") {
                    w.next();
                }
                w.value(cx, opt)?;
                cx.warning(
                    "ignored",
                    line.span_of(i),
                    "'as [to]' is for MPLS only and is ignored",
                );
            }
            "encap" => {
                cx.warning("not-implemented", line.span_from(i), "route 'encap' is accepted but not implemented by kaconsole; the rest of the line is ignored");
                break;
            }
            "or" => {
                cx.warning(
                    "deprecated",
                    line.span_of(i),
                    "'or' in routes is deprecated; use 'nexthop'",
                );
                let (j, v) = w.value(cx, opt)?;
                let a = parse_addr(line, j, v, "'or'", cx)?;
                if r.nexthops.is_empty() {
                    r.nexthops.push(Nexthop {
                        via: r.via.take(),
                        dev: r.dev.clone(),
                        weight: None,
                        onlink: false,
                    });
                }
                r.nexthops.push(Nexthop {
                    via: Some(a),
                    dev: None,
                    weight: None,
                    onlink: false,
                });
            }
            "nexthop" => {
                let nh = parse_nexthop(line, &mut w, &mut r.family, cx)?;
                r.nexthops.push(nh);
            }
            _ if LOCKABLE.contains(&opt) || ROUTE_VALUE_OPTS.contains(&opt) => {
                let name = LOCKABLE
                    .iter()
                    .chain(ROUTE_VALUE_OPTS)
                    .find(|n| **n == opt)
                    .copied()
                    .unwrap_or("mtu");
                let mut lock = false;
                let (mut j, mut v) = w.value(cx, opt)?;
                if LOCKABLE.contains(&opt) && v == "lock" {
                    lock = true;
                    (j, v) = w.value(cx, opt)?;
                }
                let _ = j;
                r.options.push(RouteOpt {
                    name,
                    lock,
                    value: v.to_string(),
                });
            }
            _ => {
                // The destination, optionally preceded by "to" and a route type.
                let mut word = opt;
                let mut at = i;
                if word == "to" {
                    (at, word) = w.value(cx, "to")?;
                }
                if let Some(t) = ROUTE_TYPES.iter().find(|t| **t == word) {
                    r.rtype = t;
                    (at, word) = w.value(cx, word)?;
                }
                if have_dest {
                    cx.error(
                        "unknown-option",
                        line.span_of(at),
                        format!("unknown route option '{word}'"),
                    );
                    return None;
                }
                have_dest = true;
                if word == "default" {
                    continue;
                }
                match word.parse::<Prefix>() {
                    Ok(p) => {
                        if !same_family(&mut r.family, "route", &p.addr, line, at, cx) {
                            return None;
                        }
                        r.to = Some(p);
                    }
                    Err(e) => {
                        let d = cx.error(
                            "unknown-option",
                            line.span_of(at),
                            format!("'{word}' is neither a route option nor a destination ({e})"),
                        );
                        if let Some(s) = crate::config::table::suggest(
                            word,
                            LOCKABLE.iter().chain(ROUTE_VALUE_OPTS).copied().chain([
                                "src", "via", "from", "table", "protocol", "scope", "metric",
                                "dev", "onlink", "no_track", "nexthop",
                            ]),
                        ) {
                            d.help(format!("did you mean '{s}'?"));
                        }
                        return None;
                    }
                }
            }
        }
    }
    if !have_dest {
        cx.error(
            "missing-value",
            line.span_of(0),
            "a route needs a destination (a prefix or 'default')",
        );
        return None;
    }
    if !r.no_track {
        if r.protocol
            .as_deref()
            .is_some_and(|p| p != "keepalived" && p != "18")
        {
            cx.warning(
                "route-protocol",
                line.span_of(0),
                "a tracked route has protocol keepalived (18); keepalived replaces the one given",
            )
            .help("add no_track to keep your protocol");
        }
        if r.dev.is_none() {
            cx.warning(
                "untracked",
                line.span_of(0),
                "keepalived cannot track a route without an interface and does not",
            )
            .help("add 'dev IFNAME', or 'no_track' to say so");
        }
    }
    Some(r)
}

fn parse_nexthop(
    line: &Line,
    w: &mut Words<'_>,
    family: &mut Option<Family>,
    cx: &mut Cx<'_>,
) -> Option<Nexthop> {
    let mut nh = Nexthop {
        via: None,
        dev: None,
        weight: None,
        onlink: false,
    };
    while let Some(opt) = w.peek() {
        match opt {
            "via" | "gw" => {
                w.next();
                let (mut j, mut v) = w.value(cx, opt)?;
                if v == "inet" || v == "inet6" {
                    (j, v) = w.value(cx, opt)?;
                }
                let a = parse_addr(line, j, v, "nexthop via", cx)?;
                if !same_family(family, "route", &a, line, j, cx) {
                    return None;
                }
                nh.via = Some(a);
            }
            "dev" => {
                w.next();
                let (j, v) = w.value(cx, opt)?;
                if !cx.ifname_ok(line.span_of(j), "dev", v) {
                    return None;
                }
                nh.dev = Some(v.to_string());
            }
            "weight" => {
                w.next();
                let (j, v) = w.value(cx, opt)?;
                nh.weight = Some(cx.int_str(line, j, v, 1, 256)? as u16);
            }
            "onlink" => {
                w.next();
                nh.onlink = true;
            }
            "realms" | "encap" => {
                w.next();
                w.value(cx, opt)?;
            }
            _ => break,
        }
    }
    if nh.via.is_none() && nh.dev.is_none() {
        cx.error(
            "missing-value",
            line.end_span(),
            "'nexthop' needs 'via ADDRESS' or 'dev IFNAME'",
        );
        return None;
    }
    Some(nh)
}

/// One rule line, `ip rule` syntax.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Prefix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Prefix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iif: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oif: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<(u32, Option<u32>)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preference: Option<u32>,
    #[serde(rename = "type")]
    pub rtype: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goto: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<RouteOpt>,
    pub no_track: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_group: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

const RULE_TYPES: &[&str] = &[
    "unicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "nat",
    "goto",
    "nop",
];
const RULE_VALUE_OPTS: &[&str] = &[
    "tos",
    "dsfield",
    "realms",
    "protocol",
    "ipproto",
    "sport",
    "dport",
    "uidrange",
    "suppress_prefixlength",
    "sup_pl",
    "suppress_ifgroup",
    "sup_group",
    "tunnel-id",
];

/// Parses a rule line; `static_rule` allows `track_group`.
pub fn parse_rule(line: &Line, static_rule: bool, cx: &mut Cx<'_>) -> Option<Rule> {
    let mut r = Rule {
        from: None,
        to: None,
        family: None,
        iif: None,
        oif: None,
        fwmark: None,
        table: None,
        preference: None,
        rtype: "unicast",
        goto: None,
        options: Vec::new(),
        no_track: false,
        track_group: None,
        span: line.span_of(0),
    };
    let mut action = false;
    let mut w = Words::new(line, 0);
    while let Some((i, opt)) = w.next() {
        match opt {
            "inet" | "inet6" => {
                if !family_word(&mut r.family, "rule", opt, line, i, cx) {
                    return None;
                }
            }
            "from" | "to" => {
                let (j, v) = w.value(cx, opt)?;
                let p = if v == "all" {
                    None
                } else {
                    match v.parse::<Prefix>() {
                        Ok(p) => {
                            if !same_family(&mut r.family, "rule", &p.addr, line, j, cx) {
                                return None;
                            }
                            Some(p)
                        }
                        Err(e) => {
                            cx.error(
                                "invalid-address",
                                line.span_of(j),
                                format!("invalid rule {opt} '{v}': {e}"),
                            );
                            return None;
                        }
                    }
                };
                if opt == "from" {
                    r.from = p;
                } else {
                    r.to = p;
                }
            }
            "iif" | "dev" => r.iif = Some(w.value(cx, opt)?.1.to_string()),
            "oif" => r.oif = Some(w.value(cx, opt)?.1.to_string()),
            "fwmark" => {
                let (j, v) = w.value(cx, opt)?;
                let parse = |s: &str| -> Option<u32> {
                    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                        Some(h) => u32::from_str_radix(h, 16).ok(),
                        None => parse_int(s).and_then(|n| u32::try_from(n).ok()),
                    }
                };
                let (m, mask) = match v.split_once('/') {
                    Some((m, k)) => (parse(m), parse(k).map(Some)),
                    None => (parse(v), Some(None)),
                };
                match (m, mask) {
                    (Some(m), Some(mask)) => r.fwmark = Some((m, mask)),
                    _ => {
                        cx.error(
                            "invalid-value",
                            line.span_of(j),
                            format!("invalid fwmark '{v}'"),
                        )
                        .help("write MARK or MARK/MASK (decimal or 0x hex)");
                        return None;
                    }
                }
            }
            "table" | "lookup" => {
                r.table = Some(w.value(cx, opt)?.1.to_string());
                action = true;
            }
            "preference" | "priority" | "order" => {
                let (j, v) = w.value(cx, opt)?;
                r.preference = Some(cx.int_str(line, j, v, 0, u32::MAX as i64)? as u32);
            }
            "type" => {
                let (j, v) = w.value(cx, opt)?;
                match RULE_TYPES.iter().find(|t| **t == v) {
                    Some(t) => {
                        r.rtype = t;
                        action |= *t != "unicast";
                    }
                    None => {
                        cx.error(
                            "invalid-value",
                            line.span_of(j),
                            format!("invalid rule type '{v}'"),
                        );
                        return None;
                    }
                }
            }
            "goto" => {
                let (j, v) = w.value(cx, opt)?;
                r.rtype = "goto";
                r.goto = Some(cx.int_str(line, j, v, 0, u32::MAX as i64)? as u32);
                action = true;
            }
            "l3mdev" => r.options.push(RouteOpt {
                name: "l3mdev",
                lock: false,
                value: String::new(),
            }),
            "no_track" => r.no_track = true,
            "track_group" if static_rule => r.track_group = Some(w.value(cx, opt)?.1.to_string()),
            _ if RULE_TYPES.contains(&opt) => {
                r.rtype = RULE_TYPES
                    .iter()
                    .find(|t| **t == opt)
                    .copied()
                    .unwrap_or("unicast");
                action |= r.rtype != "unicast";
            }
            _ if RULE_VALUE_OPTS.contains(&opt) => {
                let name = RULE_VALUE_OPTS
                    .iter()
                    .find(|n| **n == opt)
                    .copied()
                    .unwrap_or("tos");
                let (_, v) = w.value(cx, opt)?;
                r.options.push(RouteOpt {
                    name,
                    lock: false,
                    value: v.to_string(),
                });
            }
            _ => {
                let d = cx.error(
                    "unknown-option",
                    line.span_of(i),
                    format!("unknown rule option '{opt}'"),
                );

                if let Some(s) = crate::config::table::suggest(
                    opt,
                    RULE_VALUE_OPTS.iter().copied().chain([
                        "from",
                        "to",
                        "iif",
                        "oif",
                        "fwmark",
                        "table",
                        "lookup",
                        "preference",
                        "priority",
                        "type",
                        "goto",
                        "no_track",
                    ]),
                ) {
                    d.help(format!("did you mean '{s}'?"));
                }
                return None;
            }
        }
    }
    if !action {
        cx.error(
            "missing-value",
            line.span_of(0),
            "the rule has no action; keepalived ignores it",
        )
        .help("add 'table N' (or goto, nop, blackhole, unreachable, prohibit)");
        return None;
    }
    match (r.goto, r.preference) {
        (Some(_), None) => {
            cx.error(
                "invalid-value",
                line.span_of(0),
                "a goto rule needs a preference",
            );
            return None;
        }
        (Some(g), Some(p)) if p >= g => {
            cx.error(
                "invalid-value",
                line.span_of(0),
                format!("the rule's preference {p} must be below its goto target {g}"),
            );
            return None;
        }
        _ => {}
    }
    if r.preference.is_none() {
        let v6 = r.family == Some(Family::Inet6)
            || r.from.is_some_and(|p| p.addr.is_ipv6())
            || r.to.is_some_and(|p| p.addr.is_ipv6());
        let next = &mut cx.next_rule_priority[usize::from(v6)];
        r.preference = Some(*next);
        *next = next.saturating_sub(1);
        let given = r.preference.unwrap_or_default();
        cx.warning("no-preference", line.span_of(0), format!("the rule has no preference; keepalived numbers such rules down from 16384 (this one: {given}), which is probably not what you want"))
            .help("add 'preference N'");
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ast::Line;
    use crate::config::diag::Diagnostics;
    use crate::config::grammar::tokenize;
    use crate::config::prelex::ColMap;

    fn line(text: &str) -> Line {
        let (toks, _) = tokenize(text);
        Line {
            text: text.to_string(),
            toks,
            cols: ColMap::linear(1),
            span: Span::default(),
        }
    }

    fn with_cx<T>(f: impl FnOnce(&mut Cx<'_>) -> T) -> (T, Vec<&'static str>) {
        let mut d = Diagnostics::default();
        let mut cx = Cx::new(&mut d, &[]);
        let t = f(&mut cx);
        (t, d.iter().map(|d| d.code).collect())
    }

    #[test]
    fn vip_lines() {
        let (a, codes) = with_cx(|cx| {
            parse_ip_address(
                &line("10.1.1.1/24 brd + dev eth0 scope link label eth0:1"),
                false,
                cx,
            )
        });
        let a = a.unwrap();
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(a.addr.to_string(), "10.1.1.1/24");
        assert_eq!(a.brd, Some(Broadcast::Plus));
        assert_eq!(a.dev.as_deref(), Some("eth0"));
        assert_eq!(a.label.as_deref(), Some("eth0:1"));

        let (a, _) = with_cx(|cx| {
            parse_ip_address(
                &line("fd00::1/64 dev eth0 preferred_lft forever no_track"),
                false,
                cx,
            )
        });
        let a = a.unwrap();
        assert_eq!(a.preferred_lft, Some(None));
        assert!(a.no_track);

        let (a, codes) = with_cx(|cx| parse_ip_address(&line("192.168.100./24"), false, cx));
        assert!(a.is_none());
        assert_eq!(codes, ["invalid-address"]);

        let (a, codes) = with_cx(|cx| parse_ip_address(&line("10.0.0.1 dve eth0"), false, cx));
        assert!(a.is_none());
        assert_eq!(codes, ["unknown-option"]);

        let (_, codes) = with_cx(|cx| parse_ip_address(&line("10.0.0.1 dev"), false, cx));
        assert_eq!(codes, ["missing-value"]);
    }

    #[test]
    fn routes() {
        let (r, codes) = with_cx(|cx| {
            parse_route(
                &line("192.168.100.0/24 via 192.168.200.254 dev eth1 metric 10 table 100"),
                false,
                cx,
            )
        });
        let r = r.unwrap();
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(r.to.unwrap().to_string(), "192.168.100.0/24");
        assert_eq!(r.via.unwrap().to_string(), "192.168.200.254");
        assert_eq!(r.metric, Some(10));
        let (r, _) =
            with_cx(|cx| parse_route(&line("src 10.0.0.1 to default via 10.0.0.254"), false, cx));
        assert!(r.unwrap().to.is_none());
        let (r, _) = with_cx(|cx| parse_route(&line("blackhole 10.9.0.0/16"), false, cx));
        assert_eq!(r.unwrap().rtype, "blackhole");
        let (r, _) = with_cx(|cx| {
            parse_route(
                &line(
                    "default nexthop via 10.0.0.1 dev eth0 weight 2 nexthop via 10.0.0.2 dev eth1",
                ),
                false,
                cx,
            )
        });
        assert_eq!(r.unwrap().nexthops.len(), 2);
        let (r, codes) = with_cx(|cx| parse_route(&line("10.0.0.0/8 via fd00::1"), false, cx));
        assert!(r.is_none());
        assert_eq!(codes, ["family-mismatch"]);
        let (r, codes) = with_cx(|cx| parse_route(&line("via 10.0.0.1"), false, cx));
        assert!(r.is_none());
        assert_eq!(codes, ["missing-value"]);
        let (_, codes) =
            with_cx(|cx| parse_route(&line("10.0.0.0/8 mtu lock 1400 gw 10.0.0.1"), false, cx));
        assert_eq!(codes, ["deprecated", "untracked"]);
        let (_, codes) =
            with_cx(|cx| parse_route(&line("10.0.0.0/8 dev eth0 no_track"), false, cx));
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn rules() {
        let (r, codes) = with_cx(|cx| {
            parse_rule(
                &line(
                    "from 192.168.28.0/24 to 192.168.29.0/26 table small iif p33 tos 22 fwmark 24/0xff preference 39",
                ),
                false,
                cx,
            )
        });
        let r = r.unwrap();
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(r.fwmark, Some((24, Some(255))));
        assert_eq!(r.preference, Some(39));
        assert_eq!(r.table.as_deref(), Some("small"));
        let (r, _) = with_cx(|cx| parse_rule(&line("from all to 1.2.3.4 blackhole"), false, cx));
        assert_eq!(r.unwrap().rtype, "blackhole");
        let (r, codes) = with_cx(|cx| parse_rule(&line("from 10.0.0.1 lookpu 100"), false, cx));
        assert!(r.is_none());
        assert_eq!(codes, ["unknown-option"]);
    }

    #[test]
    fn a_rule_keeps_to_one_family() {
        let messages = |text: &str| {
            let mut d = Diagnostics::default();
            let mut cx = Cx::new(&mut d, &[]);
            let r = parse_rule(&line(text), false, &mut cx);
            assert!(r.is_none(), "{text}: accepted");
            d.iter().map(|x| x.message.clone()).collect::<Vec<_>>()
        };
        assert_eq!(
            messages("from 10.0.0.0/8 to fd00::/8 table 100"),
            ["cannot mix IPv4 and IPv6 addresses in a rule ('fd00::')"]
        );
        assert_eq!(
            messages("inet6 from 10.0.0.0/8 table 100"),
            ["cannot mix IPv4 and IPv6 addresses in a rule ('10.0.0.0')"]
        );
        assert_eq!(
            messages("from 10.0.0.0/8 inet6 table 100"),
            ["'inet6' contradicts the addresses of the rule"]
        );
        let (r, codes) =
            with_cx(|cx| parse_rule(&line("inet6 from all table 100 preference 5"), false, cx));
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(r.unwrap().family, Some(Family::Inet6));
    }
}
