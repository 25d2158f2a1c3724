//! View 5: the daemon's events and log lines, newest first, filtered by `/`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{List, ListItem};

use super::{titled, wrap};

/// An event in as many lines as it needs, the continuation lines indented under its text
/// (after the time): nothing is cut.
pub(super) fn wrapped(e: &str, width: usize) -> ListItem<'static> {
    const INDENT: &str = "         ";
    let mut lines = wrap(e, width).into_iter();
    let first = lines.next().unwrap_or_default();
    let rest: String = lines.collect::<Vec<_>>().join(" ");
    let mut out = vec![first];
    if !rest.is_empty() {
        out.extend(
            wrap(&rest, width.saturating_sub(INDENT.len()).max(8))
                .into_iter()
                .map(|l| format!("{INDENT}{l}")),
        );
    }
    ListItem::new(out.join("\n"))
}
use crate::tui::model::Model;

pub fn draw(f: &mut Frame, area: Rect, m: &Model) {
    let events = m.visible_events();
    let height = area.height.saturating_sub(1) as usize;
    let items: Vec<ListItem> = events
        .iter()
        .rev()
        .skip(m.scroll)
        .take(height)
        .map(|e| wrapped(e, area.width as usize))
        .collect();
    let title = match (m.filter.is_empty(), m.scroll) {
        (true, 0) => format!(" events, newest first ({}) ", events.len()),
        (true, s) => format!(" events, {s} newer above ({}) ", events.len()),
        (false, _) => format!(" events matching '{}' ({}) ", m.filter, events.len()),
    };
    f.render_widget(List::new(items).block(titled(title)), area);
}
