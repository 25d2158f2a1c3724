//! Interfaces and addresses as the kernel has them: the state of every link and address now
//! (dumps), and a stream of changes (rtnetlink RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
//! RTNLGRP_IPV6_IFADDR), for `track_interface`, the instances' own interfaces (their index:
//! an interface deleted and created again with the same name is a new interface), VIPs
//! removed by someone else, and `ha_suspend`.
//! keepalived counts an interface as up when it is up and running (IFF_UP and IFF_RUNNING).
//!
//! The kernel drops notifications when the receive buffer is full (a burst of thousands of
//! address changes): the socket then reports ENOBUFS, which arrives here as
//! [`NetEvent::Overrun`]; whoever listens must read links and addresses again
//! ([`current`], [`current_addresses`]) - an event it will never see may be among the lost.

use std::net::IpAddr;

use futures_util::StreamExt;
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use tokio::sync::mpsc;

/// An interface: its index, its name and whether it is up (IFF_UP and IFF_RUNNING).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub up: bool,
}

fn link(m: &LinkMessage) -> Option<Link> {
    let name = m.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    })?;
    let f = m.header.flags;
    Some(Link {
        index: m.header.index,
        name,
        up: f.contains(LinkFlags::Up) && f.contains(LinkFlags::Running),
    })
}

/// An address on an interface. `tentative`: IPv6 duplicate address detection has not
/// finished (it cannot be sent from yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Address {
    pub index: u32,
    pub addr: IpAddr,
    pub tentative: bool,
}

/// The address of an RTM_NEWADDR / RTM_DELADDR: IFA_LOCAL for IPv4 (IFA_ADDRESS may be a
/// peer), else IFA_ADDRESS.
fn address(m: &AddressMessage) -> Option<Address> {
    let local = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(x) => Some(*x),
        _ => None,
    });
    let address = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Address(x) => Some(*x),
        _ => None,
    });
    let flags = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Flags(f) => Some(f.bits()),
        _ => None,
    });
    let flags = flags.unwrap_or(u32::from(m.header.flags.bits()));
    let tentative = flags & (AddressFlags::Tentative | AddressFlags::Dadfailed).bits() != 0;
    Some(Address {
        index: m.header.index,
        addr: local.or(address)?,
        tentative,
    })
}

/// Collects a dump; one the kernel cuts short is an error (with the kernel's errno), not a
/// shorter list.
async fn collect<M, T>(
    mut stream: impl futures_util::Stream<Item = Result<M, rtnetlink::Error>> + Unpin,
    f: impl Fn(&M) -> Option<T>,
) -> std::io::Result<Vec<T>> {
    let mut out = Vec::new();
    while let Some(m) = stream.next().await {
        match m {
            Ok(m) => out.extend(f(&m)),
            Err(rtnetlink::Error::NetlinkError(e)) => return Err(e.to_io()),
            Err(e) => return Err(std::io::Error::other(e)),
        }
    }
    Ok(out)
}

/// Every interface now.
pub async fn current() -> std::io::Result<Vec<Link>> {
    let (conn, handle, _) = rtnetlink::new_connection()?;
    let task = tokio::spawn(conn);
    let links = collect(handle.link().get().execute(), link).await;
    task.abort();
    links
}

/// Every address now, with its interface.
pub async fn current_addresses() -> std::io::Result<Vec<Address>> {
    let (conn, handle, _) = rtnetlink::new_connection()?;
    let task = tokio::spawn(conn);
    let addrs = collect(handle.address().get().execute(), address).await;
    task.abort();
    addrs
}

/// A change the daemon reacts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetEvent {
    /// RTM_NEWLINK: an interface appeared, changed or was renamed.
    Link(Link),
    /// RTM_DELLINK: an interface was deleted.
    LinkGone(Link),
    AddressAdded(Address),
    AddressRemoved(Address),
    /// The kernel dropped notifications (ENOBUFS): read everything again.
    Overrun,
}

/// Sends every link change and address change to `tx` while the returned future runs (the
/// caller's task, which also carries the connection's I/O). It ends when the connection does
/// or the receiver is gone.
pub fn watch(
    tx: mpsc::UnboundedSender<NetEvent>,
) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use rtnetlink::MulticastGroup;
    let (conn, _handle, mut messages) = rtnetlink::new_multicast_connection(&[
        MulticastGroup::Link,
        MulticastGroup::Ipv4Ifaddr,
        MulticastGroup::Ipv6Ifaddr,
    ])?;
    let forward = async move {
        while let Some((msg, _)) = messages.next().await {
            let event = match msg.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)) => {
                    link(&m).map(NetEvent::Link)
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)) => {
                    link(&m).map(NetEvent::LinkGone)
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(m)) => {
                    address(&m).map(NetEvent::AddressAdded)
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(m)) => {
                    address(&m).map(NetEvent::AddressRemoved)
                }
                NetlinkPayload::Overrun(_) => Some(NetEvent::Overrun),
                _ => None,
            };
            if let Some(e) = event
                && tx.send(e).is_err()
            {
                return;
            }
        }
    };
    Ok(async move {
        tokio::select! {
            () = conn => {}
            () = forward => {}
        }
    })
}
