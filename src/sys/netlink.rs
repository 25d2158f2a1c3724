//! rtnetlink: the daemon adds and removes addresses (VIPs, eVIPs) with keepalived's options
//! (prefix, brd, scope, label). All rtnetlink calls live here (the crate changes its API often).

use std::net::{IpAddr, Ipv4Addr};

use rtnetlink::RouteMessageBuilder;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use rtnetlink::packet_route::route::{RouteMessage, RouteProtocol, RouteScope, RouteType};

use crate::config::blocks::addr::{Broadcast, IpAddress, Route, Rule};
use crate::config::values::Family;

/// A route netlink connection.
#[derive(Clone)]
pub struct Netlink {
    handle: rtnetlink::Handle,
}

impl Netlink {
    /// Opens a connection; its I/O runs as a task on the current tokio runtime.
    pub fn open() -> std::io::Result<Netlink> {
        let (conn, handle, _) = rtnetlink::new_connection()?;
        tokio::spawn(conn);
        Ok(Netlink { handle })
    }

    /// `ip addr replace` (so that an address already there is not an error).
    pub async fn add_address(&self, ifindex: u32, a: &IpAddress) -> Result<(), String> {
        let mut req = self
            .handle
            .address()
            .add(ifindex, a.addr.addr, a.addr.len)
            .replace();
        decorate(req.message_mut(), a);
        req.execute().await.map_err(|e| e.to_string())
    }

