//! Adverts on the simulated wire are real packets: the sender's advert is encoded by the codec
//! into an IPv4 (with AH when configured) or IPv6 packet, and the receiver takes the bytes apart
//! with the same code the daemon uses on a raw socket.

use std::net::IpAddr;

use crate::vrrp::checksum::IPPROTO_VRRP;
use crate::vrrp::frame::{self, FrameError, Received, parse_ip};
use crate::vrrp::instance_config::InstanceConfig;
use crate::vrrp::ip::{TOS_VRRP, ipv6_header};
use crate::vrrp::packet::Advert;

/// The IP packet `cfg`'s instance sends for `advert` to `dst`.
pub fn encode(cfg: &InstanceConfig, advert: &Advert, ah_seq: Option<u32>, dst: IpAddr) -> Vec<u8> {
    match (cfg.src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => frame::build_ipv4(cfg, advert, ah_seq, dst),
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let msg = advert.to_bytes(cfg.wire_checksum(), cfg.src, IpAddr::V6(dst));
            // Traffic class 0xc0 as keepalived.
            let mut buf = ipv6_header(src, dst, IPPROTO_VRRP, TOS_VRRP, msg.len()).to_vec();
            buf.extend_from_slice(&msg);
            buf
        }
        _ => advert.to_bytes(cfg.wire_checksum(), cfg.src, dst),
    }
}

/// What the receiving raw socket hands the engine.
pub fn decode(bytes: &[u8]) -> Result<Received, FrameError> {
    parse_ip(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vrrp::instance_config::{Auth, GROUP_V6};

    #[test]
    fn adverts_survive_the_wire_in_both_families_and_with_ah() {
        let mut c = InstanceConfig::new("VI_1", "eth0", 7, 100, "10.0.0.1".parse().unwrap());
        c.vips = vec!["10.0.0.100".parse().unwrap()];
        c.auth = Auth::Ah(*b"kt51pass");
        let a = Advert {
            version: c.version,
            vrid: 7,
            priority: 100,
            interval: c.adver_int,
            auth: None,
            addrs: c.vips.clone(),
        };
        let rx = decode(&encode(&c, &a, Some(9), c.mcast_dst)).unwrap();
        assert_eq!((rx.ttl, rx.ah.as_ref().unwrap().seq), (255, 9));
        assert_eq!(rx.src, c.src);

        let mut c6 = InstanceConfig::new("VI_6", "eth0", 7, 100, "fe80::1".parse().unwrap());
        c6.vips = vec!["2001:db8::1".parse().unwrap()];
        let a6 = Advert {
            version: c6.version,
            addrs: c6.vips.clone(),
            ..a
        };
        let rx = decode(&encode(&c6, &a6, None, GROUP_V6)).unwrap();
        assert_eq!((rx.src, rx.dst, rx.ttl), (c6.src, GROUP_V6, 255));
    }
}
