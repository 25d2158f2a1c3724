//! kaconsole: keepalived rebuilt in Rust as one binary, with a live operations console.
//!
//! Layers (data flows one way, see DESIGN.md): `config` (keepalived.conf -> typed, validated
//! model) -> engines -> `sys` -> daemon -> control -> tui.

#![deny(unsafe_code)]

pub mod check;
pub mod cli;
pub mod config;
pub mod control;
pub mod daemon;
pub mod hex;
pub mod ipvs;
pub mod lab;
pub mod pcap;
pub mod ranges;
pub mod rng;
pub mod sim;
pub mod sniff;
pub mod sys;
pub mod time;
pub mod tui;
pub mod vrrp;
