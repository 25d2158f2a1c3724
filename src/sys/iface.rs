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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_found_and_nonsense_is_not() {
        let lo = Iface::lookup("lo").expect("every Linux has lo");
        assert_eq!(lo.ipv4, Some(Ipv4Addr::LOCALHOST));
        assert!(lo.index > 0);
        assert_eq!(Iface::lookup("no-such-if0"), None);
    }
}
