//! A capture socket for `kaconsole sniff`: AF_PACKET bound to one interface (or all), with the
//! VRRP filter attached in the kernel and all-multicast on, so that the VRRP groups arrive
//! without joining them.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::libc;
use nix::net::if_::if_nametoindex;
use socket2::{Domain, Protocol, SockFilter, Socket, Type};

/// ETH_P_ALL in network byte order, as AF_PACKET wants the protocol.
const ETH_P_ALL_BE: i32 = (libc::ETH_P_ALL as u16).to_be() as i32;

pub struct Capture {
    socket: Socket,
}

impl Capture {
    /// Captures on `iface` (`any`: every interface). `filter`: the classic BPF program.
    pub fn open(iface: &str, filter: &[(u16, u8, u8, u32)]) -> io::Result<Capture> {
        let ifindex = if iface == "any" {
            0
        } else {
            if_nametoindex(iface)
                .map_err(|e| io::Error::other(format!("interface {iface}: {e}")))?
        };
        let socket = Socket::new(
            Domain::PACKET,
            Type::RAW,
            Some(Protocol::from(ETH_P_ALL_BE)),
        )?;
        // The filter first: nothing else is queued between bind and attach.
        let prog: Vec<SockFilter> = filter
            .iter()
            .map(|&(code, jt, jf, k)| SockFilter::new(code, jt, jf, k))
            .collect();
        socket.attach_filter(&prog)?;
        let addr = super::packet_socket::link_addr(ifindex, libc::ETH_P_ALL as u16, [0; 6]);
        nix::sys::socket::bind(socket.as_raw_fd(), &addr).map_err(io::Error::from)?;
        if ifindex != 0 {
            all_multicast(&socket, ifindex)?;
        }
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        Ok(Capture { socket })
    }

    /// The next frame into `buf`: its length, or `None` after the read timeout.
    pub fn next(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.socket.recv(super::vrrp_socket::unsafe_cast(buf)) {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// PACKET_MR_ALLMULTI on the interface while the socket is open (the kernel undoes it when
/// the socket closes).
#[allow(unsafe_code)]
fn all_multicast(socket: &Socket, ifindex: u32) -> io::Result<()> {
    let mreq = libc::packet_mreq {
        mr_ifindex: ifindex as i32,
        mr_type: libc::PACKET_MR_ALLMULTI as u16,
        mr_alen: 0,
        mr_address: [0; 8],
    };
    // SAFETY: a valid socket, and a complete packet_mreq with its exact size.
    let r = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_ADD_MEMBERSHIP,
            (&mreq as *const libc::packet_mreq).cast(),
            std::mem::size_of::<libc::packet_mreq>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
