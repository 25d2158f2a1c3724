//! What keepalived writes when asked by a signal, in its layouts: SIGUSR1 the data dump
//! (`keepalived.data`), SIGUSR2 the counters (`keepalived.stats`; the STATS_CLEAR signal the
//! same, then zeroes them), the JSON signal `keepalived.json`. Each file has its writer here;
//! exporters and scripts read them where keepalived puts them ($TMPDIR, else /tmp).

mod data;
mod interfaces;
mod json;
mod stats;
#[cfg(test)]
mod tests;
mod text;

use std::path::PathBuf;

pub use data::data_text;
pub use json::json_text;
pub use stats::stats_text;

use crate::config::blocks::Config;
use crate::vrrp::engine::Engine;

/// keepalived's temporary directory: `$TMPDIR` if absolute, else /tmp (lib/utils.c
/// `make_tmp_filename`).
pub fn tmp_file(name: &str) -> PathBuf {
    let dir = std::env::var("TMPDIR")
        .ok()
        .filter(|d| d.starts_with('/'))
        .unwrap_or_else(|| "/tmp".into());
    PathBuf::from(dir).join(name)
}

/// Writes a dump as keepalived names it, safely: a fresh 0600 file renamed over the name, so
/// that whatever a local user planted there (a symlink to /etc/shadow, a file of theirs) is
/// replaced, never followed or written into (sys/safe_file.rs).
fn write(name: &str, text: &str) -> std::io::Result<PathBuf> {
    let path = tmp_file(name);
    crate::sys::safe_file::replace_private(&path, 0o600, text.as_bytes())?;
    Ok(path)
}

/// Writes the stats file; with `clear`, zeroes the counters after.
pub fn write_stats(engine: &mut Engine, clear: bool) -> std::io::Result<PathBuf> {
    let path = write("keepalived.stats", &stats_text(engine))?;
    if clear {
        for i in engine.instances_mut() {
            i.clear_stats();
        }
    }
    Ok(path)
}

/// Writes the JSON dump. `started` is engine time 0 on the wall clock (seconds since the
/// epoch).
pub fn write_json(engine: &Engine, config: &Config, started: f64) -> std::io::Result<PathBuf> {
    write("keepalived.json", &json_text(engine, config, started))
}

/// Writes the data dump, the machine's interfaces last.
pub fn write_data(engine: &Engine, config: &Config, started: f64) -> std::io::Result<PathBuf> {
    let text = data_text(engine, config, started) + &interfaces::interfaces_text();
    write("keepalived.data", &text)
}
