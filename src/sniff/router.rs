//! A VRRP group as the wire shows it, and what the segment table keeps of each router in it:
//! a bounded record (a few MACs, the first addresses of its advert), whatever it sends.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::observe::{Observed, mac};
use crate::vrrp::packet::{Advert, AuthType, Version};

/// Source MACs kept per router (a real one has one, two with a VMAC).
pub const MACS_KEPT: usize = 4;

/// Virtual addresses kept per router: an advert may list 255, a real one a few (keepalived
/// advises `virtual_ipaddress_excluded` beyond 20). The rest are counted (`addrs_more`).
pub const ADDRS_KEPT: usize = 32;

/// One VRRP group as the wire shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub vrid: u8,
    pub ipv6: bool,
    pub version: u8,
    /// Sent to a unicast address rather than the VRRP group (224.0.0.18 / ff02::12).
    pub unicast: bool,
}

/// A router of a group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Router {
    /// Up to [`MACS_KEPT`].
    pub macs: BTreeSet<String>,
    #[serde(skip)]
    last_mac: Option<[u8; 6]>,
    pub vmac: bool,
    pub priority: u8,
    /// Advert interval in centiseconds.
    pub interval_cs: u32,
    /// The first [`ADDRS_KEPT`] addresses of its last advert.
    pub addrs: Vec<IpAddr>,
    /// How many more addresses its last advert listed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub addrs_more: u32,
    pub auth: Cow<'static, str>,
    /// The v2 simple password, as sent (it is plain text on the wire).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub adverts: u64,
    pub priority_zero: u64,
    /// Its last advert had priority 0: it stopped being master (RFC 5798 §6.4.3).
    pub left: bool,
    /// Adverts from this source that failed the TTL / checksum check (not taken in: the
    /// group's evidence counts them all, [`super::rejected`]).
    pub bad_ttl: u64,
    pub bad_checksum: u64,
    pub first_us: u64,
    pub last_us: u64,
    /// Adverts sent while another router of the group was also advertising.
    pub concurrent: u64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

pub(crate) fn auth_name(a: &Advert) -> &'static str {
    match a.auth.map(|x| x.kind) {
        None if a.version == Version::V3 => "none (v3)",
        None | Some(AuthType::None) => "none",
        Some(AuthType::Pass) => "PASS",
        Some(AuthType::Ah) => "AH",
        Some(AuthType::Unknown(_)) => "unknown",
    }
}

impl Router {
    /// Adverts per second over the time it was heard.
    pub fn rate(&self) -> f64 {
        let span = self.last_us.saturating_sub(self.first_us) as f64 / 1e6;
        if self.adverts < 2 || span <= 0.0 {
            0.0
        } else {
            (self.adverts - 1) as f64 / span
        }
    }

    /// Its advert interval in microseconds (at least a centisecond).
    pub fn interval_us(&self) -> u64 {
        u64::from(self.interval_cs.max(1)) * 10_000
    }

    /// Takes in an advert that passed the checks. Only what changed is rebuilt (a capture
    /// repeats the same adverts).
    pub fn heard(&mut self, s: &Observed, advert: &Advert) {
        if self.adverts == 0 {
            self.first_us = s.ts_us;
        }
        self.adverts += 1;
        self.last_us = s.ts_us;
        if let Some(m) = &s.src_mac
            && self.last_mac != Some(*m)
        {
            self.last_mac = Some(*m);
            if self.macs.len() < MACS_KEPT {
                self.macs.insert(mac(m));
            }
        }
        self.vmac |= s.vmac();
        self.interval_cs = (advert.interval.as_micros() / 10_000) as u32;
        let kept = &advert.addrs[..advert.addrs.len().min(ADDRS_KEPT)];
        if self.addrs != kept {
            self.addrs = kept.to_vec();
        }
        self.addrs_more = (advert.addrs.len() - kept.len()) as u32;
        self.auth = Cow::Borrowed(auth_name(advert));
        let password = advert
            .auth
            .filter(|a| a.kind == AuthType::Pass)
            .and_then(|a| a.data);
        if password.is_some() || self.password.is_some() {
            self.password = password.map(|d| {
                String::from_utf8_lossy(&d)
                    .trim_end_matches('\0')
                    .to_string()
            });
        }
        self.left = advert.priority == 0;
        if advert.priority == 0 {
            self.priority_zero += 1;
        } else {
            self.priority = advert.priority;
        }
    }
}
