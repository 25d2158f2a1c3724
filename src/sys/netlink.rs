//! rtnetlink: the daemon adds and removes addresses (VIPs, eVIPs) with keepalived's options
//! (prefix, brd, scope, label). All rtnetlink calls live here (the crate changes its API often).

use std::net::{IpAddr, Ipv4Addr};

use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage, AddressScope};

use crate::config::blocks::addr::{Broadcast, IpAddress};

/// A route netlink connection.
#[derive(Clone)]
pub struct Netlink {
    handle: rtnetlink::Handle,
}

impl Netlink {
    /// Opens a connection; its I/O runs as a task on the current tokio runtime.
    pub fn open() -> std::io::Result<Netlink> {
        let (conn, handle, _) = rtnetlink::new_connection()?;
        tokio::spawn(conn);
        Ok(Netlink { handle })
    }

    /// `ip addr replace` (so that an address already there is not an error).
    pub async fn add_address(&self, ifindex: u32, a: &IpAddress) -> Result<(), String> {
        let mut req = self
            .handle
            .address()
            .add(ifindex, a.addr.addr, a.addr.len)
            .replace();
        decorate(req.message_mut(), a);
        req.execute().await.map_err(|e| e.to_string())
    }

    /// `ip addr del`; an address that is not there is not an error.
    pub async fn del_address(&self, ifindex: u32, a: &IpAddress) -> Result<(), String> {
        let mut req = self.handle.address().add(ifindex, a.addr.addr, a.addr.len);
        let msg: AddressMessage = req.message_mut().clone();
        match self.handle.address().del(msg).execute().await {
            Ok(()) => Ok(()),
            Err(rtnetlink::Error::NetlinkError(e))
                if matches!(
                    e.raw_code().abs(),
                    nix::libc::EADDRNOTAVAIL | nix::libc::ENOENT | nix::libc::ESRCH
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// keepalived's address options on the message.
fn decorate(m: &mut AddressMessage, a: &IpAddress) {
    if let Some(label) = &a.label {
        m.attributes.push(AddressAttribute::Label(label.clone()));
    }
    if let (IpAddr::V4(addr), Some(b)) = (a.addr.addr, &a.brd) {
        let host_bits = if a.addr.len >= 32 {
            0
        } else {
            u32::MAX >> a.addr.len
        };
        let brd = match b {
            Broadcast::Addr(IpAddr::V4(x)) => Some(*x),
            Broadcast::Plus => Some(Ipv4Addr::from(u32::from(addr) | host_bits)),
            Broadcast::Minus => Some(Ipv4Addr::from(u32::from(addr) & !host_bits)),
            Broadcast::Addr(IpAddr::V6(_)) => None,
        };
        if let Some(brd) = brd {
            m.attributes.push(AddressAttribute::Broadcast(brd));
        }
    }
    if let Some(scope) = &a.scope {
        m.header.scope = match scope.as_str() {
            "host" => AddressScope::Host,
            "link" => AddressScope::Link,
            "site" => AddressScope::Site,
            "nowhere" => AddressScope::Nowhere,
            "global" | "universe" => AddressScope::Universe,
            n => n
                .parse::<u8>()
                .map_or(AddressScope::Universe, AddressScope::from),
        };
    }
}
