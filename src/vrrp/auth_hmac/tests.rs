//! The fixed vectors and cases of keepalived 2.4.3's test/auth_hmac_test.c, reproduced on
//! this codec (same inputs, same bytes and verdicts), then the receive verdict's reasons,
//! keys, and hostile lengths.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::vrrp::checksum::{ChecksumForm, vrrp_checksum};

const MSG4_LEN: usize = 12;
const MSG6_LEN: usize = 24;
/// A clock well inside the 32-bit seconds field (2026-ish).
const NOW: WallTime = WallTime::new(1_780_000_000, 250_000_000);

/// auth_hmac_test.c's appendix images: key 00..1f, VRID 51, prio 200, sequence
/// 0x6800000080000000. IPv4: src 198.51.100.10, VIP 192.0.2.100, RFC 9568 message-only
/// checksum. IPv6: src fe80::10, VIP fe80::100, transport checksum to fe80::20 covering the
/// trailer.
const IPV4_VEC: &str = "3133c80100644402c0000264\
                        010100006800000080000000\
                        1b84bc4e8e43892dc6d98448f8ee2265";
const IPV6_VEC: &str = "3133c8010064a2e9\
                        fe800000000000000000000000000100\
                        010100006800000080000000\
                        c8c56146ebfd66ee10ec4d8186461b78";
const VEC_SEQ: Seq = Seq(0x6800_0000_8000_0000);

fn hex(s: &str) -> Vec<u8> {
    crate::hex::decode(s).unwrap()
}

fn bind(src: IpAddr, version: u8, vrid: u8) -> Binding {
    Binding { src, version, vrid }
}

fn src4() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10))
}
fn src6() -> IpAddr {
    IpAddr::V6("fe80::10".parse::<Ipv6Addr>().unwrap())
}
fn dst6() -> IpAddr {
    IpAddr::V6("fe80::20".parse::<Ipv6Addr>().unwrap())
}

fn test_key() -> Vec<u8> {
    (0u8..32).collect()
}

/// auth_hmac_test.c's `make_ah`: key 1 = 00..1f, active 1, enforce, time, window 5.
fn cfg() -> Config {
    let mut keys = Keys::default();
    keys.add(1, test_key()).unwrap();
    Config {
        keys,
        active_key: 1,
        mode: Mode::Enforce,
        anti_replay: AntiReplay::Time,
        time_window: 5,
        ext_type: EXT_TYPE_SHA256,
    }
}

fn monotonic() -> Config {
    Config {
        anti_replay: AntiReplay::Monotonic,
        ..cfg()
    }
}

/// `build_advert`: a v3 advert header for VRID 51, prio 200, one address, 1 s.
fn advert_header() -> [u8; 8] {
    [0x31, 51, 200, 1, 0, 100, 0, 0]
}

/// `make_advert6`: the IPv6 advert of the appendix with room for the trailer.
fn advert6() -> Vec<u8> {
    let mut p = vec![0; MSG6_LEN + TRAILER_LEN];
    p[..8].copy_from_slice(&advert_header());
    p[8..24].copy_from_slice(&"fe80::100".parse::<Ipv6Addr>().unwrap().octets());
    p
}

/// `verify`: a check of `img` (message then trailer), with a fresh unicast mark unless given.
fn verify(
    c: &Config,
    img: &[u8],
    mlen: usize,
    src: IpAddr,
    vrid: u8,
    st: Option<&mut ReplayState>,
    now: WallTime,
) -> Result<Checked, CheckError> {
    let mut fresh = ReplayState::default();
    let st = st.unwrap_or(&mut fresh);
    check(
        c,
        &img[..mlen],
        &img[mlen..],
        bind(src, 3, vrid),
        Anchor::Unicast(Some(st)),
        now,
    )
}

fn ok(r: Result<Checked, CheckError>) -> bool {
    r.is_ok()
}

#[test]
fn vectors_verify() {
    // The fixed timestamps lie outside any live window: monotonic, as the C test does.
    let c = monotonic();
    assert!(ok(verify(
        &c,
        &hex(IPV4_VEC),
        MSG4_LEN,
        src4(),
        51,
        None,
        NOW
    )));
    assert!(ok(verify(
        &c,
        &hex(IPV6_VEC),
        MSG6_LEN,
        src6(),
        51,
        None,
        NOW
    )));
}

