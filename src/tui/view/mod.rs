//! Drawing the model (ratatui): a header with the views and the connection, the selected view,
//! a footer with its keys. Everything fits 80x24.

mod detail;
mod editor;
mod events;
pub mod help;
mod lvs;
mod overview;
mod segment;
pub mod segment_table;
mod trackers;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::model::{Model, View};

pub(super) fn state_style(state: &str) -> Style {
    match state {
        "MASTER" => Style::default()
            .fg(Color::Green)
            .add_modifier(Modifier::BOLD),
        "BACKUP" => Style::default().fg(Color::Cyan),
        "FAULT" => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        _ => Style::default().fg(Color::Yellow),
    }
}

pub(super) fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub(super) fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

/// A view's frame: a rule on top with the title.
pub(super) fn titled(title: String) -> Block<'static> {
    Block::default().borders(Borders::TOP).title(title)
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

/// A sparkline in text, one block character per sample, scaled to the largest.
pub(super) fn spark(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|v| BARS[((*v * 7 + max / 2) / max).min(7) as usize])
        .collect()
}

pub fn draw(f: &mut Frame, m: &Model) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(2 + m.extension.len() as u16),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(f.area());
    draw_header(f, header, m);
    match m.view {
        View::Overview => overview::draw(f, body, m),
        View::Detail => detail::draw(f, body, m),
        View::Trackers => trackers::draw(f, body, m),
        View::Lvs => lvs::draw(f, body, m),
        View::Events => events::draw(f, body, m),
        View::Editor => editor::draw(f, body, m),
        View::Segment => segment::draw(f, body, m),
    }
    f.render_widget(Paragraph::new(keys(m)).style(dim()), footer);
    if m.help {
        help::draw(f, body.y + 1, &m.help_sections());
    }
}

/// The footer: the keys that work now, from the map of what is on screen.
fn keys(m: &Model) -> String {
    use super::editor::Phase;
    let map = m.keymap();
    if m.filtering {
        return format!("filter: {}_  ({})", m.filter, map.footer_items().join(", "));
    }
    match (m.view, &m.editor.phase, m.help) {
        (View::Editor, Phase::Editing, false) => format!("EDITING  {}", map.footer()),
        (View::Editor, Phase::Applying, false) => "applying: waiting for the daemon".into(),
        _ => map.footer(),
    }
}

