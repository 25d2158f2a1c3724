//! The VRRP sockets: one per interface, family and IP protocol, each bound to the index the
//! interface had when it was opened (threat-model rule 5). An interface deleted and created
//! again under the same name is another interface: its sockets are opened again
//! (interfaces.rs), never left bound to the dead index.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use tokio::task::AbortHandle;

use super::{Packet, Vrrp};
use crate::daemon::log::Log;
use crate::daemon::supervisor::Task;
use crate::sys::vrrp_socket::{self, VrrpSocket};
use crate::vrrp::checksum::IPPROTO_VRRP;
use crate::vrrp::instance_config::{Auth, InstanceConfig};
use tokio::sync::mpsc;

/// Sockets are keyed by interface name, family (IPv6?) and IP protocol.
pub type SocketKey = (String, bool, u8);

/// An open socket: the interface index it is bound to, the groups it joined, its reader.
pub struct Open {
    pub socket: Arc<VrrpSocket>,
    pub ifindex: u32,
    pub groups: Vec<IpAddr>,
    reader: AbortHandle,
}

impl Drop for Open {
    fn drop(&mut self) {
        // The reader holds the socket too: without it the socket closes.
        self.reader.abort();
    }
}

/// A socket opened for a configuration not running yet (a reload being prepared).
pub struct Fresh {
    pub key: SocketKey,
    pub socket: VrrpSocket,
    pub ifindex: u32,
    pub groups: Vec<IpAddr>,
}

/// The sockets `instances` need, each with the multicast groups it joins.
pub fn wanted<'a>(
    instances: impl IntoIterator<Item = &'a InstanceConfig>,
) -> BTreeMap<SocketKey, Vec<IpAddr>> {
    let mut wanted: BTreeMap<SocketKey, Vec<IpAddr>> = BTreeMap::new();
    for c in instances {
        let groups = wanted
            .entry((c.interface.clone(), c.v6(), IPPROTO_VRRP))
            .or_default();
        if !c.unicast() && !groups.contains(&c.mcast_dst) {
            groups.push(c.mcast_dst);
        }
        if matches!(c.auth, Auth::Ah(_)) {
            wanted
                .entry((c.interface.clone(), false, vrrp_socket::AH))
                .or_default();
        }
    }
    for groups in wanted.values_mut() {
        groups.sort();
    }
    // The AH socket joins the IPv4 groups of its interface.
    let ah: Vec<(SocketKey, Vec<IpAddr>)> = wanted
        .keys()
        .filter(|(_, _, p)| *p == vrrp_socket::AH)
        .map(|(name, _, _)| {
            let groups = wanted
                .get(&(name.clone(), false, IPPROTO_VRRP))
                .cloned()
                .unwrap_or_default();
            ((name.clone(), false, vrrp_socket::AH), groups)
        })
        .collect();
    wanted.extend(ah);
    wanted
}

/// Opens socket `key` on interface index `ifindex`, joined to `groups`.
pub fn open(key: &SocketKey, ifindex: u32, groups: &[IpAddr]) -> std::io::Result<VrrpSocket> {
    let (ifname, v6, proto) = key;
    if *v6 {
        let g: Vec<_> = groups
            .iter()
            .filter_map(|a| match a {
                IpAddr::V6(a) => Some(*a),
                _ => None,
            })
            .collect();
        VrrpSocket::ipv6(ifname, ifindex, &g)
    } else {
        let g: Vec<_> = groups
            .iter()
            .filter_map(|a| match a {
                IpAddr::V4(a) => Some(*a),
                _ => None,
            })
            .collect();
        VrrpSocket::ipv4(ifname, ifindex, *proto, &g)
    }
}

impl Vrrp {
    /// Starts reading `fresh` (replacing the socket of the same key, whose reader stops).
    pub(super) fn install_socket(&mut self, fresh: Fresh, log: &Log) {
        let socket = Arc::new(fresh.socket);
        let reader = spawn_reader(
            &self.tasks,
            &fresh.key,
            socket.clone(),
            self.packets.clone(),
            log,
        );
        let open = Open {
            socket,
            ifindex: fresh.ifindex,
            groups: fresh.groups,
            reader,
        };
        self.sockets.insert(fresh.key, open);
    }

    /// Closes the sockets `which` selects; their readers stop.
    pub(super) fn close_sockets(&mut self, which: impl Fn(&SocketKey, &Open) -> bool) {
        self.sockets.retain(|k, o| !which(k, o));
    }

    /// A socket's reader died: another on the same socket (the kernel kept its packets).
    pub fn restart_reader(&mut self, interface: &str, v6: bool, protocol: u8, log: &Log) {
        let key = (interface.to_string(), v6, protocol);
        let Some(open) = self.sockets.get_mut(&key) else {
            return;
        };
        let reader = spawn_reader(
            &self.tasks,
            &key,
            open.socket.clone(),
            self.packets.clone(),
            log,
        );
        open.reader.abort();
        open.reader = reader;
    }
}

/// The reader of socket `key`, watched as [`Task::Reader`].
fn spawn_reader(
    tasks: &crate::daemon::supervisor::Tasks,
    key: &SocketKey,
    socket: Arc<VrrpSocket>,
    packets: mpsc::UnboundedSender<Packet>,
    log: &Log,
) -> AbortHandle {
    let (interface, v6, protocol) = key.clone();
    let reader = read(interface.clone(), socket, packets, log.clone());
    let task = Task::Reader {
        interface,
        v6,
        protocol,
    };
    tasks.spawn(task, reader)
}

/// A socket's reader: read, hand over; it ends when the daemon is gone.
async fn read(
    interface: String,
    socket: Arc<VrrpSocket>,
    tx: mpsc::UnboundedSender<Packet>,
    log: Log,
) {
    loop {
        match socket.recv().await {
            Ok(Ok(rx)) => {
                let p = Packet {
                    interface: interface.clone(),
                    rx,
                };
                if tx.send(p).is_err() {
                    return;
                }
            }
            Ok(Err(_not_vrrp)) => {}
            Err(e) => {
                log.warn(&format!("{interface}: receive: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_socket_per_interface_family_and_protocol_with_every_group() {
        let mut a = InstanceConfig::new("A", "eth0", 1, 100, ip("10.0.0.1"));
        let mut b = InstanceConfig::new("B", "eth0", 2, 100, ip("10.0.0.1"));
        b.mcast_dst = ip("224.0.0.19");
        let c = InstanceConfig::new("C", "eth1", 3, 100, ip("fe80::1"));
        a.auth = Auth::Ah([0; 8]);
        let w = wanted([&a, &b, &c]);
        let keys: Vec<_> = w.keys().cloned().collect();
        assert_eq!(
            keys,
            [
                ("eth0".to_string(), false, vrrp_socket::AH),
                ("eth0".to_string(), false, IPPROTO_VRRP),
                ("eth1".to_string(), true, IPPROTO_VRRP),
            ]
        );
        let groups = vec![ip("224.0.0.18"), ip("224.0.0.19")];
        assert_eq!(w[&("eth0".to_string(), false, IPPROTO_VRRP)], groups);
        assert_eq!(w[&("eth0".to_string(), false, vrrp_socket::AH)], groups);
    }
}
