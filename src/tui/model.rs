//! The console's state and how messages change it (gitui's Model/update split): no terminal,
//! no socket, so it is tested directly.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};

use super::editor::{Editor, EditorAction};
use super::history::History;
use super::keymap::{KeyMap, Section};
use super::keys::{self, Act, Dir};
use super::view::segment_table::{self, Sort};
use crate::control::protocol::{InstanceStatus, RequestBody, Status};

/// The views, in the order of the keys 1-7 that select them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Overview,
    Detail,
    Trackers,
    Lvs,
    Events,
    Editor,
    Segment,
}

impl View {
    pub const ALL: [View; 7] = [
        View::Overview,
        View::Detail,
        View::Trackers,
        View::Lvs,
        View::Events,
        View::Editor,
        View::Segment,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Detail => "instance",
            View::Trackers => "trackers",
            View::Lvs => "lvs",
            View::Events => "events",
            View::Editor => "config",
            View::Segment => "segment",
        }
    }

    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// The overview's orders, which `s` cycles through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Config,
    Name,
    Vrid,
    State,
    Priority,
    Since,
}

impl Order {
    pub fn next(self) -> Order {
        match self {
            Order::Config => Order::Name,
            Order::Name => Order::Vrid,
            Order::Vrid => Order::State,
            Order::State => Order::Priority,
            Order::Priority => Order::Since,
            Order::Since => Order::Config,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Order::Config => "configuration",
            Order::Name => "name",
            Order::Vrid => "VRID",
            Order::State => "state",
            Order::Priority => "priority",
            Order::Since => "since",
        }
    }
}

/// The LVS view's orders of real servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LvsOrder {
    Config,
    DownFirst,
    Latency,
    Weight,
}

impl LvsOrder {
    pub fn next(self) -> LvsOrder {
        match self {
            LvsOrder::Config => LvsOrder::DownFirst,
            LvsOrder::DownFirst => LvsOrder::Latency,
            LvsOrder::Latency => LvsOrder::Weight,
            LvsOrder::Weight => LvsOrder::Config,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LvsOrder::Config => "configuration",
            LvsOrder::DownFirst => "down first",
            LvsOrder::Latency => "latency",
            LvsOrder::Weight => "weight",
        }
    }
}

/// One daemon the console is attached to.
#[derive(Clone, Debug, Default)]
pub struct Node {
    /// How it is reached: a socket's path, `ssh HOST`, a `--via` command.
    pub label: String,
    pub status: Option<Status>,
    /// Every VRRP router the daemon hears (its segment table).
    pub segment: Option<crate::control::protocol::segment::Snapshot>,
    pub connected: bool,
    /// Whether the daemon lets this user apply and reload.
    pub admin: bool,
    /// Why the console is not connected, shown in a banner.
    pub problem: Option<String>,
    /// When its last status arrived (the console's clock): how old what is shown is.
    pub seen: Option<Instant>,
    /// When the connection was last lost.
    pub lost: Option<Instant>,
    /// What its configuration says of each instance (authentication, peers, preempt), when
    /// the daemon gives it (to root and its user).
    pub instances: std::collections::BTreeMap<String, super::findings::InstanceConf>,
}

impl Node {
    pub fn new(label: &str) -> Node {
        Node {
            label: label.to_string(),
            ..Node::default()
        }
    }

    /// Its name: the daemon's router_id or host name once known, else how it is reached.
    pub fn name(&self) -> &str {
        self.status.as_ref().map_or(&self.label, |s| &s.host)
    }
}

/// How fresh a node's data is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Freshness {
    /// No status yet.
    Waiting,
    /// The last status is this many seconds old, within two poll intervals.
    Live(f64),
    /// Connected, but the daemon has not answered for two poll intervals (hung, stopped).
    Stale(f64),
    /// Not connected: the data is what it said this many seconds ago (None: never).
    Gone(Option<f64>),
}

