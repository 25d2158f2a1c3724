//! The lab's console: `kaconsole tui` attached to one router at a time, with keys that break
//! the lab on purpose. Capital letters, so that they never collide with the console's keys.

use crossterm::event::{KeyCode, KeyEvent};

use super::Lab;
use crate::tui::{Extension, ExtensionAction};

pub struct LabConsole<'a> {
    lab: &'a mut Lab,
    /// Index into `lab.routers` of the router the console shows.
    current: usize,
    /// What the last key did.
    message: String,
}

/// Runs the console on the first router until the user quits.
pub fn run(lab: &mut Lab) -> Result<(), String> {
    let first = *lab
        .consoles()
        .first()
        .ok_or("no kaconsole router to attach to")?;
    let socket = lab.routers[first].socket().unwrap_or_default();
    let mut ext = LabConsole::new(lab, first);
    crate::tui::run_with(&socket.display().to_string(), Some(&mut ext)).map_err(|e| e.to_string())
}

impl<'a> LabConsole<'a> {
    pub fn new(lab: &'a mut Lab, current: usize) -> LabConsole<'a> {
        LabConsole {
            lab,
            current,
            message: "Shift+K kills the router shown, < > switch routers".into(),
        }
    }

    fn switch(&mut self, forward: bool) -> Option<ExtensionAction> {
        let consoles = self.lab.consoles();
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
        let r = &self.lab.routers[next];
        self.message = format!("now showing {}", r.name);
        Some(ExtensionAction::Connect(
            r.socket().unwrap_or_default().display().to_string(),
        ))
    }

    /// Does what key `c` says to the current router or the backends.
    fn act(&mut self, c: char) -> Result<String, String> {
        let r = &mut self.lab.routers[self.current];
        let name = r.name.clone();
        match c {
            'K' => {
                r.kill();
                Ok(format!(
                    "{name} killed (SIGKILL): the others take over after Master_Down_Interval"
                ))
            }
            'R' => {
                r.start()?;
                Ok(format!("{name} restarted"))
            }
            'P' => {
                r.toggle_pause()?;
                Ok(if r.paused {
                    format!("{name} paused (SIGSTOP): hung, it neither advertises nor gives way")
                } else {
                    format!("{name} resumed")
                })
            }
            'L' => {
                let up = !r.cable;
                self.lab.net.set_cable(&name, up)?;
                let r = &mut self.lab.routers[self.current];
                r.cable = up;
                Ok(format!(
                    "{name}'s cable {}",
                    if up { "plugged back" } else { "cut" }
                ))
            }
            'H' => {
                let f = r.health_file();
                if f.exists() {
                    std::fs::remove_file(&f).map_err(|e| e.to_string())?;
                    Ok(format!(
                        "{name}'s health check fails now (priority -50 on VI_1)"
                    ))
                } else {
                    std::fs::write(&f, "").map_err(|e| e.to_string())?;
                    Ok(format!("{name}'s health check passes again"))
                }
            }
            'B' | 'N' => {
                let k = usize::from(c == 'N');
                let b = &mut self.lab.backends[k];
                if b.serving() {
                    b.stop();
                    Ok(format!("backend {} stopped", b.name))
                } else {
                    b.start()?;
                    Ok(format!("backend {} serving again", b.name))
                }
            }
            _ => Err(String::new()),
        }
    }
}

impl Extension for LabConsole<'_> {
    fn key(&mut self, k: KeyEvent) -> Option<ExtensionAction> {
        match k.code {
            KeyCode::Char('<') | KeyCode::Char(',') => self.switch(false),
            KeyCode::Char('>') | KeyCode::Char('.') => self.switch(true),
            KeyCode::Char(c @ ('K' | 'R' | 'P' | 'L' | 'H' | 'B' | 'N')) => {
                self.message = match self.act(c) {
                    Ok(m) => m,
                    Err(e) => format!("{c}: {e}"),
                };
                Some(ExtensionAction::None)
            }
            _ => None,
        }
    }

    fn lines(&mut self) -> Vec<String> {
        let current = self.current;
        let routers: Vec<String> = self
            .lab
            .routers
            .iter_mut()
            .enumerate()
            .map(|(k, r)| {
                let state = if !r.running() {
                    "DEAD"
                } else if r.paused {
                    "PAUSED"
                } else if !r.cable {
                    "UNPLUGGED"
                } else if !r.health_file().exists() {
                    "unhealthy"
                } else {
                    "up"
                };
                let name = if r.socket().is_none() {
                    format!("{}(keepalived)", r.name)
                } else {
                    r.name.clone()
                };
                if k == current {
                    format!("[{name} {state}]")
                } else {
                    format!("{name} {state}")
                }
            })
            .collect();
        let backends: Vec<String> = self
            .lab
            .backends
            .iter()
            .map(|b| format!("{} {}", b.name, if b.serving() { "up" } else { "DOWN" }))
            .collect();
        vec![
            format!(
                "lab {}*: {}   backends: {}",
                self.lab.net.prefix,
                routers.join("  "),
                backends.join(" ")
            ),
            format!(
                "< > router  K kill  R restart  P pause  L cable  H health  B/N backend · {}",
                self.message
            ),
        ]
    }
}
