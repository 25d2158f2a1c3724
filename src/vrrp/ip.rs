//! The IP headers around a VRRP message, as far as VRRP needs them: IPv4 (RFC 791) to read and
//! build (keepalived sends IPv4 with `IP_HDRINCL`), IPv6 (RFC 8200) to read captures, and the
//! IPSEC authentication header (RFC 2402) of VRRPv2's `auth_type AH`.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::checksum::checksum;

/// IP protocol number of AH.
pub const IPPROTO_AH: u8 = 51;
/// Type of service / traffic class of VRRP packets: CS6, "network control" (keepalived
/// `IPTOS_PREC_INTERNETCONTROL`).
pub const TOS_VRRP: u8 = 0xc0;
/// TTL / hop limit of VRRP packets (RFC 5798 §5.1.1.3: MUST be 255).
pub const VRRP_TTL: u8 = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IpError {
    #[error("IP packet too short: {len} bytes")]
    Truncated { len: usize },
    #[error("not IPv{expected}: version {found}")]
    Version { expected: u8, found: u8 },
    #[error("IPv4 header length {0} is invalid")]
    HeaderLength(usize),
    #[error("IP total length {total} does not fit the {len} bytes received")]
    TotalLength { total: usize, len: usize },
}

/// A view of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Checks the version, the header length and that the total length fits the buffer
    /// (trailing bytes, such as Ethernet padding, are allowed and excluded from the payload).
    pub fn new_checked(buffer: T) -> Result<Ipv4Packet<T>, IpError> {
        let b = buffer.as_ref();
        if b.len() < 20 {
            return Err(IpError::Truncated { len: b.len() });
        }
        if b[0] >> 4 != 4 {
            return Err(IpError::Version {
                expected: 4,
                found: b[0] >> 4,
            });
        }
        let ihl = usize::from(b[0] & 0x0f) * 4;
        if ihl < 20 || ihl > b.len() {
            return Err(IpError::HeaderLength(ihl));
        }
        let total = usize::from(u16::from_be_bytes([b[2], b[3]]));
        if total < ihl || total > b.len() {
            return Err(IpError::TotalLength {
                total,
                len: b.len(),
            });
        }
        Ok(Ipv4Packet { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[0] & 0x0f) * 4
    }
    pub fn tos(&self) -> u8 {
        self.b()[1]
    }
    pub fn total_len(&self) -> usize {
        usize::from(u16::from_be_bytes([self.b()[2], self.b()[3]]))
    }
    pub fn ident(&self) -> u16 {
        u16::from_be_bytes([self.b()[4], self.b()[5]])
    }
    /// Flags and fragment offset.
    pub fn frag(&self) -> u16 {
        u16::from_be_bytes([self.b()[6], self.b()[7]])
    }
    pub fn ttl(&self) -> u8 {
        self.b()[8]
    }
    pub fn protocol(&self) -> u8 {
        self.b()[9]
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.b()[10], self.b()[11]])
    }
    pub fn src(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[12], b[13], b[14], b[15])
    }
    pub fn dst(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[16], b[17], b[18], b[19])
    }
    pub fn header(&self) -> &[u8] {
        &self.b()[..self.header_len()]
    }
    /// The payload as the total length says.
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..self.total_len()]
    }
    pub fn checksum_ok(&self) -> bool {
        checksum(self.header()) == 0
    }
}

/// The IPv4 header keepalived builds for an advert (`vrrp_build_ip4`): no options, no DF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    pub tos: u8,
    pub ident: u16,
    pub payload_len: usize,
}

impl Ipv4Repr {
    pub const HEADER_LEN: usize = 20;

