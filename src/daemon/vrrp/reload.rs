//! A reload is prepared, then committed (threat-model rule 4). Preparing builds the new
//! instances, creates the VMACs and opens the sockets the new configuration needs, and
//! touches nothing that runs: when any of it fails, what it created is removed again and the
//! running configuration is exactly as it was - addresses, VMACs, sockets, states. Only then
//! does the engine switch; after the switch, the old configuration's leftovers (the VIPs of
//! removed instances, sockets and VMACs no instance uses any more) go.

use std::sync::Arc;

use super::sockets::{self, Fresh};
use super::vmac::{Created, vmac_name};
use super::{Vrrp, VrrpError, engine_configs};
use crate::config::blocks::Config;
use crate::daemon::log::Log;
use crate::sys::script::ScriptUsers;
use crate::time::Instant;
use crate::vrrp::engine::{Engine, SyncGroupConfig};
use crate::vrrp::instance_config::InstanceConfig;

/// A configuration ready to run: its engine's instances, its VMACs created, its sockets open.
pub struct Prepared {
    config: Config,
    users: Arc<ScriptUsers>,
    instances: Vec<InstanceConfig>,
    groups: Vec<SyncGroupConfig>,
    sockets: Vec<Fresh>,
    created: Created,
}

impl Prepared {
    pub fn config(&self) -> &Config {
        &self.config
    }
}

impl Vrrp {
    /// Everything `config` needs before it can replace the running one. An error leaves the
    /// running configuration as it was (what was created here is removed again).
    pub async fn prepare(
        &mut self,
        config: Config,
        users: Arc<ScriptUsers>,
        log: &Log,
    ) -> Result<Prepared, VrrpError> {
        let (instances, groups) = engine_configs(&config)?;
        // The sync groups are sound (the switch itself cannot fail then).
        Engine::new(instances.clone(), groups.clone())?;
        let created = self.create_vmacs(&config.vrrp_instances, log).await?;
        match self.open_sockets(&instances) {
            Ok(sockets) => Ok(Prepared {
                config,
                users,
                instances,
                groups,
                sockets,
                created,
            }),
            Err(e) => {
                self.undo_vmacs(created, log).await;
                Err(e)
            }
        }
    }

    /// A prepared configuration that will not run (something else failed): its sockets
    /// close, its VMACs go.
    pub async fn abandon(&mut self, p: Prepared, log: &Log) {
        drop(p.sockets);
        self.undo_vmacs(p.created, log).await;
    }

    /// Switches to `p`: the engine keeps the instances keepalived would keep, the new
    /// sockets are read, then what the old configuration had and the new one does not is
    /// removed.
    pub async fn commit(&mut self, p: Prepared, now: Instant, log: &Log) -> Result<(), VrrpError> {
        let mut out = Vec::new();
        let removed = match self.engine.reload(p.instances, p.groups, now, &mut out) {
            Ok(removed) => removed,
            Err(e) => {
                // Checked by prepare; the engine is unchanged.
                drop(p.sockets);
                self.undo_vmacs(p.created, log).await;
                return Err(e.into());
            }
        };
        let old_config = std::mem::replace(&mut self.config, p.config);
        self.notifier.users = p.users;
        for f in p.sockets {
            self.install_socket(f, log);
        }
        self.vmacs.extend(p.created.vmacs);
        self.saved_sysctls.extend(p.created.sysctls);
        self.apply(out, &removed, Some(&old_config), log).await;
        self.clean_up(log).await;
        Ok(())
    }

    /// After a switch: the sockets and VMACs no instance uses any more go.
    async fn clean_up(&mut self, log: &Log) {
        let wanted = sockets::wanted(self.engine.instances().iter().map(|i| i.config()));
        self.close_sockets(|k, _| !wanted.contains_key(k));
        let vmacs: Vec<String> = (self.config.vrrp_instances.iter())
            .filter(|m| m.use_vmac.is_some())
            .map(vmac_name)
            .collect();
        self.remove_vmacs_where(|v| !vmacs.contains(&v.name), log)
            .await;
        self.track_interfaces();
    }
}