fn draw_header(f: &mut Frame, area: Rect, m: &Model) {
    let mut tabs = vec![Span::styled("kaconsole ", bold())];
    for (k, v) in View::ALL.iter().enumerate() {
        let style = if *v == m.view {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::default()
        };
        tabs.push(Span::raw(" "));
        tabs.push(Span::styled(format!("{} {}", k + 1, v.title()), style));
    }
    let second = if m.connected {
        let about = match &m.status {
            Some(s) => format!(
                "{}  up {}  pid {}  {}",
                s.host,
                ago(s.uptime_s),
                s.pid,
                s.config
            ),
            None => "waiting for the first status".into(),
        };
        Line::from(vec![
            Span::raw(about),
            Span::styled(
                if m.admin {
                    "  (admin)"
                } else {
                    "  (read-only)"
                },
                dim(),
            ),
        ])
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
    let mut lines = vec![Line::from(tabs), second];
    lines.extend(
        m.extension
            .iter()
            .map(|l| Line::from(Span::styled(l.clone(), Style::default().fg(Color::Yellow)))),
    );
    f.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::control::protocol::fixture::status;
    use crate::tui::model::{Action, Msg};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    pub fn render(m: &Model, w: u16, h: u16) -> String {
        screen(w, h, |f| draw(f, m))
    }

    /// What `paint` draws on a `w`x`h` test terminal, as text (trailing blanks trimmed).
    pub fn screen(w: u16, h: u16, paint: impl FnOnce(&mut Frame)) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(paint).unwrap();
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

    pub(crate) fn key(m: &mut Model, c: KeyCode) {
        m.update(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    }

    const CONF: &str = "global_defs {\n    router_id lb1\n}\nvrrp_instance VI_WEB {\n    state MASTER\n    interface eth0\n    virtual_router_id 10\n    priority 150\n    advert_int 1\n    virtual_ipaddress {\n        10.0.0.100/24\n    }\n}\n";

    /// The fixture's load balancer, with some history and events.
    pub(crate) fn model() -> Model {
        let mut m = Model::new("/run/kaconsole/kaconsole.sock");
        m.update(Msg::Connected { admin: true });
        let mut s = status();
        for k in 0..60u64 {
            s.instances[1].stats.advert_rcvd += 1;
            // Jitter, then one late advert.
            s.instances[1].last_advert_gap_s = Some(if k == 50 {
                2.4
            } else {
                1.0 + (k % 5) as f64 * 0.01
            });
            s.instances[0].effective_priority = if k < 40 { 150 } else { 140 };
            s.virtual_servers[0].real_servers[0].latency_ms = Some(2.0 + (k % 7) as f64);
            m.update(Msg::Status(Box::new(s.clone())));
        }
        m.update(Msg::Status(Box::new(status())));
        for e in [
            "VI_DB: Entering BACKUP STATE",
            "VI_WEB: Changing effective priority from 150 to 140",
            "VI_MAIL: Entering FAULT STATE (file:/run/mail.ok down)",
        ] {
            m.update(Msg::Event(e.into()));
        }
        m.update(Msg::Config {
            path: "/etc/keepalived/keepalived.conf".into(),
            text: CONF.into(),
        });
        // What the daemon heard: one of keepalived's captures.
        let t = crate::sniff::table::from_test_captures(&["vrrp2-multi-vip.pcap"]);
        m.update(Msg::Segment(Box::new(t.snapshot().into())));
        m
    }

    /// Every view at both sizes, each also checked for what it must show.
    #[test]
    fn every_view_at_80x24_and_120x40() {
        let musts: [(&str, &[&str]); 7] = [
            (
                "1",
                &["VI_WEB", "MASTER", "BACKUP", "FAULT", "150→140", "G_FRONT"],
            ),
            ("2", &["VI_DB", "advert gap", "priority", "10.0.0.1"]),
            ("3", &["chk_nginx", "exit 7", "file:/run/mail.ok", "fault"]),
            (
                "4",
                &[
                    "10.0.0.100:80",
                    "10.0.0.12:80",
                    "DOWN",
                    "connection refused",
                ],
            ),
            ("5", &["Entering FAULT STATE"]),
            ("6", &["router_id", "no problems"]),
            (
                "7",
                &[
                    "10.77.0.11",
                    "10.77.0.12",
                    "no conflict",
                    "free VRIDs: 1-50",
                ],
            ),
        ];
        let mut m = model();
        key(&mut m, KeyCode::Char('j'));
        for (k, must) in musts {
            key(&mut m, KeyCode::Char(k.chars().next().unwrap()));
            for (w, h) in [(80, 24), (120, 40)] {
                let s = render(&m, w, h);
                for want in must {
                    assert!(s.contains(want), "view {k} at {w}x{h}: {want} missing\n{s}");
                }
                insta::assert_snapshot!(format!("view{k}_{}_{w}x{h}", m.view.title()), s);
            }
        }
    }

    #[test]
    fn the_editor_marks_an_error_in_the_gutter_and_lists_it() {
        let mut m = model();
        key(&mut m, KeyCode::Char('6'));
        key(&mut m, KeyCode::Char('e'));
        // Line 8: "    priority 150" -> "    priority 1500".
        m.editor
            .text
            .move_cursor(ratatui_textarea::CursorMove::Jump(7, 16));
        key(&mut m, KeyCode::Char('0'));
        for (w, h) in [(80, 24), (120, 40)] {
            let s = render(&m, w, h);
            assert!(s.contains("1 error"), "{s}");
            assert!(s.contains("E   8"), "the gutter marks line 8:\n{s}");
            assert!(
                s.contains("priority"),
                "keyword help for the cursor line:\n{s}"
            );
            insta::assert_snapshot!(format!("editor_error_{w}x{h}"), s);
        }
        // Apply is refused locally; then a valid edit shows the diff.
        key(&mut m, KeyCode::Backspace);
        m.update(Msg::Key(KeyEvent::new(
            KeyCode::Char('s'),
            KeyModifiers::CONTROL,
        )));
        let s = render(&m, 80, 24);
        assert!(s.contains("nothing to apply"), "{s}");
        key(&mut m, KeyCode::Backspace);
        key(&mut m, KeyCode::Char('1'));
        m.update(Msg::Key(KeyEvent::new(
            KeyCode::Char('s'),
            KeyModifiers::CONTROL,
        )));
        let s = render(&m, 80, 24);
        assert!(
            s.contains("-    priority 150") && s.contains("+    priority 151"),
            "{s}"
        );
        insta::assert_snapshot!("editor_confirm_80x24", s);
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
    fn help_lists_the_keys() {
        let mut m = model();
        // The config view's help: its keys and those of editing and applying.
        key(&mut m, KeyCode::Char('6'));
        key(&mut m, KeyCode::Char('?'));
        let s = render(&m, 80, 24);
        assert!(s.contains("Ctrl-S") && s.contains("quit"), "{s}");
        key(&mut m, KeyCode::Char('x'));
        assert!(!m.help, "any key closes the help");
    }

    /// Every key a view's maps hold is in its `?` help, with its hint; the footer is the map's.
    #[test]
    fn every_key_of_a_view_is_in_its_help() {
        for v in View::ALL {
            let mut m = model();
            m.update(Msg::Key(KeyEvent::new(
                KeyCode::Char((b'1' + v.index() as u8) as char),
                KeyModifiers::NONE,
            )));
            assert_eq!(m.view, v);
            let footer = render(&m, 120, 40).lines().last().unwrap_or("").to_string();
            assert_eq!(footer.trim(), m.keymap().footer(), "{}", v.title());
            key(&mut m, KeyCode::Char('?'));
            assert!(m.help, "{}: ? opens the help", v.title());
            for (w, h) in [(80, 24), (120, 40)] {
                let s = render(&m, w, h);
                for map in crate::tui::keys::help_maps(v) {
                    for row in map.rows {
                        let (label, hint) = (row.label(), row.hint);
                        assert!(
                            s.lines().any(|l| l.contains(&label) && l.contains(hint)),
                            "{} ({}) at {w}x{h}: {label} {hint:?} is not in the help\n{s}",
                            v.title(),
                            map.title
                        );
                    }
                }
            }
            insta::assert_snapshot!(format!("help_{}_80x24", v.title()), render(&m, 80, 24));
        }
    }

    /// What the console's state is made of, to see that a key changed nothing.
    fn state(m: &Model) -> String {
        format!(
            "{:?} {:?}",
            (
                m.view,
                m.selected,
                &m.detail,
                m.scroll,
                &m.filter,
                m.filtering,
                m.help,
            ),
            (
                &m.editor.phase,
                m.editor.text.lines(),
                m.editor.text.cursor(),
                &m.editor.outcome,
                m.segment_sort,
                m.segment_selected,
            )
        )
    }

    /// In the config view, editing: router_id lb1 becomes lb1x.
    fn edit(m: &mut Model) {
        for c in [KeyCode::Char('6'), KeyCode::Char('j'), KeyCode::Char('e')] {
            key(m, c);
        }
        key(m, KeyCode::End);
        key(m, KeyCode::Char('x'));
        assert_eq!(m.editor.text.lines()[1], "    router_id lb1x");
    }

    /// Every key a screen handles is in its map: any other key leaves the console as it was.
    #[test]
    fn a_key_in_no_map_does_nothing() {
        let ctrl = |c| Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
        let mut states: Vec<(String, Model)> = View::ALL
            .iter()
            .map(|v| {
                let mut m = model();
                key(&mut m, KeyCode::Char((b'1' + v.index() as u8) as char));
                (v.title().to_string(), m)
            })
            .collect();
        let mut m = model();
        key(&mut m, KeyCode::Char('/'));
        states.push(("filtering".into(), m));
        let mut m = model();
        key(&mut m, KeyCode::Char('?'));
        states.push(("help".into(), m));
        let mut m = model();
        edit(&mut m);
        states.push(("editing".into(), m));
        let mut m = model();
        edit(&mut m);
        m.update(ctrl('s'));
        assert!(
            matches!(m.editor.phase, crate::tui::editor::Phase::Confirm(_)),
            "{:?}",
            m.editor.outcome
        );
        states.push(("confirm".into(), m));
        let mut m = model();
        edit(&mut m);
        m.update(ctrl('s'));
        key(&mut m, KeyCode::Char('y'));
        assert_eq!(m.editor.phase, crate::tui::editor::Phase::Applying);
        states.push(("applying".into(), m));
        for (name, mut m) in states {
            let map = m.keymap().title;
            let mut unmapped = 0;
            for k in crate::tui::keymap::tests::every_key() {
                if m.keymap().lookup(&k).is_some() {
                    continue;
                }
                unmapped += 1;
                let before = state(&m);
                assert_eq!(m.update(Msg::Key(k)), Action::None, "{name}: {k:?}");
                assert_eq!(state(&m), before, "{name}: {k:?} is in no map");
            }
            assert_eq!(m.keymap().title, map);
            assert!(
                unmapped > 0 || ["editing", "confirm", "help"].contains(&name.as_str()),
                "{name}"
            );
        }
    }

    #[test]
    fn footers_name_their_keys() {
        use crate::tui::keys::*;
        for map in [
            &OVERVIEW,
            &INSTANCE,
            &TRACKERS,
            &LVS,
            &EVENTS,
            &CONFIG,
            &CONFIG_EDITING,
            &CONFIG_CONFIRM,
            &CONFIG_APPLYING,
            &SEGMENT,
            &FILTERING,
            &HELP_OPEN,
        ] {
            crate::tui::keymap::tests::footers_name_their_keys(map);
        }
        // Typing a filter: its keys in the footer.
        let mut m = model();
        key(&mut m, KeyCode::Char('/'));
        key(&mut m, KeyCode::Char('d'));
        assert_eq!(
            render(&m, 80, 24).lines().last(),
            Some("filter: d_  (Enter keep, Esc clear)")
        );
    }

    #[test]
    fn ago_and_spark_are_short() {
        assert_eq!(ago(5.0), "5s");
        assert_eq!(ago(125.0), "2m05s");
        assert_eq!(ago(3723.0), "1h02m");
        assert_eq!(ago(90_000.0), "1d01h");
        assert_eq!(spark(&[0, 4, 8]), "▁▅█");
    }
}
