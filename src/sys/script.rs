//! Running a program as keepalived runs scripts: argv without a shell, as the configured
//! user, in its own process group so that a timeout kills the whole group. vrrp_script,
//! notify scripts and MISC_CHECK all run this way.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration as StdDuration;

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::config::blocks::Config;
use crate::config::blocks::global::UserGroup;

/// Who a script runs as, resolved when the configuration is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunAs {
    /// As the daemon (root): no script user is configured, there is no `keepalived_script`
    /// user and enable_script_security is off - keepalived's default.
    Daemon,
    User {
        uid: u32,
        gid: u32,
    },
}

/// A script user or group that cannot be resolved: the script does not run (never as root
/// instead - threat-model rule 3).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("script user {0} does not exist")]
    NoUser(String),
    #[error("script group {0} does not exist")]
    NoGroup(String),
    /// The lookup itself failed (LDAP or sssd down...): whether the user exists is unknown.
    #[error("cannot look up {what} {name}: {errno}")]
    Lookup {
        what: &'static str,
        name: String,
        errno: Errno,
    },
    #[error(
        "enable_script_security is set, but there is no script_user and no keepalived_script user"
    )]
    NoDefault,
    /// A user the configuration did not name when it was loaded (a bug if it happens).
    #[error("script user {0} was not resolved when the configuration was loaded")]
    NotResolved(String),
}

/// The user and group named for a script, after keepalived's precedence: its own user, else
/// the global script_user, else `keepalived_script` (`None`).
pub type Named = Option<(String, Option<String>)>;

fn named(cmd_user: Option<&str>, cmd_group: Option<&str>, global: Option<&UserGroup>) -> Named {
    match (cmd_user, global) {
        (Some(u), _) => Some((u.to_string(), cmd_group.map(str::to_string))),
        (None, Some(g)) => Some((g.user.clone(), g.group.clone())),
        (None, None) => None,
    }
}

/// Test builds only: `KACONSOLE_UNRESOLVABLE_USERS=a,b` makes the lookup of those users fail
/// as it does when the directory (LDAP, sssd) is down, after the configuration's check saw
/// them.
#[cfg(any(test, feature = "testing"))]
fn lookup_fails(name: &str) -> bool {
    std::env::var("KACONSOLE_UNRESOLVABLE_USERS").is_ok_and(|v| v.split(',').any(|u| u == name))
}

#[cfg(not(any(test, feature = "testing")))]
fn lookup_fails(_: &str) -> bool {
    false
}

fn user(name: &str) -> Result<Option<nix::unistd::User>, UserError> {
    let failed = |errno| UserError::Lookup {
        what: "user",
        name: name.to_string(),
        errno,
    };
    if lookup_fails(name) {
        return Err(failed(Errno::EIO));
    }
    match nix::unistd::User::from_name(name) {
        // getpwnam(3): "ENOENT, ESRCH, EBADF, EPERM, ...: the given name was not found"
        // (a machine without /etc/passwd answers ENOENT).
        Err(Errno::ENOENT | Errno::ESRCH | Errno::EBADF | Errno::EPERM) => Ok(None),
        r => r.map_err(failed),
    }
}

/// Resolves who runs a script. A user or group that is named must resolve; with none named,
/// `keepalived_script` is used if it exists, else the daemon's own user unless
/// `security` (enable_script_security) forbids it.
pub fn resolve(who: &Named, security: bool) -> Result<RunAs, UserError> {
    let Some((name, group)) = who else {
        return match user("keepalived_script")? {
            Some(u) => Ok(RunAs::User {
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
            }),
            None if security => Err(UserError::NoDefault),
            None => Ok(RunAs::Daemon),
        };
    };
    let u = user(name)?.ok_or_else(|| UserError::NoUser(name.clone()))?;
    let gid = match group {
        None => u.gid.as_raw(),
        Some(g) => nix::unistd::Group::from_name(g)
            .map_err(|errno| UserError::Lookup {
                what: "group",
                name: g.clone(),
                errno,
            })?
            .ok_or_else(|| UserError::NoGroup(g.clone()))?
            .gid
            .as_raw(),
    };
    Ok(RunAs::User {
        uid: u.uid.as_raw(),
        gid,
    })
}

/// Every user and group a configuration's scripts run as, resolved once when it is loaded
/// (and again at each reload): a user deleted later, or a directory that goes down, changes
/// nothing for the scripts of the configuration running.
#[derive(Clone, Debug, Default)]
pub struct ScriptUsers {
    global: Option<UserGroup>,
    resolved: HashMap<Named, Result<RunAs, UserError>>,
}

