//! The segment table (sniff's routers by VRRP group, the conflicts and their evidence) as a
//! widget: `kaconsole sniff`'s live screen and the console's segment view draw it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table as TableWidget, Wrap};

// The table as the protocol carries it (sniff's live screen converts its own).
use crate::control::protocol::segment::{Finding, Router, Snapshot};
use crate::ranges::ranges;

/// The orders `s` cycles through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Vrid,
    Priority,
    LastHeard,
    Rate,
}

impl Sort {
    pub fn next(self) -> Sort {
        match self {
            Sort::Vrid => Sort::Priority,
            Sort::Priority => Sort::LastHeard,
            Sort::LastHeard => Sort::Rate,
            Sort::Rate => Sort::Vrid,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Sort::Vrid => "VRID",
            Sort::Priority => "priority",
            Sort::LastHeard => "last heard",
            Sort::Rate => "adverts/s",
        }
    }
}

/// The rows of a snapshot in `sort` order: (group index, router index).
pub fn rows(snap: &Snapshot, sort: Sort) -> Vec<(usize, usize)> {
    let mut rows: Vec<(usize, usize)> = snap
        .groups
        .iter()
        .enumerate()
        .flat_map(|(g, grp)| (0..grp.routers.len()).map(move |r| (g, r)))
        .collect();
    let r = |&(g, k): &(usize, usize)| &snap.groups[g].routers[k].1;
    match sort {
        Sort::Vrid => {}
        Sort::Priority => rows.sort_by_key(|x| std::cmp::Reverse(r(x).priority)),
        Sort::LastHeard => rows.sort_by_key(|x| std::cmp::Reverse(r(x).last_us)),
        Sort::Rate => rows.sort_by(|a, b| r(b).rate().total_cmp(&r(a).rate())),
    }
    rows
}

/// Moves the selected row one down (`down`) or up, in a table of `n` rows.
pub fn select(selected: &mut usize, down: bool, n: usize) {
    *selected = if down {
        (*selected + 1).min(n.saturating_sub(1))
    } else {
        selected.saturating_sub(1)
    };
}

/// `no conflicts` in green or `N conflict(s)` in red.
pub fn conflicts(snap: &Snapshot) -> Span<'static> {
    if snap.findings.is_empty() {
        Span::styled("no conflicts", Style::default().fg(Color::Green))
    } else {
        Span::styled(
            format!("{} conflict(s)", snap.findings.len()),
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        )
    }
}

/// ` · table full: N router(s) dropped` when the daemon's table hit a cap (the least recently
/// heard made way for newer ones: a flood, or a segment larger than the table).
pub fn table_full(snap: &Snapshot) -> Option<Span<'static>> {
    let d = &snap.dropped;
    (d.evicted > 0).then(|| {
        Span::styled(
            format!(
                " · table full: {} router(s) dropped (at most {}, {} per group)",
                d.evicted, d.max_routers, d.max_per_group
            ),
            Style::default().fg(Color::Yellow),
        )
    })
}

/// A router's virtual addresses, and how many more its advert listed than were kept.
fn vips(r: &Router) -> String {
    let mut a: Vec<String> = r.addrs.iter().map(ToString::to_string).collect();
    if r.addrs_more > 0 {
        a.push(format!("+{} more", r.addrs_more));
    }
    a.join(" ")
}

/// Findings no row leads to: packets that do not decode, and adverts that failed a check on
/// a VRID whose routers are not in the table (they never enter it).
fn without_rows(snap: &Snapshot) -> Vec<&Finding> {
    let shown: std::collections::BTreeSet<u8> = snap.groups.iter().map(|g| g.key.vrid).collect();
    snap.findings
        .iter()
        .filter(|f| f.vrid.is_none_or(|v| !shown.contains(&v)))
        .collect()
}

fn findings_of(findings: &[Finding], vrid: u8) -> Vec<&Finding> {
    findings.iter().filter(|f| f.vrid == Some(vrid)).collect()
}

/// The routers table and the detail pane of the selected row's VRID (sniff's live screen and
/// the console's segment view).
pub fn draw_segment(f: &mut Frame, area: Rect, snap: &Snapshot, sort: Sort, selected: usize) {
    let detail_h = if area.height >= 20 { 8 } else { 5 };
    let [body, detail] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(detail_h)]).areas(area);
    let rows = rows(snap, sort);
    let shown = body.height.saturating_sub(2) as usize;
    let first = selected.saturating_sub(shown.saturating_sub(1));
    let table_rows: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(shown.max(1))
        .map(|(i, &(g, k))| {
            let grp = &snap.groups[g];
            let (ip, r) = &grp.routers[k];
            let key = grp.key;
            let conflict = !findings_of(&snap.findings, key.vrid).is_empty();
            let ago = snap.last_us.saturating_sub(r.last_us) as f64 / 1e6;
            let mut style = if conflict {
                Style::default().fg(Color::Red)
            } else {
                Style::default()
            };
            if i == selected {
                style = style.add_modifier(Modifier::REVERSED);
            }
            Row::new(vec![
                key.vrid.to_string(),
                format!(
                    "{}/v{}{}",
                    if key.ipv6 { "v6" } else { "v4" },
                    key.version,
                    if key.unicast { "/u" } else { "" }
                ),
                ip.to_string(),
                if grp.master == Some(*ip) {
                    "MASTER".into()
                } else {
                    String::new()
                },
                r.priority.to_string(),
                format!("{:.2}s", f64::from(r.interval_cs) / 100.0),
                r.auth.to_string(),
                format!("{:.2}", r.rate()),
                format!("{ago:.1}s"),
                vips(r),
            ])
            .style(style)
        })
        .collect();
    f.render_widget(
        TableWidget::new(
            table_rows,
            [
                Constraint::Length(4),
                Constraint::Length(8),
                Constraint::Length(16),
                Constraint::Length(6),
                Constraint::Length(4),
                Constraint::Length(6),
                Constraint::Length(9),
                Constraint::Length(5),
                Constraint::Length(6),
                Constraint::Min(10),
            ],
        )
        .header(
            Row::new([
                "VRID", "FAMILY", "ROUTER", "", "PRIO", "INT", "AUTH", "ADV/S", "LAST", "VIPS",
            ])
            .style(Style::default().add_modifier(Modifier::BOLD)),
        )
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(format!(" routers heard, by {} (s: order) ", sort.name())),
        ),
        body,
    );
    let mut lines = Vec::new();
    if let Some(&(g, _)) = rows.get(selected) {
        let vrid = snap.groups[g].key.vrid;
        let mine = findings_of(&snap.findings, vrid);
        if mine.is_empty() {
            lines.push(Line::from(Span::styled(
                format!("VRID {vrid}: no conflict"),
                Style::default().fg(Color::Green),
            )));
        }
        for f in mine {
            lines.push(Line::from(Span::styled(
                format!("{}: {}", f.kind, f.message),
                Style::default().fg(Color::Red),
            )));
            for e in &f.evidence {
                lines.push(Line::from(format!("    {e}")));
            }
        }
    }
    lines.push(Line::from(Span::styled(
        format!("free VRIDs: {}", ranges(&snap.free_vrids)),
        Style::default().fg(Color::DarkGray),
    )));
    for f in without_rows(snap) {
        lines.push(Line::from(Span::styled(
            format!("{}: {}", f.kind, f.message),
            Style::default().fg(Color::Red),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::TOP).title(" detail ")),
        detail,
    );
}