/// Everything the console shows.
pub struct Model {
    /// The daemons, at least one; the views other than the overview show `current`'s.
    pub nodes: Vec<Node>,
    pub current: usize,
    /// The console's clock (set by the loop before each update and draw) and the wall clock
    /// it shows, `HH:MM:SS`.
    pub now: Instant,
    pub clock: String,
    /// How often the connection asks for a status.
    pub poll: Duration,
    pub view: View,
    /// The overview's selected row.
    pub selected: usize,
    /// The instance the detail view shows.
    pub detail: Option<String>,
    /// Lines scrolled in the events, trackers and LVS views.
    pub scroll: usize,
    pub filter: String,
    /// Typing a filter after `/`.
    pub filtering: bool,
    /// Each event's node and text (its time first).
    pub events: VecDeque<(usize, String)>,
    pub help: bool,
    pub history: History,
    pub editor: Editor,
    /// Lines an extension (the lab) shows under the header.
    pub extension: Vec<String>,
    /// The extension's keys, for the help.
    pub extension_keys: Vec<Section>,
    /// The segment table's order and selected row.
    pub segment_sort: Sort,
    pub segment_selected: usize,
    /// Drift between the nodes and conflicts on their segments, as of their last messages.
    pub findings: Vec<super::findings::Finding>,
    pub order: Order,
    pub lvs_order: LvsOrder,
    /// Lines scrolled in the help.
    pub help_scroll: usize,
}

/// What happened.
#[derive(Clone, Debug)]
pub enum Msg {
    Key(KeyEvent),
    Connected {
        admin: bool,
    },
    Disconnected(String),
    Status(Box<Status>),
    /// An event line, its time first (`HH:MM:SS`).
    Event(String),
    Config {
        path: String,
        text: String,
    },
    /// The daemon's answer to an apply: the backup's path, or the refusal and diagnostics.
    Applied(Result<String, (String, Vec<serde_json::Value>)>),
    /// A signal to stop (SIGHUP, SIGTERM, SIGINT).
    Quit,
    /// The daemon's segment table.
    Segment(Box<crate::control::protocol::segment::Snapshot>),
    /// What node `k` (of several) said; the other messages are the current node's.
    From(usize, Box<Msg>),
    /// A click on row `n` of the overview.
    Click(usize),
}

/// What the loop must do after an update.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    None,
    Quit,
    /// A request for the current node.
    Send(RequestBody),
}

const MAX_EVENTS: usize = 1000;

