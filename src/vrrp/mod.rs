//! The VRRP engine: the wire codec and the sans-IO state machine (RFC 3768, RFC 5798 /
//! RFC 9568, with keepalived 2.2's behaviour where it differs or adds).

pub mod ah;
pub mod announce;
pub mod auth_hmac;
pub mod checksum;
pub mod engine;
pub mod event;
pub mod frame;
pub mod gaps;
pub mod instance;
pub mod instance_config;
pub mod ip;
pub mod packet;
pub mod rx;
pub mod timers;
pub mod timing;
pub mod track;
