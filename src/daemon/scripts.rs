//! Running scripts: vrrp_script trackers (interval, timeout, rise/fall) and notify scripts,
//! as keepalived runs them: argv without a shell, as the configured user, in their own process
//! group so that a timeout kills the whole group.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use tokio::sync::mpsc;

use super::log::Log;
use crate::config::blocks::Config;
use crate::config::blocks::track::VrrpScript;
use crate::config::table::Command;
use crate::sys::script::{RunError, RunOutcome, ScriptUsers, command, run_once};
use crate::vrrp::track::TrackStatus;

/// A tracker's new status, for the engine.
pub struct TrackerReport {
    pub id: String,
    pub status: TrackStatus,
}

/// keepalived's rise/fall counter (vrrp_scheduler.c `vrrp_script_child_thread`): `result`
/// counts from 0 to rise + fall - 1; the script is up from `rise` on. One success after a
/// long run of them jumps to the top, so `fall` failures in a row bring it down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiseFall {
    result: u32,
    rise: u32,
    fall: u32,
    /// No result reported yet: the first one is reported whatever it is.
    first: bool,
}

impl RiseFall {
    /// `init_fail`: start as failed (one success is then not enough when rise > 1).
    pub fn new(rise: u32, fall: u32, init_fail: bool) -> RiseFall {
        let (rise, fall) = (rise.max(1), fall.max(1));
        RiseFall {
            result: if init_fail { 0 } else { rise - 1 },
            rise,
            fall,
            first: true,
        }
    }

    /// Records one run; returns the new status when it changes (or is the first).
    pub fn record(&mut self, success: bool) -> Option<bool> {
        let first = std::mem::replace(&mut self.first, false);
        let top = self.rise + self.fall - 1;
        if success {
            if self.result < self.rise - 1 {
                self.result += 1;
                return first.then_some(false);
            }
            let was_down = self.result < self.rise;
            self.result = top;
            (was_down || first).then_some(true)
        } else if self.result > self.rise {
            self.result -= 1;
            first.then_some(true)
        } else {
            let was_up = self.result == self.rise;
            self.result = 0;
            (was_up || first).then_some(false)
        }
    }
}

/// Runs `cmd` with extra arguments and does not wait (notify scripts).
/// A script whose user cannot be resolved does not run (never as root instead).
pub fn spawn_notify(cmd: &Command, extra: &[String], users: &ScriptUsers, log: &Log) {
    let mut argv = cmd.argv.clone();
    argv.extend_from_slice(extra);
    let run_as = match users.run_as(cmd.user.as_deref(), cmd.group.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            log.warn(&format!("{} not run: {e}", argv.join(" ")));
            return;
        }
    };
    let Some(mut c) = command(&argv, run_as) else {
        return;
    };
    match c.spawn() {
        // Reaped by tokio when it exits.
        Ok(child) => drop(child),
        Err(e) => log.warn(&format!("cannot run {}: {e}", argv.join(" "))),
    }
}

/// What each vrrp_script did last, for the console's status requests.
#[derive(Clone, Default)]
pub struct ScriptBoard(Arc<Mutex<BTreeMap<String, ScriptRecord>>>);

/// One vrrp_script's rise/fall state and its last run.
#[derive(Clone, Debug, Default)]
pub struct ScriptRecord {
    pub rise: u32,
    pub fall: u32,
    /// `None` until its first result.
    pub up: Option<bool>,
    /// Successes in a row (counting towards rise) or failures in a row (towards fall).
    pub successes: u32,
    pub failures: u32,
    pub runs: u64,
    /// The last run: how it ended, how long it took, when it ended.
    pub last: Option<(RunOutcome, StdDuration, std::time::Instant)>,
    /// Why it does not run at all (its user cannot be resolved): the tracker is failed.
    pub error: Option<String>,
}

impl ScriptBoard {
    fn update(&self, name: &str, f: impl FnOnce(&mut ScriptRecord)) {
        // A poisoned lock only means another task panicked mid-update; the record is still
        // usable for display.
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(map.entry(name.to_string()).or_default());
    }

    fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Every script's record, by name.
    pub fn records(&self) -> Vec<(String, ScriptRecord)> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(n, r)| (n.clone(), r.clone())).collect()
    }
}