    /// Writes the 20-byte header, checksum included.
    pub fn emit(&self, buf: &mut [u8]) {
        let h = &mut buf[..Self::HEADER_LEN];
        h[0] = 0x45;
        h[1] = self.tos;
        h[2..4].copy_from_slice(&((Self::HEADER_LEN + self.payload_len) as u16).to_be_bytes());
        h[4..6].copy_from_slice(&self.ident.to_be_bytes());
        h[6..8].fill(0);
        h[8] = self.ttl;
        h[9] = self.protocol;
        h[10..12].fill(0);
        h[12..16].copy_from_slice(&self.src.octets());
        h[16..20].copy_from_slice(&self.dst.octets());
        let c = checksum(h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
    }
}

/// The fixed IPv6 header (RFC 8200 §3) of a packet we send: no flow label, hop limit 255
/// (RFC 5798 §5.1.2.3 for VRRP, RFC 4861 §7.1.2 for neighbour discovery).
pub fn ipv6_header(
    src: std::net::Ipv6Addr,
    dst: std::net::Ipv6Addr,
    next_header: u8,
    traffic_class: u8,
    payload_len: usize,
) -> [u8; 40] {
    let mut h = [0u8; 40];
    h[0] = 0x60 | (traffic_class >> 4);
    h[1] = (traffic_class & 0x0f) << 4;
    h[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
    h[6] = next_header;
    h[7] = VRRP_TTL;
    h[8..24].copy_from_slice(&src.octets());
    h[24..40].copy_from_slice(&dst.octets());
    h
}

/// A view of an IPv6 packet (the fixed header; VRRP uses no extension headers).
#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub const HEADER_LEN: usize = 40;

    pub fn new_checked(buffer: T) -> Result<Ipv6Packet<T>, IpError> {
        let b = buffer.as_ref();
        if b.len() < Self::HEADER_LEN {
            return Err(IpError::Truncated { len: b.len() });
        }
        if b[0] >> 4 != 6 {
            return Err(IpError::Version {
                expected: 6,
                found: b[0] >> 4,
            });
        }
        let total = Self::HEADER_LEN + usize::from(u16::from_be_bytes([b[4], b[5]]));
        if total > b.len() {
            return Err(IpError::TotalLength {
                total,
                len: b.len(),
            });
        }
        Ok(Ipv6Packet { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn traffic_class(&self) -> u8 {
        let b = self.b();
        (b[0] << 4) | (b[1] >> 4)
    }
    pub fn flow_label(&self) -> u32 {
        let b = self.b();
        u32::from_be_bytes([0, b[1] & 0x0f, b[2], b[3]])
    }
    pub fn payload_len(&self) -> usize {
        usize::from(u16::from_be_bytes([self.b()[4], self.b()[5]]))
    }
    pub fn next_header(&self) -> u8 {
        self.b()[6]
    }
    pub fn hop_limit(&self) -> u8 {
        self.b()[7]
    }
    pub fn src(&self) -> Ipv6Addr {
        Ipv6Addr::from(<[u8; 16]>::try_from(&self.b()[8..24]).unwrap_or_default())
    }
    pub fn dst(&self) -> Ipv6Addr {
        Ipv6Addr::from(<[u8; 16]>::try_from(&self.b()[24..40]).unwrap_or_default())
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[Self::HEADER_LEN..Self::HEADER_LEN + self.payload_len()]
    }
}

/// The AH header VRRPv2 uses: 12 fixed bytes and a 96-bit ICV, 24 bytes in all (RFC 2402 §2).
///
/// ```text
/// | Next Header | Payload Len |          RESERVED             |
/// |                 Security Parameters Index (SPI)           |
/// |                    Sequence Number Field                  |
/// |              Authentication Data (ICV, 12 bytes)          |
/// ```
#[derive(Debug, Clone)]
pub struct AhPacket<T: AsRef<[u8]>> {
    buffer: T,
}

/// Length of the AH header with its HMAC-96 ICV.
pub const AH_LEN: usize = 24;
/// The ICV of HMAC-MD5-96 (RFC 2403).
pub const AH_ICV_LEN: usize = 12;

impl<T: AsRef<[u8]>> AhPacket<T> {
    pub fn new_checked(buffer: T) -> Result<AhPacket<T>, IpError> {
        let len = buffer.as_ref().len();
        if len < AH_LEN {
            return Err(IpError::Truncated { len });
        }
        Ok(AhPacket { buffer })
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn next_header(&self) -> u8 {
        self.b()[0]
    }
    /// The AH length in 32-bit words minus 2 (4 for a 24-byte header).
    pub fn payload_len(&self) -> u8 {
        self.b()[1]
    }
    pub fn spi(&self) -> u32 {
        u32::from_be_bytes([self.b()[4], self.b()[5], self.b()[6], self.b()[7]])
    }
    pub fn seq(&self) -> u32 {
        u32::from_be_bytes([self.b()[8], self.b()[9], self.b()[10], self.b()[11]])
    }
    pub fn icv(&self) -> &[u8] {
        &self.b()[12..AH_LEN]
    }
    /// What follows the header: the VRRP message.
    pub fn payload(&self) -> &[u8] {
        &self.b()[AH_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_round_trip() {
        let r = Ipv4Repr {
            src: Ipv4Addr::new(10, 77, 0, 11),
            dst: Ipv4Addr::new(224, 0, 0, 18),
            protocol: 112,
            ttl: 255,
            tos: TOS_VRRP,
            ident: 1,
            payload_len: 20,
        };
        let mut buf = [0u8; 40];
        r.emit(&mut buf);
        // The header keepalived sent in vrrp2-auth-pass.pcap (keepalived.md §11.3).
        assert_eq!(
            crate::hex::encode(&buf[..20]),
            "45c0002800010000ff70d03a0a4d000be0000012"
        );
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(p.checksum_ok());
        assert_eq!(
            (p.src(), p.dst(), p.ttl(), p.total_len()),
            (r.src, r.dst, 255, 40)
        );
        assert!(Ipv4Packet::new_checked(&buf[..19]).is_err());
    }
}
