//! The configuration reader never panics or hangs, whatever the bytes (see
//! kaconsole::fuzzing::config_reader).
//!
//! cargo fuzz run --sanitizer none config_reader corpus/config_reader seeds/config_reader

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tree = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/include-tree"));
    kaconsole::fuzzing::config_reader(data, tree);
});
