//! The IPVS generic netlink family's messages (include/uapi/linux/ip_vs.h; the kernel's
//! net/netfilter/ipvs/ip_vs_ctl.c parses them): typed requests we send, and the services,
//! destinations and settings the kernel sends back. Integers are in host order except ports,
//! which the kernel keeps in network order; an address is always 16 bytes (union
//! nf_inet_addr, IPv4 in the first 4).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::nla::{self, NlaError, Writer};

/// Netlink (linux/netlink.h) and generic netlink (linux/genetlink.h) numbers.
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP: u16 = 0x300;
pub const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

/// The family's name; its number is given out at module load and must be asked for.
pub const FAMILY: &str = "IPVS";
pub const VERSION: u8 = 1;

/// IPVS_CMD_*.
pub mod cmd {
    pub const NEW_SERVICE: u8 = 1;
    pub const SET_SERVICE: u8 = 2;
    pub const DEL_SERVICE: u8 = 3;
    pub const GET_SERVICE: u8 = 4;
    pub const NEW_DEST: u8 = 5;
    pub const SET_DEST: u8 = 6;
    pub const DEL_DEST: u8 = 7;
    pub const GET_DEST: u8 = 8;
    pub const NEW_DAEMON: u8 = 9;
    pub const DEL_DAEMON: u8 = 10;
    pub const GET_DAEMON: u8 = 11;
    pub const SET_CONFIG: u8 = 12;
    pub const GET_CONFIG: u8 = 13;
    pub const SET_INFO: u8 = 14;
    pub const GET_INFO: u8 = 15;
    pub const ZERO: u8 = 16;
    pub const FLUSH: u8 = 17;
}

/// IPVS_CMD_ATTR_*: the first level of a message.
mod cmd_attr {
    pub const SERVICE: u16 = 1;
    pub const DEST: u16 = 2;
    pub const DAEMON: u16 = 3;
    pub const TIMEOUT_TCP: u16 = 4;
    pub const TIMEOUT_TCP_FIN: u16 = 5;
    pub const TIMEOUT_UDP: u16 = 6;
}

/// IPVS_SVC_ATTR_*, inside IPVS_CMD_ATTR_SERVICE.
mod svc {
    pub const AF: u16 = 1;
    pub const PROTOCOL: u16 = 2;
    pub const ADDR: u16 = 3;
    pub const PORT: u16 = 4;
    pub const FWMARK: u16 = 5;
    pub const SCHED_NAME: u16 = 6;
    pub const FLAGS: u16 = 7;
    pub const TIMEOUT: u16 = 8;
    pub const NETMASK: u16 = 9;
    pub const PE_NAME: u16 = 11;
}

/// IPVS_DEST_ATTR_*, inside IPVS_CMD_ATTR_DEST.
mod dest {
    pub const ADDR: u16 = 1;
    pub const PORT: u16 = 2;
    pub const FWD_METHOD: u16 = 3;
    pub const WEIGHT: u16 = 4;
    pub const U_THRESH: u16 = 5;
    pub const L_THRESH: u16 = 6;
    pub const ACTIVE_CONNS: u16 = 7;
    pub const INACT_CONNS: u16 = 8;
    pub const ADDR_FAMILY: u16 = 11;
    pub const TUN_TYPE: u16 = 13;
    pub const TUN_PORT: u16 = 14;
    pub const TUN_FLAGS: u16 = 15;
}

/// IPVS_DAEMON_ATTR_*, inside IPVS_CMD_ATTR_DAEMON.
mod daemon {
    pub const STATE: u16 = 1;
    pub const MCAST_IFN: u16 = 2;
    pub const SYNC_ID: u16 = 3;
    pub const SYNC_MAXLEN: u16 = 4;
    pub const MCAST_GROUP: u16 = 5;
    pub const MCAST_GROUP6: u16 = 6;
    pub const MCAST_PORT: u16 = 7;
    pub const MCAST_TTL: u16 = 8;
}

/// IPVS_INFO_ATTR_*.
mod info {
    pub const VERSION: u16 = 1;
    pub const CONN_TAB_SIZE: u16 = 2;
}

/// Service flags (IP_VS_SVC_F_*). HASHED is the kernel's own and is ignored on reading.
pub mod flags {
    pub const PERSISTENT: u32 = 0x1;
    pub const HASHED: u32 = 0x2;
    pub const ONEPACKET: u32 = 0x4;
    pub const SCHED1: u32 = 0x8;
    pub const SCHED2: u32 = 0x10;
    pub const SCHED3: u32 = 0x20;
}

pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;
pub const IPPROTO_TCP: u16 = 6;
pub const IPPROTO_UDP: u16 = 17;
pub const IPPROTO_SCTP: u16 = 132;

fn family(a: &IpAddr) -> u16 {
    match a {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

fn addr16(a: &IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match a {
        IpAddr::V4(v4) => b[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => b = v6.octets(),
    }
    b
}

fn addr_from(af: u16, p: &[u8]) -> Result<IpAddr, MessageError> {
    match (af, p.len()) {
        (AF_INET, 4..) => Ok(Ipv4Addr::new(p[0], p[1], p[2], p[3]).into()),
        (AF_INET6, 16..) => {
            let b: [u8; 16] = p[..16].try_into().unwrap_or_default();
            Ok(Ipv6Addr::from(b).into())
        }
        _ => Err(MessageError::Address(af, p.len())),
    }
}

/// How the kernel finds a service: address, port and protocol, or firewall mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    Addr { proto: u16, addr: IpAddr, port: u16 },
    Fwmark { af: u16, mark: u32 },
}

impl ServiceKey {
    fn af(&self) -> u16 {
        match self {
            ServiceKey::Addr { addr, .. } => family(addr),
            ServiceKey::Fwmark { af, .. } => *af,
        }
    }

    fn write(&self, w: &mut Writer) {
        w.u16(svc::AF, self.af());
        match self {
            ServiceKey::Addr { proto, addr, port } => {
                w.u16(svc::PROTOCOL, *proto)
                    .bytes(svc::ADDR, &addr16(addr))
                    .be16(svc::PORT, *port);
            }
            ServiceKey::Fwmark { mark, .. } => {
                w.u32(svc::FWMARK, *mark);
            }
        }
    }
}

impl std::fmt::Display for ServiceKey {
    /// As `ipvsadm -Ln` names it: `TCP 10.0.0.1:80`, `FWM 7`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceKey::Addr { proto, addr, port } => {
                let p = match *proto {
                    IPPROTO_TCP => "TCP",
                    IPPROTO_UDP => "UDP",
                    IPPROTO_SCTP => "SCTP",
                    _ => "?",
                };
                match addr {
                    IpAddr::V6(a) => write!(f, "{p} [{a}]:{port}"),
                    a => write!(f, "{p} {a}:{port}"),
                }
            }
            ServiceKey::Fwmark { af, mark } if *af == AF_INET6 => write!(f, "FWM {mark} IPv6"),
            ServiceKey::Fwmark { mark, .. } => write!(f, "FWM {mark}"),
        }
    }
}

/// A virtual service's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub key: ServiceKey,
    pub sched: String,
    /// IP_VS_SVC_F_* without HASHED.
    pub flags: u32,
    /// Persistence timeout, seconds.
    pub timeout: u32,
    /// Persistence granularity: an IPv4 mask (network order, as a u32 of its octets), or an
    /// IPv6 prefix length.
    pub netmask: u32,
    pub pe_name: Option<String>,
}

impl Service {
    fn write(&self, w: &mut Writer) {
        self.key.write(w);
        w.str(svc::SCHED_NAME, &self.sched);
        if let Some(pe) = &self.pe_name {
            w.str(svc::PE_NAME, pe);
        }
        // struct ip_vs_flags { flags, mask }: every flag is set or cleared.
        let mut f = self.flags.to_ne_bytes().to_vec();
        f.extend_from_slice(&u32::MAX.to_ne_bytes());
        w.bytes(svc::FLAGS, &f)
            .u32(svc::TIMEOUT, self.timeout)
            .u32(svc::NETMASK, self.netmask);
    }
}

/// IP_VS_CONN_F_* forwarding methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    Masq,
    Local,
    Tunnel,
    Route,
}

impl Forward {
    pub fn code(self) -> u32 {
        match self {
            Forward::Masq => 0,
            Forward::Local => 1,
            Forward::Tunnel => 2,
            Forward::Route => 3,
        }
    }

    fn from_code(c: u32) -> Forward {
        match c & 7 {
            1 => Forward::Local,
            2 => Forward::Tunnel,
            3 => Forward::Route,
            _ => Forward::Masq,
        }
    }
}

/// A real server of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dest {
    pub addr: IpAddr,
    pub port: u16,
    pub forward: Forward,
    pub weight: u32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    /// Tunnel type (IP_VS_CONN_F_TUNNEL_TYPE_IPIP 0, GUE 1, GRE 2), port (GUE) and checksum
    /// flags (NOCSUM 0, CSUM 1, REMCSUM 2); only sent for TUN.
    pub tun_type: u8,
    pub tun_port: u16,
    pub tun_flags: u16,
}

