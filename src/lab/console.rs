//! The lab's console: `kaconsole tui` attached to one router at a time, with keys that break
//! the lab on purpose. Capital letters, so that they never collide with the console's keys.
//! The same console serves the real lab and the simulated one, through [`Nodes`].

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};

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
}

pub struct LabConsole<'a> {
    nodes: &'a mut dyn Nodes,
    /// The router the console shows.
    current: usize,
    /// What the last key did.
    message: String,
}

/// Runs the console on the first router with a socket until the user quits.
pub fn run(nodes: &mut dyn Nodes) -> Result<(), String> {
    let first = (0..nodes.routers())
        .find(|k| nodes.socket(*k).is_some())
        .ok_or("no kaconsole router to attach to")?;
    let socket = nodes.socket(first).unwrap_or_default();
    let mut ext = LabConsole::new(nodes, first);
    crate::tui::run_with(&socket.display().to_string(), Some(&mut ext)).map_err(|e| e.to_string())
}

impl<'a> LabConsole<'a> {
    pub fn new(nodes: &'a mut dyn Nodes, current: usize) -> LabConsole<'a> {
        LabConsole {
            nodes,
            current,
            message: "Shift+K kills the router shown, < > switch routers".into(),
        }
    }

    fn switch(&mut self, forward: bool) -> Option<ExtensionAction> {
        let consoles: Vec<usize> = (0..self.nodes.routers())
            .filter(|k| self.nodes.socket(*k).is_some())
            .collect();
        let at = consoles
            .iter()
            .position(|k| *k == self.current)
            .unwrap_or(0);
        let n = consoles.len();
        let next = consoles[if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        }];
        self.current = next;
        self.message = format!("now showing {}", self.nodes.name(next));
        Some(ExtensionAction::Connect(
            self.nodes
                .socket(next)
                .unwrap_or_default()
                .display()
                .to_string(),
        ))
    }
}

impl Extension for LabConsole<'_> {
    fn key(&mut self, k: KeyEvent) -> Option<ExtensionAction> {
        match k.code {
            KeyCode::Char('<') | KeyCode::Char(',') => self.switch(false),
            KeyCode::Char('>') | KeyCode::Char('.') => self.switch(true),
            KeyCode::Char(c @ ('K' | 'R' | 'P' | 'L' | 'H' | 'B' | 'N')) => {
                self.message = match self.nodes.act(self.current, c) {
                    Ok(m) => m,
                    Err(e) => format!("{c}: {e}"),
                };
                Some(ExtensionAction::None)
            }
            _ => None,
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
        vec![
            format!(
                "lab {}: {}{backends}",
                self.nodes.label(),
                routers.join("  ")
            ),
            format!(
                "< > router  K kill  R restart  P pause  L cable  H health  B/N backend · {}",
                self.message
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

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
            assert_eq!(
                c.key(key('>')),
                Some(ExtensionAction::Connect("/s1".into()))
            );
            assert_eq!(
                c.key(key('>')),
                Some(ExtensionAction::Connect("/s0".into())),
                "r3 has no socket: back to r1"
            );
            assert_eq!(c.key(key('x')), None, "not a lab key");
            let lines = c.lines();
            assert_eq!(
                lines[0],
                "lab fake: [r1 DEAD]  r2 up  r3(keepalived) up   backends: b1 up"
            );
        }
        assert_eq!(fake.asked, [(0, 'K')]);
    }
}
