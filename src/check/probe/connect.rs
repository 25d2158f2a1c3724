//! Opening a probe's connection with the generic options: bindto/bind_port (bind before
//! connect), bind_if (SO_BINDTODEVICE), fwmark (SO_MARK), and connect_timeout
//! (keepalived's core/layer4.c `socket_bind_connect`).

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

use super::Target;

fn options(s: SockRef<'_>, t: &Target) -> io::Result<()> {
    if let Some(mark) = t.fwmark {
        s.set_mark(mark)?;
    }
    if let Some(dev) = &t.bind_if {
        s.bind_device(Some(dev.as_bytes()))?;
    }
    Ok(())
}

/// The local address to bind, if bindto or bind_port asks for one.
fn source(t: &Target) -> Option<SocketAddr> {
    if t.bind.is_none() && t.bind_port.is_none() {
        return None;
    }
    let ip = t.bind.unwrap_or(match t.addr {
        SocketAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
    });
    Some(SocketAddr::new(ip, t.bind_port.unwrap_or(0)))
}

fn timed_out(t: &Target) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("timeout after {:?}", t.timeout),
    )
}

/// A TCP connection to the target within connect_timeout.
pub async fn tcp(t: &Target) -> io::Result<TcpStream> {
    let sock = match t.addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    options(SockRef::from(&sock), t)?;
    if let Some(src) = source(t) {
        sock.set_reuseaddr(true)?;
        sock.bind(src)?;
    }
    match tokio::time::timeout(t.timeout, sock.connect(t.addr)).await {
        Ok(r) => r,
        Err(_) => Err(timed_out(t)),
    }
}

/// Closes a TCP_CHECK's connection with a reset (SO_LINGER 0), as HAProxy's health checks
/// do: the check is over once the handshake is, and an orderly close would leave this end in
/// TIME_WAIT for 60 s (300,000 sockets at 5,000 checks a second) and cost a FIN exchange.
pub fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
}

/// A connected UDP socket to the target; connected so that ICMP errors come back as
/// ECONNREFUSED on the next receive.
pub fn udp(t: &Target) -> io::Result<UdpSocket> {
    let s = Socket::new(
        Domain::for_address(t.addr),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    options(SockRef::from(&s), t)?;
    if let Some(src) = source(t) {
        s.bind(&src.into())?;
    }
    s.set_nonblocking(true)?;
    s.connect(&t.addr.into())?;
    UdpSocket::from_std(s.into())
}

/// Runs `work` within the target's connect_timeout.
pub async fn within<T>(
    t: &Target,
    work: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(t.timeout, work)
        .await
        .unwrap_or_else(|_| Err(timed_out(t).to_string()))
}
