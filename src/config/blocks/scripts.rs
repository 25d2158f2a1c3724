//! Every script a configuration runs, in one list: what keepalived counts for
//! `enable_script_security` (vrrp.c `vrrp_check_script_security`, check_data.c
//! `check_check_script_security`) and what the environment checks look for on disk.

use crate::config::source::Span;
use crate::config::table::Command;

use super::Config;

/// One place a configuration names a script.
#[derive(Debug)]
pub struct ScriptUse<'a> {
    pub command: &'a Command,
    /// The keyword's line (its block's header when not recorded).
    pub span: Span,
    pub role: Role,
}

/// What a script is for, which decides what its absence costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A vrrp_script: keepalived reports it as a configuration error and disables it.
    Tracker,
    /// A MISC_CHECK: keepalived logs a notice and disables the checker.
    Checker,
    /// A notify script: only its events are lost.
    Notify,
}

impl Config {
    /// vrrp_scripts first, then the scripts of each instance, sync group and virtual server,
    /// then the global FIFO readers.
    pub fn scripts(&self) -> Vec<ScriptUse<'_>> {
        // (the command if given, the line it is on, what it is for)
        let mut found: Vec<(Option<&Command>, Span, Role)> = Vec::new();
        for s in &self.vrrp_scripts {
            found.push((s.script.as_ref(), s.seen.or_header("script"), Role::Tracker));
        }
        for i in &self.vrrp_instances {
            let n = &i.notify;
            let deleted = n.deleted.as_ref().and_then(|d| d.as_deref());
            for (k, cmd) in [
                ("notify_master", n.master.as_deref()),
                ("notify_backup", n.backup.as_deref()),
                ("notify_fault", n.fault.as_deref()),
                ("notify_stop", n.stop.as_deref()),
                ("notify", n.any.as_deref()),
                (
                    "notify_master_rx_lower_pri",
                    n.master_rx_lower_pri.as_deref(),
                ),
                ("notify_deleted", deleted),
            ] {
                found.push((cmd, i.seen.or_header(k), Role::Notify));
            }
        }
        for g in &self.vrrp_sync_groups {
            for (k, cmd) in [
                ("notify_master", &g.notify_master),
                ("notify_backup", &g.notify_backup),
                ("notify_fault", &g.notify_fault),
                ("notify_stop", &g.notify_stop),
                ("notify", &g.notify),
            ] {
                found.push((cmd.as_ref(), g.seen.or_header(k), Role::Notify));
            }
        }
        for vs in &self.virtual_servers {
            for (k, cmd) in [
                ("quorum_up", &vs.quorum_up),
                ("quorum_down", &vs.quorum_down),
            ] {
                found.push((cmd.as_ref(), vs.seen.or_header(k), Role::Notify));
            }
            for rs in &vs.real_servers {
                for (k, cmd) in [
                    ("notify_up", &rs.notify_up),
                    ("notify_down", &rs.notify_down),
                ] {
                    found.push((cmd.as_ref(), rs.seen.or_header(k), Role::Notify));
                }
                for c in &rs.checkers {
                    let misc = c.misc.as_ref().and_then(|m| m.misc_path.as_ref());
                    found.push((misc, c.seen.or_header("misc_path"), Role::Checker));
                }
            }
        }
        let g = &self.global_defs;
        for (k, cmd) in [
            ("notify_fifo_script", &g.notify_fifo_script),
            ("vrrp_notify_fifo_script", &g.vrrp_notify_fifo_script),
            ("lvs_notify_fifo_script", &g.lvs_notify_fifo_script),
            ("startup_script", &g.startup_script),
            ("shutdown_script", &g.shutdown_script),
        ] {
            found.push((cmd.as_ref(), g.seen.or_header(k), Role::Notify));
        }
        found
            .into_iter()
            .filter_map(|(cmd, span, role)| {
                cmd.map(|command| ScriptUse {
                    command,
                    span,
                    role,
                })
            })
            .collect()
    }
}
