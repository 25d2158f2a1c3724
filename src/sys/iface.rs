//! What the daemon needs to know about an interface: its index, MAC address, primary IPv4
//! address and IPv6 link-local address (keepalived's `set_vrrp_src_addr`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nix::ifaddrs::getifaddrs;
use nix::net::if_::if_nametoindex;

/// An interface as found now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iface {
    pub name: String,
    pub index: u32,
    pub mac: Option<[u8; 6]>,
    /// The first IPv4 address (the primary).
    pub ipv4: Option<Ipv4Addr>,
    /// The link-local IPv6 address.
    pub link_local: Option<Ipv6Addr>,
}

impl Iface {
    /// Looks `name` up; `None` if there is no such interface.
    pub fn lookup(name: &str) -> Option<Iface> {
        let index = if_nametoindex(name).ok()?;
        let mut iface = Iface {
            name: name.to_string(),
            index,
            mac: None,
            ipv4: None,
            link_local: None,
        };
        for a in getifaddrs().ok()?.filter(|a| a.interface_name == name) {
            let Some(addr) = a.address else { continue };
            if let Some(l) = addr.as_link_addr()
                && let Some(mac) = l.addr()
            {
                iface.mac = Some(mac);
            } else if let Some(v4) = addr.as_sockaddr_in() {
                iface.ipv4.get_or_insert(v4.ip());
            } else if let Some(v6) = addr.as_sockaddr_in6()
                && v6.ip().is_unicast_link_local()
            {
                iface.link_local.get_or_insert(v6.ip());
            }
        }
        Some(iface)
    }

    /// The address VRRP sends from on this interface for `v6`.
    pub fn vrrp_source(&self, v6: bool) -> Option<IpAddr> {
        if v6 {
            self.link_local.map(IpAddr::V6)
        } else {
            self.ipv4.map(IpAddr::V4)
        }
    }

    /// [`vrrp_source`](Self::vrrp_source), but an IPv6 link-local address still in duplicate
    /// address detection (or that failed it) is not one yet: nothing can be sent from it.
    pub fn usable_vrrp_source(&self, v6: bool) -> Option<IpAddr> {
        if !v6 {
            return self.vrrp_source(false);
        }
        let table = std::fs::read_to_string("/proc/net/if_inet6").unwrap_or_default();
        usable_link_local(&table, self.index).map(IpAddr::V6)
    }
}

/// IFA_F_DADFAILED and IFA_F_TENTATIVE.
const NOT_YET: u32 = 0x08 | 0x40;

/// The first link-local address of interface `index` in /proc/net/if_inet6 (`ADDRESS IFINDEX
/// PREFIXLEN SCOPE FLAGS NAME`, in hexadecimal) that has finished duplicate address detection.
fn usable_link_local(table: &str, index: u32) -> Option<Ipv6Addr> {
    table.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [addr, ifindex, _, _, flags, ..] = f[..] else {
            return None;
        };
        if u32::from_str_radix(ifindex, 16).ok()? != index
            || u32::from_str_radix(flags, 16).ok()? & NOT_YET != 0
        {
            return None;
        }
        let a = Ipv6Addr::from(u128::from_str_radix(addr, 16).ok()?);
        a.is_unicast_link_local().then_some(a)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tentative_link_local_address_is_not_usable_yet() {
        let table = "fe800000000000000000000000000009 04 40 20 c0     eth0\n\
                     fd000000000000000000000000000002 04 40 00 80     eth0\n\
                     fe800000000000000000000000000001 04 40 20 80     eth0\n\
                     fe800000000000000000000000000002 05 40 20 80     eth1\n";
        assert_eq!(
            usable_link_local(table, 4),
            Some("fe80::1".parse().unwrap())
        );
        assert_eq!(
            usable_link_local(table, 5),
            Some("fe80::2".parse().unwrap())
        );
        let dad = "fe800000000000000000000000000009 04 40 20 c0     eth0\n";
        assert_eq!(usable_link_local(dad, 4), None, "tentative");
        assert_eq!(usable_link_local(table, 6), None);
    }

    #[test]
    fn loopback_is_found_and_nonsense_is_not() {
        let lo = Iface::lookup("lo").expect("every Linux has lo");
        assert_eq!(lo.ipv4, Some(Ipv4Addr::LOCALHOST));
        assert!(lo.index > 0);
        assert_eq!(Iface::lookup("no-such-if0"), None);
    }
}
