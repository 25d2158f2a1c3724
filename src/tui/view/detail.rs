//! View 2: one instance: why it has its priority, its timers and counters, and the last
//! minutes as charts: the gap between adverts against the advert interval (jitter shows before
//! a false failover does) and the effective priority.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Chart, Dataset, GraphType, List, ListItem, Paragraph, Sparkline,
};

use super::{ago, bold, dim, state_style, titled};
use crate::control::protocol::InstanceStatus;
use crate::tui::history::InstanceHistory;
use crate::tui::model::Model;

pub fn draw(f: &mut Frame, area: Rect, m: &Model) {
    let Some(i) = m.detail_instance() else {
        f.render_widget(
            Paragraph::new("No instance selected: pick one in the overview (1) and press Enter.")
                .block(titled(" instance ".into())),
            area,
        );
        return;
    };
    let empty = InstanceHistory::default();
    let h = m.history.instances.get(&i.name).unwrap_or(&empty);
    let info = info_lines(i);
    let chart_h = if area.height >= 30 { 10 } else { 5 };
    let [info_area, chart_area, prio_area, events_area] = Layout::vertical([
        Constraint::Length(info.len() as u16 + 1),
        Constraint::Length(chart_h),
        Constraint::Length(3),
        Constraint::Min(0),
    ])
    .areas(area);
    let title = format!(" {}{}", i.name, super::age_note(m));
    f.render_widget(Paragraph::new(info).block(titled(title)), info_area);
    draw_gaps(f, chart_area, i, h);
    let prio = h.priority.last(prio_area.width as usize);
    let (lo, hi) = (
        prio.iter().min().copied().unwrap_or(0),
        prio.iter().max().copied().unwrap_or(0),
    );
    // Drawn from a little below the lowest value seen, so that a drop of a few points is
    // visible and the lowest level still has a bar.
    let floor = lo.saturating_sub((hi - lo) / 3 + 1);
    let bars: Vec<u64> = prio.iter().map(|p| p - floor).collect();
    // A steady priority is drawn half high, so that a rise shows too.
    let top = if hi == lo { 2 } else { hi - floor };
    f.render_widget(
        Sparkline::default()
            .data(&bars)
            .max(top)
            .style(Style::default().fg(Color::Yellow))
            .block(titled(format!(
                " effective priority: now {}, {lo}..{hi} in the last {} samples ",
                i.effective_priority,
                prio.len()
            ))),
        prio_area,
    );
    let events: Vec<ListItem> = m
        .events
        .iter()
        .rev()
        .filter(|(k, e)| *k == m.current && e.contains(&i.name))
        .take(events_area.height.saturating_sub(1) as usize)
        .map(|(_, e)| super::events::wrapped(e, events_area.width as usize))
        .collect();
    f.render_widget(
        List::new(events).block(titled(" recent events ".into())),
        events_area,
    );
}

