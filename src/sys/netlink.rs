//! rtnetlink: the daemon adds and removes addresses (VIPs, eVIPs) with keepalived's options
//! (prefix, brd, scope, label). All rtnetlink calls live here (the crate changes its API often).

use std::net::{IpAddr, Ipv4Addr};

use nix::errno::Errno;
use rtnetlink::RouteMessageBuilder;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use rtnetlink::packet_route::route::{RouteMessage, RouteProtocol, RouteScope, RouteType};

use crate::config::blocks::addr::{Broadcast, IpAddress, Route, Rule};
use crate::config::values::Family;

/// Why a request failed. The kernel's refusals keep their errno, so that callers can tell an
/// object that exists from a device that does not and from a missing permission.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The kernel refused request `op` (an rtnetlink message type, `RTM_NEWADDR`).
    #[error("Received a netlink error message {}", std::io::Error::from(*errno))]
    Kernel { op: &'static str, errno: Errno },
    /// The request could not be made or its answer was not understood.
    #[error(transparent)]
    Rtnetlink(rtnetlink::Error),
    /// A route the message cannot carry (an address of the other family...).
    #[error("{0}")]
    Route(String),
    /// A value of the configuration that is not a number where the kernel needs one
    /// (`table`, `protocol`, `scope`, a metric).
    #[error("{what} {value}: not a number")]
    NotANumber { what: String, value: String },
    /// The link just created has no index.
    #[error("{name}: {errno}")]
    NoIndex { name: String, errno: Errno },
}

impl NetlinkError {
    /// The errno the kernel answered with.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            NetlinkError::Kernel { errno, .. } | NetlinkError::NoIndex { errno, .. } => {
                Some(*errno)
            }
            _ => None,
        }
    }
    /// EEXIST: the object is already there.
    pub fn is_exists(&self) -> bool {
        self.errno() == Some(Errno::EEXIST)
    }
    /// ENODEV: no such interface.
    pub fn is_no_device(&self) -> bool {
        self.errno() == Some(Errno::ENODEV)
    }
    /// ENOENT or ESRCH: the object to delete is not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self.errno(), Some(Errno::ENOENT | Errno::ESRCH))
    }
    /// EPERM or EACCES: not allowed (no CAP_NET_ADMIN).
    pub fn is_permission(&self) -> bool {
        matches!(self.errno(), Some(Errno::EPERM | Errno::EACCES))
    }

    /// The error of request `op`.
    fn of(op: &'static str) -> impl FnOnce(rtnetlink::Error) -> NetlinkError {
        move |e| match e {
            rtnetlink::Error::NetlinkError(m) if m.raw_code() != 0 => NetlinkError::Kernel {
                op,
                errno: Errno::from_raw(m.raw_code().abs()),
            },
            other => NetlinkError::Rtnetlink(other),
        }
    }

    /// rtnetlink's route builder refused a value.
    fn route(e: impl std::fmt::Display) -> NetlinkError {
        NetlinkError::Route(e.to_string())
    }

    fn not_a_number(what: &str, value: &str) -> NetlinkError {
        NetlinkError::NotANumber {
            what: what.to_string(),
            value: value.to_string(),
        }
    }
}

/// A route netlink connection.
#[derive(Clone)]
pub struct Netlink {
    handle: rtnetlink::Handle,
}

impl Netlink {
    /// Opens a connection; its I/O is the future returned beside it, for the caller to run
    /// as a task (and to watch: without it, every request fails).
    pub fn open() -> std::io::Result<(Netlink, impl Future<Output = ()> + Send + 'static)> {
        let (conn, handle, _) = rtnetlink::new_connection()?;
        Ok((Netlink { handle }, conn))
    }

    /// `ip addr replace` (so that an address already there is not an error).
    pub async fn add_address(&self, ifindex: u32, a: &IpAddress) -> Result<(), NetlinkError> {
        let mut req = self
            .handle
            .address()
            .add(ifindex, a.addr.addr, a.addr.len)
            .replace();
        decorate(req.message_mut(), a);
        req.execute().await.map_err(NetlinkError::of("RTM_NEWADDR"))
    }

    /// `ip addr del`; an address that is not there is not an error.
    pub async fn del_address(&self, ifindex: u32, a: &IpAddress) -> Result<(), NetlinkError> {
        let mut req = self.handle.address().add(ifindex, a.addr.addr, a.addr.len);
        let msg: AddressMessage = req.message_mut().clone();
        let result = self.handle.address().del(msg).execute().await;
        match result.map_err(NetlinkError::of("RTM_DELADDR")) {
            Err(e) if e.is_not_found() || e.errno() == Some(Errno::EADDRNOTAVAIL) => Ok(()),
            other => other,
        }
    }
}

impl Netlink {
    /// Creates (or finds) the macvlan `name` on interface `base` with `mac`, in private mode,
    /// up (keepalived vrrp_vmac.c `netlink_link_add_vmac`). Returns its index.
    pub async fn add_vmac(&self, name: &str, base: u32, mac: [u8; 6]) -> Result<u32, NetlinkError> {
        use rtnetlink::LinkMacVlan;
        use rtnetlink::packet_route::link::MacVlanMode;
        let msg = LinkMacVlan::new(name, base, MacVlanMode::Private)
            .address(mac.to_vec())
            .up()
            .build();
        let result = self.handle.link().add(msg).execute().await;
        match result.map_err(NetlinkError::of("RTM_NEWLINK")) {
            Err(e) if !e.is_exists() => return Err(e),
            _ => {}
        }
        nix::net::if_::if_nametoindex(name).map_err(|errno| NetlinkError::NoIndex {
            name: name.to_string(),
            errno,
        })
    }

