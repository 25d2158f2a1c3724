//! What goes into the engine and what comes out: plain serde data, so that traces of inputs and
//! outputs are JSON lines that replay.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::frame::Received;
use super::packet::Advert;
use super::track::TrackStatus;
use crate::time::Duration;

/// An instance's state (keepalived vrrp.h: INIT 0, BACKUP 1, MASTER 2, FAULT 3, STOP 98).
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

/// An input to the engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// Start every instance (keepalived's vrrp_init_state).
    Start,
    /// Shut down: a MASTER sends priority 0 and releases its addresses; everyone reports STOP.
    Stop,
    /// The time returned by `poll_timeout` has come.
    Timeout,
    /// A VRRP packet arrived on `interface`.
    Packet { interface: String, rx: Received },
    /// A tracked object changed (`script:chk`, `file:f`, `process:p`, `interface:eth1`, ...).
    Track { id: String, status: TrackStatus },
    /// An interface went up or down: instances on it fault (unless dont_track_primary), and
    /// it is also the tracker `interface:NAME`.
    Link { interface: String, up: bool },
    /// The daemon's sockets on `interface` are gone (it was deleted or renamed away;
    /// `present: false`) or open again on the interface now bearing the name: instances on
    /// it are FAULT while it is away, whatever `dont_track_primary` says.
    Interface { interface: String, present: bool },
    /// Someone removed an address from the machine (rtnetlink RTM_DELADDR): a MASTER whose VIP
    /// it was steps down and comes back (keepalived `set_vrrp_backup`).
    AddressRemoved { addr: IpAddr },
}

/// Why an instance changed state: every transition has a cause (the simulator checks it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Startup: not an address owner, so wait for a master (RFC 5798 §6.4.1).
    Startup,
    /// Startup as the address owner (priority 255): master at once (RFC 5798 §6.4.1).
    Owner,
    /// BACKUP: no advert for Master_Down_Interval, or Skew_Time after a priority-0 advert
    /// (RFC 5798 §6.4.2).
    MasterDown,
    /// MASTER: an advert with a higher priority, or the same priority from a higher address
    /// (RFC 5798 §6.4.3).
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

/// In words, as the console says it (and the daemon's log with `-D`).
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Startup => f.write_str("startup"),
            Reason::Owner => f.write_str("address owner"),
            Reason::MasterDown => f.write_str("no advert within Master_Down_Interval"),
            Reason::Preempted { from, priority } => {
                write!(f, "preempted by {from} with priority {priority}")
            }
            Reason::Fault { cause } => write!(f, "fault: {cause}"),
            Reason::Recovered => f.write_str("faults cleared"),
            Reason::SyncGroup { group } => write!(f, "sync group {group}"),
            Reason::AddressRemoved { addr } => write!(f, "{addr} was removed"),
            Reason::Stop => f.write_str("stopping"),
        }
    }
}

/// A receive check that failed, in keepalived 2.2.7's order (`vrrp_check_packet`); each has a
/// counter in [`Stats`].
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

/// Counters per instance: keepalived's `vrrp_stats` (what `kill -USR2` dumps), plus the ones
/// keepalived only keeps in SNMP builds (version, checksum) or never increments (interval).
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

impl Stats {
    /// Counts a failed check.
    pub fn count(&mut self, e: &RxError) {
        let c = match e {
            RxError::Malformed(_) | RxError::Length { .. } => &mut self.packet_len_err,
            RxError::UnexpectedAh | RxError::MissingAh | RxError::AuthTypeMismatch { .. } => {
                &mut self.authtype_mismatch
            }
            RxError::Ttl { .. } | RxError::TtlRange { .. } => &mut self.ip_ttl_err,
            RxError::Version { .. } => &mut self.version_err,
            RxError::InvalidAuthType(_) => &mut self.invalid_authtype,
            RxError::Password
            | RxError::AhIcv
            | RxError::AhSpi { .. }
            | RxError::AhReplay { .. } => &mut self.auth_failure,
            RxError::Interval { .. } => &mut self.advert_interval_err,
            RxError::Type(_) => &mut self.invalid_type_rcvd,
            RxError::AddrCount { .. }
            | RxError::Destination { .. }
            | RxError::VipMissing { .. }
            | RxError::UnicastSource(_) => &mut self.addr_list_err,
            RxError::Checksum { .. } => &mut self.checksum_err,
        };
        *c += 1;
    }
}

/// What a notify reports (the notify scripts' and FIFO's STATE word).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notify {
    /// `notify_master` / `notify_backup` / `notify_fault` / `notify_stop`, and `notify` with
    /// `INSTANCE name STATE priority` (or `GROUP name STATE 0`).
    State { state: State, priority: u8 },
    /// `notify_master_rx_lower_pri`: as MASTER, an advert with a lower priority arrived.
    MasterRxLowerPri { priority: u8 },
    /// A reload removed the instance: keepalived reports DELETED with `notify_deleted`, else
    /// FAULT unless it already was (`was_fault`).
    Deleted { priority: u8, was_fault: bool },
    /// `notify_priority_changes` (FIFO `MASTER_PRIORITY` / `BACKUP_PRIORITY`).
    Priority { state: State, priority: u8 },
}

/// One output of one instance (or group).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// Send this advert: to the multicast group, or once to every unicast peer. With AH, the
    /// sequence number to put in the AH header.
    Send {
        advert: Advert,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ah_seq: Option<u32>,
    },
    /// Become the router: add the VIPs, eVIPs, virtual routes and rules.
    Install,
    /// Stop being the router: remove them.
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
    /// A received packet failed a check (keepalived logs these).
    Rejected {
        from: IpAddr,
        error: RxError,
    },
    /// Worth a log line: keepalived logs these decisions.
    Log {
        message: String,
    },
    /// The v3 interval learned from the master changed (RFC 5798 §6.4.2).
    LearnedInterval {
        interval: Duration,
    },
}
