//! The IPVS table kaconsole wants: every virtual server of the configuration as kernel
//! services (one per address, range member and fwmark of a virtual_server_group, as
//! keepalived without nftables makes them, ipvswrapper.c `ipvs_group_cmd`), with the
//! destinations the checker engine says should be there and their weights
//! ([`Engine::desired`](crate::check::engine::Engine::desired)).

use std::net::IpAddr;

use super::message::{
    AF_INET, AF_INET6, Dest, Forward, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, Service, ServiceKey,
    flags,
};
use super::reconcile::ServiceState;
use crate::check::engine::Member;
use crate::config::blocks::Config;
use crate::config::blocks::lvs::{
    Method, Protocol, TunCsum, TunType, VirtualServer, VsKey, VsgEntry,
};
use crate::config::values::Family;

/// The most addresses one range of a group expands to (a /16).
const MAX_RANGE: u128 = 65_536;

fn proto(vs: &VirtualServer) -> u16 {
    match vs.protocol {
        Some(Protocol::Tcp) => IPPROTO_TCP,
        Some(Protocol::Sctp) => IPPROTO_SCTP,
        // keepalived 2.2 without `protocol`: UDP.
        Some(Protocol::Udp) | None => IPPROTO_UDP,
    }
}

fn af(f: Option<Family>) -> u16 {
    match f {
        Some(Family::Inet6) => AF_INET6,
        _ => AF_INET,
    }
}

/// Every address from `start` to `end`, inclusive.
fn range(start: IpAddr, end: IpAddr) -> Vec<IpAddr> {
    match (start, end) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let (a, b) = (u32::from(a), u32::from(b));
            (a..=b.min(a.saturating_add(MAX_RANGE as u32 - 1)))
                .map(|x| IpAddr::V4(x.into()))
                .collect()
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let (a, b) = (u128::from(a), u128::from(b));
            (a..=b.min(a.saturating_add(MAX_RANGE - 1)))
                .map(|x| IpAddr::V6(x.into()))
                .collect()
        }
        (a, _) => vec![a],
    }
}

/// The kernel services of one virtual server.
pub fn keys(cfg: &Config, vs: &VirtualServer) -> Vec<ServiceKey> {
    match &vs.key {
        VsKey::Address { addr, port } => vec![ServiceKey::Addr {
            proto: proto(vs),
            addr: *addr,
            port: port.unwrap_or(0),
        }],
        VsKey::Fwmark(mark) => vec![ServiceKey::Fwmark {
            af: af(vs.ip_family),
            mark: *mark,
        }],
        VsKey::Group(name) => cfg
            .virtual_server_groups
            .iter()
            .filter(|g| &g.name == name)
            .flat_map(|g| &g.entries)
            .flat_map(|e| match e {
                VsgEntry::Range { start, end, port } => range(*start, *end)
                    .into_iter()
                    .map(|addr| ServiceKey::Addr {
                        proto: proto(vs),
                        addr,
                        port: port.unwrap_or(0),
                    })
                    .collect::<Vec<_>>(),
                VsgEntry::Fwmark { mark, family } => vec![ServiceKey::Fwmark {
                    af: af(family.or(vs.ip_family)),
                    mark: *mark,
                }],
            })
            .collect(),
    }
}

/// persistence_granularity: an IPv4 netmask in network order, or an IPv6 prefix length;
/// without it, a host (keepalived's defaults).
fn netmask(key: &ServiceKey, granularity: Option<&str>) -> u32 {
    let v6 = match key {
        ServiceKey::Addr { addr, .. } => addr.is_ipv6(),
        ServiceKey::Fwmark { af, .. } => *af == AF_INET6,
    };
    match (v6, granularity) {
        (false, Some(g)) => g
            .parse::<std::net::Ipv4Addr>()
            .map_or(u32::MAX, |m| u32::from_ne_bytes(m.octets())),
        (false, None) => u32::MAX,
        (true, g) => g.and_then(|g| g.parse().ok()).unwrap_or(128),
    }
}

/// keepalived's persistence timeout when `persistence_granularity` is given without one
/// (IPVS_SVC_PERSISTENT_TIMEOUT).
const PERSISTENT_TIMEOUT: u32 = 360;

fn service(key: ServiceKey, vs: &VirtualServer) -> Service {
    let f = &vs.sched_flags;
    let timeout = vs.persistence_timeout.or(vs
        .persistence_granularity
        .as_ref()
        .map(|_| PERSISTENT_TIMEOUT));
    let mut bits = 0;
    for (on, bit) in [
        (timeout.is_some(), flags::PERSISTENT),
        (f.ops, flags::ONEPACKET),
        (f.flag_1, flags::SCHED1),
        (f.flag_2, flags::SCHED2),
        (f.flag_3, flags::SCHED3),
    ] {
        if on {
            bits |= bit;
        }
    }
    Service {
        key,
        sched: vs.lvs_sched.unwrap_or("wlc").to_string(),
        flags: bits,
        timeout: timeout.unwrap_or(0),
        netmask: netmask(&key, vs.persistence_granularity.as_deref()),
        pe_name: vs.persistence_engine.clone(),
    }
}

/// A destination with `method` (NAT when none is given, keepalived's default).
pub fn dest(addr: IpAddr, port: u16, weight: u32, method: Option<Method>) -> Dest {
    let mut d = Dest {
        addr,
        port,
        forward: Forward::Masq,
        weight,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: 0,
        tun_port: 0,
        tun_flags: 0,
    };
    match method {
        None | Some(Method::Nat) => {}
        Some(Method::Dr) => d.forward = Forward::Route,
        Some(Method::Tun { kind, port, csum }) => {
            d.forward = Forward::Tunnel;
            d.tun_type = match kind {
                TunType::Ipip => 0,
                TunType::Gue => 1,
                TunType::Gre => 2,
            };
            d.tun_port = port.unwrap_or(0);
            d.tun_flags = match csum {
                TunCsum::Nocsum => 0,
                TunCsum::Csum => 1,
                TunCsum::Remcsum => 2,
            };
        }
    }
    d
}

