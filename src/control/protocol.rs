//! The control protocol: newline-delimited JSON over a unix stream socket, the only thing the
//! daemon and the console share.
//!
//! A client sends one request per line, `{"id": 1, "req": "status"}`, and gets one reply per
//! request with the same id: `{"id": 1, "ok": {...}}` or `{"id": 1, "error": {"code": ...,
//! "message": ...}}`. The first request must be `hello` with the protocol version. After
//! `subscribe`, events arrive as `{"event": {...}}` lines between replies. With socat:
//!
//! ```text
//! $ socat - UNIX-CONNECT:/run/kaconsole/kaconsole.sock
//! {"id":1,"req":"hello","version":1}
//! {"id":1,"ok":{"hello":{"version":1,"daemon":"kaconsole 0.1.0","admin":true}}}
//! {"id":2,"req":"status"}
//! {"id":2,"ok":{"status":{"pid":4242,"uptime_s":12.5,"config":"/etc/keepalived/keepalived.conf","instances":[...],"groups":[]}}}
//! ```

use serde::{Deserialize, Serialize};

use crate::vrrp::event::{Notify, Output, Stats};

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

/// The longest request line the daemon reads (a configuration text fits).
pub const MAX_LINE: usize = 1 << 20;

/// A request line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    #[serde(flatten)]
    pub body: RequestBody,
}

/// What a client asks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "req", rename_all = "snake_case")]
pub enum RequestBody {
    /// The first request: the client's protocol version.
    Hello { version: u32 },
    /// A full snapshot.
    Status,
    /// Events from now on.
    Subscribe,
    /// The configuration file's path and text.
    GetConfig,
    /// The diagnostics `kaconsole check` would print for this text.
    Validate { text: String },
    /// Check, write (keeping a backup) and reload; refused with the diagnostics if it has
    /// errors. Admin only.
    Apply { text: String },
    /// Reload the configuration file (SIGHUP). Admin only.
    Reload,
    /// The daemon's own figures: memory, clients, reloads, advert totals.
    Stats,
    /// Every VRRP router the daemon hears on its interfaces, and the conflicts (`kaconsole
    /// sniff`'s table).
    Segment,
}

/// A reply line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub id: u64,
    #[serde(flatten)]
    pub result: ReplyResult,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyResult {
    Ok(Answer),
    Error(ErrorReply),
}

/// A refusal, with a code a program can test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// `bad_request`, `version`, `hello_first`, `permission`, `invalid_config`, `io`,
    /// `reload`, `busy`, `stopping` (the daemon is going away: reconnect later).
    pub code: String,
    pub message: String,
    /// For `invalid_config`: the diagnostics, as `kaconsole check --json` prints them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<serde_json::Value>,
}

/// A successful answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Hello {
        version: u32,
        daemon: String,
        /// Whether this client may apply and reload.
        admin: bool,
    },
    Status(Box<Status>),
    Subscribed,
    Config {
        path: String,
        text: String,
    },
    Diagnostics {
        diagnostics: Vec<serde_json::Value>,
        errors: usize,
        warnings: usize,
    },
    Applied {
        backup: String,
    },
    Reloaded,
    Stats(DaemonStats),
    Segment(Box<crate::sniff::table::Snapshot>),
}

/// The daemon itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DaemonStats {
    pub uptime_s: f64,
    /// Resident memory, from /proc/self/statm.
    pub rss_kb: u64,
    pub instances: usize,
    /// Successful reloads (SIGHUP, reload and apply requests) since the start.
    pub reloads: u64,
    pub adverts_sent: u64,
    pub adverts_rcvd: u64,
    /// Control clients connected now, and dropped so far for not reading.
    pub clients: usize,
    pub clients_dropped: u64,
}

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
    pub trackers: Vec<TrackerStatus>,
    pub stats: Stats,
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

/// An event line after `subscribe`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    pub event: Event,
}

/// Something that happened in the daemon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// An output of an instance or group (state change, priority, notify, rejected packet...).
    Vrrp { source: String, output: Output },
    /// A log line.
    Log { line: String },
}

