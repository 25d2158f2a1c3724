//! View 6: the daemon's configuration in an editor: colours from the keyword tables, problems
//! marked in the gutter and listed, help for the keyword on the cursor line, and the diff to
//! confirm before applying.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::{bold, dim, titled};
use crate::tui::editor::{Diag, DiffLine, Phase};
use crate::tui::highlight::{Kind, highlight};
use crate::tui::model::Model;

const GUTTER: u16 = 6;

fn kind_style(k: Kind) -> Option<Style> {
    Some(match k {
        Kind::Keyword => Style::default().fg(Color::Cyan),
        Kind::Block => Style::default()
            .fg(Color::Magenta)
            .add_modifier(Modifier::BOLD),
        Kind::Unknown => Style::default().fg(Color::Red),
        Kind::Comment | Kind::Brace => Style::default().fg(Color::DarkGray),
        Kind::Number => Style::default().fg(Color::Yellow),
        Kind::Quoted => Style::default().fg(Color::Green),
        Kind::Plain => return None,
    })
}

pub fn draw(f: &mut Frame, area: Rect, m: &Model) {
    let e = &m.editor;
    if !e.loaded() {
        let why = if m.connected() && !m.admin() {
            "the configuration holds its passwords: only root and the daemon's user may read \
             and edit it"
        } else if m.connected() {
            "loading the daemon's configuration..."
        } else {
            "not connected: the configuration comes from the daemon"
        };
        let text = Paragraph::new(why).wrap(Wrap { trim: true });
        f.render_widget(text.block(titled(" config ".into())), area);
        return;
    }
    let panel = if area.height >= 30 { 10 } else { 7 };
    let [text_area, panel_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(panel)]).areas(area);
    let warnings = e.diagnostics.len() - e.errors();
    let title = format!(
        " {}{} · {} · {} error(s), {warnings} warning(s) ",
        e.path,
        if e.modified() { " [modified]" } else { "" },
        match e.phase {
            Phase::Editing => "editing",
            Phase::Applying => "applying...",
            _ => "viewing",
        },
        e.errors(),
    );
    let block = titled(title);
    let inner = block.inner(text_area);
    f.render_widget(block, text_area);
    let [gutter, text] =
        Layout::horizontal([Constraint::Length(GUTTER), Constraint::Min(1)]).areas(inner);
    f.render_widget(&e.text, text);
    let (top, left) = e.text.scroll_offset();
    let (top, left) = (top as usize, left as usize);
    let lines = e.text.lines();
    let hl = highlight(lines);
    let all: Vec<&Diag> = e.refused.iter().chain(&e.diagnostics).collect();
    let buf = f.buffer_mut();
    for r in 0..text.height as usize {
        let row = top + r;
        let Some(line) = lines.get(row) else { break };
        let y = text.y + r as u16;
        // Gutter: a mark for the worst problem on the line, and the line number.
        let here = all.iter().filter(|d| d.line == Some(row + 1));
        let (mark, style) = match here.map(|d| d.error).max() {
            Some(true) => (
                "E",
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            Some(false) => ("W", Style::default().fg(Color::Yellow)),
            None => (" ", dim()),
        };
        buf.set_string(gutter.x, y, mark, style);
        buf.set_string(gutter.x + 1, y, format!("{:>4}", row + 1), dim());
        // Colours on the characters the text area drew (tabs expanded as it does).
        let cols = display_columns(line, e.text.tab_length() as usize);
        for span in &hl.lines[row] {
            let Some(style) = kind_style(span.kind) else {
                continue;
            };
            for ci in span.start..span.end {
                let Some(col) = cols.get(ci).and_then(|c| c.checked_sub(left)) else {
                    continue;
                };
                if col < text.width as usize {
                    let cell = &mut buf[(text.x + col as u16, y)];
                    if let Some(fg) = style.fg {
                        cell.set_fg(fg);
                    }
                    cell.modifier |= style.add_modifier;
                }
            }
        }
    }
    let [problems, help] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(panel_area);
    draw_problems(f, problems, m);
    let row = e.text.cursor().0;
    let doc = lines.get(row).and_then(|l| hl.keyword_doc(row, l));
    let help_text = match doc {
        Some((block, d)) => {
            let mut t = vec![
                Line::from(Span::styled(
                    format!("{block} › {} {}", d.name, d.syntax),
                    bold(),
                )),
                Line::from(d.help),
            ];
            if !d.default.is_empty() {
                t.push(Line::from(Span::styled(
                    format!("default: {}", d.default),
                    dim(),
                )));
            }
            t
        }
        None => vec![Line::from(Span::styled(
            "help for the keyword on the cursor line shows here",
            dim(),
        ))],
    };
    f.render_widget(
        Paragraph::new(help_text).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::TOP | Borders::LEFT)
                .title(" keyword "),
        ),
        help,
    );
    if let Phase::Confirm(diff) = &e.phase {
        draw_confirm(f, area, diff);
    }
    if e.phase == Phase::ConfirmRevert {
        let lines = vec![
            Line::from("Your edits are not applied. Throw them away and show the daemon's text?"),
            Line::from(""),
            Line::from(Span::styled(
                "y: discard the edits · other keys: keep them",
                bold(),
            )),
        ];
        popup(f, area, " revert? ", lines);
    }
}

