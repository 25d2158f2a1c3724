//! View 7: the segment as the daemon hears it - every VRRP router on its interfaces, who is
//! master of each VRID, and the conflicts (`kaconsole sniff`'s table, kept by the daemon) -
//! with this node's own instances in it: a daemon does not hear its own adverts, and a VRID
//! it uses must never be listed free, nor a conflict it is part of missed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::segment_table::{conflicts, draw_segment, table_full};
use super::{age_note, dim, titled};
use crate::tui::findings::with_this_node;
use crate::tui::model::Model;

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
    use crate::control::protocol::fixture::status;
    use crate::control::protocol::segment::Snapshot;
    use crate::tui::findings::with_this_node;

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