impl ScriptUsers {
    pub fn resolve(cfg: &Config) -> ScriptUsers {
        let g = &cfg.global_defs;
        let security = g.enable_script_security;
        let global = g.script_user.clone();
        let mut wanted: Vec<Named> = Vec::new();
        let mut want = |n: Named| {
            if !wanted.contains(&n) {
                wanted.push(n);
            }
        };
        for s in cfg.scripts() {
            let c = s.command;
            want(named(
                c.user.as_deref(),
                c.group.as_deref(),
                global.as_ref(),
            ));
        }
        for s in &cfg.vrrp_scripts {
            let u = s.user.as_ref();
            want(named(
                u.map(|u| u.user.as_str()),
                u.and_then(|u| u.group.as_deref()),
                global.as_ref(),
            ));
        }
        let misc = (cfg.virtual_servers.iter())
            .flat_map(|vs| &vs.real_servers)
            .flat_map(|rs| &rs.checkers)
            .filter_map(|c| c.misc.as_ref()?.user.as_ref());
        for u in misc {
            want(named(Some(&u.user), u.group.as_deref(), global.as_ref()));
        }
        let resolved = wanted
            .into_iter()
            .map(|n| {
                let r = resolve(&n, security);
                (n, r)
            })
            .collect();
        ScriptUsers { global, resolved }
    }

    /// Who runs a script with this user and group of its own (else the global script_user,
    /// else keepalived_script).
    pub fn run_as(&self, user: Option<&str>, group: Option<&str>) -> Result<RunAs, UserError> {
        let n = named(user, group, self.global.as_ref());
        match self.resolved.get(&n) {
            Some(r) => r.clone(),
            None => Err(UserError::NotResolved(
                n.map_or_else(|| "keepalived_script".to_string(), |(u, _)| u),
            )),
        }
    }

    /// The users and groups that could not be resolved.
    pub fn failures(&self) -> Vec<UserError> {
        let mut f: Vec<UserError> = (self.resolved.values())
            .filter_map(|r| r.clone().err())
            .collect();
        f.sort_by_key(|e| e.to_string());
        f.dedup();
        f
    }
}

pub fn command(argv: &[String], run_as: RunAs) -> Option<tokio::process::Command> {
    let (program, args) = argv.split_first()?;
    let mut c = tokio::process::Command::new(program);
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let RunAs::User { uid, gid } = run_as {
        c.uid(uid).gid(gid);
    }
    Some(c)
}

/// The process group of a script that runs: killed (SIGKILL) when this is dropped before
/// [`disarm`](Self::disarm) - the task waiting for the script was aborted (a reload, a stop)
/// or timed out. The child itself is reaped by tokio (`kill_on_drop`); the rest of its group,
/// reparented, by init.
pub struct GroupGuard(Option<Pid>);

impl GroupGuard {
    pub fn new(pid: Option<u32>) -> GroupGuard {
        GroupGuard(pid.and_then(|p| i32::try_from(p).ok()).map(Pid::from_raw))
    }

    /// Sends `signal` to the whole group.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        if let Some(pid) = self.0 {
            let _ = nix::sys::signal::killpg(pid, signal);
        }
    }

    /// The script ended by itself: its group is left alone.
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGKILL);
    }
}

/// Why a script did not run to its end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("no program to run")]
    NoProgram,
    /// Its user or group cannot be resolved: it was not run (never as root instead).
    #[error("not run: {0}")]
    User(String),
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// `None`: killed by a signal, timed out, or it did not run (`error`).
    pub exit: Option<i32>,
    pub timed_out: bool,
    /// Why it did not run, if it did not.
    pub error: Option<RunError>,
}

