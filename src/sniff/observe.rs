//! One captured frame, taken apart as far as it goes: link layer (source MAC, 802.1Q tag), IP
//! (source, destination, TTL / hop limit, AH), and the VRRP advert with its checksum form.

use std::net::IpAddr;

use serde::Serialize;

use crate::pcap::{LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL};
use crate::vrrp::checksum::ChecksumForm;
use crate::vrrp::frame::{FrameError, Received, parse_ip};
use crate::vrrp::packet::{Advert, Packet, verify_checksum};

/// A VRRP packet observed on the wire.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Observed {
    /// Capture time, microseconds since the Unix epoch.
    pub ts_us: u64,
    #[serde(skip_serializing_if = "Option::is_none", with = "mac_opt")]
    pub src_mac: Option<[u8; 6]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    /// Carried in an IPSEC AH header.
    pub ah: bool,
    /// The advert, or why the VRRP message does not decode.
    #[serde(flatten)]
    pub advert: Decoded,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decoded {
    Advert {
        advert: Advert,
        /// The form the checksum verifies in; `None`: it does not verify.
        checksum: Option<ChecksumForm>,
    },
    Malformed {
        error: String,
    },
}

impl Observed {
    pub fn advert(&self) -> Option<&Advert> {
        match &self.advert {
            Decoded::Advert { advert, .. } => Some(advert),
            Decoded::Malformed { .. } => None,
        }
    }

    /// The source MAC is a VRRP virtual MAC (00-00-5E-00-01-VRID / 00-00-5E-00-02-VRID,
    /// RFC 5798 §7.3).
    pub fn vmac(&self) -> bool {
        self.src_mac
            .is_some_and(|m| m[..4] == [0x00, 0x00, 0x5e, 0x00] && (m[4] == 1 || m[4] == 2))
    }
}

/// The link layer's source MAC and VLAN tag.
fn link_info(linktype: u32, frame: &[u8]) -> (Option<[u8; 6]>, Option<u16>) {
    let mac = |at: usize| {
        frame
            .get(at..at + 6)
            .map(|m| <[u8; 6]>::try_from(m).unwrap_or_default())
    };
    match linktype {
        LINKTYPE_ETHERNET => {
            let tagged = frame.get(12..14) == Some(&[0x81, 0x00]);
            let vlan = tagged
                .then(|| frame.get(14..16))
                .flatten()
                .map(|t| u16::from_be_bytes([t[0], t[1]]) & 0x0fff);
            (mac(6), vlan)
        }
        // The cooked header's address field holds the sender's MAC when it has 6 bytes.
        LINKTYPE_LINUX_SLL if frame.get(4..6) == Some(&[0, 6]) => (mac(6), None),
        _ => (None, None),
    }
}

/// The VRRP packet in a captured frame; `None` when the frame is something else.
pub fn observe(linktype: u32, ts_us: u64, frame: &[u8]) -> Option<Observed> {
    let (ethertype, payload) = crate::pcap::network_payload(linktype, frame)?;
    if ethertype != 0x0800 && ethertype != 0x86dd {
        return None;
    }
    let rx = match parse_ip(payload) {
        Ok(rx) => rx,
        Err(FrameError::NotVrrp(_)) | Err(FrameError::AhNotVrrp(_)) => return None,
        Err(e) => {
            // An IP packet too broken to say where it came from is counted, not attributed.
            return Some(Observed {
                ts_us,
                src_mac: link_info(linktype, frame).0,
                vlan: link_info(linktype, frame).1,
                src: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                dst: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                ttl: 0,
                ah: false,
                advert: Decoded::Malformed {
                    error: e.to_string(),
                },
            });
        }
    };
    let (src_mac, vlan) = link_info(linktype, frame);
    Some(Observed {
        src_mac,
        vlan,
        ..from_received(ts_us, &rx)
    })
}

