//! What the daemon tells whoever watches it (the control socket's subscribers): its engines'
//! outputs and its log lines. The daemon knows only this trait; the control layer implements
//! it with its own wire types, so the daemon never depends on the protocol.

use crate::vrrp::event::Output;

/// Something that happened in the daemon, borrowed for the time of the call.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// An output of an instance or sync group, named by `source`.
    Vrrp { source: &'a str, output: &'a Output },
    /// A log line, as written to the log.
    Log { line: &'a str },
}

/// Where events go. Called on the VRRP loop: an implementation must not block.
pub trait EventSink: Send + Sync {
    /// Whether this output is wanted at all (lets the daemon skip naming its source).
    fn wants(&self, output: &Output) -> bool;
    fn publish(&self, event: Event<'_>);
}
