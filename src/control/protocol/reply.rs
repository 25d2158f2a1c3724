//! What the daemon answers: one reply per request, an answer or a refusal.

use serde::{Deserialize, Serialize};

use super::segment::Snapshot;
use super::status::Status;

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
    Segment(Box<Snapshot>),
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
