//! The `?` help: the key maps of what is on screen, one row per map row (its keys, its hint),
//! in a box over the screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::bold;
use crate::tui::keymap::Section;

/// The help's lines: the first section's rows, then each other section under its title. A row
/// shown already (Ctrl-C in each mode of a view) is not repeated; a section left empty goes.
pub fn lines(sections: &[Section]) -> Vec<Line<'static>> {
    let width = sections
        .iter()
        .flat_map(|s| &s.rows)
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let mut shown: Vec<&(String, String)> = Vec::new();
    let mut lines = Vec::new();
    for (k, s) in sections.iter().enumerate() {
        let rows: Vec<&(String, String)> = s.rows.iter().filter(|r| !shown.contains(r)).collect();
        if rows.is_empty() {
            continue;
        }
        if k > 0 {
            lines.push(Line::from(Span::styled(s.title.clone(), bold())));
        }
        for r in rows {
            let (label, hint) = r;
            lines.push(Line::from(vec![
                Span::styled(format!("{label:<width$}"), bold()),
                Span::raw(hint.clone()),
            ]));
            shown.push(r);
        }
    }
    lines
}

/// Draws the help of `sections` (the first one names the screen) from row `top` down, or
/// higher when it would not fit; longer than the screen, from line `scroll` on, and its
/// title says how many lines are above and below.
pub fn draw(f: &mut Frame, top: u16, sections: &[Section], scroll: usize) {
    let area = f.area();
    let all = lines(sections);
    let fits = area.height.saturating_sub(2) as usize;
    let scroll = scroll.min(all.len().saturating_sub(fits));
    let below = all.len().saturating_sub(scroll + fits);
    let more = match (scroll, below) {
        (0, 0) => String::new(),
        (a, b) => format!("({a} above, {b} below: j/k) "),
    };
    let lines: Vec<Line> = all.into_iter().skip(scroll).collect();
    let title = format!(
        " help: {} {more}",
        sections.first().map_or("", |s| s.title.as_str())
    );
    let wide = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 2;
    let w = wide.max(title.len() as u16 + 4).min(area.width);
    // Rows as wrapped in a narrow terminal.
    let inner = usize::from(w.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let h = (rows as u16 + 2).min(area.height);
    let y = top.min(area.y + area.height - h);
    let r = Rect::new(area.x + (area.width - w) / 2, y, w, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}
