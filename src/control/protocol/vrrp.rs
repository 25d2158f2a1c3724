//! What a VRRP instance (or sync group) reports, as the wire carries it: the outputs an event
//! holds and the counters a status holds. The names are keepalived's (the notify scripts'
//! states, `vrrp_stats`, the receive checks' log lines).

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::advert::Advert;

/// A span of time in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Duration(pub u64);

/// An instance's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Init,
    Backup,
    Master,
    Fault,
    Stop,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stop => "STOP",
        })
    }
}

/// Why an instance changed state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Startup: not an address owner, so wait for a master.
    Startup,
    /// Startup as the address owner (priority 255): master at once.
    Owner,
    /// BACKUP: no advert for Master_Down_Interval, or Skew_Time after a priority-0 advert.
    MasterDown,
    /// MASTER: an advert with a higher priority, or the same priority from a higher address.
    Preempted { from: IpAddr, priority: u8 },
    /// A tracker, the interface, or a pending script put the instance in FAULT.
    Fault { cause: String },
    /// Every fault cleared.
    Recovered,
    /// The instance's sync group moved it.
    SyncGroup { group: String },
    /// One of its VIPs was removed by someone else.
    AddressRemoved { addr: IpAddr },
    /// Shut down.
    Stop,
}

/// A receive check that failed; the text is keepalived 2.2.7's log line for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum RxError {
    #[error("malformed packet: {0}")]
    Malformed(String),
    #[error("Received AH header but auth type not AH")]
    UnexpectedAh,
    #[error("No AH header but auth type is AH")]
    MissingAh,
    #[error("vrrp packet too {}, length {len} and expect {expected}", if len > expected { "long" } else { "short" })]
    Length { len: usize, expected: usize },
    #[error("invalid TTL/HL. Received {got} and expect 255")]
    Ttl { got: u8 },
    #[error("wrong version. Received {got} and expect {expected}")]
    Version { got: u8, expected: u8 },
    #[error("Invalid auth type: {0}")]
    InvalidAuthType(u8),
    #[error("received a {got} auth, expecting {expected}!")]
    AuthTypeMismatch { got: u8, expected: u8 },
    #[error("received an invalid passwd!")]
    Password,
    #[error("IPSEC-AH : invalid IPSEC HMAC-MD5 value. Due to fields mutation or bad password !")]
    AhIcv,
    #[error("IPSEC AH : invalid IPSEC SPI value. {spi} and expect {src}")]
    AhSpi { spi: u32, src: IpAddr },
    #[error("IPSEC-AH : sequence number {seq} already processed. Packet dropped. Local({local})")]
    AhReplay { seq: u32, local: u32 },
    #[error("advertisement interval mismatch mine={mine} sec rcv'd={got} sec")]
    Interval { mine: u64, got: u64 },
    #[error("Invalid packet type. {0} and expect 1")]
    Type(u8),
    #[error("received an unexpected ip number count {got}, expected {expected}!")]
    AddrCount { got: usize, expected: usize },
    #[error("Invalid VRRPv{version} checksum")]
    Checksum { version: u8 },
    #[error("Expected {}icast packet but received {}icast packet", if *unicast { "un" } else { "mult" }, if *unicast { "mult" } else { "un" })]
    Destination { unicast: bool },
    #[error("ip address associated with VRID {vrid} not present in MASTER advert: {addr}")]
    VipMissing { vrid: u8, addr: IpAddr },
    #[error("unicast source address {0} not a unicast peer")]
    UnicastSource(IpAddr),
    #[error("TTL/HL {ttl} not in range {min} - {max}")]
    TtlRange { ttl: u8, min: u8, max: u8 },
}

/// Counters per instance: keepalived's `vrrp_stats` (what `kill -USR2` dumps), plus version
/// and checksum errors.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub advert_rcvd: u64,
    pub advert_sent: u64,
    pub become_master: u64,
    pub release_master: u64,
    pub packet_len_err: u64,
    pub advert_interval_err: u64,
    pub ip_ttl_err: u64,
    pub invalid_type_rcvd: u64,
    pub addr_list_err: u64,
    pub invalid_authtype: u64,
    pub authtype_mismatch: u64,
    pub auth_failure: u64,
    pub pri_zero_rcvd: u64,
    pub pri_zero_sent: u64,
    pub version_err: u64,
    pub checksum_err: u64,
}

/// What a notify reports (the notify scripts' and FIFO's STATE word).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notify {
    /// `notify_master` / `notify_backup` / `notify_fault` / `notify_stop`.
    State { state: State, priority: u8 },
    /// `notify_master_rx_lower_pri`: as MASTER, an advert with a lower priority arrived.
    MasterRxLowerPri { priority: u8 },
    /// A reload removed the instance.
    Deleted { priority: u8, was_fault: bool },
    /// `notify_priority_changes`.
    Priority { state: State, priority: u8 },
}

/// One output of one instance (or group).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// An advert sent: to the multicast group, or once to every unicast peer; with AH, the
    /// sequence number in the AH header.
    Send {
        advert: Advert,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ah_seq: Option<u32>,
    },
    /// Became the router: the VIPs, eVIPs, virtual routes and rules are added.
    Install,
    /// Stopped being the router: they are removed.
    Uninstall,
    /// A burst of gratuitous ARPs / unsolicited NAs: `rounds` times every address.
    Garp {
        addrs: Vec<IpAddr>,
        rounds: u32,
    },
    StateChange {
        from: State,
        to: State,
        reason: Reason,
    },
    /// The effective priority changed (trackers).
    Priority {
        from: u8,
        to: u8,
    },
    Notify(Notify),
    /// A received packet failed a check.
    Rejected {
        from: IpAddr,
        error: RxError,
    },
    /// A decision keepalived logs.
    Log {
        message: String,
    },
    /// The v3 interval learned from the master changed.
    LearnedInterval {
        interval: Duration,
    },
}
