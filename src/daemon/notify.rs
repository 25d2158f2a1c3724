//! Notifications: the notify scripts of instances and sync groups, and the notify FIFOs with
//! keepalived's exact lines (vrrp_notify.c).

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::sync::Arc;

use super::log::Log;
use super::scripts::spawn_notify;
use crate::config::blocks::Config;
use crate::config::blocks::global::Fifo;
use crate::sys::script::ScriptUsers;
use crate::vrrp::event::{Notify, State};

/// What notifying keeps: the open notify FIFOs (`notify_fifo` and `vrrp_notify_fifo` get the
/// same lines) and the state last mailed for each instance and group.
#[derive(Default)]
pub struct Notifier {
    /// Who the scripts run as, resolved when the configuration was loaded.
    pub users: Arc<ScriptUsers>,
    files: Vec<File>,
    /// The state last mailed per (group?, name): keepalived mails a state once.
    mailed: std::collections::HashMap<(bool, String), State>,
}

impl Notifier {
    /// Creates (mkfifo) and opens VRRP's FIFOs (notify_fifo and vrrp_notify_fifo), and starts
    /// their scripts.
    pub fn open(cfg: &Config, users: Arc<ScriptUsers>, log: &Log) -> Notifier {
        let g = &cfg.global_defs;
        Notifier::open_fifos(
            users,
            [
                (&g.notify_fifo, &g.notify_fifo_script),
                (&g.vrrp_notify_fifo, &g.vrrp_notify_fifo_script),
            ],
            log,
        )
    }

    /// The checkers' FIFOs: notify_fifo and lvs_notify_fifo. keepalived runs notify_fifo's
    /// script once per process that writes to it; kaconsole is one process and leaves that
    /// to [`open`](Self::open).
    pub fn open_lvs(cfg: &Config, users: Arc<ScriptUsers>, log: &Log) -> Notifier {
        let g = &cfg.global_defs;
        Notifier::open_fifos(
            users,
            [
                (&g.notify_fifo, &None),
                (&g.lvs_notify_fifo, &g.lvs_notify_fifo_script),
            ],
            log,
        )
    }

    fn open_fifos(
        users: Arc<ScriptUsers>,
        fifos: [(&Option<Fifo>, &Option<crate::config::table::Command>); 2],
        log: &Log,
    ) -> Notifier {
        let mut files = Vec::new();
        for (fifo, script) in fifos {
            let Some(fifo) = fifo else { continue };
            match open_fifo(fifo) {
                Ok(f) => {
                    if let Some(script) = script {
                        spawn_notify(script, std::slice::from_ref(&fifo.path), &users, log);
                    }
                    files.push(f);
                }
                Err(e) => log.warn(&format!("notify FIFO {}: {e}", fifo.path)),
            }
        }
        Notifier {
            users,
            files,
            mailed: Default::default(),
        }
    }

