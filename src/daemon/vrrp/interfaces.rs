//! Interfaces that come and go (threat-model rule 5). What the VRRP side holds on an
//! interface - its sockets, its packet sockets, the VMACs on it, the source address of its
//! instances - belongs to the interface's index, not to its name: an orchestrator that
//! deletes and creates again a veth, a VLAN or a bond gives it the same name and a new index.
//!
//! On every link event the daemon brings what it holds on the names concerned in line with
//! the interface bearing that name now: gone (deleted, renamed away) → its sockets close and
//! its instances go FAULT (keepalived `cleanup_lost_interface`); back with a new index → the
//! VMACs on it are created again, its sockets opened again, the source address looked up
//! again, static addresses and routes on it put back, and only then do its instances leave
//! FAULT. An instance never runs on a socket bound to a dead index.

use std::collections::{BTreeSet, HashSet};

use super::sockets::{self, Fresh};
use super::vmac::vmac_name;
use super::{Vrrp, vip_dev, vips};
use crate::config::blocks::Config;
use crate::daemon::log::Log;
use crate::vrrp::engine::Engine;
use crate::vrrp::event::{Input, State};

/// The interfaces the VRRP side depends on: the instances' own (the VMACs with use_vmac),
/// the VMACs' bases, the devices of VIPs, routes and static addresses.
pub fn used_interfaces(config: &Config, engine: &Engine) -> BTreeSet<String> {
    let mut used: BTreeSet<String> = engine
        .instances()
        .iter()
        .map(|i| i.config().interface.clone())
        .collect();
    for m in &config.vrrp_instances {
        used.extend(m.interface.clone());
        if m.use_vmac.is_some() {
            used.insert(vmac_name(m));
        }
        used.extend(vips(Some(m)).filter_map(|a| a.dev.clone()));
        used.extend(m.virtual_routes.iter().filter_map(|r| r.dev.clone()));
    }
    used.extend(config.static_ipaddress.iter().filter_map(|a| a.dev.clone()));
    used.extend(config.static_routes.iter().filter_map(|r| r.dev.clone()));
    used
}

impl Vrrp {
    /// Whether the VRRP side depends on interface `name`.
    pub fn uses(&self, name: &str) -> bool {
        self.used.contains(name)
    }

    /// The interfaces whose sockets are bound to index `index`.
    pub fn names_on_index(&self, index: u32) -> Vec<String> {
        let mut names: Vec<String> = self
            .sockets
            .iter()
            .filter(|(_, o)| o.ifindex == index)
            .map(|((name, _, _), _)| name.clone())
            .collect();
        names.extend(
            (self.indexes.iter())
                .filter(|(_, i)| **i == index)
                .map(|(n, _)| n.clone()),
        );
        names.sort();
        names.dedup();
        names
    }

