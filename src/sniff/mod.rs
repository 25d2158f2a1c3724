//! `kaconsole sniff`: who speaks VRRP on a segment, and which VRIDs clash.

pub mod filter;
pub mod observe;
pub mod report;
pub mod table;
