//! The IPVS generic netlink socket: the family's number asked of the controller by name, a
//! request and its acknowledgement, dumps to their end. Blocking, with a receive timeout: the
//! daemon runs it on a thread of its own (daemon/lvs/ipvs_worker.rs), never on its loop, and
//! an answer that never comes (a lost acknowledgement) is an error after [`ANSWER_WITHIN`].

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, send,
    setsockopt, socket, sockopt,
};
use nix::sys::time::TimeVal;

use crate::ipvs::message::{
    self, MessageError, Reply, Request, Timeouts, parse_dest, parse_service,
};
use crate::ipvs::reconcile::ServiceState;

#[derive(Debug, thiserror::Error)]
pub enum IpvsError {
    #[error(
        "the kernel has no IPVS (no generic netlink family \"IPVS\"; modprobe ip_vs failed or \
         CONFIG_IP_VS is not set)"
    )]
    Unavailable,
    #[error("{what}: {errno}")]
    Kernel { what: String, errno: Errno },
    #[error("netlink socket: {0}")]
    Socket(Errno),
    #[error("{0}: no answer from the kernel within {ANSWER_WITHIN:?}")]
    NoAnswer(String),
    #[error("netlink reply: {0}")]
    Message(#[from] MessageError),
}

impl IpvsError {
    pub fn errno(&self) -> Option<Errno> {
        match self {
            IpvsError::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
    /// EEXIST: the service, destination or sync daemon is already there.
    pub fn is_exists(&self) -> bool {
        self.errno() == Some(Errno::EEXIST)
    }
}

pub struct IpvsSocket {
    fd: OwnedFd,
    family: u16,
    seq: u32,
    /// When set, every datagram received is kept here (test vectors from a real kernel).
    pub record: Option<Vec<Vec<u8>>>,
}

/// A buffer for one datagram of a dump (the kernel sends at most a page-sized batch).
const RECV: usize = 64 * 1024;

/// How long a request waits for each datagram of its answer.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(5);

impl IpvsSocket {
    /// Opens the socket and finds the IPVS family; if it is missing, loads ip_vs once as
    /// keepalived does (`modprobe ip_vs`) and asks again.
    pub fn open() -> Result<IpvsSocket, IpvsError> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkGeneric,
        )
        .map_err(IpvsError::Socket)?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(IpvsError::Socket)?;
        let within = TimeVal::new(ANSWER_WITHIN.as_secs() as _, 0);
        setsockopt(&fd, sockopt::ReceiveTimeout, &within).map_err(IpvsError::Socket)?;
        let mut s = IpvsSocket {
            fd,
            family: 0,
            seq: 0,
            record: None,
        };
        match s.resolve() {
            Err(IpvsError::Unavailable) => {
                let _ = std::process::Command::new("modprobe")
                    .arg("ip_vs")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
                s.resolve()?;
            }
            r => r?,
        }
        Ok(s)
    }

    fn resolve(&mut self) -> Result<(), IpvsError> {
        let msgs = match self.exchange(&Request::Family) {
            Err(IpvsError::Kernel {
                errno: Errno::ENOENT,
                ..
            }) => {
                return Err(IpvsError::Unavailable);
            }
            r => r?,
        };
        for (_, attrs) in msgs {
            if let Some(id) = message::family_id(&attrs)? {
                self.family = id;
                return Ok(());
            }
        }
        Err(IpvsError::Unavailable)
    }

    /// Sends `req` and collects the generic netlink messages of the answer, up to the
    /// acknowledgement (or the end of a dump).
    fn exchange(&mut self, req: &Request) -> Result<Vec<(u8, Vec<u8>)>, IpvsError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        send(
            self.fd.as_raw_fd(),
            &req.frame(self.family, seq),
            MsgFlags::empty(),
        )
        .map_err(IpvsError::Socket)?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; RECV];
        loop {
            let n = match recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Ok(n) => n,
                // A signal handled on this thread (with a receive timeout set, SA_RESTART
                // does not restart the call).
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Err(IpvsError::NoAnswer(describe(req))),
                Err(e) => return Err(IpvsError::Socket(e)),
            };
            if let Some(r) = self.record.as_mut() {
                r.push(buf[..n].to_vec());
            }
            for (s, reply) in message::replies(&buf[..n])? {
                if s != seq {
                    continue;
                }
                match reply {
                    Reply::Ack | Reply::Done => return Ok(out),
                    Reply::Error(e) => {
                        return Err(IpvsError::Kernel {
                            what: describe(req),
                            errno: Errno::from_raw(e),
                        });
                    }
                    Reply::Genl { cmd, attrs } => out.push((cmd, attrs.to_vec())),
                }
            }
        }
    }

    /// Sends an operation and waits for its acknowledgement.
    pub fn call(&mut self, req: &Request) -> Result<(), IpvsError> {
        self.exchange(req).map(|_| ())
    }

    /// Every service with its destinations.
    pub fn table(&mut self) -> Result<Vec<ServiceState>, IpvsError> {
        let mut table = Vec::new();
        for (_, attrs) in self.exchange(&Request::GetServices)? {
            let service = parse_service(&attrs)?;
            let af = match service.key {
                message::ServiceKey::Addr { addr, .. } if addr.is_ipv6() => message::AF_INET6,
                message::ServiceKey::Addr { .. } => message::AF_INET,
                message::ServiceKey::Fwmark { af, .. } => af,
            };
            let mut dests = Vec::new();
            for (_, d) in self.exchange(&Request::GetDests(service.key))? {
                dests.push(parse_dest(&d, af)?.0);
            }
            table.push(ServiceState { service, dests });
        }
        Ok(table)
    }

    /// The IPVS version and connection table size (GET_INFO).
    pub fn info(&mut self) -> Result<(u32, u32), IpvsError> {
        let msgs = self.exchange(&Request::GetInfo)?;
        match msgs.first() {
            Some((_, attrs)) => Ok(message::parse_info(attrs)?),
            None => Err(MessageError::Missing("an answer").into()),
        }
    }

    /// The connection timeouts (GET_CONFIG).
    pub fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        let msgs = self.exchange(&Request::GetConfig)?;
        match msgs.first() {
            Some((_, attrs)) => Ok(message::parse_timeouts(attrs)?),
            None => Err(MessageError::Missing("an answer").into()),
        }
    }
}

/// What a request does, for the log and its error.
pub fn describe(req: &Request) -> String {
    match req {
        Request::Family => "resolving the IPVS family".into(),
        Request::NewService(s) => format!("adding service {}", s.key),
        Request::SetService(s) => format!("changing service {}", s.key),
        Request::DelService(k) => format!("removing service {k}"),
        Request::NewDest(k, d) => format!("adding {}:{} to {k}", d.addr, d.port),
        Request::SetDest(k, d) => format!("changing {}:{} of {k}", d.addr, d.port),
        Request::DelDest(k, d) => format!("removing {}:{} from {k}", d.addr, d.port),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The development and CI kernels have no IPVS: opening says so, clearly.
    #[test]
    fn without_ipvs_the_socket_says_so() {
        if std::path::Path::new("/proc/net/ip_vs").exists() {
            return;
        }
        match IpvsSocket::open() {
            Err(e @ IpvsError::Unavailable) => {
                assert!(e.to_string().contains("the kernel has no IPVS"))
            }
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("IPVS found without /proc/net/ip_vs"),
        }
    }
}
