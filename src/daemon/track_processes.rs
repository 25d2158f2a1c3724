//! `vrrp_track_process`: an instance tracks whether enough copies of a process run
//! (core/track_process.c). keepalived follows process creation with the proc connector;
//! kaconsole scans /proc every 200 ms, which sees the same processes a little later.

use std::time::Duration as StdDuration;

use tokio::sync::mpsc;

use super::scripts::TrackerReport;
use crate::config::blocks::Config;
use crate::config::blocks::track::{ParamMatch, TrackProcess};
use crate::vrrp::track::TrackStatus;

/// A running process: its pid, its `comm` and its command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    pub comm: String,
    pub argv: Vec<String>,
}

/// Every process now.
pub fn processes() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let argv = cmdline
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            Some(Proc {
                pid,
                comm: comm.trim_end().to_string(),
                argv,
            })
        })
        .collect()
}

/// Whether `p` is one of the processes `t` tracks.
pub fn matches(t: &TrackProcess, p: &Proc) -> bool {
    let Some((name, params)) = t.process.split_first() else {
        return false;
    };
    let name_ok = if t.full_command {
        p.argv.first().is_some_and(|a| a == name)
    } else {
        // The kernel keeps 15 bytes of the name in comm.
        let short: String = name.chars().take(15).collect();
        p.comm == short
    };
    if !name_ok {
        return false;
    }
    if params.is_empty() {
        return true;
    }
    let args = p.argv.get(1..).unwrap_or_default();
    match t.param_match {
        ParamMatch::Exact => args == params,
        ParamMatch::Initial => args.starts_with(params),
        ParamMatch::Partial => args.join(" ").contains(&params.join(" ")),
    }
}

/// Up when the number of matching processes is within quorum..=quorum_max.
pub fn up(t: &TrackProcess, count: u32) -> bool {
    count >= t.quorum.max(1) && t.quorum_max.is_none_or(|m| count <= m)
}

/// One watcher per tracked process; a change is reported once it has lasted `fork_delay`
/// (going up) or `terminate_delay` (going down).
pub fn start(
    cfg: &Config,
    tx: mpsc::UnboundedSender<TrackerReport>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for t in &cfg.track_processes {
        let tracked = cfg
            .vrrp_instances
            .iter()
            .any(|i| i.track_process.iter().any(|r| r.name == t.name));
        if !tracked {
            continue;
        }
        let (t, tx) = (t.clone(), tx.clone());
        tasks.push(tokio::spawn(async move {
            let mut reported: Option<bool> = None;
            let mut since: Option<(bool, tokio::time::Instant)> = None;
            loop {
                let count = processes().iter().filter(|p| matches(&t, p)).count() as u32;
                let now_up = up(&t, count);
                let delay = StdDuration::from_micros(if now_up {
                    t.fork_delay.0
                } else {
                    t.terminate_delay.0
                });
                if reported == Some(now_up) {
                    since = None;
                } else {
                    let start = match since {
                        Some((s, at)) if s == now_up => at,
                        _ => {
                            let at = tokio::time::Instant::now();
                            since = Some((now_up, at));
                            at
                        }
                    };
                    // The first report is at once: it is the state to start from.
                    if reported.is_none() || start.elapsed() >= delay {
                        reported = Some(now_up);
                        since = None;
                        let status = if now_up {
                            TrackStatus::Up
                        } else {
                            TrackStatus::Down
                        };
                        let report = TrackerReport {
                            id: format!("process:{}", t.name),
                            status,
                        };
                        if tx.send(report).is_err() {
                            return;
                        }
                    }
                }
                tokio::time::sleep(StdDuration::from_millis(200)).await;
            }
        }));
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(process: &[&str], m: ParamMatch) -> TrackProcess {
        TrackProcess {
            process: process.iter().map(|s| s.to_string()).collect(),
            param_match: m,
            ..TrackProcess::default()
        }
    }

    fn proc(comm: &str, argv: &[&str]) -> Proc {
        Proc {
            pid: 1,
            comm: comm.into(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn names_and_parameters_match_as_keepalived() {
        let nginx = proc("nginx", &["/usr/sbin/nginx", "-g", "daemon off;"]);
        assert!(matches(&tracker(&["nginx"], ParamMatch::Exact), &nginx));
        assert!(!matches(
            &tracker(&["nginx", "-g"], ParamMatch::Exact),
            &nginx
        ));
        assert!(matches(
            &tracker(&["nginx", "-g"], ParamMatch::Initial),
            &nginx
        ));
        assert!(matches(
            &tracker(&["nginx", "off;"], ParamMatch::Partial),
            &nginx
        ));
        assert!(!matches(&tracker(&["apache2"], ParamMatch::Exact), &nginx));
        // comm holds 15 bytes of the name.
        let long = proc("a_very_long_pro", &["a_very_long_process_name"]);
        assert!(matches(
            &tracker(&["a_very_long_process_name"], ParamMatch::Exact),
            &long
        ));
        let mut full = tracker(&["/usr/sbin/nginx"], ParamMatch::Exact);
        full.full_command = true;
        assert!(matches(&full, &nginx));
    }

    #[test]
    fn quorum_bounds() {
        let mut t = tracker(&["x"], ParamMatch::Exact);
        t.quorum = 2;
        t.quorum_max = Some(3);
        assert!(!up(&t, 1));
        assert!(up(&t, 2) && up(&t, 3));
        assert!(!up(&t, 4), "quorum_max: too many is down too");
    }

    #[test]
    fn this_test_process_is_found() {
        let pid = std::process::id();
        let all = processes();
        let me = all
            .iter()
            .find(|p| p.pid == pid)
            .unwrap_or_else(|| panic!("pid {pid} is not among {} processes", all.len()));
        let argv: Vec<String> = std::env::args().collect();
        assert_eq!(me.argv, argv, "its command line");
        let exe = std::env::current_exe().unwrap();
        let name = exe.file_name().unwrap().to_str().unwrap();
        // The trackers keepalived's way would find it: by name (comm, 15 bytes of it), by the
        // full command, and by name and exact parameters.
        let by_name = tracker(&[name], ParamMatch::Exact);
        let mut by_command = tracker(&[&argv[0]], ParamMatch::Exact);
        by_command.full_command = true;
        let mut with_params: Vec<&str> = vec![name];
        with_params.extend(argv[1..].iter().map(String::as_str));
        let with_params = tracker(&with_params, ParamMatch::Exact);
        for t in [&by_name, &by_command, &with_params] {
            let found: Vec<u32> = all
                .iter()
                .filter(|p| matches(t, p))
                .map(|p| p.pid)
                .collect();
            assert!(found.contains(&pid), "{:?} finds {found:?}", t.process);
        }
        let mut other_params = with_params.clone();
        other_params.process.push("--no-such-test-flag".into());
        assert!(!matches(&other_params, me));
    }
}
