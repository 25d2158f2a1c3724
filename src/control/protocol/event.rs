//! What the daemon tells a subscribed client as it happens.

use serde::{Deserialize, Serialize};

use super::vrrp::Output;

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
