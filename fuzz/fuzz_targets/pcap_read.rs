//! The capture reader never panics, whatever the bytes, and what it reads goes through
//! `kaconsole sniff -r`'s path without panicking either (see fuzz/checks.rs `pcap_read`).
//!
//! cargo fuzz run --sanitizer none pcap_read corpus/pcap_read seeds/pcap_read

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::pcap_read(data));