/// The wall clock as `HH:MM:SS` (UTC).
pub fn wall_clock(t: std::time::SystemTime) -> String {
    let s = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

impl Model {
    pub fn new(socket: &str) -> Model {
        Model::cluster(&[socket.to_string()])
    }

    /// A console on several daemons.
    pub fn cluster(labels: &[String]) -> Model {
        let mut nodes: Vec<Node> = labels.iter().map(|l| Node::new(l)).collect();
        if nodes.is_empty() {
            nodes.push(Node::new("-"));
        }
        Model {
            nodes,
            current: 0,
            now: Instant::now(),
            // The loop sets it before each draw (tests see a fixed one).
            clock: "--:--:--".into(),
            poll: Duration::from_millis(500),
            view: View::Overview,
            selected: 0,
            detail: None,
            scroll: 0,
            filter: String::new(),
            filtering: false,
            events: VecDeque::new(),
            help: false,
            history: History::default(),
            editor: Editor::new(),
            extension: Vec::new(),
            extension_keys: Vec::new(),
            segment_sort: Sort::Vrid,
            segment_selected: 0,
            findings: Vec::new(),
            order: Order::Config,
            lvs_order: LvsOrder::Config,
            help_scroll: 0,
        }
    }

    /// The node the views show.
    pub fn node(&self) -> &Node {
        &self.nodes[self.current.min(self.nodes.len() - 1)]
    }

    pub fn status(&self) -> Option<&Status> {
        self.node().status.as_ref()
    }

    pub fn segment(&self) -> Option<&crate::control::protocol::segment::Snapshot> {
        self.node().segment.as_ref()
    }

    pub fn connected(&self) -> bool {
        self.node().connected
    }

    pub fn admin(&self) -> bool {
        self.node().admin
    }

    /// Whether it shows several daemons.
    pub fn is_cluster(&self) -> bool {
        self.nodes.len() > 1
    }

    /// How fresh node `k`'s data is now: stale after two poll intervals without a status.
    pub fn freshness(&self, k: usize) -> Freshness {
        let n = &self.nodes[k];
        let age = n
            .seen
            .map(|t| self.now.saturating_duration_since(t).as_secs_f64());
        match (n.connected, age) {
            (false, age) => Freshness::Gone(age),
            (true, None) => Freshness::Waiting,
            (true, Some(a)) if a > 2.0 * self.poll.as_secs_f64() => Freshness::Stale(a),
            (true, Some(a)) => Freshness::Live(a),
        }
    }

    /// Attaches to another daemon: what was shown of the last one goes; the view stays.
    pub fn attach(&mut self, socket: &str) {
        let view = self.view;
        let extension = std::mem::take(&mut self.extension);
        let extension_keys = std::mem::take(&mut self.extension_keys);
        *self = Model::new(socket);
        self.view = if view == View::Detail {
            View::Overview
        } else {
            view
        };
        self.extension = extension;
        self.extension_keys = extension_keys;
    }

    /// Shows node `k` in the views: its history starts again, its configuration in the
    /// editor (asked for again).
    pub fn switch_node(&mut self, k: usize) -> Action {
        if k >= self.nodes.len() || k == self.current {
            return Action::None;
        }
        self.current = k;
        self.history = History::default();
        self.detail = None;
        self.selected = 0;
        self.segment_selected = 0;
        self.editor = Editor::new();
        if let Some(s) = &self.nodes[k].status {
            self.editor.set_config_id(&s.config_id);
        }
        if self.nodes[k].admin {
            Action::Send(RequestBody::GetConfig)
        } else {
            Action::None
        }
    }

    /// Whether keys are the console's alone now: typing a filter, editing, confirming, help.
    pub fn captures_keys(&self) -> bool {
        use super::editor::Phase;
        self.filtering
            || self.help
            || (self.view == View::Editor && self.editor.phase != Phase::Viewing)
    }

    fn matches(&self, text: &str) -> bool {
        self.filter.is_empty() || text.to_lowercase().contains(&self.filter.to_lowercase())
    }

    /// The instances the overview lists: those whose name, interface or state contains the
    /// filter.
    pub fn visible(&self) -> Vec<&InstanceStatus> {
        let mut v: Vec<&InstanceStatus> = self
            .status()
            .into_iter()
            .flat_map(|s| &s.instances)
            .filter(|i| {
                self.matches(&i.name) || self.matches(&i.interface) || self.matches(&i.state)
            })
            .collect();
        match self.order {
            Order::Config => {}
            Order::Name => v.sort_by(|a, b| a.name.cmp(&b.name)),
            Order::Vrid => v.sort_by_key(|i| (i.vrid, i.interface.clone())),
            // The states that need a look first.
            Order::State => v.sort_by_key(|i| match i.state.as_str() {
                "FAULT" => 0,
                "MASTER" => 2,
                "BACKUP" => 3,
                _ => 1,
            }),
            Order::Priority => v.sort_by_key(|i| std::cmp::Reverse(i.effective_priority)),
            Order::Since => v.sort_by(|a, b| a.since_transition_s.total_cmp(&b.since_transition_s)),
        }
        v
    }

    /// The cluster overview's rows: each virtual router with each node's instance of it, those
    /// with an instance whose name, interface or state contains the filter.
    pub fn cluster_rows(&self) -> Vec<(super::findings::RouterKey, Vec<(usize, &InstanceStatus)>)> {
        super::findings::by_router(&self.nodes)
            .into_iter()
            .filter(|(_, members)| {
                members.iter().any(|(_, i)| {
                    self.matches(&i.name) || self.matches(&i.interface) || self.matches(&i.state)
                })
            })
            .collect()
    }

    /// Enter on a row of the cluster overview: the instance in detail, on the node shown if
    /// it has one, else on the first node that has.
    fn open_router(&mut self) -> Action {
        let rows = self.cluster_rows();
        let Some((_, members)) = rows.get(self.selected) else {
            return Action::None;
        };
        let Some(&(k, i)) = members
            .iter()
            .find(|(k, _)| *k == self.current)
            .or(members.first())
        else {
            return Action::None;
        };
        let name = i.name.clone();
        let action = self.switch_node(k);
        self.detail = Some(name);
        self.show(View::Detail);
        action
    }

    /// An event as shown: on several daemons, the node's name after the time (its name now:
    /// the events that came before its first status are named too).
    pub fn event_text(&self, node: usize, text: &str) -> String {
        if !self.is_cluster() {
            return text.to_string();
        }
        let name = self.nodes.get(node).map_or("?", Node::name);
        match text.split_once(' ') {
            Some((time, rest)) if time.len() == 8 && time.as_bytes()[2] == b':' => {
                format!("{time} {name} {rest}")
            }
            _ => format!("{name} {text}"),
        }
    }

    /// The events the events view lists, oldest first.
    pub fn visible_events(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|(k, e)| self.event_text(*k, e))
            .filter(|e| self.matches(e))
            .collect()
    }

    /// The instance of the detail view: the one chosen, else the overview's selection.
    pub fn detail_instance(&self) -> Option<&InstanceStatus> {
        let status = self.status()?;
        match &self.detail {
            Some(name) => status.instances.iter().find(|i| &i.name == name),
            None => self.visible().get(self.selected).copied(),
        }
    }

    pub fn update(&mut self, msg: Msg) -> Action {
        let action = match msg {
            Msg::From(k, m) if k < self.nodes.len() => self.node_said(k, *m),
            Msg::From(..) => Action::None,
            Msg::Key(k) => return self.key(k),
            Msg::Quit => return Action::Quit,
            Msg::Click(row) => {
                self.selected = row;
                return Action::None;
            }
            m => self.node_said(self.current, m),
        };
        // What the daemons say changes the findings; the drawing only reads them.
        self.findings = super::findings::findings(&self.nodes);
        action
    }

    /// What node `k` said.
    fn node_said(&mut self, k: usize, msg: Msg) -> Action {
        let current = k == self.current;
        let now = self.now;
        let node = &mut self.nodes[k];
        match msg {
            Msg::Connected { admin } => {
                node.connected = true;
                node.admin = admin;
                node.problem = None;
            }
            Msg::Disconnected(why) => {
                if node.connected {
                    node.lost = Some(now);
                }
                node.connected = false;
                node.problem = Some(why);
            }
            Msg::Status(s) => {
                node.seen = Some(now);
                if current {
                    self.history.record(&s);
                    self.editor.set_config_id(&s.config_id);
                }
                self.nodes[k].status = Some(*s);
                let n = self.visible().len();
                if self.selected >= n {
                    self.selected = n.saturating_sub(1);
                }
            }
            Msg::Event(e) => {
                self.events.push_back((k, e));
                while self.events.len() > MAX_EVENTS {
                    self.events.pop_front();
                }
            }
            Msg::Config { path, text } => {
                node.instances = super::findings::read_config(&path, &text);
                if current {
                    self.editor.load(path, text);
                }
            }
            Msg::Applied(r) if current => self.editor.applied(r),
            Msg::Segment(s) => node.segment = Some(*s),
            Msg::Applied(_) | Msg::Key(_) | Msg::Quit | Msg::From(..) | Msg::Click(_) => {}
        }
        Action::None
    }

    fn show(&mut self, v: View) {
        if v == View::Detail && self.detail.is_none() {
            self.detail = self.visible().get(self.selected).map(|i| i.name.clone());
        }
        if v != self.view {
            self.scroll = 0;
        }
        self.view = v;
    }

    /// The filter changed: the lists start again at their top.
    fn rewind(&mut self) {
        self.selected = 0;
        self.scroll = 0;
    }

    /// The keys of what is on screen: typing a filter, the help, the view (the config view's
    /// in the editor's phase).
    pub fn keymap(&self) -> &'static KeyMap<Act> {
        if self.filtering {
            &keys::FILTERING
        } else if self.help {
            &keys::HELP_OPEN
        } else if self.view == View::Editor {
            keys::config_map(&self.editor.phase)
        } else {
            keys::view_map(self.view)
        }
    }

    /// What `?` shows on this view: its maps, then the extension's.
    pub fn help_sections(&self) -> Vec<Section> {
        let mut sections: Vec<Section> = keys::help_maps(self.view)
            .into_iter()
            .map(KeyMap::section)
            .collect();
        sections.extend(self.extension_keys.iter().cloned());
        sections
    }

    /// A key: its action in the map of what is on screen, if it has one.
    fn key(&mut self, k: KeyEvent) -> Action {
        match self.keymap().lookup(&k) {
            Some(act) => self.act(act, k),
            None => Action::None,
        }
    }

    fn act(&mut self, act: Act, k: KeyEvent) -> Action {
        match act {
            Act::Quit => return Action::Quit,
            Act::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Act::CloseHelp => self.help = false,
            Act::HelpScroll(Dir::Down) => self.help_scroll += 1,
            Act::HelpScroll(Dir::Up) => self.help_scroll = self.help_scroll.saturating_sub(1),
            Act::Back => {
                if !self.filter.is_empty() {
                    self.filter.clear();
                } else {
                    self.show(View::Overview);
                }
            }
            Act::Show(v) => self.show(v),
            Act::NextView => self.show(View::ALL[(self.view.index() + 1) % View::ALL.len()]),
            Act::PrevView => {
                self.show(View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()])
            }
            Act::Filter => {
                self.filtering = true;
                self.filter.clear();
            }
            Act::FilterKeep => {
                self.filtering = false;
                self.rewind();
            }
            Act::FilterClear => {
                self.filtering = false;
                self.filter.clear();
                self.rewind();
            }
            Act::FilterErase => {
                self.filter.pop();
                self.rewind();
            }
            Act::FilterType => {
                if let KeyCode::Char(c) = k.code {
                    self.filter.push(c);
                }
                self.rewind();
            }
            Act::Open if self.is_cluster() => return self.open_router(),
            Act::Open => {
                self.detail = self.visible().get(self.selected).map(|i| i.name.clone());
                if self.detail.is_some() {
                    self.show(View::Detail);
                }
            }
            Act::Select(Dir::Down) => {
                let n = if self.is_cluster() {
                    self.cluster_rows().len()
                } else {
                    self.visible().len()
                };
                if self.selected + 1 < n {
                    self.selected += 1;
                }
            }
            Act::Select(Dir::Up) => self.selected = self.selected.saturating_sub(1),
            Act::Scroll(Dir::Down) => self.scroll += 1,
            Act::Scroll(Dir::Up) => self.scroll = self.scroll.saturating_sub(1),
            Act::SegmentSelect(dir) => {
                let n = self
                    .segment()
                    .map_or(0, |s| segment_table::rows(s, self.segment_sort).len());
                segment_table::select(&mut self.segment_selected, dir == Dir::Down, n);
            }
            Act::SegmentOrder => self.segment_sort = self.segment_sort.next(),
            Act::Order if self.view == View::Lvs => self.lvs_order = self.lvs_order.next(),
            Act::Order => {
                self.order = self.order.next();
                self.selected = 0;
            }
            Act::Node(dir) => {
                let n = self.nodes.len();
                let k = match dir {
                    Dir::Down => (self.current + 1) % n,
                    Dir::Up => (self.current + n - 1) % n,
                };
                return self.switch_node(k);
            }
            Act::Editor(cmd) => match self.editor.run(cmd, k) {
                EditorAction::None => {}
                EditorAction::Apply(text) => return Action::Send(RequestBody::Apply { text }),
                EditorAction::Reload => return Action::Send(RequestBody::GetConfig),
            },
        }
        Action::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::fixture::status;
    use crate::tui::editor::Phase;
    use crossterm::event::KeyModifiers;

    fn key(c: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    fn connected() -> Model {
        let mut m = Model::new("/run/kaconsole/kaconsole.sock");
        m.update(Msg::Connected { admin: true });
        m.update(Msg::Status(Box::new(status())));
        m
    }

    #[test]
    fn navigation_stays_in_the_list_and_views_switch() {
        let mut m = connected();
        for _ in 0..3 {
            m.update(key(KeyCode::Char('j')));
        }
        assert_eq!(m.selected, 2, "the selection stops at the last row");
        m.update(key(KeyCode::Up));
        assert_eq!(m.selected, 1);
        m.update(key(KeyCode::Tab));
        assert_eq!(m.view, View::Detail);
        assert_eq!(
            m.detail_instance().unwrap().name,
            "VI_DB",
            "the selected row"
        );
        m.update(key(KeyCode::Char('4')));
        assert_eq!(m.view, View::Lvs);
        m.update(Msg::Key(KeyEvent::new(
            KeyCode::BackTab,
            KeyModifiers::SHIFT,
        )));
        assert_eq!(m.view, View::Trackers);
        m.update(key(KeyCode::Esc));
        assert_eq!(m.view, View::Overview, "Esc goes back");
        assert_eq!(m.update(key(KeyCode::Char('q'))), Action::Quit);
    }

    #[test]
    fn enter_drills_down_into_the_selected_instance() {
        let mut m = connected();
        m.update(key(KeyCode::Char('j')));
        m.update(key(KeyCode::Char('j')));
        m.update(key(KeyCode::Enter));
        assert_eq!(m.view, View::Detail);
        assert_eq!(m.detail_instance().unwrap().name, "VI_MAIL");
        // It stays on that instance whatever the overview does.
        m.update(key(KeyCode::Char('1')));
        m.update(key(KeyCode::Char('k')));
        m.update(key(KeyCode::Char('2')));
        assert_eq!(m.detail_instance().unwrap().name, "VI_MAIL");
    }

    #[test]
    fn the_filter_narrows_the_overview_and_the_events() {
        let mut m = connected();
        m.update(Msg::Event("VI_WEB: state MASTER".into()));
        m.update(Msg::Event("VI_DB: state BACKUP".into()));
        m.update(key(KeyCode::Char('/')));
        for c in "fault".chars() {
            m.update(key(KeyCode::Char(c)));
        }
        m.update(key(KeyCode::Enter));
        let names: Vec<&str> = m.visible().iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["VI_MAIL"]);
        m.filter = "vi_db".into();
        assert_eq!(
            m.visible_events(),
            ["VI_DB: state BACKUP"],
            "case-insensitive"
        );
        m.update(key(KeyCode::Esc));
        assert_eq!(m.visible().len(), 3, "Esc clears the filter");
        assert_eq!(m.view, View::Overview);
    }

    #[test]
    fn disconnection_shows_and_reconnection_clears() {
        let mut m = Model::new("s");
        m.update(Msg::Disconnected("connection refused".into()));
        assert!(!m.connected() && m.node().problem.is_some());
        m.update(Msg::Connected { admin: false });
        assert!(m.connected() && m.node().problem.is_none() && !m.admin());
    }

    #[test]
    fn editor_keys_stay_in_the_editor_while_editing() {
        let mut m = connected();
        m.update(Msg::Config {
            path: "/etc/keepalived/keepalived.conf".into(),
            text: "global_defs {\n    router_id lb1\n}\n".into(),
        });
        m.update(key(KeyCode::Char('6')));
        assert_eq!(m.view, View::Editor);
        m.update(key(KeyCode::Char('e')));
        assert_eq!(m.editor.phase, Phase::Editing);
        // 'q' and '1' are text now.
        assert_eq!(m.update(key(KeyCode::Char('q'))), Action::None);
        m.update(key(KeyCode::Char('1')));
        assert_eq!(m.view, View::Editor);
        assert_eq!(m.editor.text.lines()[0], "q1global_defs {");
        assert!(m.editor.errors() > 0, "the edit broke the file");
        // Esc stops editing; then the console's keys work again.
        m.update(key(KeyCode::Esc));
        m.update(key(KeyCode::Char('1')));
        assert_eq!(m.view, View::Overview);
        // 'r' asks first (there are edits); 'y' brings the daemon's text back (and asks the
        // daemon for it again), and the problems go with the edit.
        m.update(key(KeyCode::Char('6')));
        m.editor.outcome = Some((false, "1 error(s): fix them first".into()));
        assert_eq!(m.update(key(KeyCode::Char('r'))), Action::None);
        assert_eq!(m.editor.phase, Phase::ConfirmRevert);
        assert_eq!(
            m.update(key(KeyCode::Char('y'))),
            Action::Send(RequestBody::GetConfig)
        );
        assert_eq!(m.editor.errors(), 0);
        assert_eq!(m.editor.outcome, None, "the problems pane matches the text");
        assert_eq!(m.editor.phase, Phase::Viewing);
        // Without edits, 'r' does not ask.
        assert_eq!(
            m.update(key(KeyCode::Char('r'))),
            Action::Send(RequestBody::GetConfig)
        );
    }
}
