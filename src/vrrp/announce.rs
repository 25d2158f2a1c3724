//! Gratuitous ARP and unsolicited neighbour advertisement frames, built as keepalived builds
//! them (vrrp_arp.c `send_gratuitous_arp_immediate`, vrrp_ndisc.c
//! `ndisc_send_unsolicited_na_immediate`), so that switches and neighbours learn the MAC
//! that now holds a VIP.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::checksum::ipv6_pseudo_header_for;
use super::ip::ipv6_header;

pub const ETH_P_ARP: u16 = 0x0806;
pub const ETH_P_IPV6: u16 = 0x86dd;
const BROADCAST: [u8; 6] = [0xff; 6];
const IPPROTO_ICMPV6: u8 = 58;

/// An Ethernet frame carrying an ARP request for `vip` from `vip` (RFC 5227 §3 "ARP
/// Announcement"; keepalived sets the target hardware address to broadcast).
pub fn gratuitous_arp(mac: [u8; 6], vip: Ipv4Addr) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&BROADCAST);
    f.extend_from_slice(&mac);
    f.extend_from_slice(&ETH_P_ARP.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes()); // Ethernet
    f.extend_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f.extend_from_slice(&[6, 4]);
    f.extend_from_slice(&1u16.to_be_bytes()); // request
    f.extend_from_slice(&mac);
    f.extend_from_slice(&vip.octets());
    f.extend_from_slice(&BROADCAST);
    f.extend_from_slice(&vip.octets());
    f
}

/// An Ethernet frame carrying an unsolicited neighbour advertisement for `vip` to all nodes
/// (RFC 4861 §7.2.6): from the VIP, hop limit 255, Override set (Router set when the
/// interface forwards), with the target link-layer address option.
pub fn unsolicited_na(mac: [u8; 6], vip: Ipv6Addr, router: bool) -> Vec<u8> {
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let mut icmp = Vec::with_capacity(32);
    icmp.extend_from_slice(&[136, 0, 0, 0]); // type, code, checksum
    let flags: u8 = 0x20 | if router { 0x80 } else { 0 }; // Override (, Router)
    icmp.extend_from_slice(&[flags, 0, 0, 0]);
    icmp.extend_from_slice(&vip.octets());
    icmp.extend_from_slice(&[2, 1]); // target link-layer address, 8 bytes
    icmp.extend_from_slice(&mac);
    let sum = ipv6_pseudo_header_for(vip, all_nodes, icmp.len() as u32, IPPROTO_ICMPV6)
        .bytes(&icmp)
        .finish();
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());

    let mut f = Vec::with_capacity(14 + 40 + icmp.len());
    f.extend_from_slice(&[0x33, 0x33, 0, 0, 0, 1]);
    f.extend_from_slice(&mac);
    f.extend_from_slice(&ETH_P_IPV6.to_be_bytes());
    f.extend_from_slice(&ipv6_header(vip, all_nodes, IPPROTO_ICMPV6, 0, icmp.len()));
    f.extend_from_slice(&icmp);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

    #[test]
    fn arp_announcement_layout() {
        let f = gratuitous_arp(MAC, Ipv4Addr::new(10, 0, 0, 100));
        assert_eq!(f.len(), 42);
        assert_eq!(&f[..6], &BROADCAST, "to everyone");
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1], "ARP request, as keepalived sends");
        assert_eq!(&f[28..32], &[10, 0, 0, 100], "sender IP = VIP");
        assert_eq!(&f[38..42], &[10, 0, 0, 100], "target IP = VIP");
    }

    #[test]
    fn na_checksum_verifies() {
        let vip: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let f = unsolicited_na(MAC, vip, false);
        let icmp = &f[54..];
        // RFC 4443 §2.3: the sum over the pseudo-header and the message is 0xffff.
        let all_nodes: Ipv6Addr = "ff02::1".parse().unwrap();
        let check = ipv6_pseudo_header_for(vip, all_nodes, icmp.len() as u32, 58)
            .bytes(icmp)
            .finish();
        assert_eq!(check, 0);
        assert_eq!(icmp[0], 136);
        assert_eq!(icmp[4] & 0x20, 0x20, "Override");
        assert_eq!(f[21], 255, "hop limit 255 (RFC 4861 §7.1.2)");
    }
}
