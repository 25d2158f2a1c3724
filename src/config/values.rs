//! Value types shared by the configuration model.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A duration in microseconds (keepalived reads seconds with up to 6 decimals). Shown in JSON
/// as seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub u64);

impl Micros {
    pub const fn secs(s: u64) -> Micros {
        Micros(s * 1_000_000)
    }
    pub const fn as_secs(self) -> u64 {
        self.0 / 1_000_000
    }
}

impl Serialize for Micros {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(1_000_000) {
            s.serialize_u64(self.0 / 1_000_000)
        } else {
            s.serialize_f64(self.0 as f64 / 1e6)
        }
    }
}

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", super::table::fmt_secs(self.0))
    }
}

/// An address with a prefix length (`10.0.0.1/24`); the length defaults to the full width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl Prefix {
    pub fn max_len(addr: IpAddr) -> u8 {
        if addr.is_ipv4() { 32 } else { 128 }
    }
    pub fn host(addr: IpAddr) -> Prefix {
        Prefix {
            addr,
            len: Self::max_len(addr),
        }
    }
}

impl FromStr for Prefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("'{a}' is not an IP address"))?;
        let max = Self::max_len(addr);
        let len = match l {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("'/{l}' is not a prefix length 0..{max}")),
            },
        };
        Ok(Prefix { addr, len })
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == Self::max_len(self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.len)
        }
    }
}

impl Serialize for Prefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// IP version of an address, for family checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub fn of(a: &IpAddr) -> Family {
        if a.is_ipv4() {
            Family::Inet
        } else {
            Family::Inet6
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Family::Inet => "IPv4",
            Family::Inet6 => "IPv6",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p: Prefix = "10.0.0.1/24".parse().unwrap();
        assert_eq!(p.len, 24);
        assert_eq!(p.to_string(), "10.0.0.1/24");
        let p: Prefix = "fd00::1".parse().unwrap();
        assert_eq!(p.len, 128);
        assert_eq!(p.to_string(), "fd00::1");
        assert!("10.0.0.1/33".parse::<Prefix>().is_err());
        assert!("10.0.0/24".parse::<Prefix>().is_err());
    }

    #[test]
    fn micros_serialize_as_seconds() {
        assert_eq!(serde_json::to_string(&Micros::secs(5)).unwrap(), "5");
        assert_eq!(serde_json::to_string(&Micros(10_000)).unwrap(), "0.01");
    }
}
