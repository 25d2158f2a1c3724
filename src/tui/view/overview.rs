//! View 1: one row per instance, and the sync groups.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Paragraph, Row, Table};

use super::{ago, bold, state_style, titled};
use crate::tui::model::Model;

pub fn draw(f: &mut Frame, area: Rect, m: &Model) {
    let groups: Vec<Span> = m
        .status
        .iter()
        .flat_map(|s| &s.groups)
        .flat_map(|g| {
            [
                Span::raw(format!("  {} ", g.name)),
                Span::styled(g.state.clone(), state_style(&g.state)),
            ]
        })
        .collect();
    let [table_area, groups_area] = Layout::vertical([
        Constraint::Min(2),
        Constraint::Length(if groups.is_empty() { 0 } else { 1 }),
    ])
    .areas(area);
    let visible = m.visible();
    // Keep the selection on screen: the table shows rows from `first`.
    let rows_shown = table_area.height.saturating_sub(2) as usize;
    let first = m.selected.saturating_sub(rows_shown.saturating_sub(1));
    let rows: Vec<Row> = visible
        .iter()
        .enumerate()
        .skip(first)
        .take(rows_shown.max(1))
        .map(|(k, i)| {
            let prio = if i.base_priority == i.effective_priority {
                format!("{}", i.base_priority)
            } else {
                format!("{}→{}", i.base_priority, i.effective_priority)
            };
            let master = match (&i.master, i.state.as_str()) {
                (_, "MASTER") => "(this node)".to_string(),
                (Some(a), _) => a.clone(),
                (None, _) => "-".into(),
            };
            let row = Row::new(vec![
                Span::raw(i.name.clone()),
                Span::raw(i.interface.clone()),
                Span::raw(i.vrid.to_string()),
                Span::styled(i.state.clone(), state_style(&i.state)),
                Span::raw(prio),
                Span::raw(master),
                Span::raw(match i.vips.as_slice() {
                    [] => "-".to_string(),
                    [one] => one.clone(),
                    [first, rest @ ..] => format!("{first} +{}", rest.len()),
                }),
                Span::raw(ago(i.since_transition_s)),
            ]);
            if k == m.selected {
                row.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let widths = [
        Constraint::Min(8),
        Constraint::Length(6),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Min(10),
        Constraint::Length(6),
    ];
    let title = if m.filter.is_empty() {
        format!(" VRRP instances ({}) ", visible.len())
    } else {
        format!(
            " VRRP instances matching '{}' ({}) ",
            m.filter,
            visible.len()
        )
    };
    let table = Table::new(rows, widths)
        .header(
            Row::new([
                "NAME", "IF", "VRID", "STATE", "PRIO", "MASTER", "VIPS", "SINCE",
            ])
            .style(bold()),
        )
        .block(titled(title));
    f.render_widget(table, table_area);
    if !groups.is_empty() {
        let mut line = vec![Span::raw("sync groups:")];
        line.extend(groups);
        f.render_widget(Paragraph::new(ratatui::text::Line::from(line)), groups_area);
    }
}
