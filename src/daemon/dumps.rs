//! What keepalived writes when asked by a signal: SIGUSR2 the counters to
//! `$TMPDIR/keepalived.stats` (vrrp_print.c `vrrp_print_stats`, same layout), and the
//! STATS_CLEAR signal the same, then zeroes them.

use std::fmt::Write as _;
use std::path::PathBuf;

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

/// The stats file's text.
pub fn stats_text(engine: &Engine) -> String {
    let mut out = String::new();
    for i in engine.instances() {
        let s = i.stats();
        let _ = write!(
            out,
            "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  Became master: {}\n  Released master: {}\n  Packet Errors:\n    Length: {}\n    TTL: {}\n    Invalid Type: {}\n    Advertisement Interval: {}\n    Address List: {}\n  Authentication Errors:\n    Invalid Type: {}\n    Type Mismatch: {}\n    Failure: {}\n  Priority Zero:\n    Received: {}\n    Sent: {}\n",
            i.name(),
            s.advert_rcvd,
            s.advert_sent,
            s.become_master,
            s.release_master,
            s.packet_len_err,
            s.ip_ttl_err,
            s.invalid_type_rcvd,
            s.advert_interval_err,
            s.addr_list_err,
            s.invalid_authtype,
            s.authtype_mismatch,
            s.auth_failure,
            s.pri_zero_rcvd,
            s.pri_zero_sent
        );
    }
    out
}

/// Writes the stats file; with `clear`, zeroes the counters after.
pub fn write_stats(engine: &mut Engine, clear: bool) -> std::io::Result<PathBuf> {
    let path = tmp_file("keepalived.stats");
    std::fs::write(&path, stats_text(engine))?;
    if clear {
        for i in engine.instances_mut() {
            i.clear_stats();
        }
    }
    Ok(path)
}
