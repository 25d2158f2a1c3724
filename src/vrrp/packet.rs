//! VRRP advertisements: a zero-copy view ([`Packet`]) and the typed form ([`Advert`]), in
//! smoltcp's packet/repr style. `Packet::new_checked` guarantees that no accessor panics;
//! `Advert::parse` checks what the RFCs require of the message itself; `Advert::emit` writes
//! exactly `Advert::buffer_len` bytes, checksum included.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! v2: |   Auth Type   |   Adver Int   |          Checksum             |
//! v3: |(rsvd) |     Max Adver Int     |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                IPv4 (4 bytes) or IPv6 (16 bytes) addresses    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! v2 over IPv4 only: |   Authentication Data (8 bytes)          |
//! ```
//! RFC 3768 §5.1 (v2), RFC 5798 §5.1 (v3). VRRPv2 over IPv6 is a keepalived extension: the v2
//! header without the authentication data.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::checksum::{ChecksumForm, vrrp_checksum};
use crate::time::Duration;

pub mod field {
    pub type Field = std::ops::Range<usize>;
    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    /// v2: authentication type; v3: reserved bits and the high bits of the interval.
    pub const AUTH_TYPE: usize = 4;
    /// v2: advertisement interval in seconds.
    pub const ADVER_INT: usize = 5;
    /// v3: 4 reserved bits and a 12-bit interval in centiseconds.
    pub const MAX_ADVER_INT: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
    pub const ADDRS: usize = 8;
}

/// Bytes before the address list.
pub const HEADER_LEN: usize = field::ADDRS;
/// VRRPv2's authentication data (IPv4 only).
pub const AUTH_DATA_LEN: usize = 8;
/// VRRP packet type: the only one defined (RFC 5798 §5.2.2).
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// The largest interval a v3 advert can carry: 12 bits of centiseconds (40.95 s).
pub const V3_MAX_INTERVAL_CS: u16 = 0x0fff;

/// Protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Version {
    #[serde(rename = "2")]
    V2,
    #[serde(rename = "3")]
    V3,
}

impl Version {
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// VRRPv2 authentication type (RFC 3768 §5.3.6; RFC 2338 defined 1 and 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    None,
    /// Simple text password (8 bytes in the authentication data).
    Pass,
    /// IPSEC AH: the advert travels in an AH header, the authentication data is zero.
    Ah,
    Unknown(u8),
}

impl AuthType {
    pub fn from_u8(v: u8) -> AuthType {
        match v {
            0 => AuthType::None,
            1 => AuthType::Pass,
            2 => AuthType::Ah,
            n => AuthType::Unknown(n),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            AuthType::None => 0,
            AuthType::Pass => 1,
            AuthType::Ah => 2,
            AuthType::Unknown(n) => n,
        }
    }
}

/// The VRRPv2 authentication fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Auth {
    #[serde(rename = "type")]
    pub kind: AuthType,
    /// The authentication data; absent over IPv6 (keepalived's v2-over-IPv6 extension).
    #[serde(
        with = "crate::hex::serde_opt8",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<[u8; AUTH_DATA_LEN]>,
}

/// Why bytes are not a VRRP advertisement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("packet too short: {len} bytes, the header needs {HEADER_LEN}")]
    Truncated { len: usize },
    #[error("wrong version {0}: only 2 and 3 exist")]
    Version(u8),
    #[error("wrong type {0}: only 1 (advertisement) exists")]
    Type(u8),
    #[error("packet is {len} bytes but {count} addresses make {expected}")]
    Length {
        len: usize,
        count: u8,
        expected: usize,
    },
}

