//! The VRRP decoder never panics, whatever the bytes (see kaconsole::fuzzing::vrrp_decode).
//!
//! cargo fuzz run --sanitizer none vrrp_decode corpus/vrrp_decode seeds/vrrp_decode

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kaconsole::fuzzing::vrrp_decode(data));
