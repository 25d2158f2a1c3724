//! `kaconsole sniff IFACE` on a terminal: the table, live (Model/update/view as the console).
//! One row per router of each VRRP group, the groups with a conflict in colour, a detail pane
//! with the selected group's findings and evidence; `s` changes the order.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::keymap::{Key, KeyMap, Row};
use super::view::help;
use super::view::segment_table::{Sort, conflicts, draw_segment, rows, select, table_full};
use crate::control::protocol::segment::Snapshot;

/// What a key of the live table does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveKey {
    Down,
    Up,
    Order,
    Help,
    CloseHelp,
    Quit,
}

/// The live table's keys.
pub static TABLE: KeyMap<LiveKey> = KeyMap {
    title: "sniff",
    rows: &[
        Row {
            keys: &[
                (Key::Char('j'), LiveKey::Down),
                (Key::Char('k'), LiveKey::Up),
                (Key::Code(KeyCode::Down), LiveKey::Down),
                (Key::Code(KeyCode::Up), LiveKey::Up),
            ],
            hint: "move the selection",
            footer: Some("j/k move"),
        },
        Row {
            keys: &[(Key::Char('s'), LiveKey::Order)],
            hint: "order by VRID, priority, last heard, adverts/s",
            footer: Some("s order"),
        },
        Row {
            keys: &[(Key::Char('?'), LiveKey::Help)],
            hint: "this help (any key closes it)",
            footer: Some("? help"),
        },
        Row {
            keys: &[
                (Key::Char('q'), LiveKey::Quit),
                (Key::Code(KeyCode::Esc), LiveKey::Quit),
                (Key::Ctrl('c'), LiveKey::Quit),
            ],
            hint: "quit: the table closes, the summary is printed",
            footer: Some("q quit (the summary is printed)"),
        },
    ],
};

/// The live table with its help on screen.
pub static HELP_OPEN: KeyMap<LiveKey> = KeyMap {
    title: "help",
    rows: &[
        Row {
            keys: &[(Key::Ctrl('c'), LiveKey::Quit)],
            hint: "quit",
            footer: None,
        },
        Row {
            keys: &[(Key::Any, LiveKey::CloseHelp)],
            hint: "close the help",
            footer: Some("any other key closes the help"),
        },
    ],
};

pub struct Live {
    pub iface: String,
    /// The table as `kaconsole sniff` has it now (it keeps the table; the screen shows it).
    pub snapshot: Snapshot,
    pub sort: Sort,
    pub selected: usize,
    /// Wall time since the capture began, for the header.
    pub elapsed_s: f64,
    pub help: bool,
}

impl Live {
    pub fn new(iface: &str) -> Live {
        Live {
            iface: iface.to_string(),
            snapshot: Snapshot::default(),
            sort: Sort::Vrid,
            selected: 0,
            elapsed_s: 0.0,
            help: false,
        }
    }