impl Dest {
    fn write_key(&self, w: &mut Writer) {
        w.u16(dest::ADDR_FAMILY, family(&self.addr))
            .bytes(dest::ADDR, &addr16(&self.addr))
            .be16(dest::PORT, self.port);
    }

    fn write(&self, w: &mut Writer) {
        self.write_key(w);
        w.u32(dest::FWD_METHOD, self.forward.code())
            .u32(dest::WEIGHT, self.weight);
        // As keepalived's libipvs: the tunnel attributes only for TUN, the port only for
        // GUE, the checksum flags not for IPIP.
        if self.forward == Forward::Tunnel {
            w.u8(dest::TUN_TYPE, self.tun_type);
            if self.tun_type == 1 {
                w.be16(dest::TUN_PORT, self.tun_port);
            }
            if self.tun_type != 0 {
                w.u16(dest::TUN_FLAGS, self.tun_flags);
            }
        }
        w.u32(dest::U_THRESH, self.u_threshold)
            .u32(dest::L_THRESH, self.l_threshold);
    }
}

/// `lvs_timeouts`: the connection timeouts, seconds (0: leave as is).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// A connection synchronisation daemon (`lvs_sync_daemon`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncDaemon {
    /// IP_VS_STATE_MASTER 1, IP_VS_STATE_BACKUP 2.
    pub state: u32,
    pub interface: String,
    pub sync_id: u32,
    pub maxlen: Option<u16>,
    pub group: Option<IpAddr>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
}

/// What we ask of the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// CTRL_CMD_GETFAMILY for "IPVS" (to the controller, not to IPVS).
    Family,
    NewService(Service),
    SetService(Service),
    DelService(ServiceKey),
    NewDest(ServiceKey, Dest),
    SetDest(ServiceKey, Dest),
    DelDest(ServiceKey, Dest),
    Flush,
    GetInfo,
    /// A dump of every service.
    GetServices,
    /// A dump of one service's destinations.
    GetDests(ServiceKey),
    GetConfig,
    SetConfig(Timeouts),
    NewDaemon(SyncDaemon),
    /// Stops the daemon in this state.
    DelDaemon(u32),
}

impl Request {
    pub fn is_dump(&self) -> bool {
        matches!(self, Request::GetServices | Request::GetDests(_))
    }

    /// The generic netlink command, version and attributes.
    pub fn genl(&self) -> (u8, u8, Vec<u8>) {
        let mut w = Writer::default();
        let service = |w: &mut Writer, s: &Service| {
            w.begin(cmd_attr::SERVICE);
            s.write(w);
            w.end();
        };
        let key = |w: &mut Writer, k: &ServiceKey| {
            w.begin(cmd_attr::SERVICE);
            k.write(w);
            w.end();
        };
        let c = match self {
            Request::Family => {
                w.str(CTRL_ATTR_FAMILY_NAME, FAMILY);
                return (CTRL_CMD_GETFAMILY, 1, w.buf);
            }
            Request::NewService(s) => {
                service(&mut w, s);
                cmd::NEW_SERVICE
            }
            Request::SetService(s) => {
                service(&mut w, s);
                cmd::SET_SERVICE
            }
            Request::DelService(k) => {
                key(&mut w, k);
                cmd::DEL_SERVICE
            }
            Request::NewDest(k, d) | Request::SetDest(k, d) => {
                key(&mut w, k);
                w.begin(cmd_attr::DEST);
                d.write(&mut w);
                w.end();
                if matches!(self, Request::NewDest(..)) {
                    cmd::NEW_DEST
                } else {
                    cmd::SET_DEST
                }
            }
            Request::DelDest(k, d) => {
                key(&mut w, k);
                w.begin(cmd_attr::DEST);
                d.write_key(&mut w);
                w.end();
                cmd::DEL_DEST
            }
            Request::Flush => cmd::FLUSH,
            Request::GetInfo => cmd::GET_INFO,
            Request::GetServices => cmd::GET_SERVICE,
            Request::GetDests(k) => {
                key(&mut w, k);
                cmd::GET_DEST
            }
            Request::GetConfig => cmd::GET_CONFIG,
            Request::SetConfig(t) => {
                for (attr, v) in [
                    (cmd_attr::TIMEOUT_TCP, t.tcp),
                    (cmd_attr::TIMEOUT_TCP_FIN, t.tcp_fin),
                    (cmd_attr::TIMEOUT_UDP, t.udp),
                ] {
                    if v != 0 {
                        w.u32(attr, v);
                    }
                }
                cmd::SET_CONFIG
            }
            Request::NewDaemon(d) => {
                w.begin(cmd_attr::DAEMON)
                    .u32(daemon::STATE, d.state)
                    .str(daemon::MCAST_IFN, &d.interface)
                    .u32(daemon::SYNC_ID, d.sync_id);
                if let Some(m) = d.maxlen {
                    w.u16(daemon::SYNC_MAXLEN, m);
                }
                match d.group {
                    Some(IpAddr::V4(g)) => {
                        w.bytes(daemon::MCAST_GROUP, &g.octets());
                    }
                    Some(IpAddr::V6(g)) => {
                        w.bytes(daemon::MCAST_GROUP6, &g.octets());
                    }
                    None => {}
                }
                if let Some(p) = d.port {
                    w.u16(daemon::MCAST_PORT, p);
                }
                if let Some(t) = d.ttl {
                    w.u8(daemon::MCAST_TTL, t);
                }
                w.end();
                cmd::NEW_DAEMON
            }
            Request::DelDaemon(state) => {
                w.begin(cmd_attr::DAEMON).u32(daemon::STATE, *state).end();
                cmd::DEL_DAEMON
            }
        };
        (c, VERSION, w.buf)
    }