/// The kernel services of virtual server `vs` with the destinations `table` names (what the
/// checker engine wants: [`Engine::desired`](crate::check::engine::Engine::desired)).
pub fn vs_services(cfg: &Config, vs: &VirtualServer, table: &[(Member, u32)]) -> Vec<ServiceState> {
    let dests: Vec<Dest> = table
        .iter()
        .filter_map(|(member, weight)| match member {
            Member::Real(k) => {
                let rs = vs.real_servers.get(*k)?;
                let mut d = dest(
                    rs.addr,
                    rs.port.unwrap_or(0),
                    *weight,
                    rs.lvs_method.or(vs.lvs_method),
                );
                (d.u_threshold, d.l_threshold) = (rs.uthreshold, rs.lthreshold);
                Some(d)
            }
            Member::Sorry => {
                let sorry = vs.sorry_server.as_ref()?;
                Some(dest(
                    sorry.addr,
                    sorry.port.unwrap_or(0),
                    *weight,
                    sorry.lvs_method.or(vs.lvs_method),
                ))
            }
        })
        .collect();
    keys(cfg, vs)
        .into_iter()
        .map(|key| {
            // DR and TUN forward to the service's own port: keepalived gives those
            // destinations the service's port (0 for a fwmark), NAT keeps the real server's
            // (ipvswrapper.c).
            let port = match key {
                ServiceKey::Addr { port, .. } => port,
                ServiceKey::Fwmark { .. } => 0,
            };
            let dests = dests
                .iter()
                .map(|d| Dest {
                    port: if d.forward == Forward::Masq {
                        d.port
                    } else {
                        port
                    },
                    ..d.clone()
                })
                .collect();
            ServiceState {
                service: service(key, vs),
                dests,
            }
        })
        .collect()
}

/// The whole table: `tables[v]` for virtual server `v`.
pub fn services(cfg: &Config, tables: &[Vec<(Member, u32)>]) -> Vec<ServiceState> {
    cfg.virtual_servers
        .iter()
        .zip(tables)
        .flat_map(|(vs, table)| vs_services(cfg, vs, table))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, LoadOptions};

    fn table(text: &str, tables: &[Vec<(Member, u32)>]) -> Vec<ServiceState> {
        let loaded = config::load_text(
            std::path::Path::new("/k.conf"),
            text.as_bytes(),
            &LoadOptions::default(),
            None,
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        services(&loaded.config, tables)
    }

    #[test]
    fn every_kind_of_virtual_server_becomes_kernel_services() {
        let t = table(
            "virtual_server_group web {
    10.0.0.1-3 80
    fwmark 9
}
virtual_server group web {
    protocol TCP
    lvs_sched sh
    sh-port
    lvs_method DR
    persistence_timeout 600
    persistence_granularity 255.255.255.0
    real_server 10.0.1.1 80 {
        uthreshold 100
    }
}
virtual_server fwmark 7 {
    lvs_sched rr
    lvs_method TUN type gue port 6080
    real_server 10.0.1.2 0 {
    }
}
virtual_server 10.0.0.9 53 {
    protocol UDP
    lvs_sched wrr
    ops
    real_server 10.0.1.3 53 {
        lvs_method NAT
    }
}
",
            &[
                vec![(Member::Real(0), 4)],
                vec![(Member::Real(0), 1)],
                vec![],
            ],
        );
        let keys: Vec<String> = t.iter().map(|s| s.service.key.to_string()).collect();
        assert_eq!(
            keys,
            [
                "TCP 10.0.0.1:80",
                "TCP 10.0.0.2:80",
                "TCP 10.0.0.3:80",
                "FWM 9",
                "FWM 7",
                "UDP 10.0.0.9:53"
            ]
        );
        let web = &t[0];
        assert_eq!(web.service.sched, "sh");
        assert_eq!(
            web.service.flags,
            flags::PERSISTENT | flags::SCHED2,
            "sh-port is flag-2"
        );
        assert_eq!(
            (web.service.timeout, web.service.netmask),
            (600, u32::from_ne_bytes([255, 255, 255, 0]))
        );
        assert_eq!(web.dests.len(), 1);
        assert_eq!(
            (
                web.dests[0].forward,
                web.dests[0].weight,
                web.dests[0].u_threshold
            ),
            (Forward::Route, 4, 100)
        );
        assert_eq!(
            t[1].dests, web.dests,
            "every member of the group has the same dests"
        );
        assert_eq!(
            (t[3].dests[0].addr, t[3].dests[0].port),
            (web.dests[0].addr, 0),
            "DR to a fwmark member: the service's port, 0, as keepalived gives it"
        );
        let tun = &t[4].dests[0];
        assert_eq!(
            (tun.forward, tun.tun_type, tun.tun_port),
            (Forward::Tunnel, 1, 6080)
        );
        assert_eq!(t[5].service.flags, flags::ONEPACKET);
        assert!(t[5].dests.is_empty(), "the engine wants none there");
    }

    #[test]
    fn granularity_alone_makes_a_service_persistent_for_360_s() {
        let t = table(
            "virtual_server 10.0.0.9 80 {\n    protocol TCP\n    lvs_sched rr\n    persistence_granularity 255.255.0.0\n    real_server 10.0.1.1 80 {\n    }\n}\n",
            &[vec![]],
        );
        assert_eq!(
            (t[0].service.flags, t[0].service.timeout),
            (flags::PERSISTENT, 360)
        );
    }
}
