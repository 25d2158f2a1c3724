//! View 1: one row per instance and the sync groups - or, on several nodes, one row per
//! virtual router with each node's state and priority side by side - and the findings
//! (drift between nodes, trackers that cannot move a VIP, conflicts on the segment), marked
//! on their rows. Columns are as wide as their contents; a wider terminal gets more columns,
//! and what does not fit ends in an ellipsis or a "+N".

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::{age_note, ago, bold, fit, greyed, live, state_style_if, titled, vips_text, wrap};
use crate::control::protocol::InstanceStatus;
use crate::tui::findings::{self, Finding, RouterKey};
use crate::tui::model::{Freshness, Model};

fn marker(marked: bool) -> Span<'static> {
    if marked {
        Span::styled(
            "!",
            Style::default()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        )
    } else {
        Span::raw(" ")
    }
}

/// The overview's parts in `area`: the table, the findings pane and the sync groups' line;
/// and the findings' lines.
fn layout(m: &Model, area: Rect) -> ([Rect; 3], Vec<String>) {
    let width = area.width as usize;
    let finding_lines: Vec<String> = m
        .findings
        .iter()
        .flat_map(|f| wrap(&format!("! {}", f.message), width))
        .collect();
    let has_groups = m.status().is_some_and(|s| !s.groups.is_empty());
    let groups_h = usize::from(has_groups && !m.is_cluster());
    let table_rows = if m.is_cluster() {
        m.cluster_rows().len()
    } else {
        m.visible().len()
    };
    let avail = (area.height as usize).saturating_sub(groups_h);
    let pane = if finding_lines.is_empty() {
        0
    } else {
        // What the table does not need, and at least a third of the view; the pane's title
        // says how many lines did not fit.
        let spare = avail.saturating_sub(table_rows + 2).max(avail / 3).max(2);
        (finding_lines.len() + 1).min(spare) as u16
    };
    let areas = Layout::vertical([
        Constraint::Min(2),
        Constraint::Length(pane),
        Constraint::Length(groups_h as u16),
    ])
    .areas(area);
    (areas, finding_lines)
}

/// The first row shown of a table `area` high, keeping the selection on screen.
fn first_row(m: &Model, area: Rect) -> usize {
    let rows_shown = area.height.saturating_sub(2) as usize;
    m.selected.saturating_sub(rows_shown.saturating_sub(1))
}

/// The row of the overview's table at screen line `y` (a click), if there is one.
pub fn row_at(m: &Model, area: Rect, y: u16) -> Option<usize> {
    let ([table, _, _], _) = layout(m, area);
    // The table's title and column header come first.
    let top = table.y + 2;
    if y < top || y >= table.y + table.height {
        return None;
    }
    let row = first_row(m, table) + usize::from(y - top);
    let n = if m.is_cluster() {
        m.cluster_rows().len()
    } else {
        m.visible().len()
    };
    (row < n).then_some(row)
}

pub fn draw(f: &mut Frame, area: Rect, m: &Model) {
    let found = &m.findings;
    let marked: BTreeSet<RouterKey> = found.iter().map(|f| f.router.clone()).collect();
    let groups: Vec<Span> = m
        .status()
        .into_iter()
        .flat_map(|s| &s.groups)
        .flat_map(|g| {
            [
                Span::raw(format!("  {} ", g.name)),
                Span::styled(g.state.clone(), state_style_if(&g.state, live(m))),
            ]
        })
        .collect();
    let routers = if m.is_cluster() {
        m.cluster_rows()
    } else {
        Vec::new()
    };
    let ([table_area, findings_area, groups_area], finding_lines) = layout(m, area);
    let pane = findings_area.height;
    if m.is_cluster() {
        cluster_table(f, table_area, m, &routers, &marked);
    } else {
        node_table(f, table_area, m, &marked);
    }
    if pane > 0 {
        draw_findings(f, findings_area, found, finding_lines);
    }
    if !groups.is_empty() && !m.is_cluster() {
        let mut line = vec![Span::raw("sync groups:")];
        line.extend(groups);
        f.render_widget(Paragraph::new(Line::from(line)), groups_area);
    }
}

fn draw_findings(f: &mut Frame, area: Rect, found: &[Finding], lines: Vec<String>) {
    let shown = area.height.saturating_sub(1) as usize;
    let more = lines.len().saturating_sub(shown);
    let title = if more > 0 {
        format!(
            " findings ({}; +{more} lines below: widen the terminal) ",
            found.len()
        )
    } else {
        format!(" findings ({}) ", found.len())
    };
    let red = Style::default().fg(Color::LightRed);
    let text: Vec<Line> = lines
        .into_iter()
        .take(shown)
        .map(|l| Line::from(Span::styled(l, red)))
        .collect();
    f.render_widget(Paragraph::new(text).block(titled(title)), area);
}