/// The screen column of each character of `line`, tabs expanded to `tab` columns.
fn display_columns(line: &str, tab: usize) -> Vec<usize> {
    let mut col = 0;
    line.chars()
        .map(|c| {
            let at = col;
            col += if c == '\t' { tab - col % tab.max(1) } else { 1 };
            at
        })
        .collect()
}

fn draw_problems(f: &mut Frame, area: Rect, m: &Model) {
    let e = &m.editor;
    let mut lines: Vec<Line> = Vec::new();
    if let Some((ok, msg)) = &e.outcome {
        let color = if *ok { Color::Green } else { Color::Red };
        lines.push(Line::from(Span::styled(
            msg.clone(),
            Style::default().fg(color),
        )));
    }
    let tagged = e
        .refused
        .iter()
        .map(|d| ("daemon: ", d))
        .chain(e.diagnostics.iter().map(|d| ("", d)));
    for (tag, d) in tagged {
        let (mark, color) = if d.error {
            ("E", Color::Red)
        } else {
            ("W", Color::Yellow)
        };
        let at = d
            .line
            .map_or(String::new(), |l| format!("{l}:{} ", d.column));
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} {at}"), Style::default().fg(color)),
            Span::raw(format!("{tag}{}", d.message)),
        ]));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "no problems",
            Style::default().fg(Color::Green),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::TOP).title(" problems ")),
        area,
    );
}

/// The block a line sits in: the nearest line above it that opens a block with less
/// indentation (`vrrp_instance VI_1 {`), from `lines` (the new text, up to it).
fn enclosing(lines: &[&str], indent: usize) -> Option<String> {
    lines
        .iter()
        .rev()
        .find(|l| {
            let t = l.trim_end();
            t.ends_with('{') && l.len() - l.trim_start().len() < indent
        })
        .map(|l| l.trim().to_string())
}

/// The diff to confirm: changed lines with their line numbers (the new text's; the old one's
/// for removed lines) and one line of context around them, each change under the block it
/// is in.
fn draw_confirm(f: &mut Frame, area: Rect, diff: &[DiffLine]) {
    let changed = |k: usize| diff.get(k).is_some_and(|l| !matches!(l, DiffLine::Same(_)));
    let mut lines = Vec::new();
    let mut gap = true;
    let (mut old_n, mut new_n) = (0usize, 0usize);
    // The new text so far, for the enclosing blocks.
    let mut new_text: Vec<&str> = Vec::new();
    for (k, l) in diff.iter().enumerate() {
        match l {
            DiffLine::Same(_) => {
                old_n += 1;
                new_n += 1;
            }
            DiffLine::Removed(_) => old_n += 1,
            DiffLine::Added(_) => new_n += 1,
        }
        let near = changed(k) || changed(k + 1) || (k > 0 && changed(k - 1));
        if near && std::mem::take(&mut gap) {
            // A hunk starts: where it is.
            let first = diff[k..].iter().find_map(|d| match d {
                DiffLine::Same(_) => None,
                DiffLine::Removed(t) | DiffLine::Added(t) => Some(t.as_str()),
            });
            let indent = first.map_or(0, |t| t.len() - t.trim_start().len());
            let block = enclosing(&new_text, indent).map_or(String::new(), |b| format!(", in {b}"));
            lines.push(Line::from(Span::styled(
                format!("@@ line {new_n}{block}"),
                Style::default().fg(Color::Cyan),
            )));
        }
        match l {
            DiffLine::Same(t) | DiffLine::Added(t) => new_text.push(t),
            DiffLine::Removed(_) => {}
        }
        if !near {
            gap = true;
            continue;
        }
        lines.push(match l {
            DiffLine::Same(t) => Line::from(format!("{new_n:>4}  {t}")),
            DiffLine::Removed(t) => Line::from(Span::styled(
                format!("{old_n:>4} -{t}"),
                Style::default().fg(Color::Red),
            )),
            DiffLine::Added(t) => Line::from(Span::styled(
                format!("{new_n:>4} +{t}"),
                Style::default().fg(Color::Green),
            )),
        });
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "y: write and reload (a backup is kept) · other keys: cancel",
        bold(),
    )));
    popup(f, area, " apply this change? ", lines);
}

/// `lines` in a box in the middle of `area`.
fn popup(f: &mut Frame, area: Rect, title: &'static str, lines: Vec<Line<'static>>) {
    let w = area.width.saturating_sub(4).min(90);
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}
