//! `use_vmac`: a macvlan with the virtual router's MAC 00:00:5e:00:01:VRID (RFC 5798 §7.3)
//! on the instance's interface; adverts, VIPs and GARPs use it. keepalived's sysctls: on the
//! VMAC accept_local=1, arp_ignore=1, rp_filter=0; on the base interface arp_ignore=1 and
//! arp_filter=1 (so it does not answer ARP for the VIPs), and ours, arp_announce=2.
//!
//! The kernel deletes a macvlan with its base interface: when the base comes back (a new
//! index), the VMAC is created again on it (interfaces.rs).

use super::{Vrrp, VrrpError};
use crate::config::blocks::vrrp::VrrpInstance;
use crate::config::values::Family;
use crate::daemon::log::Log;

/// A VMAC this daemon created or adopted: removed at stop (and when a reload drops its
/// instance), created again when its base interface is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vmac {
    pub name: String,
    /// The base interface's name.
    pub base: String,
    /// Its index now; `None` while it is gone (its base was deleted).
    pub index: Option<u32>,
}

/// What creating VMACs changed, to be undone if what follows fails.
#[derive(Default)]
pub struct Created {
    pub vmacs: Vec<Vmac>,
    /// The base sysctls changed, with their old values.
    pub sysctls: Vec<(String, String)>,
}

impl Vrrp {
    /// Creates the VMACs of `instances` that do not exist yet. On an error, those created
    /// here are removed again and the sysctls put back: nothing has changed.
    pub(super) async fn create_vmacs(
        &mut self,
        instances: &[VrrpInstance],
        log: &Log,
    ) -> Result<Created, VrrpError> {
        let mut created = Created::default();
        for m in instances.iter().filter(|m| m.use_vmac.is_some()) {
            let name = vmac_name(m);
            let known = self.vmacs.iter().chain(&created.vmacs);
            if known
                .into_iter()
                .any(|v| v.name == name && v.index.is_some())
            {
                continue;
            }
            match self.create_vmac(m, &mut created.sysctls, log).await {
                Ok(v) => created.vmacs.push(v),
                Err(e) => {
                    self.undo_vmacs(created, log).await;
                    return Err(e);
                }
            }
        }
        Ok(created)
    }

    /// Removes what [`create_vmacs`](Self::create_vmacs) created.
    pub(super) async fn undo_vmacs(&mut self, created: Created, log: &Log) {
        for v in created.vmacs {
            self.delete_vmac(&v, log).await;
        }
        for (path, old) in created.sysctls.into_iter().rev() {
            let _ = std::fs::write(path, old);
        }
    }

    /// The VMAC of instance `m`, created (or found) on its base interface, with keepalived's
    /// sysctls.
    pub(super) async fn create_vmac(
        &mut self,
        m: &VrrpInstance,
        saved: &mut Vec<(String, String)>,
        log: &Log,
    ) -> Result<Vmac, VrrpError> {
        let vmac = m.use_vmac.as_ref().expect("an instance with use_vmac");
        let base_name = m.interface.clone().unwrap_or_default();
        let vrid = m.virtual_router_id.unwrap_or(0);
        let name = vmac_name(m);
        let v6 = m.family == Some(Family::Inet6);
        let mac = vmac.mac.as_deref().and_then(parse_mac).unwrap_or([
            0,
            0,
            0x5e,
            0,
            if v6 { 2 } else { 1 },
            vrid,
        ]);
        self.ifaces.forget(&base_name);
        let base = self
            .ifaces
            .get(&base_name)
            .ok_or_else(|| VrrpError::NoVmacBase {
                instance: m.name.clone(),
                interface: base_name.clone(),
            })?;
        let added = self.netlink.add_vmac(&name, base.index, mac).await;
        let index = added.map_err(|e| VrrpError::Vmac {
            instance: m.name.clone(),
            name: name.clone(),
            source: e,
        })?;
        self.ifaces.forget(&name);
        log.info(&format!("({}) VMAC {name} created on {base_name}", m.name));
        for (key, value) in [
            ("accept_local", "1"),
            ("arp_ignore", "1"),
            ("rp_filter", "0"),
        ] {
            set_sysctl(&name, key, value);
        }
        // arp_announce=2 is ours, not keepalived's: without it the base interface asks
        // for neighbours with the VIP as sender address and its own MAC, and every
        // neighbour that answers a client of the VIP learns the base MAC for the VIP -
        // what the VMAC is there to prevent.
        for (key, value) in [
            ("arp_ignore", "1"),
            ("arp_filter", "1"),
            ("arp_announce", "2"),
        ] {
            // The value before we ever changed it is kept once, to be restored at stop.
            if let Some((path, old)) = set_sysctl(&base_name, key, value) {
                let known = self.saved_sysctls.iter().chain(saved.iter());
                if !known.into_iter().any(|(p, _)| *p == path) {
                    saved.push((path, old));
                }
            }
        }
        Ok(Vmac {
            name,
            base: base_name,
            index: Some(index),
        })
    }

