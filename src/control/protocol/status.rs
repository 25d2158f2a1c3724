//! The daemon as a snapshot: its VRRP instances and groups, scripts and LVS services.

use serde::{Deserialize, Serialize};

use super::vrrp::Stats;

/// The daemon as a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    /// The node's name: global_defs router_id, else the host name (as keepalived).
    pub host: String,
    pub uptime_s: f64,
    pub config: String,
    /// The `-i/--config-id` the configuration is read with (for `@ID` lines).
    #[serde(default)]
    pub config_id: String,
    pub instances: Vec<InstanceStatus>,
    pub groups: Vec<GroupStatus>,
    /// Every vrrp_script some instance tracks.
    #[serde(default)]
    pub scripts: Vec<ScriptStatus>,
    /// LVS virtual servers and their checkers.
    #[serde(default)]
    pub virtual_servers: Vec<VirtualServerStatus>,
    /// `check-only` when the checkers run but IPVS is not programmed (no IPVS in the kernel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lvs_mode: Option<String>,
}

/// One VRRP instance now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub version: u8,
    pub state: String,
    pub base_priority: u8,
    pub effective_priority: u8,
    /// The master heard last (a BACKUP's view), with its priority.
    pub master: Option<String>,
    pub master_priority: Option<u8>,
    pub vips: Vec<String>,
    /// Seconds since the last transition.
    pub since_transition_s: f64,
    pub adver_int_s: f64,
    pub master_down_interval_s: f64,
    /// Seconds until the next advert (MASTER) or the master-down deadline (BACKUP).
    pub next_advert_s: Option<f64>,
    pub master_down_in_s: Option<f64>,
    /// The time between the last two valid adverts received.
    #[serde(default)]
    pub last_advert_gap_s: Option<f64>,
    /// Every gap between valid adverts received so far, in buckets (absent before the
    /// second advert, and from older daemons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advert_gaps: Option<GapHistogram>,
    pub trackers: Vec<TrackerStatus>,
    pub stats: Stats,
}

/// A histogram of the gaps between adverts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GapHistogram {
    /// The buckets' upper bounds in seconds.
    pub le_s: Vec<f64>,
    /// Gaps per bucket (not cumulative); one more than `le_s`: the last counts the gaps
    /// above every bound.
    pub counts: Vec<u64>,
    pub sum_s: f64,
}

/// What one tracker contributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackerStatus {
    pub id: String,
    pub weight: i32,
    /// `up`, `down`, `pending` or a file's value.
    pub status: String,
    /// What it adds to the priority now, or `fault`.
    pub effect: String,
}

/// A vrrp_script: its rise/fall state and its last run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScriptStatus {
    pub name: String,
    /// `up`, `down` or `pending` (no result yet).
    pub status: String,
    pub rise: u32,
    pub fall: u32,
    /// Successes in a row (counting towards rise) or failures in a row (towards fall).
    pub successes: u32,
    pub failures: u32,
    pub runs: u64,
    /// The last run's exit status; `None` if it was killed (timeout) or could not start.
    pub last_exit: Option<i32>,
    pub last_timed_out: bool,
    pub last_runtime_ms: Option<f64>,
    pub last_run_ago_s: Option<f64>,
    /// Why it does not run at all (its user cannot be resolved): it counts as failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An LVS virtual server and its real servers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VirtualServerStatus {
    /// `10.0.0.1:80 TCP`, `fwmark 1` or a group name.
    pub id: String,
    pub scheduler: String,
    pub quorum: u32,
    /// The alive real servers' weights reach the quorum.
    pub quorum_up: bool,
    pub alive_weight: u32,
    pub sorry_server: Option<String>,
    /// The sorry server is in the table (quorum lost).
    pub sorry_active: bool,
    /// ha_suspend: the address is not on this machine, so the checkers are not running.
    #[serde(default)]
    pub suspended: bool,
    pub real_servers: Vec<RealServerStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RealServerStatus {
    /// `10.0.0.11:80`.
    pub addr: String,
    pub weight: i32,
    pub alive: bool,
    /// `TCP_CHECK`, `HTTP_GET`, ... (several joined by `+`), or `none`.
    pub checker: String,
    pub last_error: Option<String>,
    pub latency_ms: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupStatus {
    pub name: String,
    pub state: String,
}
