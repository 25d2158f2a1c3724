//! `keepalived.stats` (vrrp_print.c `vrrp_print_stats`): each instance's counters, in
//! keepalived's layout, and the same counters under the JSON dump's keys.

use std::fmt::Write as _;

use crate::vrrp::engine::Engine;
use crate::vrrp::event::Stats;

/// A counter of [`Stats`].
type Counter = fn(&Stats) -> u64;

/// The stats file's lines after `VRRP Instance: NAME`: indent level, label, and the counter
/// (none for a section heading).
const LAYOUT: &[(usize, &str, Option<Counter>)] = &[
    (1, "Advertisements:", None),
    (2, "Received:", Some(|s| s.advert_rcvd)),
    (2, "Sent:", Some(|s| s.advert_sent)),
    (1, "Became master:", Some(|s| s.become_master)),
    (1, "Released master:", Some(|s| s.release_master)),
    (1, "Packet Errors:", None),
    (2, "Length:", Some(|s| s.packet_len_err)),
    (2, "TTL:", Some(|s| s.ip_ttl_err)),
    (2, "Invalid Type:", Some(|s| s.invalid_type_rcvd)),
    (
        2,
        "Advertisement Interval:",
        Some(|s| s.advert_interval_err),
    ),
    (2, "Address List:", Some(|s| s.addr_list_err)),
    (1, "Authentication Errors:", None),
    (2, "Invalid Type:", Some(|s| s.invalid_authtype)),
    (2, "Type Mismatch:", Some(|s| s.authtype_mismatch)),
    (2, "Failure:", Some(|s| s.auth_failure)),
    (1, "Priority Zero:", None),
    (2, "Received:", Some(|s| s.pri_zero_rcvd)),
    (2, "Sent:", Some(|s| s.pri_zero_sent)),
];

/// The JSON dump's `stats` object: keepalived's keys, in its order (vrrp_json.c).
pub(super) const JSON_KEYS: &[(&str, Counter)] = &[
    ("advert_rcvd", |s| s.advert_rcvd),
    ("advert_sent", |s| s.advert_sent),
    ("become_master", |s| s.become_master),
    ("release_master", |s| s.release_master),
    ("packet_len_err", |s| s.packet_len_err),
    ("advert_interval_err", |s| s.advert_interval_err),
    ("ip_ttl_err", |s| s.ip_ttl_err),
    ("invalid_type_rcvd", |s| s.invalid_type_rcvd),
    ("addr_list_err", |s| s.addr_list_err),
    ("invalid_authtype", |s| s.invalid_authtype),
    ("authtype_mismatch", |s| s.authtype_mismatch),
    ("auth_failure", |s| s.auth_failure),
    ("pri_zero_rcvd", |s| s.pri_zero_rcvd),
    ("pri_zero_sent", |s| s.pri_zero_sent),
];

/// The stats file's text.
pub fn stats_text(engine: &Engine) -> String {
    let mut out = String::new();
    for i in engine.instances() {
        let _ = writeln!(out, "VRRP Instance: {}", i.name());
        for (indent, label, counter) in LAYOUT {
            let pad = "  ".repeat(*indent);
            match counter {
                Some(count) => {
                    let _ = writeln!(out, "{pad}{label} {}", count(i.stats()));
                }
                None => {
                    let _ = writeln!(out, "{pad}{label}");
                }
            }
        }
    }
    out
}
