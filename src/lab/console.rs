//! The lab's console: `kaconsole tui` attached to one router at a time, with keys that break
//! the lab on purpose. Capital letters, so that they never collide with the console's keys.
//! The same console serves the real lab and the simulated one, through [`Nodes`].

use std::path::PathBuf;

use crate::tui::keymap::{Key, KeyMap, Row};
use crate::tui::{Extension, ExtensionAction};

/// What the lab's console needs of a lab.
pub trait Nodes {
    /// Where the lab lives, for the lab line (`kalab-<pid>-*`, or `simulated`).
    fn label(&self) -> String;
    fn routers(&self) -> usize;
    fn name(&self, k: usize) -> String;
    /// The control socket of router `k`, if it has one (keepalived has none).
    fn socket(&self, k: usize) -> Option<PathBuf>;
    /// `up`, `DEAD`, `PAUSED`, `UNPLUGGED` or `unhealthy`.
    fn state(&mut self, k: usize) -> &'static str;
    /// Each backend and whether it serves.
    fn backends(&self) -> Vec<(String, bool)>;
    /// Does what lab key `key` says to router `k` (or a backend); says what happened.
    fn act(&mut self, k: usize, key: char) -> Result<String, String>;
    /// Whether lab key `key` can do anything in this lab (the simulated one cannot pause a
    /// router or stop a backend): the console offers only the keys that can.
    fn can(&self, _key: char) -> bool {
        true
    }
}

pub struct LabConsole<'a> {
    nodes: &'a mut dyn Nodes,
    /// The router the console shows.
    current: usize,
    /// The router of each of the console's nodes (those with a control socket).
    consoles: Vec<usize>,
    /// What the last key did.
    message: String,
}

/// Runs the console on every router with a socket (the cluster view) until the user quits.
pub fn run(nodes: &mut dyn Nodes) -> Result<(), String> {
    let consoles: Vec<usize> = (0..nodes.routers())
        .filter(|k| nodes.socket(*k).is_some())
        .collect();
    let first = *consoles.first().ok_or("no kaconsole router to attach to")?;
    let targets: Vec<crate::tui::Target> = consoles
        .iter()
        .map(|k| {
            let socket = nodes.socket(*k).unwrap_or_default();
            crate::tui::Target::Socket(socket.display().to_string())
        })
        .collect();
    let mut ext = LabConsole::new(nodes, first);
    crate::tui::run_with(&targets, Some(&mut ext)).map_err(|e| e.to_string())
}

impl<'a> LabConsole<'a> {
    pub fn new(nodes: &'a mut dyn Nodes, current: usize) -> LabConsole<'a> {
        let consoles = (0..nodes.routers())
            .filter(|k| nodes.socket(*k).is_some())
            .collect();
        LabConsole {
            nodes,
            current,
            consoles,
            message: "Shift+K kills the router shown, < > switch routers".into(),
        }
    }

    /// The console shows the next or the previous router with a socket.
    fn switch(&mut self, forward: bool) -> ExtensionAction {
        let at = self
            .consoles
            .iter()
            .position(|k| *k == self.current)
            .unwrap_or(0);
        let n = self.consoles.len().max(1);
        let next = if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        };
        if let Some(k) = self.consoles.get(next) {
            self.current = *k;
            self.message = format!("now showing {}", self.nodes.name(*k));
        }
        ExtensionAction::Switch(forward)
    }
}

/// What a lab key does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabKey {
    Previous,
    Next,
    /// [`Nodes::act`] with this key.
    Break(char),
    Quit,
}

/// The lab's keys, on top of the console's.
pub static KEYS: KeyMap<LabKey> = KeyMap {
    title: "lab",
    rows: &[
        Row {
            keys: &[
                (Key::Char('<'), LabKey::Previous),
                (Key::Char('>'), LabKey::Next),
                (Key::Char(','), LabKey::Previous),
                (Key::Char('.'), LabKey::Next),
            ],
            hint: "show the previous / next router",
            footer: Some("< > router"),
        },
        Row {
            keys: &[(Key::Char('K'), LabKey::Break('K'))],
            hint: "kill the router shown (SIGKILL)",
            footer: Some("K kill"),
        },
        Row {
            keys: &[(Key::Char('R'), LabKey::Break('R'))],
            hint: "restart it",
            footer: Some("R restart"),
        },
        Row {
            keys: &[(Key::Char('P'), LabKey::Break('P'))],
            hint: "pause it (SIGSTOP) or resume it",
            footer: Some("P pause"),
        },
        Row {
            keys: &[(Key::Char('L'), LabKey::Break('L'))],
            hint: "cut its cable or plug it back",
            footer: Some("L cable"),
        },
        Row {
            keys: &[(Key::Char('H'), LabKey::Break('H'))],
            hint: "fail its health check or let it pass",
            footer: Some("H health"),
        },
        Row {
            keys: &[
                (Key::Char('B'), LabKey::Break('B')),
                (Key::Char('N'), LabKey::Break('N')),
            ],
            hint: "stop or start backend 1 / 2",
            footer: Some("B/N backend"),
        },
        Row {
            keys: &[(Key::Char('q'), LabKey::Quit)],
            hint: "quit and remove the lab (unless --keep)",
            footer: None,
        },
    ],
};

