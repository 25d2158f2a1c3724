//! The segment's VRRP routers as the daemon hears them (`kaconsole sniff`'s table): per group
//! every router, who is master, and the conflicts with their evidence.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

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
    pub macs: BTreeSet<String>,
    pub vmac: bool,
    pub priority: u8,
    /// Advert interval in centiseconds.
    pub interval_cs: u32,
    /// The first addresses of its last advert (the daemon keeps 32).
    pub addrs: Vec<IpAddr>,
    /// How many more addresses its last advert listed (absent: none; older daemons kept all).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub addrs_more: u32,
    pub auth: String,
    /// The v2 simple password, as sent (it is plain text on the wire).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub adverts: u64,
    pub priority_zero: u64,
    /// Its last advert had priority 0: it stopped being master.
    pub left: bool,
    pub bad_ttl: u64,
    pub bad_checksum: u64,
    /// Microseconds since the epoch of its first and last advert.
    pub first_us: u64,
    pub last_us: u64,
    /// Adverts sent while another router of the group was also advertising.
    pub concurrent: u64,
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
}

/// A problem on the segment, with what shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `vip-mismatch`, `auth-mismatch`, `interval-mismatch`, `version-mix`, `split-brain`,
    /// `two-owners`, `bad-ttl`, `bad-checksum`, `malformed`.
    pub kind: String,
    pub vrid: Option<u8>,
    pub message: String,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupSnapshot {
    pub key: Key,
    pub master: Option<IpAddr>,
    pub routers: Vec<(IpAddr, Router)>,
}

/// The whole table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub groups: Vec<GroupSnapshot>,
    pub findings: Vec<Finding>,
    pub free_vrids: Vec<u8>,
    pub packets: u64,
    /// Microseconds since the epoch of the last packet.
    pub last_us: u64,
    /// What the daemon's bounds on the table took out (absent while nothing was, and from
    /// daemons that had no bounds).
    #[serde(default, skip_serializing_if = "Dropped::is_none")]
    pub dropped: Dropped,
}

/// Routers the table no longer holds, and its bounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// Routers that made way for newer ones: the table was full (a flood, or a big segment).
    pub evicted: u64,
    /// Routers that expired after a long silence.
    pub expired: u64,
    /// The caps: routers in all, and per VRRP group.
    pub max_routers: u64,
    pub max_per_group: u64,
}

impl Dropped {
    pub fn is_none(&self) -> bool {
        self.evicted == 0 && self.expired == 0
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
