//! A neighbour that sends VRRP adverts with any source address it likes: a raw IPv4 socket
//! (the IP header written by us, IP_HDRINCL) opened inside a host's network namespace.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};

use kaconsole::vrrp::checksum::ChecksumForm;
use kaconsole::vrrp::packet::Advert;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// 224.0.0.18, the VRRP group.
pub const VRRP_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// A raw socket on `eth0` of the host `h`.
pub struct Spoofer {
    socket: Socket,
    /// The IP packet being built, reused.
    buf: Vec<u8>,
}

impl Spoofer {
    /// Opens the socket in the host's namespace (on a thread of its own, which is the only one
    /// that enters the namespace; the socket stays in it).
    pub fn new(h: &super::segment::Host) -> Spoofer {
        let ns = format!("/run/netns/{}", h.ns);
        let local: Ipv4Addr = h.addr.parse().unwrap();
        let socket = std::thread::spawn(move || {
            let f = std::fs::File::open(&ns).unwrap();
            nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).unwrap();
            s.set_header_included_v4(true).unwrap();
            s.bind_device(Some(b"eth0")).unwrap();
            s.set_multicast_if_v4(&local).unwrap();
            s
        })
        .join()
        .unwrap();
        Spoofer {
            socket,
            buf: Vec::new(),
        }
    }

    /// Sends `advert` from `src` to the VRRP group with TTL 255 (the kernel fills in the IP
    /// header's length, identification and checksum).
    pub fn send(&mut self, src: Ipv4Addr, advert: &Advert) {
        let dst = VRRP_GROUP;
        let vrrp = advert.to_bytes(ChecksumForm::Plain, IpAddr::V4(src), IpAddr::V4(dst));
        self.buf.clear();
        self.buf
            .extend([0x45, 0xc0, 0, 0, 0, 0, 0, 0, 255, 112, 0, 0]);
        self.buf.extend(src.octets());
        self.buf.extend(dst.octets());
        self.buf.extend(vrrp);
        let to = SockAddr::from(SocketAddrV4::new(dst, 0));
        // A full socket buffer (ENOBUFS) drops the packet, as a busy wire would.
        let _ = self.socket.send_to(&self.buf, &to);
    }
}
