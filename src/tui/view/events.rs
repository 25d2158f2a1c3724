//! View 5: the daemon's events and log lines, newest first, filtered by `/`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{List, ListItem};

use super::titled;
use crate::tui::model::Model;

pub fn draw(f: &mut Frame, area: Rect, m: &Model) {
    let events = m.visible_events();
    let height = area.height.saturating_sub(1) as usize;
    let items: Vec<ListItem> = events
        .iter()
        .rev()
        .skip(m.scroll)
        .take(height)
        .map(|e| ListItem::new(e.to_string()))
        .collect();
    let title = match (m.filter.is_empty(), m.scroll) {
        (true, 0) => format!(" events, newest first ({}) ", events.len()),
        (true, s) => format!(" events, {s} newer above ({}) ", events.len()),
        (false, _) => format!(" events matching '{}' ({}) ", m.filter, events.len()),
    };
    f.render_widget(List::new(items).block(titled(title)), area);
}
