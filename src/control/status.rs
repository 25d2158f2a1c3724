//! The status snapshot: what the engine knows, in the protocol's terms.

use super::protocol::{GapHistogram, GroupStatus, InstanceStatus, Status, TrackerStatus};
use crate::time::Instant;
use crate::vrrp::engine::Engine;
use crate::vrrp::timers::Timer;
use crate::vrrp::track::{Effect, TrackStatus};

/// A snapshot at engine time `now`.
pub fn snapshot(
    engine: &Engine,
    model: &crate::config::blocks::Config,
    now: Instant,
    config: &str,
) -> Status {
    let secs = |us: u64| us as f64 / 1e6;
    let instances = engine
        .instances()
        .iter()
        .enumerate()
        .map(|(idx, i)| {
            let c = i.config();
            let vips = model
                .vrrp_instances
                .get(idx)
                .map(|m| {
                    m.virtual_ipaddress
                        .iter()
                        .map(|a| format!("{}/{}", a.addr.addr, a.addr.len))
                        .collect()
                })
                .unwrap_or_default();
            let until = |t: Timer| i.timer(t).map(|at| secs(at.0.saturating_sub(now.0)));
            let trackers = c
                .trackers
                .iter()
                .zip(i.tracker_statuses())
                .map(|(t, s)| TrackerStatus {
                    id: t.id.clone(),
                    weight: t.weight,
                    status: match s {
                        TrackStatus::Pending => "pending".into(),
                        TrackStatus::Up => "up".into(),
                        TrackStatus::Down => "down".into(),
                        TrackStatus::Value(v) => v.to_string(),
                    },
                    effect: match t.effect(*s) {
                        Effect::Weight(w) => format!("{w:+}"),
                        Effect::Fault => "fault".into(),
                        Effect::Pending => "pending".into(),
                    },
                })
                .collect();
            InstanceStatus {
                name: c.name.clone(),
                interface: c.interface.clone(),
                vrid: c.vrid,
                version: c.version.number(),
                state: i.state().to_string(),
                base_priority: i.base_priority(),
                effective_priority: i.effective_priority(),
                master: i.master().map(|(a, _)| a.to_string()),
                master_priority: i.master().map(|(_, p)| p),
                vips,
                since_transition_s: secs(now.0.saturating_sub(i.last_transition().0)),
                adver_int_s: secs(c.adver_int.as_micros()),
                master_down_interval_s: secs(i.master_down_interval().as_micros()),
                next_advert_s: until(Timer::Adver),
                master_down_in_s: until(Timer::MasterDown),
                last_advert_gap_s: i.last_advert_gap().map(|d| secs(d.as_micros())),
                advert_gaps: gap_histogram(i.advert_gaps()),
                trackers,
                stats: i.stats().into(),
            }
        })
        .collect();
    let groups = engine
        .group_names()
        .enumerate()
        .map(|(g, name)| GroupStatus {
            name: name.to_string(),
            state: engine.group_state(g).to_string(),
        })
        .collect();
    Status {
        pid: std::process::id(),
        // keepalived names a node by router_id, the host name by default.
        host: model
            .global_defs
            .router_id
            .clone()
            .unwrap_or_else(crate::sys::host::short_hostname),
        uptime_s: secs(now.0),
        config: config.to_string(),
        config_id: String::new(),
        instances,
        groups,
        // The daemon adds what the engine does not know.
        scripts: Vec::new(),
        virtual_servers: Vec::new(),
        lvs_mode: None,
    }
}

/// The engine's buckets as the wire carries them; `None` before the first gap.
fn gap_histogram(g: &crate::vrrp::gaps::Gaps) -> Option<GapHistogram> {
    (g.count() > 0).then(|| GapHistogram {
        le_s: crate::vrrp::gaps::BOUNDS_US
            .iter()
            .map(|&b| b as f64 / 1e6)
            .collect(),
        counts: g.counts.to_vec(),
        sum_s: g.sum_us as f64 / 1e6,
    })
}