/// The widths of the one-node table's columns for a terminal `width` wide, and which of the
/// optional columns (version, interval, trackers, adverts) fit.
struct Columns {
    name: usize,
    iface: usize,
    master: usize,
    extra: usize,
    vips: usize,
}

/// The columns a wider terminal adds, in this order: version, advert interval, trackers up,
/// adverts received/sent, the gap between the last two adverts heard, the master's priority
/// (a BACKUP's view), the adverts rejected for authentication.
const EXTRA: [(&str, usize); 7] = [
    ("VER", 3),
    ("INT", 5),
    ("TRACK", 5),
    ("RX/TX", 13),
    ("GAP", 6),
    ("MPRI", 4),
    ("AUTHERR", 7),
];

fn columns(width: usize, rows: &[&InstanceStatus]) -> Columns {
    let longest =
        |f: &dyn Fn(&InstanceStatus) -> usize| rows.iter().map(|i| f(i)).max().unwrap_or(0);
    let name = longest(&|i| i.name.chars().count()).clamp(4, 24);
    let iface = longest(&|i| i.interface.chars().count()).clamp(2, 12);
    let master = longest(&|i| i.master.as_deref().map_or(11, |a| a.chars().count())).clamp(11, 39);
    // Fixed: marker, VRID, STATE, PRIO, SINCE, and the spaces between 9 columns.
    let fixed = 1 + 4 + 6 + 7 + 6 + 8;
    let vips_wanted = longest(&|i| i.vips.join(" ").chars().count()).clamp(4, 60);
    let mut used = fixed + name + iface + master.min(15);
    let mut extra = 0;
    for (_, w) in EXTRA {
        // An extra column, in order, while the VIPs still get what they need.
        if used + w + 1 + vips_wanted.min(40) > width {
            break;
        }
        used += w + 1;
        extra += 1;
    }
    let master = (master.min(15) + width.saturating_sub(used + vips_wanted)).min(master);
    used += master - master.min(15);
    Columns {
        name,
        iface,
        master,
        extra,
        // The VIPs get what they need, not every spare column.
        vips: width.saturating_sub(used).max(4).min(vips_wanted.max(18)),
    }
}

fn node_table(f: &mut Frame, area: Rect, m: &Model, marked: &BTreeSet<RouterKey>) {
    let visible = m.visible();
    let live = live(m);
    let c = columns(area.width as usize, &visible);
    // Keep the selection on screen: the table shows rows from `first`.
    let rows_shown = area.height.saturating_sub(2) as usize;
    let first = first_row(m, area);
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
            let mut cells = vec![
                marker(marked.contains(&findings::router_of(i))),
                Span::raw(fit(&i.name, c.name)),
                Span::raw(fit(&i.interface, c.iface)),
                Span::raw(i.vrid.to_string()),
                Span::styled(i.state.clone(), state_style_if(&i.state, live)),
                Span::raw(prio),
                Span::raw(fit(&master, c.master)),
            ];
            let up = i.trackers.iter().filter(|t| t.status == "up").count();
            let extra = [
                format!("v{}", i.version),
                format!("{}s", i.adver_int_s),
                if i.trackers.is_empty() {
                    "-".into()
                } else {
                    format!("{up}/{}", i.trackers.len())
                },
                format!("{}/{}", i.stats.advert_rcvd, i.stats.advert_sent),
                i.last_advert_gap_s
                    .map_or("-".into(), |g| format!("{g:.2}s")),
                i.master_priority.map_or("-".into(), |p| p.to_string()),
                (i.stats.auth_failure + i.stats.authtype_mismatch).to_string(),
            ];
            cells.extend(
                extra
                    .into_iter()
                    .zip(EXTRA)
                    .take(c.extra)
                    .map(|(t, (_, w))| Span::raw(fit(&t, w))),
            );
            cells.push(Span::raw(vips_text(&i.vips, c.vips)));
            cells.push(Span::raw(ago(i.since_transition_s)));
            let row = Row::new(cells);
            let row = if live { row } else { row.style(greyed()) };
            if k == m.selected {
                row.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(c.name as u16),
        Constraint::Length(c.iface as u16),
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(c.master as u16),
    ];
    let mut header = vec!["", "NAME", "IF", "VRID", "STATE", "PRIO", "MASTER"];
    for (h, w) in EXTRA.iter().take(c.extra) {
        widths.push(Constraint::Length(*w as u16));
        header.push(h);
    }
    widths.push(Constraint::Length(c.vips as u16));
    widths.push(Constraint::Length(6));
    header.extend(["VIPS", "SINCE"]);
    let order = if m.order == crate::tui::model::Order::Config {
        String::new()
    } else {
        format!(", by {}", m.order.name())
    };
    let title = if m.filter.is_empty() {
        format!(" VRRP instances ({}){order}{}", visible.len(), age_note(m))
    } else {
        format!(
            " VRRP instances matching '{}' ({}){order}{}",
            m.filter,
            visible.len(),
            age_note(m)
        )
    };
    let title_style = if live {
        Style::default()
    } else {
        super::freshness_style(m.freshness(m.current))
    };
    let table = Table::new(rows, widths)
        .column_spacing(1)
        .header(Row::new(header).style(bold()))
        .block(
            ratatui::widgets::Block::default()
                .borders(ratatui::widgets::Borders::TOP)
                .title(Line::from(Span::styled(title, title_style))),
        );
    f.render_widget(table, area);
}

