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
//!
//! The types here are the wire's own: no engine type is serialised as it is. The daemon
//! converts what its engines say into them (src/control/from_engine.rs), so a change of an
//! engine is a change of that conversion, never of what consoles receive; the golden files
//! under tests/data/control/ pin every message.

pub mod advert;
mod event;
mod reply;
mod request;
pub mod segment;
mod status;
pub mod vrrp;

#[cfg(any(test, feature = "testing"))]
pub mod fixture;
#[cfg(test)]
mod golden;

pub use event::{Event, EventLine};
pub use reply::{Answer, DaemonStats, ErrorReply, Reply, ReplyResult};
pub use request::{Request, RequestBody};
pub use status::{
    GapHistogram, GroupStatus, InstanceStatus, RealServerStatus, ScriptStatus, Status,
    TrackerStatus, VirtualServerStatus,
};

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

/// The longest request line the daemon reads (a configuration text fits).
pub const MAX_LINE: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::vrrp::Output;
    use super::*;

    #[test]
    fn requests_round_trip() {
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
    }

    #[test]
    fn replies_round_trip() {
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
            Reply::ok(5, Answer::Status(Box::new(fixture::status()))),
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
                Answer::Segment(Box::new(segment::Snapshot {
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
    }

    #[test]
    fn events_round_trip() {
        for event in [
            Event::Log {
                line: "Reloading".into(),
            },
            Event::Vrrp {
                source: "VI_1".into(),
                output: Output::Priority { from: 100, to: 90 },
            },
        ] {
            let e = EventLine {
                event,
                at_ms: Some(1_700_000_000_123),
            };
            let line = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<EventLine>(&line).unwrap(), e);
        }
    }
}
