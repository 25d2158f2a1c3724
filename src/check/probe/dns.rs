//! DNS_CHECK over UDP (check_dns.c): one query with Recursion Desired and a random ID; the
//! check passes on a reply with that ID, the QR bit, and RCODE 0 (an answer is not required).
//! A reply with another ID, or a query, is ignored and the wait goes on (RFC 1035 §4.1.1).

use super::{Outcome, Target, connect};

/// keepalived's `type` names and their numbers (RFC 1035 §3.2.2, RFC 3596, RFC 4034).
pub const TYPES: &[(&str, u16)] = &[
    ("A", 1),
    ("NS", 2),
    ("CNAME", 5),
    ("SOA", 6),
    ("MX", 15),
    ("TXT", 16),
    ("AAAA", 28),
    ("RRSIG", 46),
    ("DNSKEY", 48),
];

pub fn qtype(name: &str) -> Option<u16> {
    TYPES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, t)| *t)
}

/// The query, as keepalived builds it: header (ID, RD, one question), QNAME labels, QTYPE,
/// class IN. "." is the root.
pub fn query(id: u16, qtype: u16, name: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QD=1, AN=NS=AR=0
    for label in name.split('.').filter(|l| !l.is_empty()) {
        // A label is at most 63 bytes (RFC 1035 §2.3.4); the config check says so too.
        let label = &label.as_bytes()[..label.len().min(63)];
        q.push(label.len() as u8);
        q.extend_from_slice(label);
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes()); // IN
    q
}

/// What a datagram means for a query with `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Not our answer (short, another ID, a query): keep waiting.
    Ignore,
    Ok,
    /// Our answer with this RCODE.
    Error(u8),
}

pub fn judge(id: u16, datagram: &[u8]) -> Reply {
    if datagram.len() < 12 || datagram[..2] != id.to_be_bytes() {
        return Reply::Ignore;
    }
    let flags = u16::from_be_bytes([datagram[2], datagram[3]]);
    if flags & 0x8000 == 0 {
        return Reply::Ignore;
    }
    match (flags & 0x000f) as u8 {
        0 => Reply::Ok,
        rcode => Reply::Error(rcode),
    }
}

pub async fn check(qtype: u16, name: &str, target: &Target) -> Outcome {
    let id = super::random_u64() as u16;
    let work = async {
        let sock = connect::udp(target).map_err(|e| e.to_string())?;
        sock.send(&query(id, qtype, name))
            .await
            .map_err(|e| format!("send: {e}"))?;
        let mut buf = [0u8; 1500];
        loop {
            let n = sock.recv(&mut buf).await.map_err(|e| format!("{e}"))?;
            match judge(id, &buf[..n]) {
                Reply::Ignore => continue,
                Reply::Ok => return Ok(()),
                Reply::Error(rcode) => return Err(format!("answer with RCODE {rcode}")),
            }
        }
    };
    match connect::within(target, work).await {
        Ok(()) => Outcome::pass("RCODE 0"),
        Err(e) => Outcome::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_keepalived_s() {
        // ID, RD, QD=1; the root name is one 0 byte; SOA, IN.
        assert_eq!(
            crate::hex::encode(&query(0x1234, 6, ".")),
            "123401000001000000000000000006 0001".replace(' ', "")
        );
        let q = query(1, 1, "www.example.com.");
        assert_eq!(&q[12..], b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
        assert_eq!(
            query(1, 1, "www.example.com"),
            q,
            "the final dot is optional"
        );
    }

    #[test]
    fn replies_are_judged_by_id_qr_and_rcode() {
        let mut r = query(7, 6, ".");
        assert_eq!(judge(7, &r), Reply::Ignore, "a query, not an answer");
        r[2] |= 0x80;
        assert_eq!(judge(7, &r), Reply::Ok);
        assert_eq!(judge(8, &r), Reply::Ignore, "another ID");
        r[3] |= 2;
        assert_eq!(judge(7, &r), Reply::Error(2), "SERVFAIL");
        assert_eq!(judge(7, &r[..11]), Reply::Ignore);
        assert_eq!(qtype("aaaa"), Some(28));
        assert_eq!(qtype("SPF"), None);
    }
}
