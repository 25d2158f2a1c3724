//! What the daemon tells a subscribed client as it happens.

use serde::{Deserialize, Serialize};

use super::vrrp::Output;

/// An event line after `subscribe`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    pub event: Event,
    /// When it happened: milliseconds since the epoch (absent from older daemons; a console
    /// then uses the time it arrived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
}

impl EventLine {
    /// An event that happens now.
    pub fn now(event: Event) -> EventLine {
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_millis() as u64);
        EventLine { event, at_ms }
    }
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
