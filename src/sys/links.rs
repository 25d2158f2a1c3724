//! Interface carrier and address removals: the state of every link now, and a stream of
//! changes (rtnetlink RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR), for
//! `track_interface`, the instances' own interfaces, VIPs removed by someone else, and
//! `ha_suspend`.
//! keepalived counts an interface as up when it is up and running (IFF_UP and IFF_RUNNING).

use futures_util::StreamExt;
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use tokio::sync::mpsc;

/// An interface's name and whether it is up.
pub type LinkState = (String, bool);

fn state(m: &LinkMessage) -> Option<LinkState> {
    let name = m.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    })?;
    let f = m.header.flags;
    Some((
        name,
        f.contains(LinkFlags::Up) && f.contains(LinkFlags::Running),
    ))
}

/// Every interface and whether it is up. A dump the kernel cuts short is an error (with the
/// kernel's errno), not a shorter list.
pub async fn current() -> std::io::Result<Vec<LinkState>> {
    let (conn, handle, _) = rtnetlink::new_connection()?;
    let task = tokio::spawn(conn);
    let mut links = handle.link().get().execute();
    let mut out = Vec::new();
    let mut result = Ok(());
    while let Some(m) = links.next().await {
        match m {
            Ok(m) => out.extend(state(&m)),
            Err(rtnetlink::Error::NetlinkError(e)) => {
                result = Err(e.to_io());
                break;
            }
            Err(e) => {
                result = Err(std::io::Error::other(e));
                break;
            }
        }
    }
    task.abort();
    result.map(|()| out)
}

/// A change the daemon reacts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetEvent {
    Link(LinkState),
    AddressAdded(std::net::IpAddr),
    AddressRemoved(std::net::IpAddr),
}

/// The address of an RTM_NEWADDR / RTM_DELADDR: IFA_LOCAL for IPv4 (IFA_ADDRESS may be a
/// peer), else IFA_ADDRESS.
fn address_of(m: &rtnetlink::packet_route::address::AddressMessage) -> Option<std::net::IpAddr> {
    let local = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(x) => Some(*x),
        _ => None,
    });
    let address = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Address(x) => Some(*x),
        _ => None,
    });
    local.or(address)
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
                    state(&m).map(NetEvent::Link)
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)) => {
                    state(&m).map(|(n, _)| NetEvent::Link((n, false)))
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(m)) => {
                    address_of(&m).map(NetEvent::AddressAdded)
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(m)) => {
                    address_of(&m).map(NetEvent::AddressRemoved)
                }
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