#[test]
fn vectors_are_reproduced_byte_for_byte() {
    let key = Key {
        id: 1,
        data: test_key(),
    };
    for (vec, mlen, src) in [(IPV4_VEC, MSG4_LEN, src4()), (IPV6_VEC, MSG6_LEN, src6())] {
        let want = hex(vec);
        // The message as the vector has it, the trailer built from scratch.
        let mut buf = want[..mlen].to_vec();
        buf.resize(mlen + TRAILER_LEN, 0xee);
        assert!(seal(
            &mut buf,
            mlen,
            EXT_TYPE_SHA256,
            1,
            Some(&key),
            VEC_SEQ,
            bind(src, 3, 51)
        ));
        assert_eq!(crate::hex::encode(&buf), vec, "{src}");
        // The trailer view reads the fields back.
        let t = Trailer::new_checked(&buf[mlen..]).unwrap();
        let r = TrailerRepr::parse(&t);
        assert_eq!((r.ext_type, r.key_id, r.reserved), (1, 1, 0));
        assert_eq!(r.seq, VEC_SEQ);
        assert_eq!(
            (r.seq.sec(), r.seq.subsec(), r.seq.ctr()),
            (0x6800_0000, 0x8000, 0)
        );
    }
}

#[test]
fn vector_checksums_are_the_ones_described() {
    // IPv4: RFC 9568's checksum over the message alone (not over the trailer).
    let v4 = hex(IPV4_VEC);
    let mut m = v4[..MSG4_LEN].to_vec();
    m[6..8].fill(0);
    let c = vrrp_checksum(&m, ChecksumForm::Plain, src4(), src4());
    assert_eq!(c.to_be_bytes(), [0x44, 0x02]);
    // IPv6: the kernel's transport checksum to fe80::20 over the message and the trailer.
    let mut v6 = hex(IPV6_VEC);
    v6[6..8].fill(0);
    let c = vrrp_checksum(&v6, ChecksumForm::PseudoHeader, src6(), dst6());
    assert_eq!(c.to_be_bytes(), [0xa2, 0xe9]);
}

#[test]
fn vector_mutations() {
    let img = hex(IPV6_VEC);
    let c = monotonic();
    let tr = |off: usize| MSG6_LEN + off;
    let cases: &[(&str, usize, Result<(), CheckError>)] = &[
        ("tampered priority", 2, Err(CheckError::BadHmac)),
        ("tampered advert interval", 4, Err(CheckError::BadHmac)),
        ("tampered checksum", 6, Ok(())),
        ("tampered vip", 8 + 15, Err(CheckError::BadHmac)),
        ("unsupported ext type", tr(0), Err(CheckError::Malformed)),
        ("unknown key id", tr(1), Err(CheckError::UnknownKey(0))),
        ("nonzero reserved", tr(2), Err(CheckError::Malformed)),
        ("tampered seconds", tr(4), Err(CheckError::BadHmac)),
        ("tampered counter", tr(10), Err(CheckError::BadHmac)),
        ("tampered hmac", tr(12), Err(CheckError::BadHmac)),
    ];
    for (what, off, want) in cases {
        let mut buf = img.clone();
        buf[*off] ^= 0x01;
        let got = verify(&c, &buf, MSG6_LEN, src6(), 51, None, NOW).map(|_| ());
        assert_eq!(&got, want, "{what}");
    }
    // The pseudo-header binds the source address and the VRID.
    assert_eq!(
        verify(&c, &img, MSG6_LEN, dst6(), 51, None, NOW).map(|_| ()),
        Err(CheckError::BadHmac),
        "wrong source address"
    );
    assert_eq!(
        verify(&c, &img, MSG6_LEN, src6(), 52, None, NOW).map(|_| ()),
        Err(CheckError::BadHmac),
        "wrong vrid"
    );
    // And the version.
    let got = check(
        &c,
        &img[..MSG6_LEN],
        &img[MSG6_LEN..],
        bind(src6(), 2, 51),
        Anchor::Unicast(Some(&mut ReplayState::default())),
        NOW,
    );
    assert_eq!(got.map(|_| ()), Err(CheckError::BadHmac), "wrong version");
}

