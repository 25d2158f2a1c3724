//! What netlink says about links and addresses, and what the daemon does about it. The
//! daemon keeps its own view of the kernel's interfaces (by index) and addresses: an event
//! is compared with it, and after an overrun (the kernel dropped notifications) or a new
//! watcher, links and addresses are read again and the differences handled as the lost
//! events would have been (threat-model rule 5).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::Daemon;
use crate::sys::links::{self, Address, Link, NetEvent};
use crate::vrrp::event::Input as VrrpInput;

/// The daemon's view of the kernel's links and addresses.
#[derive(Debug, Default)]
pub struct NetView {
    /// Every interface, by index: its name and whether it is up.
    links: HashMap<u32, (String, bool)>,
    /// Whether each name was last reported up to the engine: only a change is news
    /// (netlink repeats a link's state on every change of any of its attributes).
    reported: HashMap<String, bool>,
    /// Every address, with its interface's index.
    addresses: HashSet<(u32, IpAddr)>,
}

impl NetView {
    /// Records `up` for `name`; whether that differs from what was reported.
    pub fn changed(&mut self, name: &str, up: bool) -> bool {
        self.reported.insert(name.to_string(), up) != Some(up)
    }

    /// A link appeared or changed; the name it had before under the same index, if it was
    /// renamed.
    pub fn link(&mut self, l: &Link) -> Option<String> {
        let old = self.links.insert(l.index, (l.name.clone(), l.up));
        old.map(|(n, _)| n).filter(|n| *n != l.name)
    }

    pub fn address(&mut self, a: Address) {
        self.addresses.insert((a.index, a.addr));
    }

    fn link_gone(&mut self, index: u32) {
        self.links.remove(&index);
    }

    /// Whether `addr` is on any interface.
    fn has_address(&self, addr: IpAddr) -> bool {
        self.addresses.iter().any(|(_, a)| *a == addr)
    }
}

impl Daemon {
    pub(super) async fn on_net(&mut self, event: NetEvent) {
        match event {
            NetEvent::AddressAdded(a) => self.on_address_added(a).await,
            NetEvent::AddressRemoved(a) => self.on_address_removed(a).await,
            NetEvent::Link(l) => self.on_link(l).await,
            NetEvent::LinkGone(l) => self.on_link_gone(l).await,
            NetEvent::Overrun => {
                self.log.warn(
                    "netlink overrun: link and address changes were lost; reading them again",
                );
                if let Err(e) = self.resync().await {
                    self.log
                        .warn(&format!("cannot read links and addresses: {e}"));
                }
            }
        }
    }

    async fn on_address_added(&mut self, a: Address) {
        self.net.addresses.insert((a.index, a.addr));
        self.lvs.address(a.addr, true, &self.log);
        self.lvs.sync_if_dirty(&self.log);
        // An interface waiting for an address to send from may have one now.
        let waiting = self.vrrp.waiting_interfaces();
        if !waiting.is_empty() {
            self.sync_interfaces(waiting).await;
        }
    }

    async fn on_address_removed(&mut self, a: Address) {
        self.net.addresses.remove(&(a.index, a.addr));
        let here = self.net.has_address(a.addr);
        self.lvs.address(a.addr, here, &self.log);
        self.lvs.sync_if_dirty(&self.log);
        // The address went with its interface: the interface first (FAULT, not a step
        // down with adverts out of a dead socket). An interface still there under its index
        // is not looked at again (a MASTER releasing a thousand VIPs would pay for it).
        let moved: Vec<String> = (self.vrrp.names_on_index(a.index).into_iter())
            .filter(|n| nix::net::if_::if_nametoindex(n.as_str()).ok() != Some(a.index))
            .collect();
        if !moved.is_empty() {
            self.sync_interfaces(moved).await;
        }
        self.step_vrrp(VrrpInput::AddressRemoved { addr: a.addr })
            .await;
    }

