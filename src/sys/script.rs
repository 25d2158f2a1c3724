//! Running a program as keepalived runs scripts: argv without a shell, as the configured
//! user, in its own process group so that a timeout kills the whole group. vrrp_script,
//! notify scripts and MISC_CHECK all run this way.

use std::process::Stdio;
use std::time::Duration as StdDuration;

use nix::errno::Errno;

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

/// Why a script did not run to its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("no program to run")]
    NoProgram,
    /// It could not be started (ENOENT: no such program, EACCES: not executable...).
    #[error("cannot start: {0}")]
    Spawn(Errno),
    #[error("cannot wait for it: {0}")]
    Wait(Errno),
}

impl RunError {
    fn errno(e: &std::io::Error) -> Errno {
        e.raw_os_error()
            .map_or(Errno::UnknownErrno, Errno::from_raw)
    }
}

/// How one run of a script ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// `None`: killed by a signal, timed out, or it did not run (`error`).
    pub exit: Option<i32>,
    pub timed_out: bool,
    /// Why it did not run, if it did not.
    pub error: Option<RunError>,
}

impl RunOutcome {
    fn not_run(e: RunError) -> RunOutcome {
        RunOutcome {
            exit: None,
            timed_out: false,
            error: Some(e),
        }
    }
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
        return RunOutcome::not_run(RunError::NoProgram);
    };
    let mut child = match c.spawn() {
        Ok(child) => child,
        Err(e) => return RunOutcome::not_run(RunError::Spawn(RunError::errno(&e))),
    };
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => RunOutcome {
            exit: status.code(),
            timed_out: false,
            error: None,
        },
        Ok(Err(e)) => RunOutcome::not_run(RunError::Wait(RunError::errno(&e))),
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
                error: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(argv: &[&str]) -> RunOutcome {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run_once(&argv, None, StdDuration::from_secs(10)))
    }

    #[test]
    fn a_script_that_cannot_start_says_why() {
        let missing = run(&["/nonexistent/kaconsole-script"]);
        assert_eq!(missing.exit, None);
        assert_eq!(missing.error, Some(RunError::Spawn(Errno::ENOENT)));
        assert!(!missing.success());
        assert_eq!(run(&[]).error, Some(RunError::NoProgram));
        let ran = run(&["/bin/sh", "-c", "exit 3"]);
        assert_eq!((ran.exit, ran.error), (Some(3), None));
    }
}
