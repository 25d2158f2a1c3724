//! An AF_PACKET socket for sending whole Ethernet frames out of one interface: gratuitous ARPs
//! and unsolicited neighbour advertisements (keepalived vrrp_arp.c / vrrp_ndisc.c).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::libc;
use nix::sys::socket::{
    AddressFamily, LinkAddr, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrLike, sendto,
    socket,
};

/// A raw packet socket for one interface.
pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: u32,
}

impl PacketSocket {
    pub fn open(ifindex: u32) -> io::Result<PacketSocket> {
        // Protocol 0: this socket only sends, it receives nothing.
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            None::<SockProtocol>,
        )
        .map_err(io::Error::from)?;
        Ok(PacketSocket { fd, ifindex })
    }

    /// Sends an Ethernet frame (destination MAC first, ethertype at bytes 12-13).
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        if frame.len() < 14 {
            return Err(io::Error::other("an Ethernet frame has 14 header bytes"));
        }
        let mut dst = [0u8; 6];
        dst.copy_from_slice(&frame[..6]);
        let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
        let to = link_addr(self.ifindex, ethertype, dst);
        sendto(self.fd.as_raw_fd(), frame, &to, MsgFlags::empty()).map_err(io::Error::from)?;
        Ok(())
    }
}

/// The `sockaddr_ll` naming the interface, protocol and destination MAC.
#[allow(unsafe_code)]
pub(crate) fn link_addr(ifindex: u32, ethertype: u16, dst: [u8; 6]) -> LinkAddr {
    let mut sll = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: ethertype.to_be(),
        sll_ifindex: ifindex as i32,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 6,
        sll_addr: [0; 8],
    };
    sll.sll_addr[..6].copy_from_slice(&dst);
    // SAFETY: `sll` is a complete, initialised sockaddr_ll and its exact size is given.
    unsafe {
        LinkAddr::from_raw(
            (&sll as *const libc::sockaddr_ll).cast(),
            Some(std::mem::size_of::<libc::sockaddr_ll>() as u32),
        )
    }
    .expect("a sockaddr_ll of the right family and size")
}
