//! `kaconsole sniff`: who speaks VRRP on a segment, and which VRIDs clash.

pub mod filter;
pub mod findings;
pub mod observe;
pub mod recency;
pub mod rejected;
pub mod report;
pub mod router;
pub mod table;
