//! Health checkers (keepalived's check/ directory): the engine that decides (sans-IO), the
//! configuration's view for it, and the probes that do the talking.

pub mod engine;
pub mod http;
pub mod probe;
pub mod resolve;
