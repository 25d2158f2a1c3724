//! The control socket: the protocol (shared by the daemon and the console), the daemon's
//! server, the status snapshot, and the daemon's and the engines' values in the protocol's
//! terms.

pub mod check_text;
pub mod daemon_link;
pub mod events;
pub mod from_daemon;
pub mod from_engine;
pub mod metrics;
pub mod protocol;
pub mod server;
pub mod status;
