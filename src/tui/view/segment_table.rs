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

/// A router's virtual addresses in `width` characters: as many as fit, then `+N` for the
/// others (those its advert listed beyond what was kept included). Never a cut address.
fn vips(r: &Router, width: usize) -> String {
    let a: Vec<String> = r.addrs.iter().map(ToString::to_string).collect();
    if r.addrs_more == 0 {
        return super::vips_text(&a, width);
    }
    let more = format!(" +{} more", r.addrs_more);
    let mut t = super::vips_text(&a, width.saturating_sub(more.len()).max(4));
    if let Some((head, n)) = t.rsplit_once(" +")
        && let Ok(n) = n.parse::<u32>()
    {
        t = format!("{head} +{} more", n + r.addrs_more);
    } else {
        t.push_str(&more);
    }
    t
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
    // Narrow terminals leave out the advert rate, so that the VIPs keep their room; wide
    // ones add the adverts counted and the MACs.
    let width = body.width as usize;
    let router_w = snap
        .groups
        .iter()
        .flat_map(|g| &g.routers)
        .map(|(ip, _)| ip.to_string().len())
        .max()
        .unwrap_or(9)
        .clamp(9, 39) as u16;
    let cols: Vec<(&str, u16)> = [
        ("VRID", 4),
        ("FAMILY", 7),
        ("ROUTER", router_w),
        ("", 6),
        ("PRIO", 4),
        ("INT", 5),
        ("AUTH", 9),
        ("ADV/S", 5),
        ("LAST", 6),
        ("ADVERTS", 8),
        ("MAC", 17),
    ]
    .into_iter()
    .filter(|(h, _)| match *h {
        "ADV/S" => width >= 90,
        "ADVERTS" => width >= 140,
        "MAC" => width >= 160,
        _ => true,
    })
    .collect();
    let used: usize = cols.iter().map(|(_, w)| *w as usize + 1).sum();
    let vips_w = width.saturating_sub(used).max(4);
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
                Style::default().fg(Color::LightRed)
            } else {
                Style::default()
            };
            if i == selected {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let mut cells: Vec<String> = cols
                .iter()
                .map(|(h, w)| {
                    let t = match *h {
                        "VRID" => key.vrid.to_string(),
                        "FAMILY" => format!(
                            "{}/v{}{}",
                            if key.ipv6 { "v6" } else { "v4" },
                            key.version,
                            if key.unicast { "/u" } else { "" }
                        ),
                        "ROUTER" if ip.is_unspecified() => "this node".to_string(),
                        "ROUTER" => ip.to_string(),
                        "" if grp.master == Some(*ip) => "MASTER".into(),
                        "" => String::new(),
                        "PRIO" => r.priority.to_string(),
                        "INT" => format!("{:.2}s", f64::from(r.interval_cs) / 100.0),
                        "AUTH" => r.auth.to_string(),
                        "ADV/S" => format!("{:.2}", r.rate()),
                        "LAST" => format!("{ago:.1}s"),
                        "ADVERTS" => r.adverts.to_string(),
                        _ => r.macs.iter().cloned().collect::<Vec<_>>().join(" "),
                    };
                    super::fit(&t, *w as usize)
                })
                .collect();
            cells.push(vips(r, vips_w));
            Row::new(cells).style(style)
        })
        .collect();
    let mut widths: Vec<Constraint> = cols.iter().map(|(_, w)| Constraint::Length(*w)).collect();
    widths.push(Constraint::Length(vips_w as u16));
    let mut header: Vec<&str> = cols.iter().map(|(h, _)| *h).collect();
    header.push("VIPS");
    f.render_widget(
        TableWidget::new(table_rows, widths)
            .column_spacing(1)
            .header(Row::new(header).style(Style::default().add_modifier(Modifier::BOLD)))
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
                Style::default().fg(Color::LightRed),
            )));
            for e in &f.evidence {
                lines.push(Line::from(format!("    {e}")));
            }
        }
    }
    lines.push(Line::from(Span::styled(
        format!("free VRIDs: {}", ranges(&snap.free_vrids)),
        Style::default().fg(Color::Gray),
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
