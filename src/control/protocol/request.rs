//! What a client asks.

use serde::{Deserialize, Serialize};

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