/// `test_ipv4`: the checksum at build time, signed at send time, verified.
#[test]
fn ipv4_wire_image() {
    let c = cfg();
    let mut p = vec![0; MSG4_LEN + TRAILER_LEN];
    p[..8].copy_from_slice(&advert_header());
    p[8..12].copy_from_slice(&[192, 0, 2, 100]);
    let csum = vrrp_checksum(&p[..MSG4_LEN], ChecksumForm::Plain, src4(), src4());
    p[6..8].copy_from_slice(&csum.to_be_bytes());
    let mut s = SendState::default();
    let seq = sign(&c, &mut s, &mut p, MSG4_LEN, bind(src4(), 3, 51), NOW).unwrap();
    assert_eq!(seq, Seq::from_clock(NOW));
    let mut st = ReplayState::default();
    assert!(ok(verify(&c, &p, MSG4_LEN, src4(), 51, Some(&mut st), NOW)));
}

/// `test_ipv6`: signed with a zero checksum, the kernel's checksum written after; replay;
/// the same copy at a second peer; receive-only sends nothing.
#[test]
fn ipv6_wire_image() {
    let mut c = cfg();
    let mut p = advert6();
    let mut s = SendState::default();
    sign(&c, &mut s, &mut p, MSG6_LEN, bind(src6(), 3, 51), NOW).unwrap();
    let mut z = p.clone();
    z[6..8].fill(0);
    let csum = vrrp_checksum(&z, ChecksumForm::PseudoHeader, src6(), dst6());
    p[6..8].copy_from_slice(&csum.to_be_bytes());

    let (mut st, mut st2) = (ReplayState::default(), ReplayState::default());
    assert!(ok(verify(&c, &p, MSG6_LEN, src6(), 51, Some(&mut st), NOW)));
    assert_eq!(
        verify(&c, &p, MSG6_LEN, src6(), 51, Some(&mut st), NOW).map(|_| ()),
        Err(CheckError::Replay)
    );
    assert!(ok(verify(
        &c,
        &p,
        MSG6_LEN,
        src6(),
        51,
        Some(&mut st2),
        NOW
    )));

    c.mode = Mode::ReceiveOnly;
    assert_eq!(c.trailer_len(), 0);
    let save = p.clone();
    assert_eq!(
        sign(&c, &mut s, &mut p, MSG6_LEN, bind(src6(), 3, 51), NOW),
        None
    );
    assert_eq!(p, save);
    c.mode = Mode::Permissive;
    assert_eq!(c.trailer_len(), TRAILER_LEN);
}

/// `test_window`: a stale and a future timestamp are shed before the digest.
#[test]
fn freshness_window() {
    let c = cfg();
    let mut p = advert6();
    sign(
        &c,
        &mut SendState::default(),
        &mut p,
        MSG6_LEN,
        bind(src6(), 3, 51),
        NOW,
    )
    .unwrap();
    let now32 = NOW.secs as u32;
    for (off, skew) in [(-100i64, 100), (100, -100)] {
        let sec = (i64::from(now32) + off) as u32;
        p[MSG6_LEN + 4..MSG6_LEN + 8].copy_from_slice(&sec.to_be_bytes());
        assert_eq!(
            verify(&c, &p, MSG6_LEN, src6(), 51, None, NOW).map(|_| ()),
            Err(CheckError::Stale { skew })
        );
    }
    // At the window's edge it still passes the window (then fails the HMAC, the stamp
    // having been changed after signing).
    let sec = now32 - 5;
    p[MSG6_LEN + 4..MSG6_LEN + 8].copy_from_slice(&sec.to_be_bytes());
    assert_eq!(
        verify(&c, &p, MSG6_LEN, src6(), 51, None, NOW).map(|_| ()),
        Err(CheckError::BadHmac)
    );
}

