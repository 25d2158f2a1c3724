//! Health checkers (keepalived's check/ directory). So far the HTTP_GET probe, which
//! `kaconsole genhash` also uses.

pub mod engine;
pub mod http;
pub mod model;
