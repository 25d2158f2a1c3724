//! `kaconsole sniff IFACE` on a terminal: the table, live (Model/update/view as the console).
//! One row per router of each VRRP group, the groups with a conflict in colour, a detail pane
//! with the selected group's findings and evidence; `s` changes the order.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::view::segment_table::{Sort, conflicts, draw_segment, rows, select};
use crate::sniff::table::Table;

pub struct Live {
    pub iface: String,
    pub table: Table,
    pub sort: Sort,
    pub selected: usize,
    /// Wall time since the capture began, for the header.
    pub elapsed_s: f64,
}

impl Live {
    pub fn new(iface: &str) -> Live {
        Live {
            iface: iface.to_string(),
            table: Table::default(),
            sort: Sort::Vrid,
            selected: 0,
            elapsed_s: 0.0,
        }
    }

    /// Returns whether to quit.
    pub fn key(&mut self, k: KeyEvent) -> bool {
        match k.code {
            KeyCode::Char('q') | KeyCode::Esc => return true,
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => return true,
            _ => {
                let n = rows(&self.table.snapshot(), self.sort).len();
                match k.code {
                    KeyCode::Char('s') => self.sort = self.sort.next(),
                    KeyCode::Down | KeyCode::Char('j') => select(&mut self.selected, true, n),
                    KeyCode::Up | KeyCode::Char('k') => select(&mut self.selected, false, n),
                    _ => {}
                }
            }
        }
        false
    }

    pub fn draw(&self, f: &mut Frame) {
        let snap = self.table.snapshot();
        let [head, body, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(4),
            Constraint::Length(1),
        ])
        .areas(f.area());
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(
                    "kaconsole sniff ",
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!(
                    "{} · {:.0} s · {} packets · ",
                    self.iface, self.elapsed_s, snap.packets
                )),
                conflicts(&snap),
            ])),
            head,
        );
        draw_segment(f, body, &snap, self.sort, self.selected);
        f.render_widget(
            Paragraph::new("j/k move  s order  q quit (the summary is printed)")
                .style(Style::default().fg(Color::DarkGray)),
            foot,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(l: &Live) -> String {
        crate::tui::view::tests::screen(100, 24, |f| l.draw(f))
    }

    #[test]
    fn the_live_table_shows_routers_conflicts_and_their_evidence() {
        let mut l = Live::new("eth0");
        for name in [
            "vrrp2-multi-vip.pcap",
            "vrrp3-ipv4.pcap",
            "vrrp2-auth-pass.pcap",
        ] {
            let path = format!("{}/tests/data/pcaps/{name}", env!("CARGO_MANIFEST_DIR"));
            let c = crate::pcap::parse(&std::fs::read(path).unwrap()).unwrap();
            for r in &c.records {
                if let Some(s) = crate::sniff::observe::observe(c.linktype, r.ts_us, &r.data) {
                    l.table.add(&s);
                }
            }
        }
        l.elapsed_s = 12.0;
        // VRID 51 in three captures: other VIPs, auth and versions than each other.
        let s = render(&l);
        assert!(s.contains("conflict(s)"), "{s}");
        assert!(
            s.contains("vip-mismatch") || s.contains("version-mix"),
            "{s}"
        );
        insta::assert_snapshot!("sniff_live_100x24", s);
        let snap = l.table.snapshot();
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
}