/// A view of a VRRP message in a buffer.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// A view that is long enough for the fixed header; the address list is checked by
    /// [`Advert::parse`], which knows the family.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, DecodeError> {
        let len = buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(DecodeError::Truncated { len });
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn version(&self) -> u8 {
        self.b()[field::VER_TYPE] >> 4
    }
    pub fn kind(&self) -> u8 {
        self.b()[field::VER_TYPE] & 0x0f
    }
    pub fn vrid(&self) -> u8 {
        self.b()[field::VRID]
    }
    pub fn priority(&self) -> u8 {
        self.b()[field::PRIORITY]
    }
    pub fn count(&self) -> u8 {
        self.b()[field::COUNT]
    }
    /// v2: the authentication type.
    pub fn auth_type(&self) -> u8 {
        self.b()[field::AUTH_TYPE]
    }
    /// v2: the interval in seconds.
    pub fn adver_int_secs(&self) -> u8 {
        self.b()[field::ADVER_INT]
    }
    /// v3: the interval in centiseconds (the low 12 bits).
    pub fn max_adver_int_cs(&self) -> u16 {
        u16::from_be_bytes([self.b()[4], self.b()[5]]) & V3_MAX_INTERVAL_CS
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.b()[6], self.b()[7]])
    }
    /// Everything after the fixed header.
    pub fn body(&self) -> &[u8] {
        &self.b()[field::ADDRS..]
    }
    pub fn as_bytes(&self) -> &[u8] {
        self.b()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_priority(&mut self, p: u8) {
        self.buffer.as_mut()[field::PRIORITY] = p;
    }
    pub fn set_checksum(&mut self, c: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
}

/// The length of an advert of `version` with `count` addresses of `family_v6` or IPv4
/// (`vrrp_pkt_len`).
pub fn advert_len(version: Version, v6: bool, count: usize) -> usize {
    let addr = if v6 { 16 } else { 4 };
    let auth = if version == Version::V2 && !v6 {
        AUTH_DATA_LEN
    } else {
        0
    };
    HEADER_LEN + count * addr + auth
}

/// A VRRP advertisement.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Advert {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// The (maximum) advertisement interval: whole seconds in v2, centiseconds in v3.
    pub interval: Duration,
    /// v2 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    pub addrs: Vec<IpAddr>,
}

