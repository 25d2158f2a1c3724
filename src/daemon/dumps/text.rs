//! keepalived's ways of writing values in its dumps: numbers, command lines, states, and
//! the VIP, route and rule lines.

use crate::config::blocks::addr::{IpAddress, Route, Rule};
use crate::config::values::{Family, Prefix};
use crate::vrrp::event::State;

/// keepalived's state numbers (vrrp.h): INIT 0, BACKUP 1, MASTER 2, FAULT 3, STOP 98.
pub(super) fn state_number(s: State) -> u32 {
    match s {
        State::Init => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
        State::Stop => 98,
    }
}

/// A command line as keepalived prints it: each word in single quotes.
pub(super) fn quoted(argv: &[String]) -> String {
    argv.iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A number as keepalived's JSON writer prints a double (`%g`-like: 1, not 1.0).
pub(super) fn float(x: f64) -> serde_json::Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        serde_json::Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, Into::into)
    }
}

/// Microseconds as keepalived prints seconds: `5`, `0.5`.
pub(super) fn seconds(us: u64) -> String {
    float(us as f64 / 1e6).to_string()
}

/// keepalived's route text (vrrp_iproute.c `format_iproute`) for the common fields:
/// `prepend 10.88.0.0/24 via inet 10.77.0.254 dev eth0 proto 18`.
pub(super) fn route_text(r: &Route) -> String {
    let mut t = String::from("prepend ");
    if r.rtype != "unicast" {
        t.push_str(r.rtype);
        t.push(' ');
    }
    match r.to {
        Some(p) => t.push_str(&format!("{}/{}", p.addr, p.len)),
        None => t.push_str("default"),
    }
    if let Some(f) = r.from {
        t.push_str(&format!(" from {}/{}", f.addr, f.len));
    }
    if let Some(src) = r.src {
        t.push_str(&format!(" src {src}"));
    }
    if let Some(via) = r.via {
        let fam = if via.is_ipv6() { "inet6" } else { "inet" };
        t.push_str(&format!(" via {fam} {via}"));
    }
    if let Some(dev) = &r.dev {
        t.push_str(&format!(" dev {dev}"));
    }
    if let Some(table) = &r.table
        && table != "main"
        && table != "254"
    {
        t.push_str(&format!(" table {table}"));
    }
    t.push_str(" proto 18");
    if let Some(m) = r.metric {
        t.push_str(&format!(" metric {m}"));
    }
    if r.onlink {
        t.push_str(" onlink");
    }
    t
}

/// keepalived's rule text (vrrp_iprule.c `format_iprule`) for the common fields:
/// `from 10.77.0.100 tos 0x0 lookup 100`.
pub(super) fn rule_text(r: &Rule) -> String {
    let prefix = |p: Prefix| {
        let max = if p.addr.is_ipv6() { 128 } else { 32 };
        if p.len == max {
            p.addr.to_string()
        } else {
            format!("{}/{}", p.addr, p.len)
        }
    };
    let mut t = String::new();
    if r.from.is_none() && r.to.is_none() && r.family == Some(Family::Inet6) {
        t.push_str("inet6 ");
    }
    match r.from {
        Some(p) => t.push_str(&format!("from {}", prefix(p))),
        None => t.push_str("from all"),
    }
    if let Some(p) = r.to {
        t.push_str(&format!(" to {}", prefix(p)));
    }
    if let Some(p) = r.preference {
        t.push_str(&format!(" priority {p}"));
    }
    t.push_str(" tos 0x0");
    let protocol = if r.no_track {
        String::new()
    } else {
        " protocol 18".into()
    };
    if let Some((mark, mask)) = r.fwmark {
        t.push_str(&format!(" fwmark {mark:#x}"));
        if let Some(mask) = mask {
            t.push_str(&format!("/{mask:#x}"));
        }
    }
    if let Some(i) = &r.iif {
        t.push_str(&format!(" iif {i}"));
    }
    if let Some(o) = &r.oif {
        t.push_str(&format!(" oif {o}"));
    }
    t.push_str(&protocol);
    match r.rtype {
        "goto" => t.push_str(&format!(" goto {}", r.goto.unwrap_or(0))),
        "nop" => t.push_str(" nop"),
        "unicast" => {
            let table = r
                .table
                .as_deref()
                .map_or(254, |t| crate::sys::netlink::table_id(t).unwrap_or(254));
            t.push_str(&format!(" lookup {table}"));
        }
        other => t.push_str(&format!(" type {other}")),
    }
    if r.no_track {
        t.push_str(" no_track");
    }
    t
}

/// keepalived's VIP text: `10.0.0.100/24 dev eth0 scope global`, then ` set` once installed.
pub(super) fn vip_text(a: &IpAddress, interface: &str, set: bool) -> String {
    let dev = a.dev.as_deref().unwrap_or(interface);
    let scope = a.scope.as_deref().unwrap_or("global");
    let mut t = format!("{}/{} dev {dev} scope {scope}", a.addr.addr, a.addr.len);
    if let Some(label) = &a.label {
        t.push_str(&format!(" label {label}"));
    }
    if set {
        t.push_str(" set");
    }
    t
}
