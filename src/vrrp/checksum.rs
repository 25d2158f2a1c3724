//! The Internet checksum (RFC 1071) and the pseudo-headers VRRP puts under it.
//!
//! - VRRPv2: the VRRP message alone (RFC 3768 §5.3.8).
//! - VRRPv3 over IPv6: with the IPv6 pseudo-header (RFC 5798 §5.2.8, RFC 8200 §8.1).
//! - VRRPv3 over IPv4: keepalived includes an IPv4 pseudo-header by default; with
//!   `v3_checksum_as_v2` it does not (the reading RFC 9568 settled on). Both forms exist on real
//!   networks, so receivers may accept either (see [`ChecksumForm`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// IP protocol number of VRRP (RFC 5798 §5.1.1.4).
pub const IPPROTO_VRRP: u8 = 112;

/// A running one's-complement sum of 16-bit words.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sum(u32);

impl Sum {
    /// Adds `bytes` as big-endian 16-bit words; an odd trailing byte is padded with zero.
    /// Every call must start on an even offset of the checksummed data.
    pub fn bytes(mut self, bytes: &[u8]) -> Sum {
        let mut chunks = bytes.chunks_exact(2);
        for w in &mut chunks {
            self.0 += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = chunks.remainder() {
            self.0 += u32::from(*last) << 8;
        }
        // Fold now and then so that long inputs cannot overflow.
        self.0 = (self.0 & 0xffff) + (self.0 >> 16);
        self
    }

    pub fn add_u16(self, v: u16) -> Sum {
        self.bytes(&v.to_be_bytes())
    }

    /// The checksum to store: the one's complement of the folded sum.
    pub fn finish(self) -> u16 {
        let mut s = self.0;
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }
}

/// The checksum of `bytes` alone.
pub fn checksum(bytes: &[u8]) -> u16 {
    Sum::default().bytes(bytes).finish()
}

/// The IPv4 pseudo-header keepalived puts under a VRRPv3 checksum: source, destination, zero,
/// protocol 112, VRRP length (`ipv4_phdr_t` in vrrp.c).
pub fn ipv4_pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, len: u16) -> Sum {
    Sum::default()
        .bytes(&src.octets())
        .bytes(&dst.octets())
        .bytes(&[0, IPPROTO_VRRP])
        .add_u16(len)
}

/// The IPv6 pseudo-header (RFC 8200 §8.1): source, destination, upper-layer length (32 bits),
/// three zero bytes, next header 112.
pub fn ipv6_pseudo_header(src: Ipv6Addr, dst: Ipv6Addr, len: u32) -> Sum {
    ipv6_pseudo_header_for(src, dst, len, IPPROTO_VRRP)
}

/// The IPv6 pseudo-header for another upper-layer protocol (ICMPv6 is 58).
pub fn ipv6_pseudo_header_for(src: Ipv6Addr, dst: Ipv6Addr, len: u32, next: u8) -> Sum {
    Sum::default()
        .bytes(&src.octets())
        .bytes(&dst.octets())
        .bytes(&len.to_be_bytes())
        .bytes(&[0, 0, 0, next])
}

/// Which checksum computation a VRRP message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecksumForm {
    /// Over the message alone: VRRPv2, or VRRPv3/IPv4 with `v3_checksum_as_v2`.
    Plain,
    /// Over a pseudo-header and the message: VRRPv3 (IPv4 as keepalived sends by default, IPv6
    /// always).
    PseudoHeader,
}

/// The checksum of a VRRP message (`msg` with its checksum field zeroed) in `form`, sent
/// from `src` to `dst`.
pub fn vrrp_checksum(msg: &[u8], form: ChecksumForm, src: IpAddr, dst: IpAddr) -> u16 {
    let base = match (form, src, dst) {
        (ChecksumForm::Plain, _, _) => Sum::default(),
        (ChecksumForm::PseudoHeader, IpAddr::V4(s), IpAddr::V4(d)) => {
            ipv4_pseudo_header(s, d, msg.len() as u16)
        }
        (ChecksumForm::PseudoHeader, IpAddr::V6(s), IpAddr::V6(d)) => {
            ipv6_pseudo_header(s, d, msg.len() as u32)
        }
        // Mixed families cannot be on one packet; the plain sum is as good as any.
        (ChecksumForm::PseudoHeader, _, _) => Sum::default(),
    };
    base.bytes(msg).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d.
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
    }

    #[test]
    fn data_with_its_checksum_sums_to_zero() {
        let mut data = vec![
            0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x00, 0x00, 0xff, 0x70, 0, 0,
        ];
        let c = checksum(&data);
        data[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(checksum(&data), 0);
    }

    #[test]
    fn odd_lengths_pad_with_zero() {
        assert_eq!(checksum(&[0xab]), checksum(&[0xab, 0x00]));
    }
}