    /// `ip addr del`; an address that is not there is not an error.
    pub async fn del_address(&self, ifindex: u32, a: &IpAddress) -> Result<(), String> {
        let mut req = self.handle.address().add(ifindex, a.addr.addr, a.addr.len);
        let msg: AddressMessage = req.message_mut().clone();
        match self.handle.address().del(msg).execute().await {
            Ok(()) => Ok(()),
            Err(rtnetlink::Error::NetlinkError(e))
                if matches!(
                    e.raw_code().abs(),
                    nix::libc::EADDRNOTAVAIL | nix::libc::ENOENT | nix::libc::ESRCH
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

impl Netlink {
    /// Creates (or finds) the macvlan `name` on interface `base` with `mac`, in private mode,
    /// up (keepalived vrrp_vmac.c `netlink_link_add_vmac`). Returns its index.
    pub async fn add_vmac(&self, name: &str, base: u32, mac: [u8; 6]) -> Result<u32, String> {
        use rtnetlink::LinkMacVlan;
        use rtnetlink::packet_route::link::MacVlanMode;
        let msg = LinkMacVlan::new(name, base, MacVlanMode::Private)
            .address(mac.to_vec())
            .up()
            .build();
        match self.handle.link().add(msg).execute().await {
            Ok(()) => {}
            Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code().abs() == nix::libc::EEXIST => {}
            Err(e) => return Err(e.to_string()),
        }
        nix::net::if_::if_nametoindex(name).map_err(|e| format!("{name}: {e}"))
    }

    /// Deletes a link (a VMAC at shutdown).
    pub async fn del_link(&self, index: u32) -> Result<(), String> {
        self.handle
            .link()
            .del(index)
            .execute()
            .await
            .map_err(|e| e.to_string())
    }
}

impl Netlink {
    /// `ip rule add` / `ip rule del` for a virtual or static rule.
    pub async fn rule(&self, add: bool, r: &Rule) -> Result<(), String> {
        use rtnetlink::packet_route::rule::{RuleAction, RuleAttribute};
        let v6 = r.family == Some(Family::Inet6)
            || r.from.is_some_and(|p| p.addr.is_ipv6())
            || r.to.is_some_and(|p| p.addr.is_ipv6());
        let mut req = self.handle.rule().add();
        if let Some(i) = &r.iif {
            req = req.input_interface(i.clone());
        }
        if let Some(o) = &r.oif {
            req = req.output_interface(o.clone());
        }
        if let Some(t) = &r.table {
            req = req.table_id(table_id(t)?);
        }
        if let Some(p) = r.preference {
            req = req.priority(p);
        }
        if let Some((mark, _)) = r.fwmark {
            req = req.fw_mark(mark);
        }
        req = req.action(match r.rtype {
            "blackhole" => RuleAction::Blackhole,
            "unreachable" => RuleAction::Unreachable,
            "prohibit" => RuleAction::Prohibit,
            "goto" => RuleAction::Goto,
            "nop" => RuleAction::Nop,
            _ => RuleAction::ToTable,
        });
        let mut msg = if v6 {
            let mut q = req.v6();
            if let Some(p) = r.from
                && let IpAddr::V6(a) = p.addr
            {
                q = q.source_prefix(a, p.len);
            }
            if let Some(p) = r.to
                && let IpAddr::V6(a) = p.addr
            {
                q = q.destination_prefix(a, p.len);
            }
            q.message_mut().clone()
        } else {
            let mut q = req.v4();
            if let Some(p) = r.from
                && let IpAddr::V4(a) = p.addr
            {
                q = q.source_prefix(a, p.len);
            }
            if let Some(p) = r.to
                && let IpAddr::V4(a) = p.addr
            {
                q = q.destination_prefix(a, p.len);
            }
            q.message_mut().clone()
        };
        if let Some((_, Some(mask))) = r.fwmark {
            msg.attributes.push(RuleAttribute::FwMask(mask));
        }
        if let Some(g) = r.goto {
            msg.attributes.push(RuleAttribute::Goto(g));
        }
        // keepalived marks the rules it tracks with its protocol (RTPROT_KEEPALIVED, 18).
        if !r.no_track {
            msg.attributes.push(RuleAttribute::Protocol(
                rtnetlink::packet_route::route::RouteProtocol::from(18),
            ));
        }
        let result = if add {
            let mut q = self.handle.rule().add();
            *q.message_mut() = msg;
            q.execute().await
        } else {
            self.handle.rule().del(msg).execute().await
        };
        match result {
            Ok(()) => Ok(()),
            Err(rtnetlink::Error::NetlinkError(e))
                if (add && e.raw_code().abs() == nix::libc::EEXIST)
                    || (!add
                        && matches!(e.raw_code().abs(), nix::libc::ENOENT | nix::libc::ESRCH)) =>
            {
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A routing table by name or number.
pub fn table_id(t: &str) -> Result<u32, String> {
    Ok(match t {
        "main" => 254,
        "local" => 255,
        "default" => 253,
        n => n.parse().map_err(|_| format!("table {n}: not a number"))?,
    })
}

impl Netlink {
    /// `ip route replace` / `ip route del` for a virtual or static route; `dev` is the
    /// interface index of the route's `dev`, if it names one.
    pub async fn route(&self, add: bool, r: &Route, dev: Option<u32>) -> Result<(), String> {
        let msg = route_message(r, dev)?;
        let result = if add {
            self.handle.route().add(msg).replace().execute().await
        } else {
            self.handle.route().del(msg).execute().await
        };
        match result {
            Ok(()) => Ok(()),
            Err(rtnetlink::Error::NetlinkError(e))
                if !add && matches!(e.raw_code().abs(), nix::libc::ESRCH | nix::libc::ENOENT) =>
            {
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The rtnetlink message of a keepalived route line (nexthops and metrics options are not
/// sent yet).
fn route_message(r: &Route, dev: Option<u32>) -> Result<RouteMessage, String> {
    fn e(err: impl std::fmt::Display) -> String {
        err.to_string()
    }
    let v6 = r.family == Some(Family::Inet6)
        || r.to.is_some_and(|p| p.addr.is_ipv6())
        || r.via.is_some_and(|a| a.is_ipv6());
    let mut b = RouteMessageBuilder::<IpAddr>::new();
    b = match r.to {
        Some(p) => b.destination_prefix(p.addr, p.len).map_err(e)?,
        None if v6 => b
            .destination_prefix(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), 0)
            .map_err(e)?,
        None => b
            .destination_prefix(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
            .map_err(e)?,
    };
    if let Some(via) = r.via {
        b = b.gateway(via).map_err(e)?;
    }
    if let Some(src) = r.src {
        b = b.pref_source(src).map_err(e)?;
    }
    if let Some(from) = r.from {
        b = b.source_prefix(from.addr, from.len).map_err(e)?;
    }
    if let Some(ifindex) = dev {
        b = b.output_interface(ifindex);
    }
    if let Some(m) = r.metric {
        b = b.priority(m);
    }
    if let Some(t) = &r.table {
        b = b.table_id(table_id(t)?);
    }
    // keepalived marks its routes with its own protocol (RTPROT_KEEPALIVED, 18).
    let proto = match r.protocol.as_deref() {
        None => 18,
        Some("boot") => 3,
        Some("static") => 4,
        Some("kernel") => 2,
        Some(n) => n
            .parse()
            .map_err(|_| format!("protocol {n}: not a number"))?,
    };
    b = b.protocol(RouteProtocol::from(proto));
    if let Some(sc) = &r.scope {
        b = b.scope(RouteScope::from(match sc.as_str() {
            "host" => 254,
            "link" => 253,
            "site" => 200,
            "nowhere" => 255,
            "global" | "universe" => 0,
            n => n.parse().map_err(|_| format!("scope {n}: not a number"))?,
        }));
    }
    b = b.kind(match r.rtype {
        "local" => RouteType::Local,
        "broadcast" => RouteType::Broadcast,
        "anycast" => RouteType::Anycast,
        "multicast" => RouteType::Multicast,
        "blackhole" => RouteType::BlackHole,
        "unreachable" => RouteType::Unreachable,
        "prohibit" => RouteType::Prohibit,
        "throw" => RouteType::Throw,
        "nat" => RouteType::Nat,
        _ => RouteType::Unicast,
    });
    if r.onlink {
        b = b.onlink();
    }
    let metrics = route_metrics(r)?;
    if !metrics.is_empty() {
        b.get_mut()
            .attributes
            .push(rtnetlink::packet_route::route::RouteAttribute::Metrics(
                metrics,
            ));
    }
    // Multipath: `nexthop via A dev X weight W` (the kernel's hops field is weight - 1).
    if !r.nexthops.is_empty() {
        let mut hops = Vec::new();
        for h in &r.nexthops {
            let mut nh = if v6 {
                rtnetlink::RouteNextHopBuilder::new_ipv6()
            } else {
                rtnetlink::RouteNextHopBuilder::new_ipv4()
            };
            if let Some(via) = h.via {
                nh = nh.via(via).map_err(e)?;
            }
            if let Some(d) = h.dev.as_deref()
                && let Ok(i) = nix::net::if_::if_nametoindex(d)
            {
                nh = nh.interface(i);
            }
            if h.onlink {
                nh = nh.onlink();
            }
            let mut hop = nh.build();
            hop.hops = h.weight.map_or(0, |w| w.saturating_sub(1).min(255) as u8);
            hops.push(hop);
        }
        b = b.multipath(hops);
    }
    Ok(b.build())
}

/// The RTA_METRICS of a route line (`mtu [lock] N`, `advmss`, `initcwnd`, ...); the locked
/// ones go in the RTAX_LOCK mask. Times (`rtt`, `rttvar`, `rto_min`) are milliseconds, as
/// `ip route` takes them without a unit.
fn route_metrics(r: &Route) -> Result<Vec<rtnetlink::packet_route::route::RouteMetric>, String> {
    use rtnetlink::packet_route::route::RouteMetric as M;
    let mut out = Vec::new();
    let mut lock = 0u32;
    for o in &r.options {
        let n = || -> Result<u32, String> {
            o.value
                .trim_end_matches("ms")
                .parse()
                .map_err(|_| format!("{} {}: not a number", o.name, o.value))
        };
        let (m, bit) = match o.name {
            "mtu" => (M::Mtu(n()?), 2),
            "window" => (M::Window(n()?), 3),
            "rtt" => (M::Rtt(n()? * 8), 4),
            "rttvar" => (M::RttVar(n()? * 4), 5),
            "ssthresh" => (M::SsThresh(n()?), 6),
            "cwnd" => (M::Cwnd(n()?), 7),
            "advmss" => (M::Advmss(n()?), 8),
            "reordering" => (M::Reordering(n()?), 9),
            "hoplimit" => (M::Hoplimit(n()?), 10),
            "initcwnd" => (M::InitCwnd(n()?), 11),
            "features" => (M::Features(n()?), 12),
            "rto_min" => (M::RtoMin(n()?), 13),
            "initrwnd" => (M::InitRwnd(n()?), 14),
            "quickack" => (M::QuickAck(n()?), 15),
            "congctl" => (M::CcAlgo(o.value.clone()), 16),
            "fastopen_no_cookie" => (M::FastopenNoCookie(n()?), 17),
            // Not metrics (pref, ttl-propagate, realms, expires, vrf): not sent yet.
            _ => continue,
        };
        if o.lock {
            lock |= 1 << bit;
        }
        out.push(m);
    }
    if lock != 0 {
        out.push(M::Lock(lock));
    }
    Ok(out)
}

/// keepalived's address options on the message.
fn decorate(m: &mut AddressMessage, a: &IpAddress) {
    if let Some(label) = &a.label {
        m.attributes.push(AddressAttribute::Label(label.clone()));
    }
    if let (IpAddr::V4(addr), Some(b)) = (a.addr.addr, &a.brd) {
        let host_bits = if a.addr.len >= 32 {
            0
        } else {
            u32::MAX >> a.addr.len
        };
        let brd = match b {
            Broadcast::Addr(IpAddr::V4(x)) => Some(*x),
            Broadcast::Plus => Some(Ipv4Addr::from(u32::from(addr) | host_bits)),
            Broadcast::Minus => Some(Ipv4Addr::from(u32::from(addr) & !host_bits)),
            Broadcast::Addr(IpAddr::V6(_)) => None,
        };
        if let Some(brd) = brd {
            m.attributes.push(AddressAttribute::Broadcast(brd));
        }
    }
    // `preferred_lft`: seconds (0 marks the address deprecated), or forever; valid forever.
    if let Some(pref) = a.preferred_lft {
        let mut info = rtnetlink::packet_route::address::CacheInfo::default();
        info.ifa_preferred = pref.unwrap_or(u32::MAX);
        info.ifa_valid = u32::MAX;
        m.attributes.push(AddressAttribute::CacheInfo(info));
    }
    if let Some(scope) = &a.scope {
        m.header.scope = match scope.as_str() {
            "host" => AddressScope::Host,
            "link" => AddressScope::Link,
            "site" => AddressScope::Site,
            "nowhere" => AddressScope::Nowhere,
            "global" | "universe" => AddressScope::Universe,
            n => n
                .parse::<u8>()
                .map_or(AddressScope::Universe, AddressScope::from),
        };
    }
}
