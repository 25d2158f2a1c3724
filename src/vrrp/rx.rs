//! The checks a received advert passes before the state machine looks at it, in keepalived
//! 2.2.7's order (`vrrp_check_packet`), each with the RFC rule it enforces. The first failure
//! is returned; its counter is in [`Stats`](super::event::Stats).
//!
//! Two deliberate differences from keepalived 2.2.7:
//! - VRRPv3 over IPv4 is accepted with either checksum form (keepalived 2.2.7 only knows the
//!   pseudo-header form; RFC 9568 and `v3_checksum_as_v2` senders use the other).
//! - The v2 interval mismatch is counted (keepalived drops the packet without counting it).

use std::net::IpAddr;

use super::ah;
use super::event::RxError;
use super::frame::Received;
use super::instance_config::{Auth, InstanceConfig};
use super::packet::{
    AUTH_DATA_LEN, Advert, AuthType, HEADER_LEN, Packet, TYPE_ADVERTISEMENT, Version, advert_len,
    verify_checksum,
};

/// Checks `rx` for the instance `cfg`. `check_vip_addr` is false only for a BACKUP with
/// `skip_check_adv_addr` receiving from the master it already knows. `ah` holds the AH
/// sequence numbers seen.
pub fn check(
    cfg: &InstanceConfig,
    rx: &Received,
    check_vip_addr: bool,
    ah: &mut AhCounters,
) -> Result<Advert, RxError> {
    let msg = &rx.msg[..];
    let v6 = rx.src.is_ipv6();
    let is_ah = matches!(cfg.auth, Auth::Ah(_));
    // 1. AH is there exactly when the instance uses it.
    if !v6 {
        match (rx.ah.is_some(), is_ah) {
            (true, false) => return Err(RxError::UnexpectedAh),
            (false, true) => return Err(RxError::MissingAh),
            _ => {}
        }
    }
    // 2. The length the address count announces (RFC 5798 §5.2.5).
    if msg.len() < HEADER_LEN {
        return Err(RxError::Length {
            len: msg.len(),
            expected: HEADER_LEN,
        });
    }
    let packet = Packet::new_unchecked(msg);
    let pkt_version = if packet.version() == 2 {
        Version::V2
    } else {
        Version::V3
    };
    let expected = advert_len(pkt_version, v6, usize::from(packet.count()));
    if msg.len() != expected {
        return Err(RxError::Length {
            len: msg.len(),
            expected,
        });
    }
    // 3. RFC 5798 §7.1: "MUST verify that the IPvX TTL/Hop Limit is 255"; keepalived's unicast
    // mode crosses routers, so it does not.
    if !cfg.unicast() && rx.ttl != 255 {
        return Err(RxError::Ttl { got: rx.ttl });
    }
    // 4. RFC 5798 §7.1: "MUST verify the VRRP version field".
    if packet.version() != cfg.version.number() {
        return Err(RxError::Version {
            got: packet.version(),
            expected: cfg.version.number(),
        });
    }
    if cfg.version == Version::V2 {
        check_v2_auth(cfg, rx, &packet, ah)?;
        // RFC 3768 §7.1: "MUST verify that the Adver Interval in the packet is the same as
        // the locally configured for this virtual router".
        let got = u64::from(packet.adver_int_secs());
        if got * 1_000_000 != cfg.adver_int.as_micros() {
            return Err(RxError::Interval {
                mine: cfg.adver_int.as_secs(),
                got,
            });
        }
    }
    // 11. The only type (RFC 5798 §5.2.2).
    if packet.kind() != TYPE_ADVERTISEMENT {
        return Err(RxError::Type(packet.kind()));
    }
    // 12. The count of addresses must be ours (keepalived 2.2.7 rejects; RFC 5798 §7.1 says
    // a MAY log).
    if check_vip_addr && usize::from(packet.count()) != cfg.vips.len() {
        return Err(RxError::AddrCount {
            got: usize::from(packet.count()),
            expected: cfg.vips.len(),
        });
    }
    // 14. RFC 5798 §7.1: "MUST verify the VRRP checksum".
    if verify_checksum(msg, cfg.version, rx.src, rx.dst).is_none() {
        return Err(RxError::Checksum {
            version: cfg.version.number(),
        });
    }
    // 15. Multicast adverts for multicast instances, unicast for unicast ones.
    if rx.dst.is_multicast() == cfg.unicast() {
        return Err(RxError::Destination {
            unicast: cfg.unicast(),
        });
    }
    let advert = Advert::parse(&packet, v6).map_err(|e| RxError::Malformed(e.to_string()))?;
    if check_vip_addr {
        // 17. Every address of ours must be in the advert (order does not matter).
        if let Some(missing) = cfg.vips.iter().find(|a| !advert.addrs.contains(a)) {
            return Err(RxError::VipMissing {
                vrid: cfg.vrid,
                addr: *missing,
            });
        }
        if cfg.unicast() {
            let peer = cfg.unicast_peers.iter().find(|p| p.addr == rx.src);
            // 18. With check_unicast_src, only from a peer.
            if cfg.check_unicast_src && peer.is_none() {
                return Err(RxError::UnicastSource(rx.src));
            }
            // 19. The peer's TTL range.
            if let Some(p) = peer
                && !(p.min_ttl..=p.max_ttl).contains(&rx.ttl)
            {
                return Err(RxError::TtlRange {
                    ttl: rx.ttl,
                    min: p.min_ttl,
                    max: p.max_ttl,
                });
            }
        }
    }
    Ok(advert)
}