    /// The whole netlink message for family number `family_id` (ignored for [`Family`]).
    pub fn frame(&self, family_id: u16, seq: u32) -> Vec<u8> {
        let (c, version, attrs) = self.genl();
        let kind = if *self == Request::Family {
            GENL_ID_CTRL
        } else {
            family_id
        };
        let flags = NLM_F_REQUEST
            | if self.is_dump() {
                NLM_F_DUMP
            } else {
                NLM_F_ACK
            };
        let len = 16 + 4 + attrs.len();
        let mut m = Vec::with_capacity(len);
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
        m.extend_from_slice(&[c, version, 0, 0]);
        m.extend_from_slice(&attrs);
        m
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("truncated netlink message ({0} bytes)")]
    Truncated(usize),
    #[error(transparent)]
    Attribute(#[from] NlaError),
    #[error("address of family {0} in {1} bytes")]
    Address(u16, usize),
    #[error("a service without {0}")]
    Missing(&'static str),
}

/// One netlink message of a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// NLMSG_ERROR with 0: the acknowledgement.
    Ack,
    /// NLMSG_ERROR: the (positive) errno.
    Error(i32),
    Done,
    /// A generic netlink message: its command and attributes.
    Genl {
        cmd: u8,
        attrs: &'a [u8],
    },
}

/// The messages in a datagram the kernel sent, with their sequence numbers.
pub fn replies(mut buf: &[u8]) -> Result<Vec<(u32, Reply<'_>)>, MessageError> {
    let mut out = Vec::new();
    while buf.len() >= 16 {
        let len = u32::from_ne_bytes(buf[0..4].try_into().unwrap_or_default()) as usize;
        if len < 16 || len > buf.len() {
            return Err(MessageError::Truncated(buf.len()));
        }
        let kind = u16::from_ne_bytes([buf[4], buf[5]]);
        let seq = u32::from_ne_bytes(buf[8..12].try_into().unwrap_or_default());
        let body = &buf[16..len];
        let reply = match kind {
            NLMSG_DONE => Reply::Done,
            NLMSG_ERROR => {
                let e = body
                    .get(..4)
                    .map(|b| i32::from_ne_bytes(b.try_into().unwrap_or_default()))
                    .ok_or(MessageError::Truncated(body.len()))?;
                if e == 0 { Reply::Ack } else { Reply::Error(-e) }
            }
            _ if body.len() >= 4 => Reply::Genl {
                cmd: body[0],
                attrs: &body[4..],
            },
            _ => return Err(MessageError::Truncated(body.len())),
        };
        out.push((seq, reply));
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
    }
    Ok(out)
}

/// The family number in the controller's answer to [`Request::Family`].
pub fn family_id(attrs: &[u8]) -> Result<Option<u16>, MessageError> {
    for (kind, p) in nla::parse(attrs)? {
        if kind == CTRL_ATTR_FAMILY_ID {
            return Ok(Some(nla::get_u16(kind, p)?));
        }
    }
    Ok(None)
}

/// The nest `kind` among the first-level attributes.
fn nest(attrs: &[u8], kind: u16) -> Result<Option<&[u8]>, MessageError> {
    Ok(nla::parse(attrs)?
        .into_iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, p)| p))
}