impl Extension<LabKey> for LabConsole<'_> {
    fn keymap(&self) -> &'static KeyMap<LabKey> {
        &KEYS
    }

    fn handles(&self, action: LabKey) -> bool {
        match action {
            LabKey::Break(c) => self.nodes.can(c),
            _ => true,
        }
    }

    fn shown(&mut self, node: usize) {
        if let Some(k) = self.consoles.get(node) {
            self.current = *k;
        }
    }

    fn act(&mut self, action: LabKey) -> ExtensionAction {
        match action {
            LabKey::Previous => self.switch(false),
            LabKey::Next => self.switch(true),
            LabKey::Break(c) => {
                self.message = match self.nodes.act(self.current, c) {
                    Ok(m) => m,
                    Err(e) => format!("{c}: {e}"),
                };
                ExtensionAction::None
            }
            LabKey::Quit => ExtensionAction::Quit,
        }
    }

    fn lines(&mut self) -> Vec<String> {
        let routers: Vec<String> = (0..self.nodes.routers())
            .map(|k| {
                let state = self.nodes.state(k);
                let mut name = self.nodes.name(k);
                if self.nodes.socket(k).is_none() {
                    name.push_str("(keepalived)");
                }
                if k == self.current {
                    format!("[{name} {state}]")
                } else {
                    format!("{name} {state}")
                }
            })
            .collect();
        let backends: Vec<String> = self
            .nodes
            .backends()
            .iter()
            .map(|(name, up)| format!("{name} {}", if *up { "up" } else { "DOWN" }))
            .collect();
        let backends = if backends.is_empty() {
            String::new()
        } else {
            format!("   backends: {}", backends.join(" "))
        };
        let keys: Vec<String> = KEYS
            .rows
            .iter()
            .filter(|r| r.keys.iter().any(|(_, a)| self.handles(*a)))
            .filter_map(|r| r.footer.map(str::to_string))
            .collect();
        vec![
            format!(
                "lab {}: {}{backends}",
                self.nodes.label(),
                routers.join("  ")
            ),
            format!("{} · {}", keys.join("  "), self.message),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    impl LabConsole<'_> {
        /// A key, as the console hands it over: through the map.
        fn key(&mut self, k: KeyEvent) -> Option<ExtensionAction> {
            KEYS.lookup(&k).map(|a| self.act(a))
        }
    }

    /// A lab of names only, recording what was asked.
    struct Fake {
        dead: Vec<bool>,
        asked: Vec<(usize, char)>,
    }

    impl Nodes for Fake {
        fn label(&self) -> String {
            "fake".into()
        }
        fn routers(&self) -> usize {
            3
        }
        fn name(&self, k: usize) -> String {
            format!("r{}", k + 1)
        }
        fn socket(&self, k: usize) -> Option<PathBuf> {
            // r3 is a keepalived router.
            (k < 2).then(|| PathBuf::from(format!("/s{k}")))
        }
        fn state(&mut self, k: usize) -> &'static str {
            if self.dead[k] { "DEAD" } else { "up" }
        }
        fn backends(&self) -> Vec<(String, bool)> {
            vec![("b1".into(), true)]
        }
        fn act(&mut self, k: usize, key: char) -> Result<String, String> {
            self.asked.push((k, key));
            if key == 'K' {
                self.dead[k] = true;
            }
            Ok(format!("{key} done"))
        }
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT)
    }

    #[test]
    fn keys_act_on_the_router_shown_and_switching_skips_keepalived() {
        let mut fake = Fake {
            dead: vec![false; 3],
            asked: Vec::new(),
        };
        {
            let mut c = LabConsole::new(&mut fake, 0);
            assert_eq!(c.key(key('K')), Some(ExtensionAction::None));
            assert_eq!(c.key(key('>')), Some(ExtensionAction::Switch(true)));
            assert_eq!(c.current, 1);
            assert_eq!(c.key(key('>')), Some(ExtensionAction::Switch(true)));
            assert_eq!(c.current, 0, "r3 has no socket: back to r1");
            // The console says which node it shows ([ ] or a click): the keys follow it.
            c.shown(1);
            assert_eq!(c.key(key('R')), Some(ExtensionAction::None));
            c.shown(0);
            assert_eq!(c.key(key('x')), None, "not a lab key");
            let lines = c.lines();
            assert_eq!(
                lines[0],
                "lab fake: [r1 DEAD]  r2 up  r3(keepalived) up   backends: b1 up"
            );
        }
        assert_eq!(fake.asked, [(0, 'K'), (1, 'R')]);
    }

    /// A lab that cannot pause routers or stop backends (the simulated one) does not offer
    /// those keys: not on the lab line, not in the help, and they do nothing.
    #[test]
    fn only_the_keys_that_work_are_offered() {
        struct Sim(Fake);
        impl Nodes for Sim {
            fn label(&self) -> String {
                self.0.label()
            }
            fn routers(&self) -> usize {
                self.0.routers()
            }
            fn name(&self, k: usize) -> String {
                self.0.name(k)
            }
            fn socket(&self, k: usize) -> Option<PathBuf> {
                self.0.socket(k)
            }
            fn state(&mut self, k: usize) -> &'static str {
                self.0.state(k)
            }
            fn backends(&self) -> Vec<(String, bool)> {
                Vec::new()
            }
            fn act(&mut self, k: usize, key: char) -> Result<String, String> {
                self.0.act(k, key)
            }
            fn can(&self, key: char) -> bool {
                "KRLH".contains(key)
            }
        }
        let mut sim = Sim(fake());
        let mut c = LabConsole::new(&mut sim, 0);
        let line = &c.lines()[1];
        assert!(
            line.contains("K kill") && line.contains("H health"),
            "{line}"
        );
        assert!(!line.contains("P pause") && !line.contains("B/N"), "{line}");
        let help = c.section();
        assert!(
            help.rows.iter().all(|(k, _)| k != "P" && k != "B N"),
            "{help:?}"
        );
        assert!(!c.handles(LabKey::Break('P')));
        assert!(c.handles(LabKey::Break('K')));
        let _ = c.key(key('K'));
        drop(c);
        assert_eq!(sim.0.asked, [(0, 'K')]);
    }

    fn fake() -> Fake {
        Fake {
            dead: vec![false; 3],
            asked: Vec::new(),
        }
    }

    /// The lab line's keys are its map's footer; `q` is the lab's (the lab goes with it).
    #[test]
    fn the_lab_line_and_q_come_from_the_map() {
        let mut fake = fake();
        let mut c = LabConsole::new(&mut fake, 0);
        assert_eq!(
            c.lines()[1],
            "< > router  K kill  R restart  P pause  L cable  H health  B/N backend · \
             Shift+K kills the router shown, < > switch routers"
        );
        assert_eq!(c.key(key('q')), Some(ExtensionAction::Quit));
        assert_eq!(
            c.key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL)),
            None,
            "Ctrl-K is not K"
        );
        crate::tui::keymap::tests::footers_name_their_keys(&KEYS);
    }

    /// On every view of the console, `?` shows the lab's keys after the view's.
    #[test]
    fn the_lab_keys_are_in_the_consoles_help() {
        use crate::tui::view::tests::{key as press, model, render};
        let mut fake = fake();
        let mut c = LabConsole::new(&mut fake, 0);
        let mut m = model();
        m.extension = c.lines();
        m.extension_keys = vec![c.keymap().section()];
        for v in '1'..='7' {
            press(&mut m, KeyCode::Char(v));
            press(&mut m, KeyCode::Char('?'));
            let s = render(&m, 120, 40);
            for row in KEYS.rows {
                let (label, hint) = (row.label(), row.hint);
                assert!(
                    s.lines().any(|l| l.contains(&label) && l.contains(hint)),
                    "view {v}: {label} {hint:?} is not in the help\n{s}"
                );
            }
            if v == '1' {
                insta::assert_snapshot!("lab_help_overview_120x40", s);
            }
            press(&mut m, KeyCode::Esc);
            assert!(!m.help);
        }
    }
}
