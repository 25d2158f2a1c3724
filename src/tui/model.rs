//! The console's state and how messages change it (gitui's Model/update split): no terminal,
//! no socket, so it is tested directly.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::control::protocol::Status;

/// The views, numbered as the keys that select them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Overview,
    Events,
}

/// Everything the console shows.
#[derive(Clone, Debug)]
pub struct Model {
    pub socket: String,
    pub status: Option<Status>,
    pub connected: bool,
    /// Why the console is not connected, shown in a banner.
    pub problem: Option<String>,
    pub view: View,
    pub selected: usize,
    pub filter: String,
    /// Typing a filter after `/`.
    pub filtering: bool,
    pub events: VecDeque<String>,
    pub help: bool,
}

/// What happened.
#[derive(Clone, Debug)]
pub enum Msg {
    Key(KeyEvent),
    Connected,
    Disconnected(String),
    Status(Box<Status>),
    Event(String),
}

/// What the loop must do after an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
}

const MAX_EVENTS: usize = 1000;

impl Model {
    pub fn new(socket: &str) -> Model {
        Model {
            socket: socket.to_string(),
            status: None,
            connected: false,
            problem: None,
            view: View::Overview,
            selected: 0,
            filter: String::new(),
            filtering: false,
            events: VecDeque::new(),
            help: false,
        }
    }

    /// The instances the overview lists: those whose name, interface or state contains the
    /// filter.
    pub fn visible(&self) -> Vec<&crate::control::protocol::InstanceStatus> {
        let f = self.filter.to_lowercase();
        self.status
            .iter()
            .flat_map(|s| &s.instances)
            .filter(|i| {
                f.is_empty()
                    || i.name.to_lowercase().contains(&f)
                    || i.interface.to_lowercase().contains(&f)
                    || i.state.to_lowercase().contains(&f)
            })
            .collect()
    }

    pub fn update(&mut self, msg: Msg) -> Action {
        match msg {
            Msg::Connected => {
                self.connected = true;
                self.problem = None;
            }
            Msg::Disconnected(why) => {
                self.connected = false;
                self.problem = Some(why);
            }
            Msg::Status(s) => {
                self.status = Some(*s);
                let n = self.visible().len();
                if self.selected >= n {
                    self.selected = n.saturating_sub(1);
                }
            }
            Msg::Event(e) => {
                self.events.push_back(e);
                while self.events.len() > MAX_EVENTS {
                    self.events.pop_front();
                }
            }
            Msg::Key(k) => return self.key(k),
        }
        Action::None
    }

    fn key(&mut self, k: KeyEvent) -> Action {
        if self.filtering {
            match k.code {
                KeyCode::Enter | KeyCode::Esc => self.filtering = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.selected = 0;
            return Action::None;
        }
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            return Action::Quit;
        }
        match k.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Char('?') => self.help = !self.help,
            KeyCode::Esc => {
                self.help = false;
                self.filter.clear();
            }
            KeyCode::Char('1') => self.view = View::Overview,
            KeyCode::Char('2') => self.view = View::Events,
            KeyCode::Tab => {
                self.view = match self.view {
                    View::Overview => View::Events,
                    View::Events => View::Overview,
                }
            }
            KeyCode::Char('/') => {
                self.filtering = true;
                self.filter.clear();
            }
            KeyCode::Down | KeyCode::Char('j') => {
                let n = self.visible().len();
                if self.selected + 1 < n {
                    self.selected += 1;
                }
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            _ => {}
        }
        Action::None
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::control::protocol::{GroupStatus, InstanceStatus};

    pub fn instance(name: &str, state: &str, prio: u8) -> InstanceStatus {
        InstanceStatus {
            name: name.into(),
            interface: "eth0".into(),
            vrid: 51,
            version: 2,
            state: state.into(),
            base_priority: prio,
            effective_priority: prio,
            master: (state == "BACKUP").then(|| "10.0.0.1".to_string()),
            master_priority: (state == "BACKUP").then_some(150),
            vips: vec!["10.0.0.100/24".into()],
            since_transition_s: 42.0,
            adver_int_s: 1.0,
            master_down_interval_s: 3.609375,
            next_advert_s: (state == "MASTER").then_some(0.5),
            master_down_in_s: (state == "BACKUP").then_some(2.5),
            trackers: Vec::new(),
            stats: Default::default(),
        }
    }

    pub fn status() -> Status {
        Status {
            pid: 4242,
            host: "lb1".into(),
            uptime_s: 3723.0,
            config: "/etc/keepalived/keepalived.conf".into(),
            instances: vec![
                instance("VI_WEB", "MASTER", 150),
                instance("VI_DB", "BACKUP", 100),
                instance("VI_MAIL", "FAULT", 90),
            ],
            groups: vec![GroupStatus {
                name: "G".into(),
                state: "MASTER".into(),
            }],
        }
    }

    fn key(c: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    #[test]
    fn navigation_stays_in_the_list_and_views_switch() {
        let mut m = Model::new("/run/kaconsole/kaconsole.sock");
        m.update(Msg::Status(Box::new(status())));
        m.update(key(KeyCode::Char('j')));
        m.update(key(KeyCode::Char('j')));
        m.update(key(KeyCode::Char('j')));
        assert_eq!(m.selected, 2, "the selection stops at the last row");
        m.update(key(KeyCode::Up));
        assert_eq!(m.selected, 1);
        m.update(key(KeyCode::Tab));
        assert_eq!(m.view, View::Events);
        m.update(key(KeyCode::Char('1')));
        assert_eq!(m.view, View::Overview);
        assert_eq!(m.update(key(KeyCode::Char('q'))), Action::Quit);
    }

    #[test]
    fn the_filter_narrows_the_overview() {
        let mut m = Model::new("s");
        m.update(Msg::Status(Box::new(status())));
        m.update(key(KeyCode::Char('/')));
        for c in "fault".chars() {
            m.update(key(KeyCode::Char(c)));
        }
        m.update(key(KeyCode::Enter));
        let names: Vec<&str> = m.visible().iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["VI_MAIL"]);
        m.update(key(KeyCode::Esc));
        assert_eq!(m.visible().len(), 3, "Esc clears the filter");
    }

    #[test]
    fn disconnection_shows_and_reconnection_clears() {
        let mut m = Model::new("s");
        m.update(Msg::Disconnected("connection refused".into()));
        assert!(!m.connected && m.problem.is_some());
        m.update(Msg::Connected);
        assert!(m.connected && m.problem.is_none());
    }
}