    /// The instances' interfaces they cannot run on yet (gone, or waiting for an address to
    /// send from).
    pub fn waiting_interfaces(&self) -> Vec<String> {
        let mut names: Vec<String> = (self.engine.instances().iter())
            .filter(|i| !i.interface_present())
            .map(|i| i.config().interface.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Every interface used, looked at again (after a netlink overrun, or at start).
    pub fn all_interfaces(&self) -> Vec<String> {
        self.used.iter().cloned().collect()
    }

    /// Brings what the VRRP side holds on `names` in line with the interfaces bearing those
    /// names now; returns what the engine must be told (`Input::Interface`), in order.
    pub async fn sync_interfaces(&mut self, names: Vec<String>, log: &Log) -> Vec<Input> {
        let mut work: Vec<String> = names.into_iter().filter(|n| self.uses(n)).collect();
        let mut done = HashSet::new();
        let mut inputs = Vec::new();
        while let Some(name) = work.pop() {
            if done.insert(name.clone()) {
                let more = self.sync_interface(&name, &mut inputs, log).await;
                work.extend(more);
            }
        }
        inputs
    }

    /// One interface; returns the VMACs created again on it (to be synced in turn).
    async fn sync_interface(
        &mut self,
        name: &str,
        inputs: &mut Vec<Input>,
        log: &Log,
    ) -> Vec<String> {
        self.ifaces.forget(name);
        let new = self.ifaces.get(name).map(|i| i.index);
        let old = self.indexes.get(name).copied();
        let on_it: Vec<usize> = (self.engine.instances().iter().enumerate())
            .filter(|(_, i)| i.config().interface == name)
            .map(|(k, _)| k)
            .collect();
        let mut present = on_it
            .iter()
            .all(|&k| self.engine.instances()[k].interface_present());
        let mut again = Vec::new();
        if old != new {
            self.moved(name, old, new, log);
            if old.is_some() && present && !on_it.is_empty() {
                // A new interface under the old name: through FAULT, as if it had been seen
                // gone (its addresses went with the old one).
                inputs.push(gone(name, false));
                present = false;
            }
            if new.is_some() {
                again = self.recreate_vmacs_on(name, log).await;
                // Seen before (now gone, or under another index): created again.
                if !self.known.insert(name.to_string()) {
                    self.restore_on(name, log).await;
                }
            }
        }
        if on_it.is_empty() {
            return again;
        }
        let ready = new.is_some()
            && self.open_sockets_on(name, log)
            && (present || self.update_sources(&on_it, log));
        if ready != present {
            if ready {
                log.info(&format!(
                    "{name}: VRRP sockets open on index {}",
                    new.unwrap_or(0)
                ));
            }
            inputs.push(gone(name, ready));
        }
        again
    }

    /// Interface `name` moved from index `old` to `new` (either may be none): what was
    /// bound to the old index goes.
    fn moved(&mut self, name: &str, old: Option<u32>, new: Option<u32>, log: &Log) {
        match new {
            Some(i) => self.indexes.insert(name.to_string(), i),
            None => self.indexes.remove(name),
        };
        self.close_sockets(|(n, _, _), o| n == name && Some(o.ifindex) != new);
        if let Some(o) = old {
            self.packet_sockets.remove(&o);
        }
        if let Some(v) = self.vmacs.iter_mut().find(|v| v.name == name) {
            v.index = new;
        }
        match (old, new) {
            (Some(o), None) => log.info(&format!("{name} (index {o}) is gone")),
            (Some(o), Some(n)) => {
                log.info(&format!("{name} is a new interface (index {o} -> {n})"))
            }
            (None, Some(n)) => log.info(&format!("{name} is here (index {n})")),
            (None, None) => {}
        }
    }

    /// Opens the sockets the instances on `name` need that are not open on its index now;
    /// whether they all are.
    fn open_sockets_on(&mut self, name: &str, log: &Log) -> bool {
        let Some(iface) = self.ifaces.get(name) else {
            return false;
        };
        let configs = (self.engine.instances().iter())
            .map(|i| i.config())
            .filter(|c| c.interface == name);
        let mut ok = true;
        for (key, groups) in sockets::wanted(configs) {
            let open = self.sockets.get(&key);
            if open.is_some_and(|o| o.ifindex == iface.index && o.groups == groups) {
                continue;
            }
            match sockets::open(&key, iface.index, &groups) {
                Ok(socket) => {
                    let fresh = Fresh {
                        key,
                        socket,
                        ifindex: iface.index,
                        groups,
                    };
                    self.install_socket(fresh, log);
                }
                Err(e) => {
                    log.warn(&format!("{name}: VRRP socket: {e}"));
                    ok = false;
                }
            }
        }
        ok
    }

    /// Looks up the source address of instances `on_it` again (their interface is new, or
    /// has none yet); whether every one has one.
    fn update_sources(&mut self, on_it: &[usize], log: &Log) -> bool {
        let mut ok = true;
        for &k in on_it {
            let Some(m) = self.config.vrrp_instances.get(k) else {
                continue;
            };
            if m.src_ip.is_some() {
                continue;
            }
            let v6 = self.engine.instances()[k].config().v6();
            let base = m.interface.clone().unwrap_or_default();
            self.ifaces.forget(&base);
            let src = self
                .ifaces
                .get(&base)
                .and_then(|i| i.usable_vrrp_source(v6));
            let inst = &mut self.engine.instances_mut()[k];
            match src {
                Some(src) if src != inst.config().src => {
                    log.info(&format!("({}) sends from {src} now", m.name));
                    inst.set_source(src);
                }
                Some(_) => {}
                None => ok = false,
            }
        }
        ok
    }

    /// Interface `name` was created again: the static addresses and routes on it, and the
    /// VIPs and virtual routes a MASTER has there (when the instance itself runs on another
    /// interface - its own goes through FAULT and installs them again), are put back.
    async fn restore_on(&self, name: &str, log: &Log) {
        let on = |dev: &Option<String>| dev.as_deref() == Some(name);
        let cfg = &self.config;
        let addrs = cfg.static_ipaddress.iter().filter(|a| on(&a.dev));
        let routes: Vec<_> = cfg
            .static_routes
            .iter()
            .filter(|r| on(&r.dev))
            .cloned()
            .collect();
        let addrs = addrs.map(|a| (a, a.dev.clone()));
        self.ip_set(true, "static", addrs, &routes, &[], log).await;
        for (k, inst) in self.engine.instances().iter().enumerate() {
            let c = inst.config();
            if inst.state() != State::Master || !inst.installed() || c.interface == name {
                continue;
            }
            let m = cfg.vrrp_instances.get(k);
            let addrs = vips(m)
                .map(|a| (a, Some(vip_dev(a, m, c))))
                .filter(|(_, d)| d.as_deref() == Some(name));
            let routes: Vec<_> = m
                .map_or(&[][..], |m| &m.virtual_routes[..])
                .iter()
                .filter(|r| on(&r.dev))
                .cloned()
                .collect();
            self.ip_set(true, &c.name, addrs, &routes, &[], log).await;
        }
    }
}

fn gone(name: &str, present: bool) -> Input {
    Input::Interface {
        interface: name.to_string(),
        present,
    }
}
