//! The configuration reader never panics or hangs, whatever the bytes (see
//! fuzz/checks.rs `config_reader`).
//!
//! cargo fuzz run --sanitizer none config_reader corpus/config_reader seeds/config_reader

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    let tree = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/include-tree"));
    checks::config_reader(data, tree);
});
