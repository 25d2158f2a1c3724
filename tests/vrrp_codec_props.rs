//! Property tests of the codec: every advert of every version, family and auth type survives
//! encoding and decoding, and its checksum verifies in the form it was written with; an
//! auth_hmac-signed advert verifies once, and no other bytes panic its receive side.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use kaconsole::time::Duration;
use kaconsole::vrrp::auth_hmac;
use kaconsole::vrrp::checksum::ChecksumForm;
use kaconsole::vrrp::packet::{Advert, Auth, AuthType, Packet, Version, verify_checksum};
use proptest::prelude::*;

fn addr(v6: bool) -> impl Strategy<Value = IpAddr> {
    if v6 {
        any::<u128>()
            .prop_map(|a| IpAddr::V6(Ipv6Addr::from(a)))
            .boxed()
    } else {
        any::<u32>()
            .prop_map(|a| IpAddr::V4(Ipv4Addr::from(a)))
            .boxed()
    }
}

/// An advert with the source and destination it is sent between.
fn advert() -> impl Strategy<Value = (Advert, IpAddr, IpAddr)> {
    (any::<bool>(), any::<bool>()).prop_flat_map(|(v3, v6)| {
        let version = if v3 { Version::V3 } else { Version::V2 };
        let interval = if v3 {
            (1u64..=4095).prop_map(Duration::centis).boxed()
        } else {
            (1u64..=255).prop_map(Duration::secs).boxed()
        };
        let auth = match (version, v6) {
            (Version::V3, _) => Just(None).boxed(),
            (Version::V2, true) => (0u8..=3)
                .prop_map(|t| {
                    Some(Auth {
                        kind: AuthType::from_u8(t),
                        data: None,
                    })
                })
                .boxed(),
            (Version::V2, false) => (0u8..=3, any::<[u8; 8]>())
                .prop_map(|(t, d)| {
                    Some(Auth {
                        kind: AuthType::from_u8(t),
                        data: Some(d),
                    })
                })
                .boxed(),
        };
        (
            1u8..=255,
            any::<u8>(),
            interval,
            auth,
            prop::collection::vec(addr(v6), 0..=20),
            addr(v6),
            addr(v6),
        )
            .prop_map(move |(vrid, priority, interval, auth, addrs, src, dst)| {
                (
                    Advert {
                        version,
                        vrid,
                        priority,
                        interval,
                        auth,
                        addrs,
                    },
                    src,
                    dst,
                )
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encode_then_decode_is_identity((a, src, dst) in advert(), plain in any::<bool>()) {
        // v3 over IPv6 always has the pseudo-header; the others may be either.
        let v3_ipv6 = a.version == Version::V3 && src.is_ipv6();
        let form = if a.version == Version::V2 || (plain && !v3_ipv6) {
            ChecksumForm::Plain
        } else {
            ChecksumForm::PseudoHeader
        };
        let bytes = a.to_bytes(form, src, dst);
        prop_assert_eq!(bytes.len(), a.buffer_len(src.is_ipv6()));
        let back = Advert::parse(&Packet::new_checked(&bytes[..]).unwrap(), src.is_ipv6()).unwrap();
        prop_assert_eq!(&back, &a);
        let verified = verify_checksum(&bytes, a.version, src, dst);
        // A plain v3/IPv4 checksum can coincide with the pseudo-header one only if the
        // pseudo-header sums to zero, which two real addresses never do; accept either then.
        prop_assert!(verified == Some(form) || verified.is_some() && a.version == Version::V3);
        // One flipped bit breaks the checksum of the form it was written in (a v3/IPv4 advert
        // could still match the other form by chance, 1 in 65536).
        let mut bad = bytes.clone();
        bad[2] ^= 0x01;
        prop_assert_ne!(verify_checksum(&bad, a.version, src, dst), Some(form));
    }

    #[test]
    fn any_bytes_decode_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..400), v6 in any::<bool>()) {
        if let Ok(p) = Packet::new_checked(&bytes[..])
            && let Ok(a) = Advert::parse(&p, v6)
        {
            // What decodes re-encodes to the same bytes, checksum and v3 reserved bits aside.
            let src = if v6 { IpAddr::V6(Ipv6Addr::LOCALHOST) } else { IpAddr::V4(Ipv4Addr::LOCALHOST) };
            let again = a.to_bytes(ChecksumForm::Plain, src, src);
            let mask = |b: &[u8]| {
                let mut b = b.to_vec();
                b[6..8].fill(0);
                if a.version == Version::V3 {
                    b[4] &= 0x0f;
                }
                b
            };
            prop_assert_eq!(mask(&again), mask(&bytes));
        }
    }
}

/// keepalived 2.4's `auth_hmac` (src/vrrp/auth_hmac.rs): a key 32 to 64 bytes long, the rest
/// as keepalived's defaults.
fn hmac_config() -> impl Strategy<Value = auth_hmac::Config> {
    (
        prop::collection::vec(any::<u8>(), auth_hmac::KEY_MIN..=auth_hmac::KEY_MAX),
        1u8..=255,
        any::<bool>(),
    )
        .prop_map(|(key, id, time)| {
            let mut keys = auth_hmac::Keys::default();
            keys.add(id, key).unwrap();
            auth_hmac::Config {
                keys,
                active_key: id,
                mode: auth_hmac::Mode::Enforce,
                anti_replay: if time {
                    auth_hmac::AntiReplay::Time
                } else {
                    auth_hmac::AntiReplay::Monotonic
                },
                time_window: 5,
                ext_type: auth_hmac::EXT_TYPE_SHA256,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Any advert signed is accepted once, rejected when replayed, and rejected with any one
    /// covered byte changed (the checksum bytes are not covered, by design).
    #[test]
    fn auth_hmac_sign_then_verify((a, src, dst) in advert(), c in hmac_config(),
                                  secs in 1u64..u64::from(u32::MAX), flip in any::<prop::sample::Index>()) {
        let now = auth_hmac::WallTime::new(secs, 0);
        let msg = a.to_bytes(ChecksumForm::Plain, src, dst);
        let mut buf = msg.clone();
        buf.resize(msg.len() + auth_hmac::TRAILER_LEN, 0);
        let binding = auth_hmac::Binding { src, version: a.version.number(), vrid: a.vrid };
        let seq = auth_hmac::sign(&c, &mut auth_hmac::SendState::default(), &mut buf, msg.len(),
                                  binding, now);
        prop_assert!(seq.is_some());
        let t = auth_hmac::Trailer::new_checked(&buf[msg.len()..]).unwrap();
        let repr = auth_hmac::TrailerRepr::parse(&t);
        prop_assert_eq!(Some(repr.seq), seq);
        let mut again = [0; auth_hmac::TRAILER_LEN];
        repr.emit(&mut auth_hmac::Trailer::new_unchecked(&mut again[..]));
        prop_assert_eq!(&again[..], &buf[msg.len()..]);

        let rx = auth_hmac::Received { bytes: &buf, msg_len: msg.len(), binding };
        let mut st = auth_hmac::ReplayState::default();
        let v = auth_hmac::verdict(&c, rx, auth_hmac::Anchor::Unicast(Some(&mut st)), now);
        prop_assert!(v.is_accept(), "{:?}", v);
        let v = auth_hmac::verdict(&c, rx, auth_hmac::Anchor::Unicast(Some(&mut st)), now);
        prop_assert_eq!(v, auth_hmac::Verdict::Reject(auth_hmac::Reason::Replay));

        let i = flip.index(buf.len());
        let mut bad = buf.clone();
        bad[i] ^= 0x01;
        let v = auth_hmac::verdict(&c, auth_hmac::Received { bytes: &bad, ..rx }, auth_hmac::Anchor::Unicast(Some(&mut auth_hmac::ReplayState::default())), now);
        prop_assert_eq!(v.is_accept(), (6..8).contains(&i), "byte {} {:?}", i, v);
    }

    /// Arbitrary bytes and lengths never panic the receive side.
    #[test]
    fn auth_hmac_any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200),
                                       msg_len in 0usize..220, c in hmac_config(), secs in any::<u64>()) {
        let now = auth_hmac::WallTime::new(secs, 0);
        let src = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let binding = auth_hmac::Binding { src, version: 3, vrid: 1 };
        let rx = auth_hmac::Received { bytes: &bytes, msg_len, binding };
        let _ = auth_hmac::verdict(&c, rx, auth_hmac::Anchor::Multicast(&mut auth_hmac::McastSenders::default()), now);
        let _ = auth_hmac::verdict(&c, rx, auth_hmac::Anchor::Unicast(None), now);
    }
}
