//! View 7: the segment as the daemon hears it - every VRRP router on its interfaces, who is
//! master of each VRID, and the conflicts (`kaconsole sniff`'s table, kept by the daemon) -
//! with this node's own instances in it: a daemon does not hear its own adverts, and a VRID
//! it uses must never be listed free, nor a conflict it is part of missed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::segment_table::{conflicts, draw_segment, table_full};
use super::{age_note, dim, titled};
use crate::control::protocol::Status;
use crate::control::protocol::segment::{Finding, GroupSnapshot, Key, Router, Snapshot};
use crate::tui::findings::InstanceConf;
use crate::tui::model::Model;

/// The address standing for this node in the table (it is never an advert's source).
pub fn this_node(ipv6: bool) -> IpAddr {
    if ipv6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

/// The daemon's table with this node's instances added as routers (at [`this_node`]), their
/// VRIDs taken out of the free ones, and the conflicts they are part of: adverts they reject
/// (authentication, VIPs, interval) and another router advertising while they are MASTER.
pub fn with_this_node(
    snap: &Snapshot,
    status: &Status,
    conf: &std::collections::BTreeMap<String, InstanceConf>,
) -> Snapshot {
    let mut s = snap.clone();
    for i in &status.instances {
        let ipv6 = i.vips.first().is_some_and(|v| v.contains(':'));
        let key = Key {
            vrid: i.vrid,
            ipv6,
            version: i.version,
            unicast: conf.get(&i.name).is_some_and(|c| !c.peers.is_empty()),
        };
        let me = this_node(ipv6);
        let router = Router {
            priority: i.effective_priority,
            interval_cs: (i.adver_int_s * 100.0).round() as u32,
            addrs: i
                .vips
                .iter()
                .filter_map(|v| v.split('/').next()?.parse().ok())
                .collect(),
            auth: conf
                .get(&i.name)
                .map_or("?", |c| c.auth.split(' ').next().unwrap_or("?"))
                .to_string(),
            adverts: i.stats.advert_sent,
            last_us: snap.last_us,
            first_us: snap.last_us,
            ..Router::default()
        };
        let g = match s
            .groups
            .iter()
            .position(|g| g.key.vrid == i.vrid && g.key.ipv6 == ipv6)
        {
            Some(g) => g,
            None => {
                s.groups.push(GroupSnapshot {
                    key,
                    master: None,
                    routers: Vec::new(),
                });
                s.groups.len() - 1
            }
        };
        let master = i.state == "MASTER";
        let others: Vec<String> = s.groups[g]
            .routers
            .iter()
            .filter(|(_, r)| {
                !r.left
                    && snap.last_us.saturating_sub(r.last_us)
                        < 3 * u64::from(r.interval_cs.max(1)) * 10_000
            })
            .map(|(ip, r)| format!("{ip} advertises with priority {}", r.priority))
            .collect();
        if master && !others.is_empty() {
            s.findings.push(Finding {
                kind: "split-brain".into(),
                vrid: Some(i.vrid),
                message: format!(
                    "VRID {}: this node ({}) is MASTER and another router advertises too",
                    i.vrid, i.name
                ),
                evidence: others,
            });
        }
        for (count, kind, what) in [
            (
                i.stats.auth_failure,
                "auth-mismatch",
                "authentication failed",
            ),
            (
                i.stats.authtype_mismatch,
                "auth-mismatch",
                "another authentication type",
            ),
            (i.stats.addr_list_err, "vip-mismatch", "other VIPs"),
            (
                i.stats.advert_interval_err,
                "interval-mismatch",
                "another interval",
            ),
        ] {
            if count > 0 {
                s.findings.push(Finding {
                    kind: kind.into(),
                    vrid: Some(i.vrid),
                    message: format!(
                        "VRID {}: this node ({}) rejected {count} advert(s): {what}",
                        i.vrid, i.name
                    ),
                    evidence: Vec::new(),
                });
            }
        }
        if master {
            s.groups[g].master = Some(me);
        }
        s.groups[g].routers.insert(0, (me, router));
        s.free_vrids.retain(|v| *v != i.vrid);
    }
    s.groups.sort_by_key(|g| (g.key.vrid, g.key.ipv6));
    s
}

pub fn draw(f: &mut Frame, area: Rect, m: &Model) {
    let Some(snap) = m.segment() else {
        f.render_widget(
            Paragraph::new(Span::styled("no segment table yet", dim()))
                .block(titled(format!(" segment{}", age_note(m)))),
            area,
        );
        return;
    };
    let merged;
    let snap = match m.status() {
        Some(st) => {
            merged = with_this_node(snap, st, &m.node().instances);
            &merged
        }
        None => snap,
    };
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
    f.render_widget(
        Paragraph::new(Line::from(
            vec![
                Span::raw(format!(
                    "heard here, and this node: {} packets, {} VRID(s) · ",
                    snap.packets,
                    snap.groups.len()
                )),
                conflicts(snap),
                Span::raw(age_note(m)),
            ]
            .into_iter()
            .chain(table_full(snap))
            .collect::<Vec<_>>(),
        )),
        head,
    );
    draw_segment(f, body, snap, m.segment_sort, m.segment_selected);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::fixture::status;

    #[test]
    fn this_nodes_vrids_are_used_and_its_rejections_are_conflicts() {
        let snap = Snapshot {
            free_vrids: (1..=255).collect(),
            ..Snapshot::default()
        };
        let mut st = status();
        st.instances[0].stats.auth_failure = 8;
        let s = with_this_node(&snap, &st, &Default::default());
        for i in &st.instances {
            assert!(!s.free_vrids.contains(&i.vrid), "VRID {} is ours", i.vrid);
            assert!(s.groups.iter().any(
                |g| g.key.vrid == i.vrid && g.routers.iter().any(|(ip, _)| ip.is_unspecified())
            ));
        }
        let f = &s.findings[0];
        assert_eq!(f.kind, "auth-mismatch");
        assert!(f.message.contains("rejected 8 advert(s)"), "{}", f.message);
    }
}