impl RunOutcome {
    pub fn not_run(e: RunError) -> RunOutcome {
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

/// Runs a script once with a timeout; the process group is killed when it is exceeded, and
/// when the future is dropped before the script ends (its task aborted).
pub async fn run_once(argv: &[String], run_as: RunAs, timeout: StdDuration) -> RunOutcome {
    let Some(mut c) = command(argv, run_as) else {
        return RunOutcome::not_run(RunError::NoProgram);
    };
    // Dropped before it ends (its task aborted): killed, and reaped by tokio.
    c.kill_on_drop(true);
    let mut child = match c.spawn() {
        Ok(child) => child,
        Err(e) => return RunOutcome::not_run(RunError::Spawn(RunError::errno(&e))),
    };
    let group = GroupGuard::new(child.id());
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => {
            group.disarm();
            RunOutcome {
                exit: status.code(),
                timed_out: false,
                error: None,
            }
        }
        Ok(Err(e)) => RunOutcome::not_run(RunError::Wait(RunError::errno(&e))),
        Err(_elapsed) => {
            // keepalived: SIGTERM, then SIGKILL to the whole group; a timeout is a failure.
            group.signal(nix::sys::signal::Signal::SIGTERM);
            tokio::time::sleep(StdDuration::from_millis(100)).await;
            drop(group);
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
        rt.block_on(run_once(&argv, RunAs::Daemon, StdDuration::from_secs(10)))
    }

    /// Whether anything of process group `pgid` is left that is not a zombie.
    fn group_alive(pgid: i32) -> bool {
        std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid pgrp ...
            let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
                return false;
            };
            let f: Vec<&str> = rest.split_whitespace().collect();
            f.len() > 2 && f[2] == pgid.to_string() && f[0] != "Z"
        })
    }

    #[test]
    fn a_script_whose_task_is_aborted_is_killed_with_its_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!("echo $$ > {}; sleep 1000 & sleep 1000", pidfile.display());
        let argv: Vec<String> = ["/bin/sh", "-c", &script].map(String::from).to_vec();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let pgid = rt.block_on(async {
            let task = tokio::spawn(async move {
                run_once(&argv, RunAs::Daemon, StdDuration::from_secs(3600)).await
            });
            let mut pgid = None;
            for _ in 0..200 {
                tokio::time::sleep(StdDuration::from_millis(10)).await;
                pgid = std::fs::read_to_string(&pidfile)
                    .ok()
                    .and_then(|s| s.trim().parse::<i32>().ok());
                if pgid.is_some() {
                    break;
                }
            }
            let pgid = pgid.expect("the script started");
            tokio::time::sleep(StdDuration::from_millis(50)).await;
            assert!(group_alive(pgid));
            task.abort();
            let _ = task.await;
            // The kill is delivered at once; give tokio's reaper a moment.
            tokio::time::sleep(StdDuration::from_millis(200)).await;
            pgid
        });
        assert!(
            !group_alive(pgid),
            "the shell and its background sleep are gone"
        );
        let zombie = std::fs::read_to_string(format!("/proc/{pgid}/stat")).is_ok();
        assert!(!zombie, "and the child was reaped");
    }

    #[test]
    fn a_user_or_group_that_cannot_be_resolved_is_an_error_never_root() {
        let no_user = Some(("kaconsole-no-such-user".to_string(), None));
        assert_eq!(
            resolve(&no_user, false),
            Err(UserError::NoUser("kaconsole-no-such-user".into()))
        );
        let no_group = Some(("root".to_string(), Some("kaconsole-no-such-group".into())));
        assert_eq!(
            resolve(&no_group, false),
            Err(UserError::NoGroup("kaconsole-no-such-group".into()))
        );
        assert_eq!(
            resolve(&Some(("root".into(), None)), false),
            Ok(RunAs::User { uid: 0, gid: 0 })
        );
    }

    #[test]
    fn a_configurations_script_users_are_resolved_once_and_failures_listed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.conf");
        std::fs::write(
            &path,
            "global_defs {\n    script_user root\n}\n\
             vrrp_script a {\n    script /bin/true\n}\n\
             vrrp_script b {\n    script /bin/true\n    user kaconsole-no-such-user\n}\n",
        )
        .unwrap();
        let cfg = crate::config::load(&path, &Default::default(), None).config;
        let users = ScriptUsers::resolve(&cfg);
        assert_eq!(users.run_as(None, None), Ok(RunAs::User { uid: 0, gid: 0 }));
        assert_eq!(
            users.run_as(Some("kaconsole-no-such-user"), None),
            Err(UserError::NoUser("kaconsole-no-such-user".into()))
        );
        assert_eq!(
            users.failures(),
            [UserError::NoUser("kaconsole-no-such-user".into())]
        );
        assert!(matches!(
            users.run_as(Some("daemon"), None),
            Err(UserError::NotResolved(_))
        ));
    }

    #[test]
    fn a_script_without_a_user_runs_as_keepalived_script_or_the_daemon_unless_security() {
        let exists = nix::unistd::User::from_name("keepalived_script")
            .ok()
            .flatten()
            .is_some();
        if exists {
            assert!(matches!(resolve(&None, true), Ok(RunAs::User { .. })));
        } else {
            assert_eq!(resolve(&None, false), Ok(RunAs::Daemon));
            assert_eq!(resolve(&None, true), Err(UserError::NoDefault));
        }
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