impl Advert {
    /// Reads an advert carried over IPv6 (`v6`) or IPv4. The checksum is not looked at (it
    /// depends on the IP header; see [`verify_checksum`]).
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>, v6: bool) -> Result<Advert, DecodeError> {
        let version = match p.version() {
            2 => Version::V2,
            3 => Version::V3,
            n => return Err(DecodeError::Version(n)),
        };
        if p.kind() != TYPE_ADVERTISEMENT {
            return Err(DecodeError::Type(p.kind()));
        }
        let count = p.count();
        let expected = advert_len(version, v6, usize::from(count));
        let len = p.as_bytes().len();
        if len != expected {
            return Err(DecodeError::Length {
                len,
                count,
                expected,
            });
        }
        let body = p.body();
        let step = if v6 { 16 } else { 4 };
        let addrs: Vec<IpAddr> = body[..usize::from(count) * step]
            .chunks_exact(step)
            .map(|a| match <[u8; 16]>::try_from(a) {
                Ok(b) => IpAddr::V6(Ipv6Addr::from(b)),
                Err(_) => IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])),
            })
            .collect();
        let (interval, auth) = match version {
            Version::V2 => {
                let data = (!v6).then(|| {
                    let mut d = [0; AUTH_DATA_LEN];
                    d.copy_from_slice(&body[usize::from(count) * step..]);
                    d
                });
                let auth = Auth {
                    kind: AuthType::from_u8(p.auth_type()),
                    data,
                };
                (Duration::secs(u64::from(p.adver_int_secs())), Some(auth))
            }
            Version::V3 => (Duration::centis(u64::from(p.max_adver_int_cs())), None),
        };
        Ok(Advert {
            version,
            vrid: p.vrid(),
            priority: p.priority(),
            interval,
            auth,
            addrs,
        })
    }

    /// Whether the addresses are IPv6 (an advert with none is taken as IPv4).
    pub fn is_v6(&self) -> bool {
        self.addrs.first().is_some_and(IpAddr::is_ipv6)
    }

    /// The length [`emit`](Self::emit) writes when sent over IPv6 (`v6`) or IPv4.
    pub fn buffer_len(&self, v6: bool) -> usize {
        advert_len(self.version, v6, self.addrs.len())
    }

    /// Writes the advert into `buf` (exactly [`buffer_len`](Self::buffer_len) bytes) with its
    /// checksum in `form` for a packet from `src` to `dst`. Intervals are truncated to what the
    /// field holds (whole seconds, 12 bits of centiseconds); addresses of the other family and
    /// more than 255 addresses are not written (callers check both first).
    pub fn emit(&self, buf: &mut [u8], form: ChecksumForm, src: IpAddr, dst: IpAddr) {
        let v6 = src.is_ipv6();
        let addrs: Vec<&IpAddr> = self
            .addrs
            .iter()
            .filter(|a| a.is_ipv6() == v6)
            .take(255)
            .collect();
        let len = advert_len(self.version, v6, addrs.len());
        let buf = &mut buf[..len];
        buf[field::VER_TYPE] = self.version.number() << 4 | TYPE_ADVERTISEMENT;
        buf[field::VRID] = self.vrid;
        buf[field::PRIORITY] = self.priority;
        buf[field::COUNT] = addrs.len() as u8;
        match self.version {
            Version::V2 => {
                let auth = self.auth.unwrap_or(Auth {
                    kind: AuthType::None,
                    data: None,
                });
                buf[field::AUTH_TYPE] = auth.kind.to_u8();
                buf[field::ADVER_INT] = self.interval.as_secs().min(255) as u8;
            }
            Version::V3 => {
                let cs = self.interval.as_centis().min(u64::from(V3_MAX_INTERVAL_CS)) as u16;
                buf[field::MAX_ADVER_INT].copy_from_slice(&cs.to_be_bytes());
            }
        }
        buf[field::CHECKSUM].fill(0);
        let mut at = field::ADDRS;
        for a in &addrs {
            match a {
                IpAddr::V4(a) => {
                    buf[at..at + 4].copy_from_slice(&a.octets());
                    at += 4;
                }
                IpAddr::V6(a) => {
                    buf[at..at + 16].copy_from_slice(&a.octets());
                    at += 16;
                }
            }
        }
        if self.version == Version::V2 && !v6 {
            let data = self.auth.and_then(|a| a.data).unwrap_or_default();
            buf[at..at + AUTH_DATA_LEN].copy_from_slice(&data);
        }
        let c = vrrp_checksum(buf, form, src, dst);
        buf[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }

    /// The advert as bytes (see [`emit`](Self::emit)).
    pub fn to_bytes(&self, form: ChecksumForm, src: IpAddr, dst: IpAddr) -> Vec<u8> {
        let mut buf = vec![0; self.buffer_len(src.is_ipv6())];
        self.emit(&mut buf, form, src, dst);
        buf
    }
}

/// Which checksum form the message carries, if any matches: v2 is always plain; v3 over IPv6
/// always has the pseudo-header; v3 over IPv4 may be either (keepalived's default includes
/// the pseudo-header, `v3_checksum_as_v2` and RFC 9568 do not), the pseudo-header form is
/// tried first.
pub fn verify_checksum(
    msg: &[u8],
    version: Version,
    src: IpAddr,
    dst: IpAddr,
) -> Option<ChecksumForm> {
    let candidates: &[ChecksumForm] = match (version, src.is_ipv6()) {
        (Version::V2, _) => &[ChecksumForm::Plain],
        (Version::V3, true) => &[ChecksumForm::PseudoHeader],
        (Version::V3, false) => &[ChecksumForm::PseudoHeader, ChecksumForm::Plain],
    };
    let given = Packet::new_checked(msg).ok()?.checksum();
    let mut zeroed = msg.to_vec();
    zeroed[field::CHECKSUM].fill(0);
    candidates
        .iter()
        .copied()
        .find(|&form| vrrp_checksum(&zeroed, form, src, dst) == given)
}

impl fmt::Display for Advert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "VRRPv{} vrid {} prio {} int {}",
            self.version.number(),
            self.vrid,
            self.priority,
            self.interval
        )?;
        if let Some(a) = &self.auth
            && a.kind != AuthType::None
        {
            write!(f, " auth {:?}", a.kind)?;
        }
        let addrs: Vec<String> = self.addrs.iter().map(ToString::to_string).collect();
        write!(f, " [{}]", addrs.join(", "))
    }
}
