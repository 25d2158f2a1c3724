//! UDP_CHECK (check_udp.c): send the payload (random bytes if none) on a connected socket.
//! Without `require_reply` the check passes unless an ICMP error (port unreachable) comes back
//! within connect_timeout; with it, a reply must come whose length is within
//! [min_reply_length, max_reply_length] and whose first bytes match the hex pattern, where an
//! `x` nibble matches anything (`check_udp_reply`).

use super::{Outcome, Target, connect};

/// A reply pattern: each byte's value and its don't-care bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyPattern {
    pub data: Vec<u8>,
    pub ignore: Vec<u8>,
}

impl ReplyPattern {
    /// `require_reply`'s hex string ("0a1bxx", spaces allowed); an odd final nibble is the
    /// high half of its byte.
    pub fn parse(hex: &str) -> Result<ReplyPattern, String> {
        let nibbles: Vec<char> = hex.chars().filter(|c| !c.is_whitespace()).collect();
        let mut p = ReplyPattern {
            data: Vec::new(),
            ignore: Vec::new(),
        };
        for pair in nibbles.chunks(2) {
            let (mut d, mut m) = (0u8, 0u8);
            for (k, c) in pair.iter().enumerate() {
                let shift = if k == 0 { 4 } else { 0 };
                match c {
                    'x' | 'X' => m |= 0xf << shift,
                    c => {
                        let v = c
                            .to_digit(16)
                            .ok_or_else(|| format!("{c:?} is not a hex digit or x"))?;
                        d |= (v as u8) << shift;
                    }
                }
            }
            if pair.len() == 1 {
                m |= 0x0f;
            }
            p.data.push(d);
            p.ignore.push(m);
        }
        Ok(p)
    }

    /// The first min(len, pattern) bytes match.
    pub fn matches(&self, reply: &[u8]) -> bool {
        reply
            .iter()
            .zip(self.data.iter().zip(&self.ignore))
            .all(|(r, (d, m))| (r ^ d) & !m == 0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpCheck {
    /// None: 16 random bytes each time.
    pub payload: Option<Vec<u8>>,
    pub require_reply: Option<ReplyPattern>,
    pub min_reply_length: u16,
    pub max_reply_length: u16,
}

pub async fn check(u: &UdpCheck, target: &Target) -> Outcome {
    let sock = match connect::udp(target) {
        Ok(s) => s,
        Err(e) => return Outcome::fail(e.to_string()),
    };
    let payload = u.payload.clone().unwrap_or_else(|| {
        [
            super::random_u64().to_be_bytes(),
            super::random_u64().to_be_bytes(),
        ]
        .concat()
    });
    if let Err(e) = sock.send(&payload).await {
        return Outcome::fail(format!("send: {e}"));
    }
    let mut buf = vec![0u8; usize::from(u.max_reply_length) + 1];
    let got = tokio::time::timeout(target.timeout, sock.recv(&mut buf)).await;
    match (got, &u.require_reply) {
        // Nothing came back, not even an ICMP error: fine unless a reply is required.
        (Err(_), None) => Outcome::pass("no ICMP error"),
        (Err(_), Some(_)) => Outcome::fail(format!("no reply within {:?}", target.timeout)),
        (Ok(Err(e)), _) => Outcome::fail(e.to_string()),
        (Ok(Ok(_)), None) => Outcome::pass("reply"),
        (Ok(Ok(n)), Some(p)) => {
            let reply = &buf[..n];
            if n < usize::from(u.min_reply_length) || n > usize::from(u.max_reply_length) {
                Outcome::fail(format!(
                    "reply of {n} bytes, outside {}..={}",
                    u.min_reply_length, u.max_reply_length
                ))
            } else if !p.matches(reply) {
                Outcome::fail(format!(
                    "reply data mismatch: {}",
                    crate::hex::encode(&reply[..n.min(16)])
                ))
            } else {
                Outcome::pass(format!("reply of {n} bytes"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_have_dont_care_nibbles() {
        let p = ReplyPattern::parse("4b x1 4c").unwrap();
        assert!(p.matches(b"K1L"));
        assert!(p.matches(b"KqL"), "x1: 'q' is 0x71");
        assert!(!p.matches(b"KqM"));
        assert!(!p.matches(b"K2L"), "0x32's low nibble is 2");
        assert!(p.matches(b"K"), "a shorter reply is compared on its length");
        assert!(ReplyPattern::parse("zz").is_err());
        let odd = ReplyPattern::parse("4").unwrap();
        assert!(odd.matches(b"O") && !odd.matches(b"\x50"));
    }
}
