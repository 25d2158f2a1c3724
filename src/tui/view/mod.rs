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

use super::model::{Freshness, Model, View};

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

/// Secondary text: grey, legible on dark and light terminals (dark grey is not).
pub(super) fn dim() -> Style {
    Style::default().fg(Color::Gray)
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

/// `text` in lines of at most `width` characters, broken between words where it can be:
/// nothing is cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let (n, w) = (line.chars().count(), word.chars().count());
        if n > 0 && n + 1 + w > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        // A word longer than the line is broken where the line ends.
        while line.chars().count() > width {
            let head: String = line.chars().take(width).collect();
            line = line.chars().skip(width).collect();
            lines.push(head);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` in `width` characters at most: cut with an ellipsis, never silently.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else if width == 0 {
        String::new()
    } else {
        let mut t: String = text.chars().take(width - 1).collect();
        t.push('…');
        t
    }
}

/// The VIPs in `width` characters: as many as fit, then `+N` for the others.
pub fn vips_text(vips: &[String], width: usize) -> String {
    if vips.is_empty() {
        return "-".into();
    }
    let mut shown = String::new();
    for (k, v) in vips.iter().enumerate() {
        let rest = vips.len() - k - 1;
        let more = if rest > 0 {
            format!(" +{rest}")
        } else {
            String::new()
        };
        let next = if shown.is_empty() {
            v.clone()
        } else {
            format!("{shown} {v}")
        };
        if next.chars().count() + more.len() > width {
            let left = vips.len() - k;
            return if shown.is_empty() {
                fit(&format!("{v} +{}", left - 1), width)
            } else {
                format!("{shown} +{left}")
            };
        }
        shown = next;
    }
    shown
}

/// A node's freshness in a few words: `0.4s old`, `STALE: no answer for 3.1s`, `last seen
/// 12s ago`.
pub fn freshness_text(f: Freshness) -> String {
    match f {
        Freshness::Waiting => "waiting for data".into(),
        Freshness::Live(a) => format!("{a:.1}s old"),
        Freshness::Stale(a) => format!("STALE: no answer for {}", ago_short(a)),
        Freshness::Gone(Some(a)) => format!("DOWN, last seen {} ago", ago_short(a)),
        Freshness::Gone(None) => "DOWN, never seen".into(),
    }
}

/// Seconds with a decimal under a minute (`3.1s`), else as [`ago`].
fn ago_short(a: f64) -> String {
    if a < 60.0 { format!("{a:.1}s") } else { ago(a) }
}

pub fn freshness_style(f: Freshness) -> Style {
    match f {
        Freshness::Live(_) => Style::default().fg(Color::Green),
        Freshness::Waiting => Style::default(),
        Freshness::Stale(_) => Style::default()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD),
        Freshness::Gone(_) => Style::default()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
    }
}

/// The data's age for a panel's title: ` · 0.4s old `.
pub(super) fn age_note(m: &Model) -> String {
    format!(" · {} ", freshness_text(m.freshness(m.current)))
}

/// Whether what the current node shows is live: stale or lost data is greyed, never green.
pub(super) fn live(m: &Model) -> bool {
    matches!(
        m.freshness(m.current),
        Freshness::Live(_) | Freshness::Waiting
    )
}

/// A state's style, greyed when the data is not live.
pub(super) fn state_style_if(state: &str, live: bool) -> Style {
    if live { state_style(state) } else { greyed() }
}

/// Data that is no longer current.
pub(super) fn greyed() -> Style {
    Style::default()
        .fg(Color::Gray)
        .add_modifier(Modifier::DIM | Modifier::ITALIC)
}

/// The screen's parts: header, body, status bar, footer.
fn screen_areas(m: &Model, area: Rect, head: usize) -> [Rect; 4] {
    let _ = m;
    Layout::vertical([
        Constraint::Length(head as u16),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// The overview row under a click at line `y` of a `size` screen, if the overview shows and
/// there is a row there.
pub fn clicked_row(m: &Model, size: Rect, y: u16) -> Option<usize> {
    if m.view != View::Overview || m.help {
        return None;
    }
    let head = header_lines(m, size.width as usize).len();
    let [_, body, _, _] = screen_areas(m, size, head);
    overview::row_at(m, body, y)
}

pub fn draw(f: &mut Frame, m: &Model) {
    let width = f.area().width as usize;
    let head = header_lines(m, width);
    let [header, body, status_bar, footer] = screen_areas(m, f.area(), head.len());
    f.render_widget(Paragraph::new(head), header);
    match m.view {
        View::Overview => overview::draw(f, body, m),
        View::Detail => detail::draw(f, body, m),
        View::Trackers => trackers::draw(f, body, m),
        View::Lvs => lvs::draw(f, body, m),
        View::Events => events::draw(f, body, m),
        View::Editor => editor::draw(f, body, m),
        View::Segment => segment::draw(f, body, m),
    }
    f.render_widget(Paragraph::new(status_line(m, width)), status_bar);
    f.render_widget(Paragraph::new(keys(m)).style(dim()), footer);
    if m.help {
        help::draw(f, body.y + 1, &m.help_sections(), m.help_scroll);
    }
}

/// The status bar: each node and how fresh its data is, the clock on the right.
fn status_line(m: &Model, width: usize) -> Line<'static> {
    let clock = format!(" {} UTC", m.clock);
    let mut spans = Vec::new();
    let mut used = 0;
    for k in 0..m.nodes.len() {
        let f = m.freshness(k);
        let name = if m.is_cluster() && k == m.current {
            format!("[{}]", m.nodes[k].name())
        } else {
            m.nodes[k].name().to_string()
        };
        let text = format!("{name} {}", freshness_text(f));
        let sep = if k == 0 { "" } else { " · " };
        used += sep.len() + text.chars().count();
        spans.push(Span::raw(sep));
        spans.push(Span::styled(text, freshness_style(f)));
    }
    let pad = width.saturating_sub(used + clock.len());
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(clock, bold()));
    Line::from(spans)
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

/// The tabs, the node's line (or why it is not connected, whole), the extension's lines
/// (wrapped: nothing it says is cut).
fn header_lines(m: &Model, width: usize) -> Vec<Line<'static>> {
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
    let mut lines = vec![Line::from(tabs)];
    let node = m.node();
    if node.connected {
        let about = match m.status() {
            Some(s) => format!(
                "{}  up {}  pid {}  {}",
                s.host,
                ago(s.uptime_s),
                s.pid,
                s.config
            ),
            None => "waiting for the first status".into(),
        };
        let (tag, style) = if node.admin {
            ("  (admin)", Style::default().fg(Color::Cyan))
        } else {
            ("  (read-only)", Style::default().fg(Color::Yellow))
        };
        let about = fit(&about, width.saturating_sub(tag.len()));
        lines.push(Line::from(vec![Span::raw(about), Span::styled(tag, style)]));
    } else {
        let text = format!(
            "NOT CONNECTED to {}: {} - retrying every second",
            node.label,
            node.problem.as_deref().unwrap_or("connecting")
        );
        let banner = Style::default()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD);
        lines.extend(
            wrap(&text, width)
                .into_iter()
                .map(|l| Line::from(Span::styled(l, banner))),
        );
    }
    let lab = Style::default().fg(Color::Yellow);
    for l in &m.extension {
        lines.extend(
            wrap(l, width)
                .into_iter()
                .map(|w| Line::from(Span::styled(w, lab))),
        );
    }
    lines
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
        m.clock = "12:00:00".into();
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
            "12:00:01 VI_DB: Entering BACKUP STATE",
            "12:00:02 VI_WEB: Changing effective priority from 150 to 140",
            "12:00:03 VI_MAIL: Entering FAULT STATE (file:/run/mail.ok down)",
            "12:00:04 WARNING - default user 'keepalived_script' for script execution does not \
             exist - please create; set enable_script_security to avoid running scripts as root",
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

    /// Every view at three sizes, each also checked for what it must show.
    #[test]
    fn every_view_at_80x24_120x40_and_200x50() {
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
            (
                "5",
                &[
                    "12:00:03 VI_MAIL: Entering FAULT STATE",
                    // The long line wraps: its end is on screen.
                    "scripts as root",
                ],
            ),
            ("6", &["router_id", "no problems"]),
            (
                "7",
                &[
                    "10.77.0.11",
                    "10.77.0.12",
                    "no conflict",
                    "this node",
                    "free VRIDs: 1-9, 11-19, 21-29, 31-50, 52-255",
                ],
            ),
        ];
        let mut m = model();
        key(&mut m, KeyCode::Char('j'));
        for (k, must) in musts {
            key(&mut m, KeyCode::Char(k.chars().next().unwrap()));
            for (w, h) in [(80, 24), (120, 40), (200, 50)] {
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
        // With the line numbers and the block the change is in.
        assert!(s.contains("@@ line 7, in vrrp_instance VI_WEB {"), "{s}");
        assert!(
            s.contains("   8 -    priority 150") && s.contains("   8 +    priority 151"),
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
                // The help scrolled to each line: every row shows on one of the screens.
                m.help_scroll = 0;
                let mut s = String::new();
                for _ in 0..40 {
                    s.push_str(&render(&m, w, h));
                    m.help_scroll += 1;
                }
                m.help_scroll = 0;
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
            &CONFIG_REVERT,
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

    /// Two nodes of a pair: lb2 is the BACKUP of VI_WEB and the MASTER of VI_DB, whose VIPs
    /// differ between the nodes; lb1's data is 0.3 s old, lb2's as `lb2_age` says.
    pub(crate) fn cluster(lb2: Option<f64>) -> Model {
        let mut m = Model::cluster(&["/run/a.sock".into(), "ssh lb2".into()]);
        m.clock = "12:00:00".into();
        let t0 = m.now;
        m.update(Msg::From(0, Box::new(Msg::Connected { admin: true })));
        m.update(Msg::From(0, Box::new(Msg::Status(Box::new(status())))));
        let mut s2 = status();
        s2.host = "lb2".into();
        s2.instances[0].state = "BACKUP".into();
        s2.instances[0].base_priority = 100;
        s2.instances[0].effective_priority = 100;
        s2.instances[0].master = Some("10.0.0.1".into());
        s2.instances[1].state = "MASTER".into();
        s2.instances[1].base_priority = 150;
        s2.instances[1].effective_priority = 150;
        s2.instances[1].vips = vec!["10.0.1.100/24".into(), "10.0.1.102/24".into()];
        m.update(Msg::From(1, Box::new(Msg::Connected { admin: true })));
        m.update(Msg::From(1, Box::new(Msg::Status(Box::new(s2)))));
        match lb2 {
            Some(age) => {
                m.now = t0 + std::time::Duration::from_secs_f64(age);
                m.nodes[0].seen = Some(m.now - std::time::Duration::from_millis(300));
            }
            None => {
                m.now = t0 + std::time::Duration::from_secs(12);
                m.nodes[0].seen = Some(m.now - std::time::Duration::from_millis(300));
                m.update(Msg::From(
                    1,
                    Box::new(Msg::Disconnected("the daemon closed the connection".into())),
                ));
            }
        }
        m
    }

    /// One console on two daemons: each virtual router once, both nodes side by side, the
    /// drift flagged with the field and the nodes' values, at every size.
    #[test]
    fn the_cluster_overview_shows_both_nodes_and_the_drift() {
        let m = cluster(Some(0.4));
        for (w, h) in [(80, 24), (120, 40), (200, 50)] {
            let s = render(&m, w, h);
            for want in [
                "lb1",
                "lb2",
                "MASTER 150→140",
                "BACKUP 100",
                "drift in VRID 20: VIPs differ",
                "[lb1] 0.3s old",
                "12:00:00 UTC",
            ] {
                assert!(s.contains(want), "{w}x{h}: {want} missing\n{s}");
            }
            let row = s.lines().find(|l| l.contains("VI_DB")).unwrap_or("");
            assert!(row.starts_with('!'), "the drifting router is marked:\n{s}");
            insta::assert_snapshot!(format!("cluster_{w}x{h}"), s);
        }
    }

    /// A node that stops answering is STALE within two polls; one that is gone is greyed
    /// with its last-seen age, never left green.
    #[test]
    fn stale_and_lost_nodes_are_marked() {
        let m = cluster(Some(1.4));
        assert_eq!(m.freshness(1), crate::tui::model::Freshness::Stale(1.4));
        let s = render(&m, 120, 40);
        assert!(s.contains("lb2 STALE: no answer for 1.4s"), "{s}");
        assert!(
            s.contains("BACKUP 100?"),
            "lb2's cells say they are not current:\n{s}"
        );
        let m = cluster(None);
        let s = render(&m, 120, 40);
        assert!(s.contains("lb2 DOWN, last seen 12.0s ago"), "{s}");
        insta::assert_snapshot!("cluster_lost_120x40", s);
        // lb2's MASTER cell is not green.
        let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
        t.draw(|f| draw(f, &m)).unwrap();
        let buf = t.backend().buffer().clone();
        let (x, y) = (0..40u16)
            .flat_map(|y| (0..110u16).map(move |x| (x, y)))
            .find(|&(x, y)| {
                (0..10)
                    .map(|d| buf[(x + d, y)].symbol())
                    .collect::<String>()
                    == "MASTER 150"
                    && y > 3
                    && x >= 30
            })
            .expect("lb2's MASTER cell");
        assert_ne!(
            buf[(x, y)].fg,
            Color::Green,
            "a lost node's MASTER is greyed"
        );
        // The single-node view of a lost daemon: greyed rows, and the banner says why.
        let mut one = model();
        one.update(Msg::Disconnected("nothing listens".into()));
        let s = render(&one, 80, 24);
        assert!(s.contains("VRRP instances (3) · DOWN, last seen"), "{s}");
    }

    /// The cluster overview's selection moves over virtual routers; Enter shows the instance
    /// of the node shown; ] shows the next node (and asks for its configuration).
    #[test]
    fn cluster_rows_open_and_nodes_switch() {
        let mut m = cluster(Some(0.4));
        key(&mut m, KeyCode::Char('j'));
        key(&mut m, KeyCode::Char('j'));
        key(&mut m, KeyCode::Char('j'));
        assert_eq!(m.selected, 2, "three virtual routers");
        key(&mut m, KeyCode::Char('k'));
        key(&mut m, KeyCode::Enter);
        assert_eq!(m.view, View::Detail);
        assert_eq!(m.detail_instance().unwrap().name, "VI_DB");
        assert_eq!(m.detail_instance().unwrap().state, "BACKUP", "lb1's");
        let a = m.update(Msg::Key(KeyEvent::new(
            KeyCode::Char(']'),
            KeyModifiers::NONE,
        )));
        assert_eq!(m.current, 1);
        assert_eq!(
            a,
            Action::Send(crate::control::protocol::RequestBody::GetConfig)
        );
        key(&mut m, KeyCode::Char('1'));
        let s = render(&m, 80, 24);
        assert!(s.contains("[lb2] 0.4s old"), "{s}");
        // Events name their node, after the time.
        m.update(Msg::From(
            1,
            Box::new(Msg::Event("12:00:05 VI_DB: BACKUP -> MASTER".into())),
        ));
        assert_eq!(
            m.visible_events().last().map(String::as_str),
            Some("12:00:05 lb2 VI_DB: BACKUP -> MASTER")
        );
        assert!(s.contains("lb2  up"), "the header is lb2's:\n{s}");
    }

    /// `s` orders the overview by the next column, and the LVS view's real servers; a click
    /// selects the row under it.
    #[test]
    fn sort_and_click() {
        let mut m = model();
        let names = |m: &Model| {
            m.visible()
                .iter()
                .map(|i| i.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&m), ["VI_WEB", "VI_DB", "VI_MAIL"]);
        key(&mut m, KeyCode::Char('s'));
        assert_eq!(names(&m), ["VI_DB", "VI_MAIL", "VI_WEB"], "by name");
        assert!(render(&m, 80, 24).contains("VRRP instances (3), by name"));
        key(&mut m, KeyCode::Char('s'));
        key(&mut m, KeyCode::Char('s'));
        assert_eq!(names(&m)[0], "VI_MAIL", "by state: FAULT first");
        // A click on the third row of the table (the title and the header above it).
        let screen = Rect::new(0, 0, 80, 24);
        assert_eq!(clicked_row(&m, screen, 4), Some(0));
        assert_eq!(clicked_row(&m, screen, 6), Some(2));
        assert_eq!(clicked_row(&m, screen, 7), None, "no row there");
        assert_eq!(clicked_row(&m, screen, 1), None, "the header");
        m.update(Msg::Click(2));
        assert_eq!(m.selected, 2);
        key(&mut m, KeyCode::Char('4'));
        key(&mut m, KeyCode::Char('s'));
        let s = render(&m, 120, 40);
        assert!(s.contains("real servers by down first"), "{s}");
        let down = s.find("DOWN").unwrap_or(usize::MAX);
        let up = s.find(" UP ").unwrap_or(0);
        assert!(down < up, "the real server down comes first:\n{s}");
    }

    #[test]
    fn nothing_is_cut_silently() {
        assert_eq!(fit("enable_script_security", 10), "enable_sc…");
        assert_eq!(fit("short", 10), "short");
        assert_eq!(
            wrap("r1 killed (SIGKILL): the others take over", 20),
            ["r1 killed (SIGKILL):", "the others take over"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        // Three VIPs in the 80-column overview: the first and "+2", never a cut address.
        let mut m = model();
        let mut s = status();
        s.instances[0].vips = ["10.99.0.100/24", "10.99.0.101/24", "10.99.0.102/24"]
            .map(String::from)
            .to_vec();
        m.update(Msg::Status(Box::new(s)));
        let screen = render(&m, 80, 24);
        let row = screen.lines().find(|l| l.contains("VI_WEB")).unwrap();
        assert!(row.contains("10.99.0.100/24 +2"), "{row}");
        let screen = render(&m, 200, 50);
        let row = screen.lines().find(|l| l.contains("VI_WEB")).unwrap();
        assert!(
            row.contains("10.99.0.100/24 10.99.0.101/24 10.99.0.102/24"),
            "all of them at 200 columns: {row}"
        );
        assert!(
            screen.contains("RX/TX") && screen.contains("TRACK") && screen.contains("AUTHERR"),
            "wide terminals get more columns:\n{screen}"
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