    pub fn write(&mut self, line: &str) {
        for f in &mut self.files {
            // A full FIFO (no reader) loses the line rather than stopping VRRP.
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// keepalived opens the FIFO read-write and non-blocking, so that a missing reader never
/// blocks it.
fn open_fifo(fifo: &Fifo) -> std::io::Result<File> {
    let path = std::path::Path::new(&fifo.path);
    match std::fs::metadata(path) {
        Ok(m) if !m.file_type().is_fifo() => {
            return Err(std::io::Error::other("exists and is not a FIFO"));
        }
        Ok(_) => {}
        Err(_) => nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .map_err(std::io::Error::from)?,
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
}

/// keepalived's FIFO line: `INSTANCE "VI_1" MASTER 100`.
pub fn fifo_line(group: bool, name: &str, word: &str, priority: u8) -> String {
    let kind = if group { "GROUP" } else { "INSTANCE" };
    format!("{kind} \"{name}\" {word} {priority}\n")
}

/// Runs the scripts and writes the FIFO line for one notify of instance or group `name`.
pub fn dispatch(
    cfg: &Config,
    notifier: &mut Notifier,
    group: bool,
    name: &str,
    n: &Notify,
    log: &Log,
) {
    let users = notifier.users.clone();
    let (instance, sync) = if group {
        (None, cfg.vrrp_sync_groups.iter().find(|g| g.name == name))
    } else {
        (cfg.vrrp_instances.iter().find(|i| i.name == name), None)
    };
    match n {
        Notify::State { state, priority } => {
            let word = &state.to_string();
            let (specific, any) = match (instance, sync) {
                (Some(i), _) => (
                    match state {
                        State::Master => i.notify.master.as_deref(),
                        State::Backup => i.notify.backup.as_deref(),
                        State::Fault => i.notify.fault.as_deref(),
                        State::Stop => i.notify.stop.as_deref(),
                        State::Init => None,
                    },
                    i.notify.any.as_deref(),
                ),
                (None, Some(g)) => (
                    match state {
                        State::Master => g.notify_master.as_ref(),
                        State::Backup => g.notify_backup.as_ref(),
                        State::Fault => g.notify_fault.as_ref(),
                        State::Stop => g.notify_stop.as_ref(),
                        State::Init => None,
                    },
                    g.notify.as_ref(),
                ),
                (None, None) => (None, None),
            };
            if let Some(c) = specific {
                spawn_notify(c, &[], &users, log);
            }
            if let Some(c) = any {
                // `notify`: TYPE NAME STATE PRIORITY appended.
                let kind = if group { "GROUP" } else { "INSTANCE" };
                let extra = [kind, name, word, &priority.to_string()].map(str::to_string);
                spawn_notify(c, &extra, &users, log);
            }
            notifier.write(&fifo_line(group, name, word, *priority));
            mail(cfg, notifier, group, name, *state, log);
        }
        Notify::MasterRxLowerPri { priority } => {
            if let Some(c) = instance.and_then(|i| i.notify.master_rx_lower_pri.as_deref()) {
                spawn_notify(c, &[], &users, log);
            }
            notifier.write(&fifo_line(false, name, "MASTER_RX_LOWER_PRI", *priority));
        }
        Notify::Deleted {
            priority,
            was_fault,
        } => {
            // keepalived clear_diff_vrrp: DELETED with notify_deleted (and its script, and the
            // generic notify), else FAULT for an instance that was not FAULT already.
            let i = instance.map(|i| &i.notify);
            match i.and_then(|n| n.deleted.as_ref()) {
                Some(script) => {
                    if let Some(c) = script.as_deref() {
                        spawn_notify(c, &[], &users, log);
                    }
                    if let Some(c) = i.and_then(|n| n.any.as_deref()) {
                        let extra = ["INSTANCE", name, "DELETED", &priority.to_string()]
                            .map(str::to_string);
                        spawn_notify(c, &extra, &users, log);
                    }
                    notifier.write(&fifo_line(false, name, "DELETED", *priority));
                }
                None if !was_fault => {
                    let fault = Notify::State {
                        state: State::Fault,
                        priority: *priority,
                    };
                    dispatch(cfg, notifier, false, name, &fault, log);
                }
                None => {}
            }
        }
        Notify::Priority { state, priority } => {
            let word = if *state == State::Master {
                "MASTER_PRIORITY"
            } else {
                "BACKUP_PRIORITY"
            };
            notifier.write(&fifo_line(false, name, word, *priority));
        }
    }
}

/// `smtp_alert`: a mail per new state (vrrp_notify.c `vrrp_smtp_notifier`); FAULT is skipped
/// with `no_email_faults`.
fn mail(cfg: &Config, notifier: &mut Notifier, group: bool, name: &str, state: State, log: &Log) {
    let g = &cfg.global_defs;
    let enabled = if group {
        cfg.vrrp_sync_groups
            .iter()
            .find(|x| x.name == name)
            .and_then(|x| x.smtp_alert)
    } else {
        cfg.vrrp_instances
            .iter()
            .find(|x| x.name == name)
            .and_then(|x| x.smtp_alert)
    }
    .or(g.smtp_alert_vrrp)
    .or(g.smtp_alert)
    .unwrap_or(false);
    if !enabled || (state == State::Fault && g.no_email_faults) {
        return;
    }
    if notifier.mailed.insert((group, name.to_string()), state) == Some(state) {
        return;
    }
    let (Some(server), Some(m)) = (
        g.smtp_server.clone(),
        super::smtp::vrrp_mail(cfg, group, name, &state.to_string()),
    ) else {
        return;
    };
    let timeout = std::time::Duration::from_micros(g.smtp_connect_timeout.0.max(1_000_000));
    let log = log.clone();
    tokio::spawn(async move {
        match super::smtp::send(&server.host, server.port, timeout, &m).await {
            Ok(()) => log.info(&format!("SMTP alert successfully sent: {}", m.subject)),
            Err(e) => log.warn(&format!(
                "SMTP alert to {}:{} failed: {e}",
                server.host, server.port
            )),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_lines_are_keepalived_s() {
        assert_eq!(
            fifo_line(false, "VI_1", "MASTER", 100),
            "INSTANCE \"VI_1\" MASTER 100\n"
        );
        assert_eq!(fifo_line(true, "G", "BACKUP", 0), "GROUP \"G\" BACKUP 0\n");
    }
}