/// A service of a GET_SERVICE dump.
pub fn parse_service(attrs: &[u8]) -> Result<Service, MessageError> {
    let body = nest(attrs, cmd_attr::SERVICE)?.ok_or(MessageError::Missing("attributes"))?;
    let (mut af, mut proto, mut addr, mut port, mut mark) = (0, 0, None, 0, None);
    let mut s = Service {
        key: ServiceKey::Fwmark { af: 0, mark: 0 },
        sched: String::new(),
        flags: 0,
        timeout: 0,
        netmask: 0,
        pe_name: None,
    };
    for (k, p) in nla::parse(body)? {
        match k {
            svc::AF => af = nla::get_u16(k, p)?,
            svc::PROTOCOL => proto = nla::get_u16(k, p)?,
            svc::ADDR => addr = Some(p),
            svc::PORT => port = nla::get_be16(k, p)?,
            svc::FWMARK => mark = Some(nla::get_u32(k, p)?),
            svc::SCHED_NAME => s.sched = nla::get_str(p),
            svc::PE_NAME => s.pe_name = Some(nla::get_str(p)).filter(|n| !n.is_empty()),
            svc::FLAGS => s.flags = nla::get_u32(k, p)? & !flags::HASHED,
            svc::TIMEOUT => s.timeout = nla::get_u32(k, p)?,
            svc::NETMASK => s.netmask = nla::get_u32(k, p)?,
            _ => {}
        }
    }
    s.key = match (mark.filter(|m| *m != 0), addr) {
        (Some(mark), _) => ServiceKey::Fwmark { af, mark },
        (None, Some(a)) => ServiceKey::Addr {
            proto,
            addr: addr_from(af, a)?,
            port,
        },
        (None, None) => return Err(MessageError::Missing("an address or a fwmark")),
    };
    Ok(s)
}

/// A destination of a GET_DEST dump, with its active and inactive connections.
pub fn parse_dest(attrs: &[u8], service_af: u16) -> Result<(Dest, u32, u32), MessageError> {
    let body = nest(attrs, cmd_attr::DEST)?.ok_or(MessageError::Missing("attributes"))?;
    let mut af = service_af;
    let (mut addr, mut conns) = (None, (0, 0));
    let mut d = Dest {
        addr: Ipv4Addr::UNSPECIFIED.into(),
        port: 0,
        forward: Forward::Masq,
        weight: 0,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: 0,
        tun_port: 0,
        tun_flags: 0,
    };
    for (k, p) in nla::parse(body)? {
        match k {
            dest::ADDR_FAMILY => af = nla::get_u16(k, p)?,
            dest::ADDR => addr = Some(p),
            dest::PORT => d.port = nla::get_be16(k, p)?,
            dest::FWD_METHOD => d.forward = Forward::from_code(nla::get_u32(k, p)?),
            dest::WEIGHT => d.weight = nla::get_u32(k, p)?,
            dest::U_THRESH => d.u_threshold = nla::get_u32(k, p)?,
            dest::L_THRESH => d.l_threshold = nla::get_u32(k, p)?,
            dest::ACTIVE_CONNS => conns.0 = nla::get_u32(k, p)?,
            dest::INACT_CONNS => conns.1 = nla::get_u32(k, p)?,
            dest::TUN_TYPE => d.tun_type = nla::get_u8(k, p)?,
            dest::TUN_PORT => d.tun_port = nla::get_be16(k, p)?,
            dest::TUN_FLAGS => d.tun_flags = nla::get_u16(k, p)?,
            _ => {}
        }
    }
    d.addr = addr_from(af, addr.ok_or(MessageError::Missing("an address"))?)?;
    Ok((d, conns.0, conns.1))
}

/// GET_CONFIG's answer.
pub fn parse_timeouts(attrs: &[u8]) -> Result<Timeouts, MessageError> {
    let mut t = Timeouts::default();
    for (k, p) in nla::parse(attrs)? {
        match k {
            cmd_attr::TIMEOUT_TCP => t.tcp = nla::get_u32(k, p)?,
            cmd_attr::TIMEOUT_TCP_FIN => t.tcp_fin = nla::get_u32(k, p)?,
            cmd_attr::TIMEOUT_UDP => t.udp = nla::get_u32(k, p)?,
            _ => {}
        }
    }
    Ok(t)
}

/// GET_INFO's answer: the IPVS version (e.g. 0x010201 for 1.2.1) and the connection table
/// size.
pub fn parse_info(attrs: &[u8]) -> Result<(u32, u32), MessageError> {
    let (mut version, mut size) = (0, 0);
    for (k, p) in nla::parse(attrs)? {
        match k {
            info::VERSION => version = nla::get_u32(k, p)?,
            info::CONN_TAB_SIZE => size = nla::get_u32(k, p)?,
            _ => {}
        }
    }
    Ok((version, size))
}