/// `test_sequence`: 2.4.3's clock-step recovery on both sides, and monotonic mode keeping
/// strict growth.
#[test]
fn clock_steps() {
    let c = cfg();
    let now32 = NOW.secs as u32;
    let mut p = advert6();

    // Time mode: a sender sequence stranded an hour ahead restarts from the clock.
    let mut s = SendState {
        last: Seq::from_parts(now32 + 3600, 0, 0),
    };
    let seq = sign(&c, &mut s, &mut p, MSG6_LEN, bind(src6(), 3, 51), NOW).unwrap();
    assert_eq!(seq, Seq::from_clock(NOW), "clock step reset");

    // A receiver mark stranded past the window expires, then holds again.
    let mut st = ReplayState {
        mark: Some(Seq::from_parts(now32 + 3600, 0, 0)),
    };
    assert!(
        ok(verify(&c, &p, MSG6_LEN, src6(), 51, Some(&mut st), NOW)),
        "expired future mark"
    );
    assert_eq!(
        verify(&c, &p, MSG6_LEN, src6(), 51, Some(&mut st), NOW).map(|_| ()),
        Err(CheckError::Replay),
        "replay after expiry"
    );

    // Monotonic mode keeps strict growth and keeps its mark.
    let m = monotonic();
    let mut s = SendState {
        last: Seq::from_parts(now32 + 3600, 0, 0),
    };
    let seq = sign(&m, &mut s, &mut p, MSG6_LEN, bind(src6(), 3, 51), NOW).unwrap();
    assert_eq!(
        (seq.sec(), seq.ctr()),
        (now32 + 3600, 1),
        "monotonic keeps growth"
    );
    let t = Trailer::new_checked(&p[MSG6_LEN..]).unwrap();
    assert_eq!(t.seq(), seq);
    let mut st = ReplayState {
        mark: Some(Seq::from_parts(now32 + 7200, 0, 0)),
    };
    assert_eq!(
        verify(&m, &p, MSG6_LEN, src6(), 51, Some(&mut st), NOW).map(|_| ()),
        Err(CheckError::Replay),
        "monotonic keeps its mark"
    );
}

#[test]
fn send_sequence_grows_within_one_clock_reading() {
    let mut s = SendState::default();
    let a = s.next_seq(AntiReplay::Time, 5, NOW);
    let b = s.next_seq(AntiReplay::Time, 5, NOW);
    let c = s.next_seq(AntiReplay::Time, 5, NOW);
    assert!(b.after(a) && c.after(b));
    assert_eq!((b.0 - a.0, c.0 - b.0), (1, 1));
    // A clock step back inside the window keeps counting up (receivers still accept it).
    let back = WallTime::new(NOW.secs - 3, 0);
    let d = s.next_seq(AntiReplay::Time, 5, back);
    assert_eq!(d.0, c.0 + 1);
    // The clock moving on wins again.
    let later = WallTime::new(NOW.secs + 1, 0);
    assert_eq!(
        s.next_seq(AntiReplay::Time, 5, later),
        Seq::from_clock(later)
    );
}

#[test]
fn seq_packing_and_serial_order() {
    let s = Seq::from_clock(WallTime::new(0x1_2345_6789, 500_000_000));
    assert_eq!((s.sec(), s.subsec(), s.ctr()), (0x2345_6789, 0x8000, 0));
    assert_eq!(
        Seq::from_clock(WallTime::new(1, 999_999_999)).subsec(),
        0xffff
    );
    // Serial arithmetic survives the field wrap.
    assert!(Seq(0).after(Seq(u64::MAX)));
    assert!(!Seq(5).after(Seq(5)));
    assert!(!Seq(4).after(Seq(5)));
}

// --- the receive verdict --------------------------------------------------------------

fn signed6(c: &Config, now: WallTime) -> Vec<u8> {
    let mut p = advert6();
    sign(
        c,
        &mut SendState::default(),
        &mut p,
        MSG6_LEN,
        bind(src6(), 3, 51),
        now,
    )
    .unwrap();
    p
}

fn rx(bytes: &[u8]) -> Received<'_> {
    Received {
        bytes,
        msg_len: MSG6_LEN,
        binding: bind(src6(), 3, 51),
    }
}

fn uni<'a>(st: &'a mut ReplayState) -> Anchor<'a> {
    Anchor::Unicast(Some(st))
}