fn info_lines(i: &InstanceStatus) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(vec![
        Span::raw(format!(
            "{} · VRID {} · VRRPv{} · ",
            i.interface, i.vrid, i.version
        )),
        Span::styled(i.state.clone(), state_style(&i.state)),
        Span::raw(format!(
            " for {} · VIPs {}",
            ago(i.since_transition_s),
            i.vips.join(" ")
        )),
    ])];
    // Why this priority: the base, each tracker's part, the sum.
    lines.push(Line::from(vec![
        Span::styled("priority ", bold()),
        Span::raw(format!(
            "{} = base {}{}",
            i.effective_priority,
            i.base_priority,
            if i.trackers.is_empty() {
                ", no trackers"
            } else {
                ""
            }
        )),
    ]));
    for t in &i.trackers {
        let style = match t.status.as_str() {
            "up" => Style::default().fg(Color::Green),
            "down" => Style::default().fg(Color::Red),
            _ => Style::default().fg(Color::Yellow),
        };
        lines.push(Line::from(vec![
            Span::raw(format!("  {:>6}  ", t.effect)),
            Span::raw(format!("{:<28} weight {:>4}  ", t.id, t.weight)),
            Span::styled(t.status.clone(), style),
        ]));
    }
    let s = |v: f64| format!("{v:.2} s");
    let mut timers = format!(
        "advert {} · master-down {}",
        s(i.adver_int_s),
        s(i.master_down_interval_s)
    );
    if let Some(n) = i.next_advert_s {
        timers += &format!(" · next advert in {}", s(n));
    }
    if let Some(n) = i.master_down_in_s {
        timers += &format!(" · takeover in {} without adverts", s(n));
    }
    lines.push(Line::from(vec![
        Span::styled("timers   ", bold()),
        Span::raw(timers),
    ]));
    let master = match (i.state.as_str(), &i.master, i.master_priority) {
        ("MASTER", _, _) => "this node".to_string(),
        (_, Some(a), Some(p)) => format!("{a} with priority {p}"),
        _ => "none heard".to_string(),
    };
    lines.push(Line::from(vec![
        Span::styled("master   ", bold()),
        Span::raw(master),
    ]));
    let st = &i.stats;
    lines.push(Line::from(vec![
        Span::styled("adverts  ", bold()),
        Span::raw(format!(
            "in {} · out {} · became master {} · released {}",
            st.advert_rcvd, st.advert_sent, st.become_master, st.release_master
        )),
    ]));
    // The receive checks that failed (keepalived's STATS counters), the non-zero ones.
    let failed: Vec<String> = [
        ("length", st.packet_len_err),
        ("interval", st.advert_interval_err),
        ("ttl", st.ip_ttl_err),
        ("type", st.invalid_type_rcvd),
        ("addresses", st.addr_list_err),
        ("auth type", st.invalid_authtype),
        ("auth mismatch", st.authtype_mismatch),
        ("auth failure", st.auth_failure),
        ("version", st.version_err),
        ("checksum", st.checksum_err),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(k, n)| format!("{k} {n}"))
    .collect();
    lines.push(Line::from(vec![
        Span::styled("rejected ", bold()),
        if failed.is_empty() {
            Span::styled("none", dim())
        } else {
            Span::styled(failed.join(" · "), Style::default().fg(Color::Red))
        },
    ]));
    lines
}

/// The gaps between adverts (ms) with the configured interval as a line.
fn draw_gaps(f: &mut Frame, area: Rect, i: &InstanceStatus, h: &InstanceHistory) {
    let n = (area.width as usize).saturating_sub(8) * 2;
    let gaps = h.advert_gap_ms.last(n);
    let interval = i.adver_int_s * 1e3;
    let points: Vec<(f64, f64)> = gaps
        .iter()
        .enumerate()
        .map(|(k, g)| (k as f64, *g as f64))
        .collect();
    let xmax = (gaps.len().max(2) - 1) as f64;
    let line = [(0.0, interval), (xmax, interval)];
    let ymax = gaps
        .iter()
        .map(|g| *g as f64)
        .fold(interval * 1.5, f64::max)
        .ceil();
    let title = match (h.advert_gap_ms.latest(), h.advert_gap_ms.max()) {
        (Some(last), Some(max)) => {
            format!(" advert gap: last {last} ms, max {max} ms, interval {interval:.0} ms ")
        }
        _ if i.state == "MASTER" => " advert gap: none received (this node sends) ".to_string(),
        _ => " advert gap: none received yet ".to_string(),
    };
    let chart = Chart::new(vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::default().fg(Color::DarkGray))
            .data(&line),
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::default().fg(Color::Cyan))
            .data(&points),
    ])
    .block(Block::default().borders(Borders::TOP).title(title))
    .x_axis(Axis::default().bounds([0.0, xmax]))
    .y_axis(
        Axis::default()
            .bounds([0.0, ymax])
            .labels([Line::from("0"), Line::from(format!("{ymax:.0}"))]),
    );
    f.render_widget(chart, area);
}
