//! An IP packet carrying VRRP, taken apart: what the IP layer says (source, destination,
//! TTL / hop limit, AH) and the VRRP message. Raw IPv4 sockets and captures deliver whole IP
//! packets; this is where they become an engine input.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::checksum::IPPROTO_VRRP;
use super::instance_config::{Auth, InstanceConfig};
use super::ip::{
    AH_ICV_LEN, AH_LEN, AhPacket, IPPROTO_AH, IpError, Ipv4Packet, Ipv4Repr, Ipv6Packet, TOS_VRRP,
    VRRP_TTL,
};
use super::packet::Advert;

/// The IPSEC AH fields of a VRRPv2 advert sent with `auth_type AH`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AhFields {
    pub spi: u32,
    pub seq: u32,
    #[serde(with = "crate::hex::serde_bytes")]
    pub icv: Vec<u8>,
    /// The IPv4 header and the AH header as received: the ICV is computed over them (with the
    /// mutable fields zeroed) and the VRRP message.
    #[serde(with = "crate::hex::serde_bytes")]
    pub headers: Vec<u8>,
}

/// A received VRRP message with its IP context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6).
    pub ttl: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ah: Option<AhFields>,
    /// The VRRP message.
    #[serde(with = "crate::hex::serde_bytes")]
    pub msg: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error(transparent)]
    Ip(#[from] IpError),
    #[error("IP protocol {0} is not VRRP (112) or AH (51)")]
    NotVrrp(u8),
    #[error("AH carries protocol {0}, not VRRP")]
    AhNotVrrp(u8),
    #[error("empty packet")]
    Empty,
}

/// Takes an IPv4 or IPv6 packet apart (by its version nibble).
pub fn parse_ip(bytes: &[u8]) -> Result<Received, FrameError> {
    match bytes.first().map(|b| b >> 4) {
        Some(6) => parse_ipv6(bytes),
        Some(_) => parse_ipv4(bytes),
        None => Err(FrameError::Empty),
    }
}

pub fn parse_ipv4(bytes: &[u8]) -> Result<Received, FrameError> {
    let ip = Ipv4Packet::new_checked(bytes)?;
    let (msg, ah) = match ip.protocol() {
        IPPROTO_VRRP => (ip.payload().to_vec(), None),
        IPPROTO_AH => {
            let ah = AhPacket::new_checked(ip.payload())?;
            if ah.next_header() != IPPROTO_VRRP {
                return Err(FrameError::AhNotVrrp(ah.next_header()));
            }
            let headers_len = ip.header_len() + AH_LEN;
            let fields = AhFields {
                spi: ah.spi(),
                seq: ah.seq(),
                icv: ah.icv()[..AH_ICV_LEN].to_vec(),
                headers: bytes[..headers_len].to_vec(),
            };
            (ah.payload().to_vec(), Some(fields))
        }
        p => return Err(FrameError::NotVrrp(p)),
    };
    Ok(Received {
        src: ip.src().into(),
        dst: ip.dst().into(),
        ttl: ip.ttl(),
        ah,
        msg,
    })
}

pub fn parse_ipv6(bytes: &[u8]) -> Result<Received, FrameError> {
    let ip = Ipv6Packet::new_checked(bytes)?;
    if ip.next_header() != IPPROTO_VRRP {
        return Err(FrameError::NotVrrp(ip.next_header()));
    }
    Ok(Received {
        src: ip.src().into(),
        dst: ip.dst().into(),
        ttl: ip.hop_limit(),
        ah: None,
        msg: ip.payload().to_vec(),
    })
}

/// The IPv4 packet an instance sends for `advert` (keepalived `vrrp_build_ip4`, and
/// `vrrp_build_ipsecah` with AH): TTL 255, TOS 0xc0 (RFC 5798 §5.1.1.3), AH sealed with
/// sequence number `ah_seq` when the instance uses it.
pub fn build_ipv4(
    cfg: &InstanceConfig,
    advert: &Advert,
    ah_seq: Option<u32>,
    dst: IpAddr,
) -> Vec<u8> {
    let msg = advert.to_bytes(cfg.wire_checksum(), cfg.src, dst);
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (cfg.src, dst) else {
        return msg;
    };
    let ah_key = match cfg.auth {
        Auth::Ah(key) => Some(key),
        _ => None,
    };
    let ah_len = if ah_key.is_some() { AH_LEN } else { 0 };
    let mut buf = vec![0; Ipv4Repr::HEADER_LEN + ah_len + msg.len()];
    Ipv4Repr {
        src,
        dst,
        protocol: if ah_key.is_some() {
            IPPROTO_AH
        } else {
            IPPROTO_VRRP
        },
        ttl: VRRP_TTL,
        tos: TOS_VRRP,
        ident: 0,
        payload_len: ah_len + msg.len(),
    }
    .emit(&mut buf);
    buf[Ipv4Repr::HEADER_LEN + ah_len..].copy_from_slice(&msg);
    if let Some(key) = ah_key {
        let seq = ah_seq.unwrap_or(1);
        super::ah::seal(&mut buf, Ipv4Repr::HEADER_LEN, seq, &key, cfg.unicast());
    }
    buf
}