    /// The keys of what is on screen.
    pub fn keymap(&self) -> &'static KeyMap<LiveKey> {
        if self.help { &HELP_OPEN } else { &TABLE }
    }

    /// A key: its action in the map of what is on screen, if it has one. Returns whether to
    /// quit.
    pub fn key(&mut self, k: KeyEvent) -> bool {
        let Some(action) = self.keymap().lookup(&k) else {
            return false;
        };
        match action {
            LiveKey::Quit => return true,
            LiveKey::Help => self.help = true,
            LiveKey::CloseHelp => self.help = false,
            LiveKey::Order => self.sort = self.sort.next(),
            LiveKey::Down | LiveKey::Up => {
                let n = rows(&self.snapshot, self.sort).len();
                select(&mut self.selected, action == LiveKey::Down, n);
            }
        }
        false
    }

    pub fn draw(&self, f: &mut Frame) {
        let snap = &self.snapshot;
        let [head, body, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(4),
            Constraint::Length(1),
        ])
        .areas(f.area());
        f.render_widget(
            Paragraph::new(Line::from(
                vec![
                    Span::styled(
                        "kaconsole sniff ",
                        Style::default().add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(format!(
                        "{} · {:.0} s · {} packets · ",
                        self.iface, self.elapsed_s, snap.packets
                    )),
                    conflicts(snap),
                ]
                .into_iter()
                .chain(table_full(snap))
                .collect::<Vec<_>>(),
            )),
            head,
        );
        draw_segment(f, body, snap, self.sort, self.selected);
        f.render_widget(
            Paragraph::new(self.keymap().footer()).style(Style::default().fg(Color::DarkGray)),
            foot,
        );
        if self.help {
            help::draw(f, body.y + 1, &[TABLE.section()], 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn render(l: &Live) -> String {
        crate::tui::view::tests::screen(100, 24, |f| l.draw(f))
    }

    /// The live table of three captures.
    fn live() -> Live {
        let mut l = Live::new("eth0");
        let table = crate::sniff::table::from_test_captures(&[
            "vrrp2-multi-vip.pcap",
            "vrrp3-ipv4.pcap",
            "vrrp2-auth-pass.pcap",
        ]);
        l.snapshot = table.snapshot().into();
        l.elapsed_s = 12.0;
        l
    }

    #[test]
    fn the_live_table_shows_routers_conflicts_and_their_evidence() {
        let mut l = live();
        // VRID 51 in three captures: other VIPs, auth and versions than each other.
        let s = render(&l);
        assert!(s.contains("conflict(s)"), "{s}");
        assert!(
            s.contains("vip-mismatch") || s.contains("version-mix"),
            "{s}"
        );
        insta::assert_snapshot!("sniff_live_100x24", s);
        let snap = l.snapshot.clone();
        let before = rows(&snap, l.sort);
        l.key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE));
        assert_eq!(l.sort, Sort::Priority);
        let prios: Vec<u8> = rows(&snap, l.sort)
            .iter()
            .map(|&(g, k)| snap.groups[g].routers[k].1.priority)
            .collect();
        assert!(prios.windows(2).all(|w| w[0] >= w[1]), "{prios:?}");
        assert_eq!(rows(&snap, l.sort).len(), before.len());
        l.key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
        assert_eq!(l.selected, 1);
        assert!(l.key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)));
    }

    /// A table that hit its cap says so in the header; a finding no row leads to (adverts of a
    /// VRID that failed a check never become routers) is in the detail pane.
    #[test]
    fn a_full_table_and_findings_without_routers_show() {
        use crate::control::protocol::segment::{Dropped, Finding};
        let mut l = live();
        l.snapshot.dropped = Dropped {
            evicted: 98_976,
            expired: 0,
            max_routers: 1024,
            max_per_group: 32,
        };
        l.snapshot.findings.push(Finding {
            kind: "bad-ttl".into(),
            vrid: Some(9),
            message: "VRID 9: 3 advert(s) with a TTL/hop limit other than 255".into(),
            evidence: vec!["10.9.0.1: 3 advert(s)".into()],
        });
        l.snapshot.groups[0].routers[0].1.addrs_more = 223;
        let s = crate::tui::view::tests::screen(140, 30, |f| l.draw(f));
        assert!(
            s.contains("table full: 98976 router(s) dropped (at most 1024, 32 per group)"),
            "{s}"
        );
        assert!(s.contains("bad-ttl: VRID 9: 3 advert(s)"), "{s}");
        assert!(s.contains("+223 more"), "{s}");
    }

    /// `?` shows every key of the table's map, with its hint.
    #[test]
    fn the_help_lists_every_key_of_the_table() {
        let mut l = live();
        assert!(!l.key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT)));
        assert!(l.help);
        let s = render(&l);
        for row in TABLE.rows {
            let (label, hint) = (row.label(), row.hint);
            assert!(
                s.lines().any(|l| l.contains(&label) && l.contains(hint)),
                "{label} {hint:?} is not in the help\n{s}"
            );
        }
        insta::assert_snapshot!("sniff_live_help_100x24", s);
        assert!(!l.key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)));
        assert!(!l.help, "any key closes the help");
        crate::tui::keymap::tests::footers_name_their_keys(&TABLE);
        crate::tui::keymap::tests::footers_name_their_keys(&HELP_OPEN);
    }

    /// Every key the table handles is in its map: any other key changes nothing.
    #[test]
    fn a_key_in_no_map_does_nothing() {
        for help in [false, true] {
            let mut l = live();
            l.help = help;
            for k in crate::tui::keymap::tests::every_key() {
                if l.keymap().lookup(&k).is_some() {
                    continue;
                }
                assert!(!l.key(k), "{k:?} quits");
                assert_eq!((l.sort, l.selected, l.help), (Sort::Vrid, 0, help), "{k:?}");
            }
        }
    }
}