#[test]
fn verdict_without_trailer_by_mode() {
    let p = advert6();
    let bare = &p[..MSG6_LEN];
    for (mode, accept) in [
        (Mode::Enforce, false),
        (Mode::Permissive, true),
        (Mode::ReceiveOnly, true),
    ] {
        let c = Config { mode, ..cfg() };
        let v = verdict(&c, rx(bare), uni(&mut ReplayState::default()), NOW);
        assert_eq!(v.is_accept(), accept, "{mode:?}");
        if accept {
            assert_eq!(
                v,
                Verdict::Accept {
                    checked: None,
                    skew_warning: false
                }
            );
        } else {
            assert_eq!(v, Verdict::Reject(Reason::Missing));
            assert_eq!(v.counter(), Some(Counter::Missing));
        }
    }
    // Ethernet padding (fewer than 28 bytes) is not a trailer.
    let mut padded = bare.to_vec();
    padded.extend_from_slice(&[0; 22]);
    let v = verdict(&cfg(), rx(&padded), uni(&mut ReplayState::default()), NOW);
    assert_eq!(v, Verdict::Reject(Reason::Missing));
}

#[test]
fn verdict_verifies_a_trailer_in_every_mode() {
    let good = signed6(&cfg(), NOW);
    let mut bad = good.clone();
    bad[2] ^= 1;
    for mode in [Mode::Enforce, Mode::Permissive, Mode::ReceiveOnly] {
        let c = Config { mode, ..cfg() };
        let v = verdict(&c, rx(&good), uni(&mut ReplayState::default()), NOW);
        assert!(
            matches!(v, Verdict::Accept { checked: Some(ch), skew_warning: false } if ch.skew == Some(0)),
            "{mode:?}: {v:?}"
        );
        let v = verdict(&c, rx(&bad), uni(&mut ReplayState::default()), NOW);
        assert_eq!(v, Verdict::Reject(Reason::BadHmac), "{mode:?}");
        assert_eq!(v.counter(), Some(Counter::InvalidHmac));
    }
}

#[test]
fn verdict_every_reject_reason_and_its_counter() {
    let c = cfg();
    let good = signed6(&c, NOW);
    let mutate = |off: usize| {
        let mut b = good.clone();
        b[off] ^= 1;
        b
    };
    let mut counters = Counters::default();
    let mut run = |bytes: &[u8], anchor: Anchor<'_>, now: WallTime| {
        let v = verdict(&c, rx(bytes), anchor, now);
        if let Some(k) = v.counter() {
            counters.bump(k);
        }
        v
    };
    let r = |v: Verdict| match v {
        Verdict::Reject(r) => Some(r),
        Verdict::Accept { .. } => None,
    };
    let bare = &good[..MSG6_LEN];
    assert_eq!(
        r(run(bare, uni(&mut ReplayState::default()), NOW)),
        Some(Reason::Missing)
    );
    assert_eq!(
        r(run(&good, Anchor::Unicast(None), NOW)),
        Some(Reason::NotAPeer)
    );
    assert_eq!(
        r(run(
            &mutate(MSG6_LEN),
            uni(&mut ReplayState::default()),
            NOW
        )),
        Some(Reason::Malformed)
    );
    assert_eq!(
        r(run(
            &mutate(MSG6_LEN + 1),
            uni(&mut ReplayState::default()),
            NOW
        )),
        Some(Reason::UnknownKey(0))
    );
    assert_eq!(
        r(run(
            &mutate(MSG6_LEN + 27),
            uni(&mut ReplayState::default()),
            NOW
        )),
        Some(Reason::BadHmac)
    );
    let late = WallTime::new(NOW.secs + 6, 0);
    assert_eq!(
        r(run(&good, uni(&mut ReplayState::default()), late)),
        Some(Reason::Stale { skew: 6 })
    );
    let mut st = ReplayState::default();
    assert_eq!(r(run(&good, uni(&mut st), NOW)), None);
    assert_eq!(r(run(&good, uni(&mut st), NOW)), Some(Reason::Replay));
    assert_eq!(
        counters,
        Counters {
            missing: 1,
            malformed: 1,
            unknown_key: 1,
            invalid_hmac: 1,
            stale: 1,
            replay: 1,
        }
    );
    assert_eq!(Reason::NotAPeer.counter(), None);
}

