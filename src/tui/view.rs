//! Drawing the model (ratatui): a header, the selected view, a footer with the keys. Usable at
//! 80x24.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, Paragraph, Row, Table, Wrap};

use super::model::{Model, View};

fn state_style(state: &str) -> Style {
    match state {
        "MASTER" => Style::default()
            .fg(Color::Green)
            .add_modifier(Modifier::BOLD),
        "BACKUP" => Style::default().fg(Color::Cyan),
        "FAULT" => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        _ => Style::default().fg(Color::Yellow),
    }
}

/// `3723` seconds as `1h02m`.
pub fn ago(s: f64) -> String {
    let s = s.max(0.0) as u64;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600)
    }
}

pub fn draw(f: &mut Frame, m: &Model) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(f.area());
    draw_header(f, header, m);
    match m.view {
        View::Overview => draw_overview(f, body, m),
        View::Events => draw_events(f, body, m),
    }
    let keys = if m.filtering {
        format!("filter: {}_  (Enter done, Esc cancel)", m.filter)
    } else {
        "1 overview  2 events  Tab next  j/k move  / filter  ? help  q quit".to_string()
    };
    f.render_widget(
        Paragraph::new(keys).style(Style::default().fg(Color::DarkGray)),
        footer,
    );
    if m.help {
        draw_help(f, body);
    }
}

fn draw_header(f: &mut Frame, area: Rect, m: &Model) {
    let mut first = vec![Span::styled(
        "kaconsole ",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    match &m.status {
        Some(s) => {
            first.push(Span::raw(format!(
                "{}  up {}  pid {}  {}",
                s.host,
                ago(s.uptime_s),
                s.pid,
                s.config
            )));
        }
        None => first.push(Span::raw("no data yet")),
    }
    let second = if m.connected {
        Line::from(Span::styled(
            format!("connected to {}", m.socket),
            Style::default().fg(Color::DarkGray),
        ))
    } else {
        Line::from(Span::styled(
            format!(
                "NOT CONNECTED to {}: {} - retrying",
                m.socket,
                m.problem.as_deref().unwrap_or("connecting")
            ),
            Style::default()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        ))
    };
    f.render_widget(Paragraph::new(vec![Line::from(first), second]), area);
}

fn draw_overview(f: &mut Frame, area: Rect, m: &Model) {
    let groups: Vec<String> = m
        .status
        .iter()
        .flat_map(|s| &s.groups)
        .map(|g| format!("{} {}", g.name, g.state))
        .collect();
    let [table_area, groups_area] = Layout::vertical([
        Constraint::Min(2),
        Constraint::Length(if groups.is_empty() { 0 } else { 1 }),
    ])
    .areas(area);
    let rows: Vec<Row> = m
        .visible()
        .iter()
        .enumerate()
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
                Span::raw(i.vips.join(" ")),
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
        " VRRP instances ".to_string()
    } else {
        format!(" VRRP instances matching '{}' ", m.filter)
    };
    let table = Table::new(rows, widths)
        .header(
            Row::new([
                "NAME", "IF", "VRID", "STATE", "PRIO", "MASTER", "VIPS", "SINCE",
            ])
            .style(Style::default().add_modifier(Modifier::BOLD)),
        )
        .block(Block::default().borders(Borders::TOP).title(title));
    f.render_widget(table, table_area);
    if !groups.is_empty() {
        f.render_widget(
            Paragraph::new(format!("sync groups: {}", groups.join("  "))),
            groups_area,
        );
    }
}

fn draw_events(f: &mut Frame, area: Rect, m: &Model) {
    let height = area.height.saturating_sub(1) as usize;
    let items: Vec<ListItem> = m
        .events
        .iter()
        .filter(|e| m.filter.is_empty() || e.contains(&m.filter))
        .rev()
        .take(height)
        .map(|e| ListItem::new(e.clone()))
        .collect();
    f.render_widget(
        List::new(items).block(
            Block::default()
                .borders(Borders::TOP)
                .title(" events (newest first) "),
        ),
        area,
    );
}

fn draw_help(f: &mut Frame, area: Rect) {
    let text = "1 / 2 / Tab   views: overview, events\n\
                j k / arrows   move\n\
                /              filter (Enter to keep, Esc to clear)\n\
                ?              this help\n\
                q / Ctrl-C     quit";
    let w = area.width.min(60);
    let h = area.height.min(8);
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + 1, w, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(" help ")),
        r,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::model::Msg;
    use crate::tui::model::tests::status;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn render(m: &Model, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| draw(f, m)).unwrap();
        let buf = t.backend().buffer().clone();
        (0..h)
            .map(|y| {
                (0..w)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn overview_at_80x24_and_120x40() {
        let mut m = Model::new("/run/kaconsole/kaconsole.sock");
        m.update(Msg::Connected);
        m.update(Msg::Status(Box::new(status())));
        let small = render(&m, 80, 24);
        for want in [
            "VI_WEB", "MASTER", "VI_DB", "BACKUP", "VI_MAIL", "FAULT", "lb1", "up 1h02m",
        ] {
            assert!(small.contains(want), "{want} missing at 80x24:\n{small}");
        }
        insta::assert_snapshot!("overview_80x24", small);
        insta::assert_snapshot!("overview_120x40", render(&m, 120, 40));
    }

    #[test]
    fn a_lost_daemon_shows_a_banner() {
        let mut m = Model::new("/run/kaconsole/kaconsole.sock");
        m.update(Msg::Disconnected("connection refused".into()));
        let s = render(&m, 80, 24);
        assert!(s.contains("NOT CONNECTED"), "{s}");
        insta::assert_snapshot!("disconnected_80x24", s);
    }

    #[test]
    fn ago_is_short() {
        assert_eq!(ago(5.0), "5s");
        assert_eq!(ago(125.0), "2m05s");
        assert_eq!(ago(3723.0), "1h02m");
        assert_eq!(ago(90_000.0), "1d01h");
    }
}
