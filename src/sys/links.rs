//! Interface carrier: the state of every link now, and a stream of changes (rtnetlink
//! RTNLGRP_LINK), for `track_interface` and the instances' own interfaces. keepalived counts an
//! interface as up when it is administratively up and running (IFF_UP and IFF_RUNNING).

use futures_util::StreamExt;
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::RouteNetlinkMessage;
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

/// Every interface and whether it is up.
pub async fn current() -> std::io::Result<Vec<LinkState>> {
    let (conn, handle, _) = rtnetlink::new_connection()?;
    let task = tokio::spawn(conn);
    let mut links = handle.link().get().execute();
    let mut out = Vec::new();
    while let Some(Ok(m)) = links.next().await {
        if let Some(s) = state(&m) {
            out.push(s);
        }
    }
    task.abort();
    Ok(out)
}

/// Sends every link change to `tx` until the receiver is gone.
pub fn watch(tx: mpsc::UnboundedSender<LinkState>) -> std::io::Result<()> {
    let (conn, _handle, mut messages) =
        rtnetlink::new_multicast_connection(&[rtnetlink::MulticastGroup::Link])?;
    tokio::spawn(conn);
    tokio::spawn(async move {
        while let Some((msg, _)) = messages.next().await {
            let link = match msg.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)) => state(&m),
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)) => {
                    state(&m).map(|(n, _)| (n, false))
                }
                _ => None,
            };
            if let Some(l) = link
                && tx.send(l).is_err()
            {
                return;
            }
        }
    });
    Ok(())
}
