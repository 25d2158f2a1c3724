//! The VRRP decoder never panics, whatever the bytes (see fuzz/checks.rs
//! `vrrp_decode`).
//!
//! cargo fuzz run --sanitizer none vrrp_decode corpus/vrrp_decode seeds/vrrp_decode

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::vrrp_decode(data));