#[test]
fn verdict_skew_warning_past_half_the_window() {
    let c = Config {
        time_window: 10,
        ..cfg()
    };
    let p = signed6(&c, NOW);
    for (dt, warn) in [(5i64, false), (6, true), (-6, true), (10, true)] {
        let now = WallTime::new((NOW.secs as i64 + dt) as u64, 0);
        let v = verdict(&c, rx(&p), uni(&mut ReplayState::default()), now);
        assert!(
            matches!(v, Verdict::Accept { skew_warning, .. } if skew_warning == warn),
            "{dt}: {v:?}"
        );
    }
    // Monotonic mode has no skew.
    let m = Config {
        anti_replay: AntiReplay::Monotonic,
        ..c
    };
    let later = WallTime::new(NOW.secs + 3600, 0);
    let v = verdict(&m, rx(&p), uni(&mut ReplayState::default()), later);
    assert!(
        matches!(v, Verdict::Accept { checked: Some(ch), skew_warning: false } if ch.skew.is_none())
    );
}

#[test]
fn log_lines_keep_keepalived_wording() {
    let a = src6();
    assert_eq!(
        Reason::Stale { skew: -7 }.log_line("VI_1", a, 5),
        "(VI_1) stale authentication trailer from fe80::10, clock skew -7 sec exceeds window 5 sec"
    );
    assert_eq!(
        Reason::UnknownKey(9).log_line("VI_1", a, 5),
        "(VI_1) unknown authentication key id 9 from fe80::10"
    );
    assert_eq!(
        Reason::NotAPeer.log_line("VI_1", a, 5),
        "(VI_1) unicast source address fe80::10 not a unicast peer"
    );
}

#[test]
fn multicast_senders_have_their_own_marks_and_the_lru_goes() {
    let c = cfg();
    let mut senders = McastSenders::default();
    let addr = |i: u16| IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x10 + i));
    let signed_by = |i: u16| {
        let mut p = advert6();
        sign(
            &c,
            &mut SendState::default(),
            &mut p,
            MSG6_LEN,
            bind(addr(i), 3, 51),
            NOW,
        )
        .unwrap();
        p
    };
    let from = |i: u16, p: &[u8], s: &mut McastSenders| {
        let r = Received {
            binding: bind(addr(i), 3, 51),
            ..rx(p)
        };
        verdict(&c, r, Anchor::Multicast(s), NOW)
    };
    let pkts: Vec<Vec<u8>> = (0..5).map(signed_by).collect();
    for i in 0..4u16 {
        assert!(from(i, &pkts[usize::from(i)], &mut senders).is_accept());
    }
    // Each sender's mark holds.
    assert_eq!(
        from(1, &pkts[1], &mut senders),
        Verdict::Reject(Reason::Replay)
    );
    // A fifth sender takes the least recently used slot (sender 0: 1 was just touched).
    assert!(from(4, &pkts[4], &mut senders).is_accept());
    let held: Vec<IpAddr> = senders.senders().collect();
    assert!(
        !held.contains(&addr(0)) && held.contains(&addr(4)),
        "{held:?}"
    );
    // Sender 0's mark went with its slot: its old advert is accepted once more (keepalived
    // accepts this trade-off; the time window still bounds it).
    assert!(from(0, &pkts[0], &mut senders).is_accept());
    // A forged advert from a new source never takes a slot.
    let mut forged = pkts[2].clone();
    forged[2] ^= 1;
    let before = senders.clone();
    assert_eq!(
        from(9, &forged, &mut senders),
        Verdict::Reject(Reason::BadHmac)
    );
    assert_eq!(senders, before);
}

#[test]
fn replay_mark_moves_only_on_verified_adverts() {
    let c = cfg();
    let good = signed6(&c, NOW);
    let mut forged = good.clone();
    forged[MSG6_LEN + 11] ^= 1; // a later counter, not re-signed
    let mut st = ReplayState::default();
    assert_eq!(
        verdict(&c, rx(&forged), uni(&mut st), NOW),
        Verdict::Reject(Reason::BadHmac)
    );
    assert_eq!(st, ReplayState::default());
    assert!(verdict(&c, rx(&good), uni(&mut st), NOW).is_accept());
}

// --- keys -----------------------------------------------------------------------------

