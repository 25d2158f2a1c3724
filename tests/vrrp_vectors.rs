//! The codec against real keepalived 2.2.7 traffic (tests/data/pcaps, copied from the project's
//! shared captures; see keepalived.md §11.3): every VRRP packet decodes, its checksum verifies in
//! the form keepalived used, and encoding the decoded advert gives back the same bytes, IPv4
//! header included.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use kaconsole::pcap::{self, network_payload};
use kaconsole::vrrp::checksum::ChecksumForm;
use kaconsole::vrrp::ip::{AhPacket, IPPROTO_AH, Ipv4Packet, Ipv4Repr, Ipv6Packet};
use kaconsole::vrrp::packet::{Advert, AuthType, Packet, Version, verify_checksum};

/// The fuzz targets' checks.
#[path = "../fuzz/checks.rs"]
mod fuzz_checks;

/// A VRRP message found in a capture, with what the IP layer said about it.
struct Found {
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    /// The AH header's (SPI, sequence), when the advert came inside AH.
    ah: Option<(u32, u32)>,
    /// The IPv4 header and its identification field.
    ip_header: Vec<u8>,
    ident: u16,
    msg: Vec<u8>,
}

fn vrrp_packets(name: &str) -> Vec<Found> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pcaps")
        .join(name);
    let capture = pcap::parse(&std::fs::read(&path).unwrap()).unwrap();
    let mut out = Vec::new();
    for r in &capture.records {
        let Some((ethertype, net)) = network_payload(capture.linktype, &r.data) else {
            continue;
        };
        match ethertype {
            0x0800 => {
                let ip = Ipv4Packet::new_checked(net).unwrap();
                let (msg, ah) = match ip.protocol() {
                    112 => (ip.payload().to_vec(), None),
                    IPPROTO_AH => {
                        let ah = AhPacket::new_checked(ip.payload()).unwrap();
                        assert_eq!(ah.next_header(), 112);
                        (ah.payload().to_vec(), Some((ah.spi(), ah.seq())))
                    }
                    _ => continue,
                };
                out.push(Found {
                    src: ip.src().into(),
                    dst: ip.dst().into(),
                    ttl: ip.ttl(),
                    ah,
                    ip_header: ip.header().to_vec(),
                    ident: ip.ident(),
                    msg,
                });
            }
            0x86dd => {
                let ip = Ipv6Packet::new_checked(net).unwrap();
                if ip.next_header() != 112 {
                    continue;
                }
                out.push(Found {
                    src: ip.src().into(),
                    dst: ip.dst().into(),
                    ttl: ip.hop_limit(),
                    ah: None,
                    ip_header: Vec::new(),
                    ident: 0,
                    msg: ip.payload().to_vec(),
                });
            }
            _ => {}
        }
    }
    out
}