/// AH sequence numbers (RFC 2402 §3.3.2, §3.4.3).
///
/// keepalived keeps one counter per instance: the highest number received, which is also
/// where its own adverts continue from (so a new master's adverts are accepted by the routers
/// that heard the old one). kaconsole keeps that counter for sending, but checks replays per
/// sender, as RFC 2402 does per security association: with keepalived's single counter, two
/// masters whose counters are equal reject each other's adverts as replays for ever (the
/// simulator found this split brain).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AhCounters {
    /// The last number sent or the highest received, whichever is larger.
    pub counter: u32,
    /// The last number accepted from each sender.
    peers: Vec<(IpAddr, u32)>,
}

impl AhCounters {
    pub fn last_from(&self, src: IpAddr) -> u32 {
        self.peers
            .iter()
            .find(|(a, _)| *a == src)
            .map_or(0, |(_, s)| *s)
    }

    fn accept(&mut self, src: IpAddr, seq: u32) {
        match self.peers.iter_mut().find(|(a, _)| *a == src) {
            Some(p) => p.1 = seq,
            None => self.peers.push((src, seq)),
        }
        self.counter = self.counter.max(seq);
    }

    /// The number for our next advert.
    pub fn next_to_send(&mut self) -> u32 {
        self.counter = self.counter.wrapping_add(1);
        self.counter
    }
}

/// Steps 5-9: VRRPv2 authentication (RFC 3768 §5.3.6, RFC 2338 §5.3.6).
fn check_v2_auth<T: AsRef<[u8]>>(
    cfg: &InstanceConfig,
    rx: &Received,
    packet: &Packet<T>,
    counters: &mut AhCounters,
) -> Result<(), RxError> {
    let got = packet.auth_type();
    if !matches!(
        AuthType::from_u8(got),
        AuthType::None | AuthType::Pass | AuthType::Ah
    ) {
        return Err(RxError::InvalidAuthType(got));
    }
    let ours = match cfg.auth {
        Auth::None => AuthType::None,
        Auth::Pass(_) => AuthType::Pass,
        Auth::Ah(_) => AuthType::Ah,
    };
    if got != ours.to_u8() {
        return Err(RxError::AuthTypeMismatch {
            got,
            expected: ours.to_u8(),
        });
    }
    match cfg.auth {
        Auth::Pass(pass) => {
            // The last 8 bytes: the authentication data.
            let data = &packet.as_bytes()[packet.as_bytes().len() - AUTH_DATA_LEN..];
            if !ah::constant_time_eq(data, &pass) {
                return Err(RxError::Password);
            }
        }
        Auth::Ah(key) => {
            let Some(f) = &rx.ah else {
                return Err(RxError::MissingAh);
            };
            let icv = ah::icv(&f.headers, &rx.msg, &key, cfg.unicast());
            if !ah::constant_time_eq(&icv, &f.icv) {
                return Err(RxError::AhIcv);
            }
            let src = match rx.src {
                IpAddr::V4(a) => u32::from(a),
                IpAddr::V6(_) => 0,
            };
            if f.spi != src {
                return Err(RxError::AhSpi {
                    spi: f.spi,
                    src: rx.src,
                });
            }
            // RFC 2402 §3.4.3: a sequence number already seen from this sender is a replay.
            let last = counters.last_from(rx.src);
            if f.seq <= last {
                return Err(RxError::AhReplay {
                    seq: f.seq,
                    local: last,
                });
            }
            counters.accept(rx.src, f.seq);
        }
        Auth::None => {}
    }
    Ok(())
}
