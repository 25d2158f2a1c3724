//! The running daemon's state in the protocol's terms: the status (the VRRP engine's
//! snapshot, plus the scripts, the checkers and the mode the daemon knows) and the stats.

use super::protocol::{DaemonStats, RealServerStatus, ScriptStatus, Status, VirtualServerStatus};
use super::status::snapshot;
use crate::daemon::lvs::Lvs;
use crate::daemon::requests::View;
use crate::daemon::scripts::ScriptBoard;

pub fn status(view: &View<'_>) -> Status {
    let path = view.config_path.display().to_string();
    let mut status = snapshot(view.vrrp, view.config, view.now, &path);
    status.scripts = scripts(view.scripts);
    status.virtual_servers = virtual_servers(view.lvs);
    status.lvs_mode = view
        .lvs
        .check_only
        .as_ref()
        .map(|_| "check-only".to_string());
    status.config_id = view.config_id.to_string();
    status
}

/// The daemon's own figures (the server adds its clients).
pub fn stats(view: &View<'_>) -> DaemonStats {
    let instances = view.vrrp.instances();
    DaemonStats {
        uptime_s: view.now.0 as f64 / 1e6,
        rss_kb: crate::sys::host::rss_kb(),
        instances: instances.len(),
        reloads: view.reloads,
        adverts_sent: instances.iter().map(|i| i.stats().advert_sent).sum(),
        adverts_rcvd: instances.iter().map(|i| i.stats().advert_rcvd).sum(),
        ..Default::default()
    }
}

/// Every vrrp_script some instance tracks, by name.
fn scripts(board: &ScriptBoard) -> Vec<ScriptStatus> {
    board
        .records()
        .into_iter()
        .map(|(name, r)| ScriptStatus {
            name,
            status: match r.up {
                None => "pending",
                Some(true) => "up",
                Some(false) => "down",
            }
            .into(),
            rise: r.rise,
            fall: r.fall,
            successes: r.successes,
            failures: r.failures,
            runs: r.runs,
            last_exit: r.last.as_ref().and_then(|(o, _, _)| o.exit),
            last_timed_out: r.last.as_ref().is_some_and(|(o, _, _)| o.timed_out),
            last_runtime_ms: r.last.as_ref().map(|(_, d, _)| d.as_secs_f64() * 1e3),
            last_run_ago_s: r.last.as_ref().map(|(_, _, at)| at.elapsed().as_secs_f64()),
            error: r.error,
        })
        .collect()
}

/// Each virtual server, its real servers and their checkers.
fn virtual_servers(lvs: &Lvs) -> Vec<VirtualServerStatus> {
    let engine = &lvs.engine;
    lvs.config()
        .virtual_servers
        .iter()
        .enumerate()
        .map(|(v, vs)| {
            let ecfg = &engine.config()[v];
            let quorum_up = engine.quorum_up(v);
            VirtualServerStatus {
                id: ecfg.id.clone(),
                scheduler: vs.lvs_sched.unwrap_or("wlc").to_string(),
                quorum: vs.quorum,
                quorum_up,
                alive_weight: engine.weight_sum(v),
                sorry_server: ecfg.sorry_server.clone(),
                sorry_active: !quorum_up && ecfg.sorry_server.is_some(),
                suspended: engine.suspended(v),
                real_servers: ecfg
                    .real_servers
                    .iter()
                    .enumerate()
                    .map(|(r, rc)| real_server(lvs, v, r, &rc.addr))
                    .collect(),
            }
        })
        .collect()
}

fn real_server(lvs: &Lvs, v: usize, r: usize, addr: &str) -> RealServerStatus {
    let checks: Vec<_> = lvs.checks(v, r).collect();
    let kinds: Vec<&str> = checks.iter().map(|(kind, _)| *kind).collect();
    let outcomes = || checks.iter().filter_map(|(_, last)| *last);
    let failed = outcomes().find(|o| !o.ok);
    let latency = outcomes()
        .map(|o| o.latency.as_secs_f64() * 1e3)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    RealServerStatus {
        addr: addr.to_string(),
        weight: lvs.engine.weight(v, r) as i32,
        alive: lvs.engine.alive(v, r),
        checker: if kinds.is_empty() {
            "none".into()
        } else {
            kinds.join("+")
        },
        last_error: failed.map(|o| o.detail.clone()),
        latency_ms: latency,
    }
}