impl Event {
    /// Whether subscribers get it: adverts and GARPs would flood them, and the engine's log
    /// messages arrive as log lines already.
    pub fn interesting(o: &Output) -> bool {
        !matches!(
            o,
            Output::Send { .. }
                | Output::Garp { .. }
                | Output::Install
                | Output::Uninstall
                | Output::Log { .. }
        ) && !matches!(o, Output::Notify(Notify::MasterRxLowerPri { .. }))
    }
}

impl Reply {
    pub fn ok(id: u64, a: Answer) -> Reply {
        Reply {
            id,
            result: ReplyResult::Ok(a),
        }
    }

    pub fn error(id: u64, code: &str, message: impl Into<String>) -> Reply {
        Reply {
            id,
            result: ReplyResult::Error(ErrorReply {
                code: code.into(),
                message: message.into(),
                diagnostics: Vec::new(),
            }),
        }
    }
}

#[cfg(test)]
mod golden;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_round_trip() {
        for body in [
            RequestBody::Hello { version: 1 },
            RequestBody::Status,
            RequestBody::Subscribe,
            RequestBody::GetConfig,
            RequestBody::Validate { text: "x".into() },
            RequestBody::Apply { text: "y".into() },
            RequestBody::Reload,
            RequestBody::Stats,
            RequestBody::Segment,
        ] {
            let r = Request { id: 7, body };
            let line = serde_json::to_string(&r).unwrap();
            assert!(line.contains("\"req\":"), "{line}");
            assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), r);
        }
        let line = r#"{"id":3,"req":"hello","version":1}"#;
        let r: Request = serde_json::from_str(line).unwrap();
        assert_eq!(r.body, RequestBody::Hello { version: 1 });
        for reply in [
            Reply::ok(
                1,
                Answer::Hello {
                    version: 1,
                    daemon: "kaconsole".into(),
                    admin: false,
                },
            ),
            Reply::ok(2, Answer::Subscribed),
            Reply::ok(3, Answer::Reloaded),
            Reply::error(4, "permission", "apply needs admin"),
            Reply::ok(5, Answer::Status(Box::new(crate::tui::fixture::status()))),
            Reply::ok(
                6,
                Answer::Config {
                    path: "/etc/keepalived/keepalived.conf".into(),
                    text: "global_defs {\n}\n".into(),
                },
            ),
            Reply::ok(
                7,
                Answer::Diagnostics {
                    diagnostics: vec![serde_json::json!({"severity": "error", "line": 3})],
                    errors: 1,
                    warnings: 0,
                },
            ),
            Reply::ok(
                8,
                Answer::Applied {
                    backup: "/etc/keepalived/keepalived.conf.bak".into(),
                },
            ),
            Reply::ok(
                9,
                Answer::Stats(DaemonStats {
                    uptime_s: 1.5,
                    rss_kb: 6400,
                    instances: 3,
                    reloads: 2,
                    adverts_sent: 10,
                    adverts_rcvd: 20,
                    clients: 1,
                    clients_dropped: 0,
                }),
            ),
            Reply::ok(
                11,
                Answer::Segment(Box::new(crate::sniff::table::Snapshot {
                    free_vrids: vec![1, 2],
                    packets: 7,
                    ..Default::default()
                })),
            ),
            Reply {
                id: 10,
                result: ReplyResult::Error(ErrorReply {
                    code: "invalid_config".into(),
                    message: "1 error(s)".into(),
                    diagnostics: vec![serde_json::json!({"line": 5})],
                }),
            },
        ] {
            let line = serde_json::to_string(&reply).unwrap();
            assert_eq!(serde_json::from_str::<Reply>(&line).unwrap(), reply);
        }
        assert_eq!(
            serde_json::to_string(&Reply::ok(5, Answer::Subscribed)).unwrap(),
            r#"{"id":5,"ok":"subscribed"}"#
        );
        for event in [
            Event::Log {
                line: "Reloading".into(),
            },
            Event::Vrrp {
                source: "VI_1".into(),
                output: Output::Priority { from: 100, to: 90 },
            },
        ] {
            let e = EventLine { event };
            let line = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<EventLine>(&line).unwrap(), e);
        }
    }
}
