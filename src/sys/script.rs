//! Running a program as keepalived runs scripts: argv without a shell, as the configured
//! user, in its own process group so that a timeout kills the whole group. vrrp_script,
//! notify scripts and MISC_CHECK all run this way.

use std::process::Stdio;
use std::time::Duration as StdDuration;

use crate::config::blocks::global::UserGroup;

/// The uid and gid a script runs as: its own user, else the global script_user, else
/// keepalived's `keepalived_script` user if it exists, else ours.
pub fn credentials(
    cmd_user: Option<&str>,
    cmd_group: Option<&str>,
    global: Option<&UserGroup>,
) -> Option<(u32, u32)> {
    use nix::unistd::{Group, User};
    let (user, group) = match (cmd_user, global) {
        (Some(u), _) => (u.to_string(), cmd_group.map(str::to_string)),
        (None, Some(g)) => (g.user.clone(), g.group.clone()),
        (None, None) => ("keepalived_script".to_string(), None),
    };
    let u = User::from_name(&user).ok().flatten()?;
    let gid = group
        .and_then(|g| Group::from_name(&g).ok().flatten())
        .map_or(u.gid.as_raw(), |g| g.gid.as_raw());
    Some((u.uid.as_raw(), gid))
}

pub fn command(argv: &[String], creds: Option<(u32, u32)>) -> Option<tokio::process::Command> {
    let (program, args) = argv.split_first()?;
    let mut c = tokio::process::Command::new(program);
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some((uid, gid)) = creds {
        c.uid(uid).gid(gid);
    }
    Some(c)
}

/// How one run of a script ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// `None`: killed by a signal, or it could not be started.
    pub exit: Option<i32>,
    pub timed_out: bool,
}

impl RunOutcome {
    pub const FAILED: RunOutcome = RunOutcome {
        exit: None,
        timed_out: false,
    };
    pub fn success(&self) -> bool {
        self.exit == Some(0)
    }
}

/// Runs a script once with a timeout; the process group is killed when it is exceeded.
pub async fn run_once(
    argv: &[String],
    creds: Option<(u32, u32)>,
    timeout: StdDuration,
) -> RunOutcome {
    let Some(mut c) = command(argv, creds) else {
        return RunOutcome::FAILED;
    };
    let Ok(mut child) = c.spawn() else {
        return RunOutcome::FAILED;
    };
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => RunOutcome {
            exit: status.code(),
            timed_out: false,
        },
        Ok(Err(_)) => RunOutcome::FAILED,
        Err(_elapsed) => {
            // keepalived: SIGTERM, then SIGKILL to the whole group; a timeout is a failure.
            if let Some(pid) = child.id() {
                let group = nix::unistd::Pid::from_raw(-(pid as i32));
                let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGTERM);
                tokio::time::sleep(StdDuration::from_millis(100)).await;
                let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
            }
            let _ = child.wait().await;
            RunOutcome {
                exit: None,
                timed_out: true,
            }
        }
    }
}
