//! The raw sockets VRRP speaks through, one per interface and family (keepalived
//! vrrp.c `open_vrrp_send_socket` / `open_vrrp_read_socket`).
//!
//! IPv4: protocol 112 (and 51 when an instance uses AH) with IP_HDRINCL - we write the IP
//! header ourselves (TTL 255, TOS 0xc0, RFC 5798 §5.1.1.3) and read it back, so the TTL and the
//! addresses come with the packet. IPv6: protocol 112, hop limit 255, the kernel computes and
//! checks the checksum (IPV6_CHECKSUM, RFC 5798 §5.2.8); the hop limit and the destination come
//! as control messages. Both are bound to the interface and joined to the VRRP group.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd};

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn6, recvmsg, sendmsg,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;

use crate::vrrp::checksum::IPPROTO_VRRP;
use crate::vrrp::frame::{self, Received};
use crate::vrrp::ip::IPPROTO_AH;
use crate::vrrp::packet::field;

/// One raw socket, readable from tokio.
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
    v6: bool,
    ifindex: u32,
}

impl VrrpSocket {
    /// An IPv4 socket for `protocol` (112 VRRP, 51 AH) on `ifname`, joined to `groups`.
    pub fn ipv4(ifname: &str, ifindex: u32, protocol: u8, groups: &[Ipv4Addr]) -> io::Result<Self> {
        let s = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(i32::from(protocol))),
        )?;
        s.set_header_included_v4(true)?;
        s.bind_device(Some(ifname.as_bytes()))?;
        s.set_multicast_loop_v4(false)?;
        for g in groups {
            s.join_multicast_v4_n(g, &InterfaceIndexOrAddress::Index(ifindex))?;
        }
        s.set_nonblocking(true)?;
        Ok(VrrpSocket {
            fd: register(s)?,
            v6: false,
            ifindex,
        })
    }

    /// An IPv6 socket for VRRP on `ifname`, joined to `groups`.
    pub fn ipv6(ifname: &str, ifindex: u32, groups: &[Ipv6Addr]) -> io::Result<Self> {
        let s = Socket::new(
            Domain::IPV6,
            Type::RAW,
            Some(Protocol::from(i32::from(IPPROTO_VRRP))),
        )?;
        s.bind_device(Some(ifname.as_bytes()))?;
        s.set_multicast_hops_v6(255)?;
        s.set_unicast_hops_v6(255)?;
        s.set_multicast_loop_v6(false)?;
        s.set_multicast_if_v6(ifindex)?;
        s.set_recv_hoplimit_v6(true)?;
        nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::Ipv6RecvPacketInfo, &true)
            .map_err(io::Error::from)?;
        set_ipv6_checksum_offset(&s, field::CHECKSUM.start as i32)?;
        for g in groups {
            s.join_multicast_v6(g, ifindex)?;
        }
        s.set_nonblocking(true)?;
        Ok(VrrpSocket {
            fd: register(s)?,
            v6: true,
            ifindex,
        })
    }

    /// Sends `packet` to `dst`: a whole IPv4 packet, or an IPv6 VRRP message sent from `src`.
    pub fn send(&self, packet: &[u8], src: IpAddr, dst: IpAddr) -> io::Result<()> {
        let s = self.fd.get_ref();
        match (src, dst) {
            (_, IpAddr::V4(d)) => {
                s.send_to(packet, &SockAddr::from(SocketAddrV4::new(d, 0)))?;
            }
            (IpAddr::V6(src), IpAddr::V6(d)) => {
                let info = nix::libc::in6_pktinfo {
                    ipi6_addr: nix::libc::in6_addr {
                        s6_addr: src.octets(),
                    },
                    ipi6_ifindex: self.ifindex,
                };
                let scope = if d.is_multicast() || d.is_unicast_link_local() {
                    self.ifindex
                } else {
                    0
                };
                let to = SockaddrIn6::from(SocketAddrV6::new(d, 0, 0, scope));
                sendmsg(
                    s.as_raw_fd(),
                    &[IoSlice::new(packet)],
                    &[ControlMessage::Ipv6PacketInfo(&info)],
                    MsgFlags::empty(),
                    Some(&to),
                )
                .map_err(io::Error::from)?;
            }
            _ => return Err(io::Error::other("an IPv6 destination needs an IPv6 source")),
        }
        Ok(())
    }

    /// The next packet, taken apart. Packets that are not VRRP come back as errors.
    pub async fn recv(&self) -> io::Result<Result<Received, frame::FrameError>> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| self.recv_now(fd.get_ref())) {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    fn recv_now(&self, s: &Socket) -> io::Result<Result<Received, frame::FrameError>> {
        let mut buf = [0u8; 9000];
        if !self.v6 {
            let uninit: &mut [MaybeUninit<u8>] = unsafe_cast(&mut buf);
            let n = s.recv(uninit)?;
            return Ok(frame::parse_ipv4(&buf[..n]));
        }
        let mut cmsg = nix::cmsg_space!(nix::libc::c_int, nix::libc::in6_pktinfo);
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<SockaddrIn6>(
            s.as_fd().as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        let mut ttl = 0u8;
        let mut dst = None;
        for c in msg.cmsgs().map_err(io::Error::from)? {
            match c {
                ControlMessageOwned::Ipv6HopLimit(h) => ttl = h.clamp(0, 255) as u8,
                ControlMessageOwned::Ipv6PacketInfo(p) => {
                    dst = Some(Ipv6Addr::from(p.ipi6_addr.s6_addr))
                }
                _ => {}
            }
        }
        let src = msg.address.map(|a| a.ip());
        let n = msg.bytes;
        let (Some(src), Some(dst)) = (src, dst) else {
            return Ok(Err(frame::FrameError::Empty));
        };
        Ok(Ok(Received {
            src: IpAddr::V6(src),
            dst: IpAddr::V6(dst),
            ttl,
            ah: None,
            msg: buf[..n].to_vec(),
        }))
    }

    pub fn is_v6(&self) -> bool {
        self.v6
    }
}

/// Hands a socket to tokio's reactor.
#[allow(unsafe_code)]
pub fn register(s: Socket) -> io::Result<AsyncFd<Socket>> {
    // SAFETY: the AsyncFd owns the Socket, which owns the descriptor: it stays open exactly as
    // long as it is registered (the I/O-safety condition of `register`).
    unsafe { AsyncFd::register(s) }.map_err(|e| e.into_parts().1)
}

/// A byte buffer seen as the `MaybeUninit` buffer socket2 reads into (initialised bytes are
/// valid `MaybeUninit`s; this direction is always sound).
#[allow(unsafe_code)]
pub(crate) fn unsafe_cast(buf: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: MaybeUninit<u8> has the layout of u8, and socket2 only writes into the buffer.
    unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) }
}

/// IPV6_CHECKSUM: the kernel fills in and verifies the checksum at `offset` (RFC 3542 §3.1).
#[allow(unsafe_code)]
fn set_ipv6_checksum_offset(s: &Socket, offset: i32) -> io::Result<()> {
    // SAFETY: a plain int option on a socket we own, with its exact size.
    let r = unsafe {
        nix::libc::setsockopt(
            s.as_raw_fd(),
            nix::libc::IPPROTO_IPV6,
            nix::libc::IPV6_CHECKSUM,
            (&offset as *const i32).cast(),
            std::mem::size_of::<i32>() as u32,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The AH protocol number, for callers opening the second IPv4 socket.
pub const AH: u8 = IPPROTO_AH;

/// Where a VRRP packet for `dst` goes (port 0: raw sockets have none).
pub fn sockaddr(dst: IpAddr) -> SocketAddr {
    SocketAddr::new(dst, 0)
}
