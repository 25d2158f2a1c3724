//! The control socket: the protocol (shared by the daemon and the console), the daemon's
//! server, and the status snapshot.

pub mod daemon_link;
pub mod events;
pub mod from_daemon;
pub mod protocol;
pub mod server;
pub mod status;