/// Decodes, verifies and re-encodes every VRRP packet of a capture; returns the adverts with
/// the number of times each (source, priority) was seen.
fn round_trip(name: &str, form: ChecksumForm) -> (Vec<Advert>, BTreeMap<(IpAddr, u8), usize>) {
    let found = vrrp_packets(name);
    assert!(
        found.len() >= 12,
        "{name}: only {} VRRP packets",
        found.len()
    );
    let mut adverts = Vec::new();
    let mut seen = BTreeMap::new();
    for f in &found {
        assert_eq!(
            f.ttl, 255,
            "{name}: keepalived sends with TTL/hop limit 255"
        );
        let p = Packet::new_checked(&f.msg[..]).unwrap();
        let a = Advert::parse(&p, f.src.is_ipv6()).unwrap();
        assert_eq!(
            verify_checksum(&f.msg, a.version, f.src, f.dst),
            Some(form),
            "{name}: checksum form of {a}"
        );
        assert_eq!(
            a.to_bytes(form, f.src, f.dst),
            f.msg,
            "{name}: {a} re-encodes to the same bytes"
        );
        // keepalived builds the IPv4 header itself (IP_HDRINCL); ours is the same byte for byte.
        if let (IpAddr::V4(src), IpAddr::V4(dst)) = (f.src, f.dst) {
            let payload_len = if f.ah.is_some() {
                f.msg.len() + kaconsole::vrrp::ip::AH_LEN
            } else {
                f.msg.len()
            };
            let mut built = [0u8; 20];
            Ipv4Repr {
                src,
                dst,
                protocol: if f.ah.is_some() { IPPROTO_AH } else { 112 },
                ttl: 255,
                tos: 0xc0,
                ident: f.ident,
                payload_len,
            }
            .emit(&mut built);
            assert_eq!(built.to_vec(), f.ip_header, "{name}: IPv4 header of {a}");
        }
        *seen.entry((f.src, a.priority)).or_insert(0) += 1;
        adverts.push(a);
    }
    (adverts, seen)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Every capture has h1 (priority 150) master first, then a priority-0 advert from h1, h2
/// (priority 100) master, and a priority-0 advert from h2.
fn assert_the_story(name: &str, seen: &BTreeMap<(IpAddr, u8), usize>, h1: &str, h2: &str) {
    for (who, prio) in [(h1, 150), (h1, 0), (h2, 100), (h2, 0)] {
        assert!(
            seen.get(&(ip(who), prio)).is_some_and(|n| *n > 0),
            "{name}: no advert from {who} with priority {prio}: {seen:?}"
        );
    }
}

#[test]
fn v2_no_auth() {
    let (adverts, seen) = round_trip("vrrp2-noauth.pcap", ChecksumForm::Plain);
    assert_the_story("noauth", &seen, "10.77.0.11", "10.77.0.12");
    let a = &adverts[0];
    assert_eq!(
        (a.version, a.vrid, a.interval.as_secs()),
        (Version::V2, 51, 1)
    );
    assert_eq!(a.addrs, [ip("10.77.0.200")]);
    let auth = a.auth.unwrap();
    assert_eq!(auth.kind, AuthType::None);
    assert_eq!(auth.data, Some([0; 8]), "8 zero bytes are still sent");
}

#[test]
fn v2_password() {
    let (adverts, seen) = round_trip("vrrp2-auth-pass.pcap", ChecksumForm::Plain);
    assert_the_story("pass", &seen, "10.77.0.11", "10.77.0.12");
    let auth = adverts[0].auth.unwrap();
    assert_eq!(auth.kind, AuthType::Pass);
    assert_eq!(&auth.data.unwrap(), b"kt51pass");
}

#[test]
fn v2_ah() {
    let (adverts, seen) = round_trip("vrrp2-auth-ah.pcap", ChecksumForm::Plain);
    assert_the_story("ah", &seen, "10.77.0.11", "10.77.0.12");
    assert_eq!(adverts[0].auth.unwrap().kind, AuthType::Ah);
    let found = vrrp_packets("vrrp2-auth-ah.pcap");
    // The SPI is the sender's address; h2 continues h1's sequence numbers after the takeover.
    for f in &found {
        let (spi, _) = f.ah.unwrap();
        assert_eq!(IpAddr::from(std::net::Ipv4Addr::from(spi)), f.src);
    }
    let seqs: Vec<u32> = found.iter().map(|f| f.ah.unwrap().1).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
}

#[test]
fn v2_three_vips() {
    let (adverts, _) = round_trip("vrrp2-multi-vip.pcap", ChecksumForm::Plain);
    assert_eq!(adverts[0].addrs.len(), 3);
}

#[test]
fn v2_unicast() {
    let found = vrrp_packets("vrrp2-unicast.pcap");
    let (_, seen) = round_trip("vrrp2-unicast.pcap", ChecksumForm::Plain);
    assert_the_story("unicast", &seen, "10.77.0.11", "10.77.0.12");
    assert!(
        found.iter().all(|f| !f.dst.is_multicast()),
        "sent to the peer"
    );
}

#[test]
fn v2_vmac() {
    let (_, seen) = round_trip("vrrp2-vmac.pcap", ChecksumForm::Plain);
    assert_the_story("vmac", &seen, "10.77.0.11", "10.77.0.12");
}

#[test]
fn v3_ipv4_with_keepalived_pseudo_header() {
    let (adverts, seen) = round_trip("vrrp3-ipv4.pcap", ChecksumForm::PseudoHeader);
    assert_the_story("v3", &seen, "10.77.0.11", "10.77.0.12");
    let a = &adverts[0];
    assert_eq!(
        (a.version, a.interval.as_centis(), a.auth),
        (Version::V3, 100, None)
    );
    // The same advert with v3_checksum_as_v2 carries a different checksum, and that one
    // verifies as the plain form.
    let f = &vrrp_packets("vrrp3-ipv4.pcap")[0];
    let plain = a.to_bytes(ChecksumForm::Plain, f.src, f.dst);
    assert_ne!(plain, f.msg);
    assert_eq!(
        verify_checksum(&plain, Version::V3, f.src, f.dst),
        Some(ChecksumForm::Plain)
    );
}

#[test]
fn v3_ipv4_100ms() {
    let (adverts, _) = round_trip("vrrp3-ipv4-adv100ms.pcap", ChecksumForm::PseudoHeader);
    assert_eq!(adverts[0].interval.as_centis(), 10);
    assert!(adverts.len() >= 90);
}

#[test]
fn v3_ipv6() {
    let (adverts, seen) = round_trip("vrrp3-ipv6.pcap", ChecksumForm::PseudoHeader);
    assert_eq!(adverts[0].addrs, [ip("fd77::200")]);
    assert!(
        seen.keys()
            .all(|(src, _)| src.to_string().starts_with("fe80::"))
    );
}

#[test]
fn fuzz_seeds_replay() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/vrrp_decode");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("fuzz seeds") {
        let p = e.unwrap().path();
        fuzz_checks::vrrp_decode(&std::fs::read(&p).unwrap());
        n += 1;
    }
    assert!(n >= 20, "only {n} seeds");
}

#[test]
fn ah_icv_as_keepalived_computes_it() {
    use kaconsole::vrrp::ah;
    use kaconsole::vrrp::frame::parse_ipv4;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pcaps/vrrp2-auth-ah.pcap");
    let capture = pcap::parse(&std::fs::read(path).unwrap()).unwrap();
    let key = ah::key(b"kt51pass");
    let mut checked = 0;
    for r in &capture.records {
        let Some((0x0800, net)) = network_payload(capture.linktype, &r.data) else {
            continue;
        };
        let Ok(rx) = parse_ipv4(net) else { continue };
        let fields = rx.ah.expect("every VRRP packet of this capture is in AH");
        assert_eq!(
            ah::icv(&fields.headers, &rx.msg, &key, false).to_vec(),
            fields.icv,
            "ICV of seq {}",
            fields.seq
        );
        assert_ne!(
            ah::icv(&fields.headers, &rx.msg, &ah::key(b"wrong"), false).to_vec(),
            fields.icv
        );
        // Sealing the same packet again writes the same AH header, ICV included.
        let mut rebuilt = net[..20 + 24 + rx.msg.len()].to_vec();
        rebuilt[20..44].fill(0);
        ah::seal(&mut rebuilt, 20, fields.seq, &key, false);
        assert_eq!(&rebuilt[..], &net[..rebuilt.len()]);
        checked += 1;
    }
    assert_eq!(checked, 12);
}