    async fn delete_vmac(&mut self, v: &Vmac, log: &Log) {
        let Some(index) = v.index else { return };
        if let Err(e) = self.netlink.del_link(index).await
            && !e.is_no_device()
        {
            log.warn(&format!("cannot remove VMAC {}: {e}", v.name));
        }
        self.ifaces.forget(&v.name);
    }

    /// Removes the VMACs `which` selects (at stop: all; after a reload: those no instance
    /// uses any more).
    pub(super) async fn remove_vmacs_where(&mut self, which: impl Fn(&Vmac) -> bool, log: &Log) {
        let (gone, kept): (Vec<Vmac>, Vec<Vmac>) =
            std::mem::take(&mut self.vmacs).into_iter().partition(which);
        self.vmacs = kept;
        for v in gone {
            self.delete_vmac(&v, log).await;
        }
    }

    /// At stop: the VMACs go, the base interfaces' sysctls come back.
    pub async fn remove_vmacs(&mut self, log: &Log) {
        self.remove_vmacs_where(|_| true, log).await;
        for (path, old) in std::mem::take(&mut self.saved_sysctls) {
            let _ = std::fs::write(path, old);
        }
    }

    /// The base `base` is back (a new index): the VMACs on it are created again. Returns
    /// their names, to be opened.
    pub(super) async fn recreate_vmacs_on(&mut self, base: &str, log: &Log) -> Vec<String> {
        let mut again = Vec::new();
        let missing: Vec<VrrpInstance> = self
            .config
            .vrrp_instances
            .iter()
            .filter(|m| m.use_vmac.is_some() && m.interface.as_deref() == Some(base))
            .filter(|m| {
                let name = vmac_name(m);
                nix::net::if_::if_nametoindex(name.as_str()).is_err()
            })
            .cloned()
            .collect();
        for m in missing {
            let mut saved = Vec::new();
            match self.create_vmac(&m, &mut saved, log).await {
                Ok(v) => {
                    self.saved_sysctls.extend(saved);
                    again.push(v.name.clone());
                    match self.vmacs.iter_mut().find(|x| x.name == v.name) {
                        Some(x) => *x = v,
                        None => self.vmacs.push(v),
                    }
                }
                Err(e) => log.warn(&format!("cannot create the VMAC again: {e}")),
            }
        }
        again
    }
}

/// keepalived's VMAC name: the one given, else `vrrp.VRID`.
pub fn vmac_name(m: &VrrpInstance) -> String {
    m.use_vmac
        .as_ref()
        .and_then(|v| v.name.clone())
        .unwrap_or_else(|| format!("vrrp.{}", m.virtual_router_id.unwrap_or(0)))
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let v: Vec<u8> = s
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).ok())
        .collect::<Option<_>>()?;
    v.try_into().ok()
}

/// Writes /proc/sys/net/ipv4/conf/IF/KEY; returns its path and the value it had.
fn set_sysctl(ifname: &str, key: &str, value: &str) -> Option<(String, String)> {
    let path = format!("/proc/sys/net/ipv4/conf/{ifname}/{key}");
    let old = std::fs::read_to_string(&path).ok();
    let _ = std::fs::write(&path, value);
    old.map(|o| (path, o.trim().to_string()))
}
