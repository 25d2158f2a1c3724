//! A VRRP advertisement as a `send` output carries it.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::vrrp::Duration;

/// Protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Version {
    #[serde(rename = "2")]
    V2,
    #[serde(rename = "3")]
    V3,
}

/// VRRPv2 authentication type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    None,
    Pass,
    Ah,
    Unknown(u8),
}

/// The VRRPv2 authentication fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth {
    #[serde(rename = "type")]
    pub kind: AuthType,
    /// The eight bytes of authentication data, as 16 hex digits; absent over IPv6.
    #[serde(
        with = "crate::hex::serde_opt8",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<[u8; 8]>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advert {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// The (maximum) advertisement interval.
    pub interval: Duration,
    /// v2 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    pub addrs: Vec<IpAddr>,
}
