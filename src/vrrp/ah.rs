//! VRRPv2's IPSEC authentication header (`auth_type AH`, RFC 2338 §5.3.6.3, dropped by RFC
//! 3768 but still spoken by keepalived): HMAC-MD5-96 (RFC 2403) as keepalived 2.2 computes it.
//!
//! The ICV covers the IPv4 header with its mutable fields zeroed (TOS, flags/fragment offset,
//! header checksum; the TTL too in unicast mode), the AH header with a zero ICV, and the VRRP
//! message. The key is `auth_pass` cut to 8 bytes and zero-padded (`vrrp_build_ipsecah`,
//! `vrrp_update_pkt`, `vrrp_in_chk_ipsecah` in keepalived's vrrp.c). The SPI is the sender's
//! IPv4 address; sequence numbers start at 1 and every node adopts the highest one it receives.

use hmac::{Hmac, Mac};
use md5::Md5;

use super::ip::{AH_ICV_LEN, AH_LEN, IPPROTO_AH};
use crate::vrrp::checksum::IPPROTO_VRRP;

/// The AH key from an `auth_pass`: its first 8 bytes, zero-padded.
pub fn key(auth_pass: &[u8]) -> [u8; 8] {
    let mut k = [0; 8];
    let n = auth_pass.len().min(8);
    k[..n].copy_from_slice(&auth_pass[..n]);
    k
}

/// The 96-bit ICV of an AH-protected advert. `headers` is the IPv4 header followed by the
/// 24-byte AH header, as sent or received; `msg` the VRRP message.
pub fn icv(headers: &[u8], msg: &[u8], key: &[u8; 8], unicast: bool) -> [u8; AH_ICV_LEN] {
    let mut h = headers.to_vec();
    let ihl = usize::from(h[0] & 0x0f) * 4;
    h[1] = 0; // TOS
    h[6] = 0; // flags and fragment offset
    h[7] = 0;
    h[10] = 0; // header checksum
    h[11] = 0;
    if unicast {
        h[8] = 0; // TTL: a router on the path changes it
    }
    h[ihl + 12..ihl + AH_LEN].fill(0);
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&h);
    mac.update(msg);
    let digest = mac.finalize().into_bytes();
    let mut out = [0; AH_ICV_LEN];
    out.copy_from_slice(&digest[..AH_ICV_LEN]);
    out
}

/// Writes the AH header of an advert into `buf[ihl..ihl + 24]` (SPI = source address,
/// `seq`) and its ICV. `buf` holds the IPv4 header, room for AH, and the VRRP message.
pub fn seal(buf: &mut [u8], ihl: usize, seq: u32, key: &[u8; 8], unicast: bool) {
    let spi = [buf[12], buf[13], buf[14], buf[15]];
    let ah = &mut buf[ihl..ihl + AH_LEN];
    ah[0] = IPPROTO_VRRP;
    ah[1] = (AH_LEN / 4 - 2) as u8;
    ah[2..4].fill(0);
    ah[4..8].copy_from_slice(&spi);
    ah[8..12].copy_from_slice(&seq.to_be_bytes());
    ah[12..].fill(0);
    let (headers, msg) = buf.split_at(ihl + AH_LEN);
    let icv = icv(headers, msg, key, unicast);
    buf[ihl + 12..ihl + AH_LEN].copy_from_slice(&icv);
}

/// Whether `proto` is the AH protocol number.
pub fn is_ah(proto: u8) -> bool {
    proto == IPPROTO_AH
}

/// Compares two MACs in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_cut_and_padded() {
        assert_eq!(&key(b"kt51pass-and-more"), b"kt51pass");
        assert_eq!(key(b"ab"), [b'a', b'b', 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
