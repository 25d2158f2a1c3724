//! MISC_CHECK (check_misc.c): a program's exit status. 0 is up, anything else down; with
//! `misc_dynamic`, 2-255 is up and sets the real server's weight to status - 2, and 0 puts
//! the configured weight back. The program runs as keepalived runs scripts (no shell, its own
//! process group, killed as a group after `misc_timeout`).

use std::time::Duration;

use super::Outcome;
use crate::check::engine::Dynamic;
use crate::sys::script::{self, RunAs, UserError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MiscCheck {
    pub argv: Vec<String>,
    /// Who it runs as, resolved with the configuration; a user that cannot be resolved
    /// fails the check without running it.
    pub run_as: Result<RunAs, UserError>,
    /// misc_timeout, else delay_loop.
    pub timeout: Duration,
    pub dynamic: bool,
}

/// What an exit status means (check_misc.c `misc_check_child_thread`).
pub fn verdict(dynamic: bool, status: i32) -> Outcome {
    match (status, dynamic) {
        (0, false) => Outcome::pass("exit 0"),
        (0, true) => Outcome {
            dynamic: Some(Dynamic::Offset(0)),
            ..Outcome::pass("exit 0")
        },
        (2..=255, true) => Outcome {
            dynamic: Some(Dynamic::Set((status - 2) as u32)),
            ..Outcome::pass(format!("exit {status}: weight {}", status - 2))
        },
        _ => Outcome::fail(format!("exit {status}")),
    }
}

pub async fn check(m: &MiscCheck) -> Outcome {
    let run_as = match &m.run_as {
        Ok(r) => *r,
        Err(e) => return Outcome::fail(format!("{} not run: {e}", m.argv.join(" "))),
    };
    let run = script::run_once(&m.argv, run_as, m.timeout).await;
    match run.exit {
        Some(status) => verdict(m.dynamic, status),
        None if run.timed_out => Outcome::fail(format!("timed out after {:?}", m.timeout)),
        None => match run.error {
            Some(e) => Outcome::fail(format!("{} did not run: {e}", m.argv.join(" "))),
            None => Outcome::fail(format!("{} was killed", m.argv.join(" "))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_mean_what_keepalived_says() {
        assert!(verdict(false, 0).ok);
        assert!(!verdict(false, 1).ok);
        assert!(!verdict(false, 5).ok, "without misc_dynamic only 0 is up");
        assert!(!verdict(true, 1).ok, "1 is down, dynamic or not");
        let w = verdict(true, 12);
        assert!(w.ok);
        assert_eq!(w.dynamic, Some(Dynamic::Set(10)));
        assert_eq!(verdict(true, 0).dynamic, Some(Dynamic::Offset(0)));
    }
}
