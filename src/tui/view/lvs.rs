//! View 4: LVS virtual servers and their real servers: weight, checker result, latency with a
//! sparkline, quorum and sorry server. Lines rather than a table, so that a real server's last
//! error gets a line of its own when the row has no room for it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{bold, dim, spark, titled};
use crate::tui::history::rs_key;
use crate::tui::model::{LvsOrder, Model};

/// Column widths: server, weight, state, check, latency.
const COLS: [usize; 5] = [22, 7, 6, 12, 10];

fn cell(text: &str, w: usize) -> String {
    format!("{text:<w$}")
}

pub fn draw(f: &mut Frame, area: Rect, m: &Model) {
    let vss: Vec<_> = m
        .status()
        .into_iter()
        .flat_map(|s| &s.virtual_servers)
        .filter(|vs| {
            m.filter.is_empty()
                || vs.id.contains(&m.filter)
                || vs.real_servers.iter().any(|rs| rs.addr.contains(&m.filter))
        })
        .collect();
    let check_only = m
        .status()
        .is_some_and(|s| s.lvs_mode.as_deref() == Some("check-only"));
    let block = titled(format!(
        " LVS: {} virtual server(s), real servers by {}{}{}",
        vss.len(),
        m.lvs_order.name(),
        super::age_note(m),
        if check_only {
            " - check-only: the kernel has no IPVS, the table is not programmed"
        } else {
            ""
        }
    ));
    if vss.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                "no virtual_server in the running configuration",
                dim(),
            ))
            .block(block),
            area,
        );
        return;
    }
    let width = area.width as usize;
    let trend_width = if width >= 110 { 24 } else { 8 };
    let fixed: usize = COLS.iter().sum::<usize>() + trend_width + 1;
    let header = ["SERVER", "WEIGHT", "STATE", "CHECK", "LATENCY"]
        .iter()
        .zip(COLS)
        .map(|(h, w)| cell(h, w))
        .collect::<String>()
        + &cell("TREND", trend_width + 1)
        + "LAST ERROR";
    let mut lines = vec![Line::from(Span::styled(header, bold()))];
    for vs in &vss {
        let quorum_style = Style::default().fg(if vs.quorum_up {
            Color::Green
        } else {
            Color::Red
        });
        let mut head = vec![
            Span::styled(cell(&vs.id, COLS[0]), bold()),
            Span::raw(format!("{}  ", vs.scheduler)),
            Span::styled(
                format!("alive weight {} / quorum {}", vs.alive_weight, vs.quorum),
                quorum_style,
            ),
        ];
        match (&vs.sorry_server, vs.sorry_active) {
            (Some(s), true) => head.push(Span::styled(
                format!("  SORRY SERVER {s} ACTIVE"),
                Style::default().fg(Color::Red),
            )),
            (Some(s), false) => head.push(Span::styled(format!("  sorry {s}"), dim())),
            (None, _) => {}
        }
        if vs.suspended {
            head.push(Span::styled(
                "  checkers suspended (ha_suspend: the address is not here)",
                Style::default().fg(Color::Yellow),
            ));
        }
        lines.push(Line::from(head));
        let mut servers: Vec<_> = vs.real_servers.iter().collect();
        match m.lvs_order {
            LvsOrder::Config => {}
            LvsOrder::DownFirst => servers.sort_by_key(|rs| rs.alive),
            LvsOrder::Latency => servers.sort_by(|a, b| {
                b.latency_ms
                    .unwrap_or(f64::MAX)
                    .total_cmp(&a.latency_ms.unwrap_or(f64::MAX))
            }),
            LvsOrder::Weight => servers.sort_by_key(|rs| std::cmp::Reverse(rs.weight)),
        }
        for rs in servers {
            let trend = m
                .history
                .latency_ms
                .get(&rs_key(&vs.id, &rs.addr))
                .map(|s| spark(&s.last(trend_width)))
                .unwrap_or_default();
            let (state, color) = if rs.alive {
                ("UP", Color::Green)
            } else {
                ("DOWN", Color::Red)
            };
            let latency = rs.latency_ms.map_or("-".into(), |l| format!("{l:.1} ms"));
            let mut row = vec![
                Span::raw(cell(&format!("  → {}", rs.addr), COLS[0])),
                Span::raw(cell(&rs.weight.to_string(), COLS[1])),
                Span::styled(cell(state, COLS[2]), Style::default().fg(color)),
                Span::raw(cell(&rs.checker, COLS[3])),
                Span::raw(cell(&latency, COLS[4])),
                Span::styled(
                    format!("{:<w$} ", trend, w = trend_width),
                    Style::default().fg(Color::Cyan),
                ),
            ];
            let error = rs.last_error.clone().unwrap_or_default();
            let red = Style::default().fg(Color::Red);
            if fixed + error.chars().count() <= width {
                row.push(Span::styled(error, red));
                lines.push(Line::from(row));
            } else {
                lines.push(Line::from(row));
                lines.push(Line::from(Span::styled(format!("      {error}"), red)));
            }
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .scroll((m.scroll.min(u16::MAX as usize) as u16, 0))
            .block(block),
        area,
    );
}
