//! View 7: the segment as the daemon hears it - every VRRP router on its interfaces, who is
//! master of each VRID, and the conflicts (`kaconsole sniff`'s table, kept by the daemon).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::segment_table::{conflicts, draw_segment, table_full};
use super::{dim, titled};
use crate::tui::model::Model;

pub fn draw(f: &mut Frame, area: Rect, m: &Model) {
    let Some(snap) = &m.segment else {
        f.render_widget(
            Paragraph::new(Span::styled("no segment table yet", dim()))
                .block(titled(" segment ".into())),
            area,
        );
        return;
    };
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
    f.render_widget(
        Paragraph::new(Line::from(
            vec![
                Span::raw(format!(
                    "what this daemon hears: {} packets, {} VRID(s) · ",
                    snap.packets,
                    snap.groups.len()
                )),
                conflicts(snap),
            ]
            .into_iter()
            .chain(table_full(snap))
            .collect::<Vec<_>>(),
        )),
        head,
    );
    draw_segment(f, body, snap, m.segment_sort, m.segment_selected);
}
