//! PING_CHECK (check_ping.c): one ICMP or ICMPv6 echo request; an echo reply within
//! connect_timeout passes. kaconsole uses an unprivileged ping socket (SOCK_DGRAM,
//! IPPROTO_ICMP), which net.ipv4.ping_group_range must allow; if it does not, a raw socket
//! (CAP_NET_RAW, so root) does the same, and without either the failure says which sysctl to
//! change. keepalived instead widens ping_group_range itself; changing a system setting
//! behind the operator's back is not kaconsole's to do.

use std::io;
use std::io::Read;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{Outcome, Target};

/// The internet checksum (RFC 1071) of an ICMPv4 message; the kernel fills in ICMPv6's.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request (RFC 792 / RFC 4443 §4.1) carrying `token`, which the reply echoes.
pub fn echo_request(v6: bool, id: u16, seq: u16, token: &[u8; 8]) -> Vec<u8> {
    let mut m = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(token);
    if !v6 {
        let c = checksum(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
    }
    m
}

/// Whether `msg` (an ICMP message; a raw IPv4 socket's includes the IP header) is the echo
/// reply to our token.
pub fn is_reply(v6: bool, raw: bool, msg: &[u8], token: &[u8; 8]) -> bool {
    let icmp = if raw && !v6 {
        let ihl = usize::from(msg.first().map_or(0, |b| b & 0x0f)) * 4;
        msg.get(ihl..).unwrap_or_default()
    } else {
        msg
    };
    let reply_type = if v6 { 129 } else { 0 };
    icmp.len() >= 16 && icmp[0] == reply_type && icmp[1] == 0 && &icmp[8..16] == token
}

fn open(addr: SocketAddr) -> io::Result<(Socket, bool)> {
    let (domain, proto) = match addr {
        SocketAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
        SocketAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
    };
    match Socket::new(domain, Type::DGRAM, Some(proto)) {
        Ok(s) => Ok((s, false)),
        Err(dgram) => Socket::new(domain, Type::RAW, Some(proto))
            .map(|s| (s, true))
            .map_err(|_| {
                io::Error::new(
                    dgram.kind(),
                    format!(
                        "no ping socket ({dgram}): allow this group in net.ipv4.ping_group_range, \
                         or run as root"
                    ),
                )
            }),
    }
}

async fn ping(target: &Target) -> io::Result<()> {
    let v6 = target.addr.is_ipv6();
    let (sock, raw) = open(target.addr)?;
    if let Some(mark) = target.fwmark {
        sock.set_mark(mark)?;
    }
    if let Some(dev) = &target.bind_if {
        sock.bind_device(Some(dev.as_bytes()))?;
    }
    if let Some(ip) = target.bind {
        sock.bind(&SockAddr::from(SocketAddr::new(ip, 0)))?;
    }
    sock.set_nonblocking(true)?;
    let dest = SockAddr::from(SocketAddr::new(target.addr.ip(), 0));
    let token = super::random_u64().to_be_bytes();
    let id = std::process::id() as u16;
    sock.send_to(&echo_request(v6, id, 1, &token), &dest)?;
    let fd = crate::sys::vrrp_socket::register(sock)?;
    let mut buf = [0u8; 1500];
    loop {
        let mut guard = fd.readable().await?;
        match guard.try_io(|s| (&mut s.get_ref()).read(&mut buf)) {
            Ok(Ok(n)) if is_reply(v6, raw, &buf[..n], &token) => return Ok(()),
            Ok(Ok(_)) | Err(_) => continue,
            Ok(Err(e)) => return Err(e),
        }
    }
}

pub async fn check(target: &Target) -> Outcome {
    match tokio::time::timeout(target.timeout, ping(target)).await {
        Ok(Ok(())) => Outcome::pass("echo reply"),
        Ok(Err(e)) => Outcome::fail(e.to_string()),
        Err(_) => Outcome::fail(format!("no echo reply within {:?}", target.timeout)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_requests_carry_a_valid_checksum_and_replies_match_the_token() {
        let token = *b"kaconsol";
        let req = echo_request(false, 0x1234, 1, &token);
        assert_eq!(
            checksum(&req),
            0,
            "a message with its checksum sums to zero"
        );
        assert_eq!(&req[..2], &[8, 0]);
        let mut reply = req.clone();
        reply[0] = 0;
        assert!(is_reply(false, false, &reply, &token));
        assert!(!is_reply(false, false, &req, &token), "our own request");
        assert!(!is_reply(false, false, &reply, b"someone "));
        let mut with_ip = vec![0x45u8; 20];
        with_ip.extend_from_slice(&reply);
        assert!(is_reply(false, true, &with_ip, &token));
        let v6 = echo_request(true, 1, 1, &token);
        assert_eq!(v6[0], 128);
    }
}
