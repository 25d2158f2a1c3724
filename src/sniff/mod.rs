//! `kaconsole sniff`: who speaks VRRP on a segment, and which VRIDs clash.

pub mod observe;
pub mod table;
