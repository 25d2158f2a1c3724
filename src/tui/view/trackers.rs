//! View 3: the vrrp_scripts with their rise/fall progress and last run, then every tracker
//! of every instance (interfaces, scripts, files, processes) with what it does to the priority.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Span;
use ratatui::widgets::{Paragraph, Row, Table};

use super::{ago, bold, dim, titled};
use crate::tui::model::Model;

fn status_style(s: &str) -> Style {
    match s {
        "up" => Style::default().fg(Color::Green),
        "down" | "fault" => Style::default().fg(Color::Red),
        _ => Style::default().fg(Color::Yellow),
    }
}

pub fn draw(f: &mut Frame, area: Rect, m: &Model) {
    let Some(s) = m.status() else {
        f.render_widget(
            Paragraph::new("no data yet").block(titled(" trackers ".into())),
            area,
        );
        return;
    };
    let scripts: Vec<Row> = s
        .scripts
        .iter()
        .filter(|sc| m.filter.is_empty() || sc.name.contains(&m.filter))
        .map(|sc| {
            // rise/fall progress: how far the current run of results has got.
            let progress = if sc.status == "up" {
                format!("fail {}/{}", sc.failures.min(sc.fall), sc.fall)
            } else {
                format!("rise {}/{}", sc.successes.min(sc.rise), sc.rise)
            };
            let last = match (sc.last_timed_out, sc.last_exit) {
                // Its user cannot be resolved: it never runs (the reason is in the status).
                _ if sc.error.is_some() => "not run".to_string(),
                (true, _) => "timeout".to_string(),
                (false, Some(c)) => format!("exit {c}"),
                (false, None) => if sc.runs == 0 { "-" } else { "killed" }.to_string(),
            };
            Row::new(vec![
                Span::raw(sc.name.clone()),
                Span::styled(sc.status.clone(), status_style(&sc.status)),
                Span::raw(progress),
                Span::raw(sc.runs.to_string()),
                Span::raw(last),
                Span::raw(
                    sc.last_runtime_ms
                        .map_or("-".into(), |t| format!("{t:.1} ms")),
                ),
                Span::raw(
                    sc.last_run_ago_s
                        .map_or("-".into(), |t| format!("{} ago", ago(t))),
                ),
            ])
        })
        .collect();
    let n_scripts = scripts.len();
    let trackers: Vec<Row> = s
        .instances
        .iter()
        .flat_map(|i| i.trackers.iter().map(move |t| (i, t)))
        .filter(|(i, t)| {
            m.filter.is_empty() || i.name.contains(&m.filter) || t.id.contains(&m.filter)
        })
        .skip(m.scroll)
        .map(|(i, t)| {
            Row::new(vec![
                Span::raw(i.name.clone()),
                Span::raw(t.id.clone()),
                Span::raw(t.weight.to_string()),
                Span::styled(t.status.clone(), status_style(&t.status)),
                Span::styled(t.effect.clone(), status_style(&t.effect)),
            ])
        })
        .collect();
    let [top, bottom] = Layout::vertical([
        Constraint::Length(n_scripts.max(1) as u16 + 2),
        Constraint::Min(3),
    ])
    .areas(area);
    if n_scripts == 0 {
        // Scripts tracked without runs reported (the simulated lab sets their state itself).
        let tracked: Vec<&str> = s
            .instances
            .iter()
            .flat_map(|i| &i.trackers)
            .filter_map(|t| t.id.strip_prefix("script:"))
            .collect();
        let text = if tracked.is_empty() {
            "no vrrp_script is tracked".to_string()
        } else {
            format!(
                "no runs reported for {}: its state is in the table below",
                tracked.join(", ")
            )
        };
        f.render_widget(
            Paragraph::new(Span::styled(text, dim()))
                .block(titled(format!(" vrrp_scripts{}", super::age_note(m)))),
            top,
        );
    } else {
        f.render_widget(
            Table::new(
                scripts,
                [
                    Constraint::Min(12),
                    Constraint::Length(7),
                    Constraint::Length(9),
                    Constraint::Length(7),
                    Constraint::Length(8),
                    Constraint::Length(9),
                    Constraint::Length(9),
                ],
            )
            .header(
                Row::new([
                    "SCRIPT",
                    "STATUS",
                    "RISE/FALL",
                    "RUNS",
                    "LAST",
                    "RUNTIME",
                    "RAN",
                ])
                .style(bold()),
            )
            .block(titled(format!(" vrrp_scripts{}", super::age_note(m)))),
            top,
        );
    }
    f.render_widget(
        Table::new(
            trackers,
            [
                Constraint::Length(14),
                Constraint::Min(20),
                Constraint::Length(7),
                Constraint::Length(8),
                Constraint::Length(8),
            ],
        )
        .header(Row::new(["INSTANCE", "TRACKER", "WEIGHT", "STATUS", "EFFECT"]).style(bold()))
        .block(titled(" what each instance tracks ".into())),
        bottom,
    );
}