/// Starts a task per vrrp_script that some instance tracks; status changes go to `tx`.
pub fn start_trackers(
    cfg: &Config,
    users: &ScriptUsers,
    tx: mpsc::UnboundedSender<TrackerReport>,
    log: &Log,
    board: &ScriptBoard,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    board.clear();
    let tracked = |s: &VrrpScript| {
        cfg.vrrp_instances
            .iter()
            .any(|i| i.track_script.iter().any(|t| t.name == s.name))
    };
    for s in cfg.vrrp_scripts.iter().filter(|s| tracked(s)) {
        let Some(cmd) = s.script.clone() else {
            continue;
        };
        let user = s.user.as_ref();
        let run_as = users.run_as(
            user.map(|u| u.user.as_str()),
            user.and_then(|u| u.group.as_deref()),
        );
        let run_as = match run_as {
            Ok(r) => r,
            Err(e) => {
                fail_closed(&s.name, &e.to_string(), &tx, log, board);
                continue;
            }
        };
        let interval = StdDuration::from_micros(s.interval.0.max(10_000));
        let timeout = StdDuration::from_micros(s.timeout.map_or(s.interval.0, |t| t.0).max(10_000));
        let mut rf = RiseFall::new(s.rise, s.fall, s.init_fail);
        let (name, tx, log, board) = (s.name.clone(), tx.clone(), log.clone(), board.clone());
        board.update(&name, |r| (r.rise, r.fall) = (s.rise.max(1), s.fall.max(1)));
        tasks.push(tokio::spawn(async move {
            let mut next = tokio::time::Instant::now();
            loop {
                let started = std::time::Instant::now();
                let outcome = run_once(&cmd.argv, run_as, timeout).await;
                let ok = outcome.success();
                let change = rf.record(ok);
                let line = change.map(|up| script_line(&name, up, &outcome));
                board.update(&name, |r| {
                    r.runs += 1;
                    (r.successes, r.failures) = if ok {
                        (r.successes + 1, 0)
                    } else {
                        (0, r.failures + 1)
                    };
                    r.last = Some((outcome, started.elapsed(), std::time::Instant::now()));
                    r.error = None;
                    if let Some(up) = change {
                        r.up = Some(up);
                    }
                });
                if let (Some(up), Some(line)) = (change, line) {
                    log.info(&line);
                    let status = if up {
                        TrackStatus::Up
                    } else {
                        TrackStatus::Down
                    };
                    if tx
                        .send(TrackerReport {
                            id: format!("script:{name}"),
                            status,
                        })
                        .is_err()
                    {
                        return;
                    }
                }
                // Runs never overlap: the next starts an interval after this one started,
                // or at once if it ran longer.
                next += interval;
                let now = tokio::time::Instant::now();
                if next < now {
                    next = now;
                }
                tokio::time::sleep_until(next).await;
            }
        }));
    }
    tasks
}

/// A vrrp_script that cannot run (its user cannot be resolved): it never runs, it is down
/// from the start (its weight applies, or its instances are FAULT), and says why in the log
/// and in the status.
fn fail_closed(
    name: &str,
    why: &str,
    tx: &mpsc::UnboundedSender<TrackerReport>,
    log: &Log,
    board: &ScriptBoard,
) {
    log.warn(&format!("VRRP_Script({name}) not run: {why}; it is failed"));
    board.update(name, |r| {
        r.up = Some(false);
        r.error = Some(why.to_string());
        let outcome = RunOutcome::not_run(RunError::User(why.to_string()));
        r.last = Some((outcome, StdDuration::ZERO, std::time::Instant::now()));
    });
    let _ = tx.send(TrackerReport {
        id: format!("script:{name}"),
        status: TrackStatus::Down,
    });
}

/// keepalived's line, and why a failure failed: `VRRP_Script(chk) failed (exited with
/// status 1)`.
fn script_line(name: &str, up: bool, o: &crate::sys::script::RunOutcome) -> String {
    if up {
        return format!("VRRP_Script({name}) succeeded");
    }
    let why = match (o.timed_out, o.exit, &o.error) {
        (true, _, _) => "timed out".to_string(),
        (false, Some(code), _) => format!("exited with status {code}"),
        (false, None, Some(e)) => e.to_string(),
        (false, None, None) => "killed by a signal".to_string(),
    };
    format!("VRRP_Script({name}) failed ({why})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_says_why() {
        use crate::sys::script::RunOutcome;
        let o = |exit, timed_out| RunOutcome {
            exit,
            timed_out,
            error: None,
        };
        assert_eq!(
            script_line("chk", false, &o(Some(1), false)),
            "VRRP_Script(chk) failed (exited with status 1)"
        );
        assert_eq!(
            script_line("chk", false, &o(None, true)),
            "VRRP_Script(chk) failed (timed out)"
        );
        assert_eq!(
            script_line("chk", true, &o(Some(0), false)),
            "VRRP_Script(chk) succeeded"
        );
    }

    #[test]
    fn rise_and_fall_as_keepalived() {
        // rise 2, fall 3: the first result is always reported.
        let mut r = RiseFall::new(2, 3, false);
        assert_eq!(
            r.record(true),
            Some(true),
            "result rise-1 -> one success is up"
        );
        assert_eq!(r.record(false), None, "fall 3: one failure is not enough");
        assert_eq!(r.record(false), None);
        assert_eq!(r.record(false), Some(false), "the third failure in a row");
        assert_eq!(r.record(true), None, "rise 2: one success is not enough");
        assert_eq!(r.record(true), Some(true));
        // A success in between resets the fall count.
        assert_eq!(r.record(false), None);
        assert_eq!(r.record(true), None);
        assert_eq!(r.record(false), None);
        assert_eq!(r.record(false), None);
        assert_eq!(r.record(false), Some(false));
    }

    #[test]
    fn init_fail_needs_rise_successes() {
        let mut r = RiseFall::new(2, 1, true);
        assert_eq!(r.record(true), Some(false), "first report: still down");
        assert_eq!(r.record(true), Some(true));
        assert_eq!(r.record(false), Some(false), "fall 1");
    }
}