    async fn on_link(&mut self, l: Link) {
        let renamed = self.net.link(&l);
        let mut names = vec![l.name.clone()];
        names.extend(self.vrrp.names_on_index(l.index));
        if let Some(old) = &renamed {
            self.log
                .info(&format!("Netlink reports {old} renamed {}", l.name));
            names.push(old.clone());
        }
        for n in &names {
            self.vrrp.ifaces.forget(n);
        }
        self.sync_interfaces(names).await;
        if let Some(old) = renamed {
            self.link_state(old, false).await;
        }
        self.link_state(l.name, l.up).await;
    }

    async fn on_link_gone(&mut self, l: Link) {
        self.net.link_gone(l.index);
        let mut names = vec![l.name.clone()];
        names.extend(self.vrrp.names_on_index(l.index));
        for n in &names {
            self.vrrp.ifaces.forget(n);
        }
        self.sync_interfaces(names).await;
        self.link_state(l.name, false).await;
    }

    /// Whether `name` is up, for the engine (the instances on it, `track_interface`).
    async fn link_state(&mut self, name: String, up: bool) {
        if !self.net.changed(&name, up) {
            return;
        }
        let state = if up { "up" } else { "down" };
        self.log.info(&format!("Netlink reports {name} {state}"));
        let input = VrrpInput::Link {
            interface: name,
            up,
        };
        self.step_vrrp(input).await;
    }

    /// The VRRP side's sockets, VMACs and source addresses on `names` brought in line with
    /// the interfaces now; the engine is told which instances can run.
    pub(super) async fn sync_interfaces(&mut self, names: Vec<String>) {
        let inputs = self.vrrp.sync_interfaces(names, &self.log).await;
        for input in inputs {
            if let VrrpInput::Interface { interface, present } = &input {
                let what = if *present {
                    "is back: its instances may run"
                } else {
                    "is gone: its instances are FAULT"
                };
                self.log.info(&format!("{interface} {what}"));
            }
            self.step_vrrp(input).await;
        }
    }

    /// Links and addresses read again, and every difference with what the daemon knew
    /// handled as its event would have been.
    pub(super) async fn resync(&mut self) -> std::io::Result<()> {
        let links = links::current().await?;
        let addresses = links::current_addresses().await?;
        let now: HashSet<u32> = links.iter().map(|l| l.index).collect();
        let gone: Vec<Link> = (self.net.links.iter())
            .filter(|(i, _)| !now.contains(i))
            .map(|(i, (name, _))| Link {
                index: *i,
                name: name.clone(),
                up: false,
            })
            .collect();
        for l in gone {
            self.on_link_gone(l).await;
        }
        for l in links {
            self.on_link(l).await;
        }
        let have: HashSet<(u32, IpAddr)> = addresses.iter().map(|a| (a.index, a.addr)).collect();
        let lost: Vec<(u32, IpAddr)> = self.net.addresses.difference(&have).copied().collect();
        for (index, addr) in lost {
            let a = Address {
                index,
                addr,
                tentative: false,
            };
            self.on_address_removed(a).await;
        }
        for a in addresses {
            if !self.net.addresses.contains(&(a.index, a.addr)) {
                self.on_address_added(a).await;
            }
        }
        let all = self.vrrp.all_interfaces();
        self.sync_interfaces(all).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_change_of_a_links_state_is_news() {
        let mut links = NetView::default();
        assert!(links.changed("eth0", true), "the first report is news");
        assert!(!links.changed("eth0", true), "a repeat is not");
        assert!(links.changed("eth0", false));
        assert!(links.changed("eth1", false), "each link on its own");
        assert!(!links.changed("eth0", false));
        assert!(links.changed("eth0", true));
    }

    #[test]
    fn a_link_that_changes_its_name_under_the_same_index_is_a_rename() {
        let mut v = NetView::default();
        let l = |index, name: &str| Link {
            index,
            name: name.into(),
            up: true,
        };
        assert_eq!(v.link(&l(5, "eth0")), None);
        assert_eq!(v.link(&l(5, "eth0")), None, "the same");
        assert_eq!(v.link(&l(5, "eth9")), Some("eth0".into()));
        v.link_gone(5);
        assert_eq!(v.link(&l(7, "eth0")), None, "a new index: a new interface");
    }
}
