//! The configuration reader never panics or hangs, whatever the bytes, and every diagnostic
//! points at a line that exists.
//!
//! cargo fuzz run --sanitizer none config_reader corpus/config_reader seeds/config_reader

#![no_main]

use std::path::Path;

use kaconsole::config::{LoadOptions, load_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = LoadOptions {
        config_id: "fuzz".into(),
        random_seed: Some(1),
        max_lines: 20_000,
        all_config: false,
    };
    // A directory of small configurations (and include loops), so that include lines, globs
    // and braces reach real files.
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/include-tree/keepalived.conf"
    ));
    let loaded = load_text(path, data, &opts, None);
    for d in &loaded.diagnostics {
        if let Some(s) = d.span {
            assert!(
                loaded.sources.file(s.file).line(s.line).is_some(),
                "{} points at a line that does not exist: {s:?}",
                d.code
            );
        }
    }
});