#[test]
fn key_values() {
    assert_eq!(
        decode_key_value("hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
        Some(test_key())
    );
    assert_eq!(
        decode_key_value("hex:00 01\t0A ff"),
        Some(vec![0, 1, 10, 255])
    );
    // read_hex_str: a lone digit before a blank or the end is a byte of its own.
    assert_eq!(decode_key_value("hex:abc"), Some(vec![0xab, 0x0c]));
    assert_eq!(decode_key_value("hex:a bc"), Some(vec![0x0a, 0xbc]));
    assert_eq!(decode_key_value("hex:0g"), None);
    assert_eq!(decode_key_value("hex:"), None);
    assert_eq!(
        decode_key_value("a-32-byte-ascii-secret-for-vrrp!"),
        Some(b"a-32-byte-ascii-secret-for-vrrp!".to_vec())
    );
    assert_eq!(KeySource::parse("file:/etc/k"), KeySource::File("/etc/k"));
    assert_eq!(KeySource::parse("hex:00"), KeySource::Inline("hex:00"));
}

#[test]
fn key_files() {
    let hexkey = format!("hex:{}\r\n\n", crate::hex::encode(&test_key()));
    assert_eq!(
        decode_key_file("k", hexkey.as_bytes()),
        Ok(Some(test_key()))
    );
    assert_eq!(
        decode_key_file("k", b"0123456789abcdef0123456789abcdef\n"),
        Ok(Some(b"0123456789abcdef0123456789abcdef".to_vec()))
    );
    // A NUL ends the value, as keepalived reads it as a C string.
    assert_eq!(decode_key_file("k", b"ab\0cd"), Ok(Some(b"ab".to_vec())));
    let big = format!("hex:{}", "00".repeat(KEY_MAX) + "1234567");
    assert_eq!(big.len(), KEY_FILE_MAX);
    assert!(decode_key_file("k", big.as_bytes()).is_ok());
    assert_eq!(
        decode_key_file("k", format!("{big}8").as_bytes()),
        Err(KeyError::FileTooLarge("k".into()))
    );
}

#[test]
fn key_table() {
    assert_eq!(parse_key_id("1"), Ok(1));
    assert_eq!(parse_key_id("255"), Ok(255));
    for bad in ["0", "256", "-1", "x", ""] {
        assert_eq!(parse_key_id(bad), Err(KeyError::Id(bad.into())), "{bad}");
    }
    let mut k = Keys::default();
    assert_eq!(
        k.add(2, vec![0; 31]),
        Err(KeyError::Length { id: 2, len: 31 })
    );
    assert_eq!(
        k.add(2, vec![0; 65]),
        Err(KeyError::Length { id: 2, len: 65 })
    );
    assert_eq!(k.add(2, vec![0; 64]), Ok(()));
    assert_eq!(k.add(2, vec![1; 32]), Err(KeyError::Duplicate(2)));
    assert_eq!(
        KeyError::Length { id: 2, len: 31 }.to_string(),
        "auth_hmac key 2 length 31 not in range [32, 64]"
    );
    assert_eq!(
        format!("{:?}", k.find(2).unwrap()),
        "Key { id: 2, len: 64 }"
    );
}

#[test]
fn key_rotation_by_id() {
    // Two keys; a sender on key 2 is verified by a receiver still signing with key 1.
    let mut keys = cfg().keys;
    keys.add(2, vec![0x42; 40]).unwrap();
    let rx_cfg = Config {
        keys: keys.clone(),
        ..cfg()
    };
    let tx_cfg = Config {
        keys,
        active_key: 2,
        ..cfg()
    };
    let p = signed6(&tx_cfg, NOW);
    assert_eq!(p[MSG6_LEN + 1], 2);
    assert!(verdict(&rx_cfg, rx(&p), uni(&mut ReplayState::default()), NOW).is_accept());
    // A receiver without key 2 reports the id.
    assert_eq!(
        verdict(&cfg(), rx(&p), uni(&mut ReplayState::default()), NOW),
        Verdict::Reject(Reason::UnknownKey(2))
    );
}

#[test]
fn modes_and_window() {
    for m in [Mode::Enforce, Mode::Permissive, Mode::ReceiveOnly] {
        assert_eq!(Mode::parse(m.as_str()), Some(m));
    }
    assert_eq!(Mode::parse("strict"), None);
    assert_eq!(AntiReplay::parse("monotonic"), Some(AntiReplay::Monotonic));
    assert_eq!(AntiReplay::parse("time"), Some(AntiReplay::Time));
    assert_eq!(AntiReplay::parse("none"), None);
    assert_eq!(derived_time_window(1), 5);
    assert_eq!(derived_time_window(2), 6);
    assert_eq!(derived_time_window(0), 5);
    assert_eq!(derived_time_window(200), 300);
}

#[test]
fn completing_an_instance() {
    let mut keys = Keys::default();
    keys.add(1, test_key()).unwrap();
    let block = Block {
        keys,
        active_key: Some(1),
        ..Block::default()
    };
    // Defaults: enforce, time, the window from the interval.
    let (c, notes) = block.clone().complete(1, false, false);
    assert_eq!(c, Some(cfg()));
    assert!(notes.is_empty());
    assert_eq!(
        block
            .clone()
            .complete(4, false, false)
            .0
            .unwrap()
            .time_window,
        12
    );
    // An explicit window is kept; monotonic without one has none.
    let b = Block {
        time_window: Some(30),
        ..block.clone()
    };
    assert_eq!(b.complete(1, false, false).0.unwrap().time_window, 30);
    let b = Block {
        anti_replay: AntiReplay::Monotonic,
        ..block.clone()
    };
    assert_eq!(b.complete(1, false, false).0.unwrap().time_window, 0);
    // Strict mode forces enforce; legacy authentication is dropped.
    let b = Block {
        mode: Mode::Permissive,
        ..block.clone()
    };
    let (c, notes) = b.complete(1, true, true);
    assert_eq!(c.unwrap().mode, Mode::Enforce);
    assert_eq!(
        notes,
        [
            CompleteNote::LegacyAuthDropped,
            CompleteNote::StrictForcesEnforce
        ]
    );
    // No active key, or one naming no key: the extension is disabled.
    for (active, id) in [(None, 0), (Some(7), 7)] {
        let b = Block {
            active_key: active,
            ..block.clone()
        };
        let (c, notes) = b.complete(1, false, false);
        assert_eq!(c, None);
        assert_eq!(notes, [CompleteNote::ActiveKeyUndefined(id)]);
        assert_eq!(
            notes[0].to_string(),
            format!("auth_hmac active_key {id} is not defined, disabling extension")
        );
    }
    assert_eq!(parse_time_window("1"), Some(1));
    assert_eq!(parse_time_window("300"), Some(300));
    assert_eq!(parse_time_window("0"), None);
    assert_eq!(parse_time_window("301"), None);
}

// --- hostile lengths ------------------------------------------------------------------

#[test]
fn short_and_long_inputs_never_panic() {
    let c = cfg();
    let good = signed6(&c, NOW);
    assert_eq!(
        Trailer::new_checked(&good[..TRAILER_LEN - 1]).unwrap_err(),
        Truncated { len: 27 }
    );
    for len in 0..good.len() + 40 {
        let mut b = good.clone();
        b.resize(len, 0x5a);
        for msg_len in [
            0,
            1,
            7,
            8,
            MSG6_LEN,
            len,
            len.saturating_sub(TRAILER_LEN),
            usize::MAX,
        ] {
            let r = Received { msg_len, ..rx(&b) };
            let _ = verdict(&c, r, uni(&mut ReplayState::default()), NOW);
            let _ = verdict(&c, r, Anchor::Multicast(&mut McastSenders::default()), NOW);
            let mut s = b.clone();
            let _ = sign(
                &c,
                &mut SendState::default(),
                &mut s,
                msg_len,
                bind(src6(), 3, 51),
                NOW,
            );
        }
        let _ = check(
            &c,
            &b,
            &b,
            bind(src6(), 3, 51),
            uni(&mut ReplayState::default()),
            NOW,
        );
    }
    // Only the exact length carries a trailer.
    assert_eq!(
        split_trailer(&good, MSG6_LEN).1.map(<[u8]>::len),
        Some(TRAILER_LEN)
    );
    assert!(split_trailer(&good[..good.len() - 1], MSG6_LEN).1.is_none());
    assert!(split_trailer(&good, usize::MAX).1.is_none());
}