    /// Deletes a link (a VMAC at shutdown).
    pub async fn del_link(&self, index: u32) -> Result<(), NetlinkError> {
        self.handle
            .link()
            .del(index)
            .execute()
            .await
            .map_err(NetlinkError::of("RTM_DELLINK"))
    }
}

impl Netlink {
    /// `ip rule add` / `ip rule del` for a virtual or static rule.
    pub async fn rule(&self, add: bool, r: &Rule) -> Result<(), NetlinkError> {
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
            q.execute().await.map_err(NetlinkError::of("RTM_NEWRULE"))
        } else {
            let r = self.handle.rule().del(msg).execute().await;
            r.map_err(NetlinkError::of("RTM_DELRULE"))
        };
        match result {
            Err(e) if (add && e.is_exists()) || (!add && e.is_not_found()) => Ok(()),
            other => other,
        }
    }
}

/// A routing table by name or number.
pub fn table_id(t: &str) -> Result<u32, NetlinkError> {
    Ok(match t {
        "main" => 254,
        "local" => 255,
        "default" => 253,
        n => n
            .parse()
            .map_err(|_| NetlinkError::not_a_number("table", n))?,
    })
}

impl Netlink {
    /// `ip route replace` / `ip route del` for a virtual or static route; `dev` is the
    /// interface index of the route's `dev`, if it names one.
    pub async fn route(&self, add: bool, r: &Route, dev: Option<u32>) -> Result<(), NetlinkError> {
        let msg = route_message(r, dev)?;
        let result = if add {
            let r = self.handle.route().add(msg).replace().execute().await;
            r.map_err(NetlinkError::of("RTM_NEWROUTE"))
        } else {
            let r = self.handle.route().del(msg).execute().await;
            r.map_err(NetlinkError::of("RTM_DELROUTE"))
        };
        match result {
            Err(e) if !add && e.is_not_found() => Ok(()),
            other => other,
        }
    }
}

/// The rtnetlink message of a keepalived route line (nexthops and metrics options are not
/// sent yet).
fn route_message(r: &Route, dev: Option<u32>) -> Result<RouteMessage, NetlinkError> {
    let v6 = r.family == Some(Family::Inet6)
        || r.to.is_some_and(|p| p.addr.is_ipv6())
        || r.via.is_some_and(|a| a.is_ipv6());
    let mut b = RouteMessageBuilder::<IpAddr>::new();
    b = match r.to {
        Some(p) => b
            .destination_prefix(p.addr, p.len)
            .map_err(NetlinkError::route)?,
        None if v6 => b
            .destination_prefix(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), 0)
            .map_err(NetlinkError::route)?,
        None => b
            .destination_prefix(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
            .map_err(NetlinkError::route)?,
    };
    if let Some(via) = r.via {
        b = b.gateway(via).map_err(NetlinkError::route)?;
    }
    if let Some(src) = r.src {
        b = b.pref_source(src).map_err(NetlinkError::route)?;
    }
    if let Some(from) = r.from {
        b = b
            .source_prefix(from.addr, from.len)
            .map_err(NetlinkError::route)?;
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
            .map_err(|_| NetlinkError::not_a_number("protocol", n))?,
    };
    b = b.protocol(RouteProtocol::from(proto));
    if let Some(sc) = &r.scope {
        b = b.scope(RouteScope::from(match sc.as_str() {
            "host" => 254,
            "link" => 253,
            "site" => 200,
            "nowhere" => 255,
            "global" | "universe" => 0,
            n => n
                .parse()
                .map_err(|_| NetlinkError::not_a_number("scope", n))?,
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
                nh = nh.via(via).map_err(NetlinkError::route)?;
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
fn route_metrics(
    r: &Route,
) -> Result<Vec<rtnetlink::packet_route::route::RouteMetric>, NetlinkError> {
    use rtnetlink::packet_route::route::RouteMetric as M;
    let mut out = Vec::new();
    let mut lock = 0u32;
    for o in &r.options {
        let n = || -> Result<u32, NetlinkError> {
            o.value
                .trim_end_matches("ms")
                .parse()
                .map_err(|_| NetlinkError::not_a_number(o.name, &o.value))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel(errno: Errno) -> NetlinkError {
        NetlinkError::Kernel {
            op: "RTM_NEWADDR",
            errno,
        }
    }

    #[test]
    fn kernel_errors_keep_their_errno() {
        assert!(kernel(Errno::EEXIST).is_exists());
        assert!(kernel(Errno::ENODEV).is_no_device());
        assert!(kernel(Errno::EPERM).is_permission());
        assert!(kernel(Errno::ESRCH).is_not_found());
        assert!(!kernel(Errno::ENODEV).is_exists());
        assert_eq!(table_id("x").unwrap_err().errno(), None);
        // The wording of the log lines is rtnetlink's, as before.
        assert_eq!(
            kernel(Errno::EEXIST).to_string(),
            "Received a netlink error message File exists (os error 17)"
        );
        assert_eq!(
            table_id("x").unwrap_err().to_string(),
            "table x: not a number"
        );
    }

    #[test]
    fn an_rtnetlink_error_becomes_its_errno() {
        use rtnetlink::packet_core::ErrorMessage;
        let mut m = ErrorMessage::default();
        m.code = std::num::NonZeroI32::new(-nix::libc::ENODEV);
        let old = rtnetlink::Error::NetlinkError(m.clone()).to_string();
        let e = NetlinkError::of("RTM_NEWLINK")(rtnetlink::Error::NetlinkError(m));
        assert!(e.is_no_device(), "{e:?}");
        assert_eq!(e.to_string(), old, "the same text as rtnetlink's");
        let other = NetlinkError::of("RTM_NEWLINK")(rtnetlink::Error::RequestFailed);
        assert_eq!(other.errno(), None);
        assert_eq!(other.to_string(), "A netlink request failed");
    }
}