/// One row per virtual router, each node's state and effective priority side by side.
type Routers<'a> = [(RouterKey, Vec<(usize, &'a InstanceStatus)>)];

fn cluster_table(
    f: &mut Frame,
    area: Rect,
    m: &Model,
    routers: &Routers<'_>,
    marked: &BTreeSet<RouterKey>,
) {
    let width = area.width as usize;
    let n = m.nodes.len();
    // Each node's cell: "MASTER 150→140"; the names and VIPs share what is left.
    let cell = 14usize;
    let name_w = routers
        .iter()
        .flat_map(|(_, v)| v.iter().map(|(_, i)| i.name.chars().count()))
        .max()
        .unwrap_or(4)
        .clamp(4, 20);
    let fixed = 1 + 5 + name_w + (cell + 1) * n + 4;
    let vips_w = width.saturating_sub(fixed).max(6);
    let rows_shown = area.height.saturating_sub(2) as usize;
    let first = first_row(m, area);
    let rows: Vec<Row> = routers
        .iter()
        .enumerate()
        .skip(first)
        .take(rows_shown.max(1))
        .map(|(row, (key, members))| {
            let mut names: Vec<&str> = members.iter().map(|(_, i)| i.name.as_str()).collect();
            names.dedup();
            let mut cells = vec![
                marker(marked.contains(key)),
                Span::raw(findings::router_name(key).replace("VRID ", "")),
                Span::raw(fit(&names.join("/"), name_w)),
            ];
            for k in 0..n {
                let fresh = m.freshness(k);
                let is_live = matches!(fresh, Freshness::Live(_) | Freshness::Waiting);
                cells.push(match members.iter().find(|(j, _)| *j == k) {
                    Some((_, i)) => {
                        let prio = if i.base_priority == i.effective_priority {
                            i.base_priority.to_string()
                        } else {
                            format!("{}→{}", i.base_priority, i.effective_priority)
                        };
                        let mut text = format!("{} {prio}", i.state);
                        if !is_live {
                            text.push('?');
                        }
                        Span::styled(fit(&text, cell), state_style_if(&i.state, is_live))
                    }
                    None => Span::styled("-", greyed()),
                });
            }
            let vips = members
                .first()
                .map(|(_, i)| i.vips.clone())
                .unwrap_or_default();
            cells.push(Span::raw(vips_text(&vips, vips_w)));
            let r = Row::new(cells);
            if row == m.selected {
                r.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                r
            }
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(4),
        Constraint::Length(name_w as u16),
    ];
    let mut header: Vec<Span> = vec![Span::raw(""), Span::raw("VRID"), Span::raw("NAME")];
    for k in 0..n {
        widths.push(Constraint::Length(cell as u16));
        let name = fit(m.nodes[k].name(), cell);
        header.push(if k == m.current {
            Span::styled(name, Style::default().add_modifier(Modifier::UNDERLINED))
        } else {
            Span::raw(name)
        });
    }
    widths.push(Constraint::Length(vips_w as u16));
    header.push(Span::raw("VIPS"));
    let title = format!(
        " virtual routers ({}) on {} nodes · {} ",
        routers.len(),
        n,
        (0..n)
            .map(|k| format!(
                "{}: {}",
                m.nodes[k].name(),
                super::freshness_text(m.freshness(k))
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let table = Table::new(rows, widths)
        .column_spacing(1)
        .header(Row::new(header).style(bold()))
        .block(titled(fit(&title, width)));
    f.render_widget(table, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vips_show_as_many_as_fit_then_a_count() {
        let v: Vec<String> = ["10.99.0.100/24", "10.99.0.101/24", "10.99.0.102/24"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            vips_text(&v, 60),
            "10.99.0.100/24 10.99.0.101/24 10.99.0.102/24"
        );
        assert_eq!(vips_text(&v, 33), "10.99.0.100/24 10.99.0.101/24 +1");
        assert_eq!(vips_text(&v, 20), "10.99.0.100/24 +2");
        assert_eq!(vips_text(&v, 10), "10.99.0.1…");
        assert_eq!(vips_text(&[], 10), "-");
    }
}