/// A packet the daemon's VRRP socket received (no link layer): the daemon keeps the
/// segment's table from these.
pub fn from_received(ts_us: u64, rx: &Received) -> Observed {
    let advert =
        match Packet::new_checked(&rx.msg[..]).and_then(|p| Advert::parse(&p, rx.src.is_ipv6())) {
            Ok(advert) => {
                let checksum = verify_checksum(&rx.msg, advert.version, rx.src, rx.dst);
                Decoded::Advert { advert, checksum }
            }
            Err(e) => Decoded::Malformed {
                error: e.to_string(),
            },
        };
    Observed {
        ts_us,
        src_mac: None,
        vlan: None,
        src: rx.src,
        dst: rx.dst,
        ttl: rx.ttl,
        ah: rx.ah.is_some(),
        advert,
    }
}

mod mac_opt {
    pub fn serialize<S: serde::Serializer>(m: &Option<[u8; 6]>, s: S) -> Result<S::Ok, S::Error> {
        match m {
            Some(m) => s.serialize_str(&super::mac(m)),
            None => s.serialize_none(),
        }
    }
}

/// `00:00:5e:00:01:33`.
pub fn mac(m: &[u8; 6]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(17);
    for (k, b) in m.iter().enumerate() {
        if k > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vrrp::packet::{AuthType, Version};

    fn capture(name: &str) -> crate::pcap::Capture {
        let path = format!("{}/tests/data/pcaps/{name}", env!("CARGO_MANIFEST_DIR"));
        crate::pcap::parse(&std::fs::read(path).unwrap()).unwrap()
    }

    fn seen(name: &str) -> Vec<Observed> {
        let c = capture(name);
        c.records
            .iter()
            .filter_map(|r| observe(c.linktype, r.ts_us, &r.data))
            .collect()
    }

    #[test]
    fn keepalived_captures_decode() {
        let v2 = seen("vrrp2-noauth.pcap");
        assert!(!v2.is_empty());
        let a = v2[0].advert().unwrap();
        assert_eq!(a.version, Version::V2);
        assert_eq!(v2[0].ttl, 255);
        assert!(matches!(
            v2[0].advert,
            Decoded::Advert {
                checksum: Some(ChecksumForm::Plain),
                ..
            }
        ));
        let v3 = seen("vrrp3-ipv4.pcap");
        assert_eq!(v3[0].advert().unwrap().version, Version::V3);
        assert!(matches!(
            v3[0].advert,
            Decoded::Advert {
                checksum: Some(ChecksumForm::PseudoHeader),
                ..
            }
        ));
        let v6 = seen("vrrp3-ipv6.pcap");
        assert!(v6[0].src.is_ipv6());
        let ah = seen("vrrp2-auth-ah.pcap");
        assert!(ah[0].ah);
        assert_eq!(
            ah[0].advert().unwrap().auth.map(|a| a.kind),
            Some(AuthType::Ah)
        );
        let vmac = seen("vrrp2-vmac.pcap");
        assert!(vmac[0].vmac(), "{:?}", vmac[0].src_mac);
        assert!(!v2[0].vmac());
    }

    #[test]
    fn a_corrupted_advert_is_malformed_or_fails_its_checksum() {
        let c = capture("vrrp2-noauth.pcap");
        let mut frame = c
            .records
            .iter()
            .find(|r| observe(c.linktype, 0, &r.data).is_some())
            .unwrap()
            .data
            .clone();
        // The VRRP message starts after Ethernet (14) and the IPv4 header (IHL words).
        let vrrp = 14 + usize::from(frame[14] & 0x0f) * 4;
        // Its checksum field (bytes 6-7): the checksum fails.
        frame[vrrp + 6] ^= 0xff;
        let s = observe(c.linktype, 0, &frame).unwrap();
        assert!(matches!(s.advert, Decoded::Advert { checksum: None, .. }));
        // Cut inside the VRRP header: malformed.
        let s = observe(c.linktype, 0, &frame[..vrrp + 4]);
        assert!(matches!(
            s.map(|s| s.advert),
            Some(Decoded::Malformed { .. })
        ));
        // Not VRRP at all.
        assert!(observe(c.linktype, 0, &[0u8; 60]).is_none());
    }
}
