//! The config editor's state: the daemon's configuration text in a ratatui-textarea, checked as
//! you type, and the apply flow (diff, confirmation, the daemon's answer).
//!
//! The check here reads the text as the daemon's configuration file (so includes resolve) but
//! without the machine checks: the console may run in another network namespace than the
//! daemon. The daemon checks again, with them, when it applies; what it refuses shows here.

use std::path::Path;

use crossterm::event::KeyEvent;
use ratatui_textarea::{CursorMove, TextArea};

use crate::config::{self, LoadOptions, diag};

/// One diagnostic, located in the edited text when it is about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Diag {
    pub error: bool,
    /// 1-based line in the edited file; `None` for another file (an include) or no location.
    pub line: Option<usize>,
    pub column: usize,
    /// `file:line: message` for diagnostics elsewhere.
    pub message: String,
}

impl Diag {
    /// From a `kaconsole check --json` line, for the file `main`.
    pub fn from_json(v: &serde_json::Value, main: &str) -> Diag {
        let file = v["file"].as_str();
        let line = v["line"].as_u64().map(|l| l as usize);
        let here = file.is_none_or(|f| f == main);
        let text = v["message"].as_str().unwrap_or("?").to_string();
        Diag {
            error: v["severity"] == "error",
            line: if here { line } else { None },
            column: v["column"].as_u64().unwrap_or(1) as usize,
            message: match (here, file, line) {
                (false, Some(f), Some(l)) => format!("{f}:{l}: {text}"),
                _ => text,
            },
        }
    }
}

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
}

/// What the editor is doing.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Keys move around; `e`/Enter starts editing.
    Viewing,
    Editing,
    /// The diff is shown; `y` applies.
    Confirm(Vec<DiffLine>),
    /// Sent; waiting for the daemon.
    Applying,
    /// `r` with edits: `y` throws them away.
    ConfirmRevert,
}

pub struct Editor {
    pub text: TextArea<'static>,
    /// The daemon's configuration path; empty until loaded.
    pub path: String,
    /// The text the daemon has, as last loaded or applied.
    pub original: String,
    /// The local check of the current text.
    pub diagnostics: Vec<Diag>,
    /// What the daemon refused, from the last apply.
    pub refused: Vec<Diag>,
    pub phase: Phase,
    /// The last apply's outcome, for the status line: (ok, message).
    pub outcome: Option<(bool, String)>,
    config_id: String,
}

/// What a key of the config view does to the editor (the keys are in [`super::keys`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditorCmd {
    /// Start editing.
    Edit,
    /// Stop editing.
    Stop,
    NextProblem,
    /// Show the diff to confirm (or why not).
    Apply,
    /// Back to the daemon's text.
    Revert,
    Down,
    Up,
    PageDown,
    PageUp,
    /// The key goes to the text.
    Type,
    /// Apply the diff shown.
    Confirm,
    /// Do not apply it (or do not revert).
    Cancel,
    /// Throw the edits away.
    ConfirmRevert,
}

/// What the editor asks of the console after a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditorAction {
    None,
    Apply(String),
    /// Fetch the daemon's text again.
    Reload,
}

impl Default for Editor {
    fn default() -> Self {
        Editor::new()
    }
}

impl Editor {
    pub fn new() -> Editor {
        Editor {
            text: TextArea::default(),
            path: String::new(),
            original: String::new(),
            diagnostics: Vec::new(),
            refused: Vec::new(),
            phase: Phase::Viewing,
            outcome: None,
            config_id: String::new(),
        }
    }

    pub fn loaded(&self) -> bool {
        !self.path.is_empty()
    }

    pub fn current(&self) -> String {
        let mut s = self.text.lines().join("\n");
        if self.original.ends_with('\n') {
            s.push('\n');
        }
        s
    }

    pub fn modified(&self) -> bool {
        self.loaded() && self.current() != self.original
    }

    /// The daemon's text arrived. An edit in progress is kept (the daemon's copy is still
    /// remembered for the diff).
    pub fn load(&mut self, path: String, text: String) {
        let keep = self.modified();
        self.path = path;
        if !keep {
            self.text = TextArea::new(text.lines().map(str::to_string).collect());
        }
        self.original = text;
        self.check();
    }

    /// The daemon's `-i` (for `@ID` lines); the text is checked again when it changes.
    pub fn set_config_id(&mut self, id: &str) {
        if self.config_id != id {
            self.config_id = id.to_string();
            if self.loaded() {
                self.check();
            }
        }
    }

    /// Re-checks the current text.
    pub fn check(&mut self) {
        let opts = LoadOptions {
            config_id: self.config_id.clone(),
            random_seed: Some(0),
            ..Default::default()
        };
        let loaded = config::load_text(
            Path::new(&self.path),
            self.current().as_bytes(),
            &opts,
            None,
        );
        self.diagnostics = loaded
            .diagnostics
            .iter()
            .filter_map(|d| serde_json::to_value(diag::to_json(&loaded.sources, d)).ok())
            .map(|v| Diag::from_json(&v, &self.path))
            .collect();
    }

    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.error).count()
    }

    /// The daemon answered an apply.
    pub fn applied(&mut self, result: Result<String, (String, Vec<serde_json::Value>)>) {
        self.phase = Phase::Viewing;
        match result {
            Ok(backup) => {
                self.original = self.current();
                self.refused.clear();
                self.outcome = Some((true, format!("applied; the old file is in {backup}")));
            }
            Err((message, diags)) => {
                self.refused = diags
                    .iter()
                    .map(|v| Diag::from_json(v, &self.path))
                    .collect();
                self.outcome = Some((false, format!("the daemon refused: {message}")));
            }
        }
    }

    /// Moves the cursor to the next diagnostic after the cursor line (wrapping).
    pub fn next_diagnostic(&mut self) {
        let row = self.text.cursor().0 + 1;
        let lines: Vec<&Diag> = self
            .refused
            .iter()
            .chain(&self.diagnostics)
            .filter(|d| d.line.is_some())
            .collect();
        let next = lines
            .iter()
            .filter(|d| d.line.unwrap() > row)
            .min_by_key(|d| d.line)
            .or_else(|| lines.iter().min_by_key(|d| d.line));
        if let Some(d) = next {
            let l = d.line.unwrap().saturating_sub(1);
            let c = d.column.saturating_sub(1);
            self.text.move_cursor(CursorMove::Jump(
                l.min(u16::MAX as usize) as u16,
                c.min(u16::MAX as usize) as u16,
            ));
        }
    }

    /// Does what a key of the config view's maps ([`super::keys`]) says; `k` is the key, for
    /// the text area.
    pub fn run(&mut self, cmd: EditorCmd, k: KeyEvent) -> EditorAction {
        match cmd {
            EditorCmd::Edit => {
                if self.loaded() {
                    self.phase = Phase::Editing;
                }
            }
            EditorCmd::Stop | EditorCmd::Cancel => self.phase = Phase::Viewing,
            EditorCmd::NextProblem => self.next_diagnostic(),
            EditorCmd::Apply => self.ask_to_apply(),
            // Edits are not thrown away without asking.
            EditorCmd::Revert if self.modified() => self.phase = Phase::ConfirmRevert,
            EditorCmd::Revert | EditorCmd::ConfirmRevert => {
                // Forget the edit; the daemon's text comes back, and what was said of the
                // edited text goes with it.
                self.text = TextArea::new(self.original.lines().map(str::to_string).collect());
                self.refused.clear();
                self.outcome = None;
                self.phase = Phase::Viewing;
                self.check();
                return EditorAction::Reload;
            }
            EditorCmd::Down => self.text.move_cursor(CursorMove::Down),
            EditorCmd::Up => self.text.move_cursor(CursorMove::Up),
            EditorCmd::PageDown => {
                for _ in 0..20 {
                    self.text.move_cursor(CursorMove::Down);
                }
            }
            EditorCmd::PageUp => {
                for _ in 0..20 {
                    self.text.move_cursor(CursorMove::Up);
                }
            }
            EditorCmd::Type => {
                if self.text.input(k) {
                    // The problems pane is about this text now: an older outcome ("applied",
                    // "fix them first") no longer is.
                    self.outcome = None;
                    self.check();
                }
            }
            EditorCmd::Confirm => {
                self.phase = Phase::Applying;
                self.outcome = None;
                return EditorAction::Apply(self.current());
            }
        }
        EditorAction::None
    }

    /// Shows the diff for confirmation, unless the text has errors (then the first error is
    /// shown instead) or nothing changed.
    fn ask_to_apply(&mut self) {
        if self.errors() > 0 {
            self.outcome = Some((
                false,
                format!(
                    "{} error(s): fix them first (n jumps to the next)",
                    self.errors()
                ),
            ));
            self.next_diagnostic();
            return;
        }
        if !self.modified() {
            self.outcome = Some((false, "nothing to apply: the text is the daemon's".into()));
            return;
        }
        self.outcome = None;
        self.phase = Phase::Confirm(diff(&self.original, &self.current()));
    }
}

/// A line diff of `old` and `new`: the common head and tail, and a longest-common-subsequence
/// diff of the middle (or all of it removed and added when that would be too large).
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut out: Vec<DiffLine> = a[..head]
        .iter()
        .map(|l| DiffLine::Same(l.to_string()))
        .collect();
    if am.len() * bm.len() <= 4_000_000 {
        // lcs[i][j]: the LCS length of am[i..] and bm[j..].
        let w = bm.len() + 1;
        let mut lcs = vec![0u32; (am.len() + 1) * w];
        for i in (0..am.len()).rev() {
            for j in (0..bm.len()).rev() {
                lcs[i * w + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < am.len() || j < bm.len() {
            if i < am.len() && j < bm.len() && am[i] == bm[j] {
                out.push(DiffLine::Same(am[i].to_string()));
                i += 1;
                j += 1;
            } else if i < am.len() && (j == bm.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])
            {
                // Removals first, as diff(1) prints them.
                out.push(DiffLine::Removed(am[i].to_string()));
                i += 1;
            } else {
                out.push(DiffLine::Added(bm[j].to_string()));
                j += 1;
            }
        }
    } else {
        out.extend(am.iter().map(|l| DiffLine::Removed(l.to_string())));
        out.extend(bm.iter().map(|l| DiffLine::Added(l.to_string())));
    }
    out.extend(
        a[a.len() - tail..]
            .iter()
            .map(|l| DiffLine::Same(l.to_string())),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::{Act, config_map};
    use crossterm::event::{KeyCode, KeyModifiers};

    /// A key pressed in the config view, through its map.
    trait Press {
        fn key(&mut self, k: KeyEvent) -> EditorAction;
    }

    impl Press for Editor {
        fn key(&mut self, k: KeyEvent) -> EditorAction {
            match config_map(&self.phase).lookup(&k) {
                Some(Act::Editor(cmd)) => self.run(cmd, k),
                _ => EditorAction::None,
            }
        }
    }

    const CONF: &str = "vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        10.0.0.100/24\n    }\n}\n";

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn typed(e: &mut Editor, s: &str) {
        for c in s.chars() {
            e.key(key(KeyCode::Char(c)));
        }
    }

    fn loaded() -> Editor {
        let mut e = Editor::new();
        e.load("/etc/keepalived/keepalived.conf".into(), CONF.into());
        e
    }

    #[test]
    fn typing_rechecks_and_an_error_blocks_apply() {
        let mut e = loaded();
        assert_eq!(e.errors(), 0, "{:?}", e.diagnostics);
        e.key(key(KeyCode::Enter));
        assert_eq!(e.phase, Phase::Editing);
        // Line 5, "    priority 100": put a 9 before 100 -> 9100.
        e.text.move_cursor(CursorMove::Jump(4, 13));
        typed(&mut e, "9");
        assert_eq!(e.text.lines()[4], "    priority 9100");
        assert_eq!(e.errors(), 1, "{:?}", e.diagnostics);
        assert_eq!(e.diagnostics[0].line, Some(5));
        e.key(key(KeyCode::Esc));
        assert_eq!(e.key(key(KeyCode::Char('a'))), EditorAction::None);
        assert_eq!(e.phase, Phase::Viewing, "no confirmation with errors");
        assert_eq!(e.text.cursor().0, 4, "the cursor went to the error");
        assert!(e.outcome.as_ref().is_some_and(|(ok, _)| !ok));
    }

    #[test]
    fn apply_shows_the_diff_then_sends_on_yes() {
        let mut e = loaded();
        e.key(key(KeyCode::Char('e')));
        e.text.move_cursor(CursorMove::Jump(4, 13));
        e.key(key(KeyCode::Delete));
        typed(&mut e, "2");
        assert_eq!(e.text.lines()[4], "    priority 200");
        e.key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
        let Phase::Confirm(d) = &e.phase else {
            panic!("{:?}", e.phase)
        };
        let changed: Vec<&DiffLine> = d
            .iter()
            .filter(|l| !matches!(l, DiffLine::Same(_)))
            .collect();
        assert_eq!(
            changed,
            [
                &DiffLine::Removed("    priority 100".into()),
                &DiffLine::Added("    priority 200".into())
            ]
        );
        let sent = e.key(key(KeyCode::Char('y')));
        assert_eq!(sent, EditorAction::Apply(CONF.replace("100\n", "200\n")));
        assert_eq!(e.phase, Phase::Applying);
        e.applied(Ok("/etc/keepalived/keepalived.conf.bak".into()));
        assert!(!e.modified(), "the applied text is the daemon's now");
    }

    #[test]
    fn a_refusal_is_shown_in_place() {
        let mut e = loaded();
        let refused = serde_json::json!({"severity": "error", "message": "interface eth9 does not exist",
            "file": "/etc/keepalived/keepalived.conf", "line": 3, "column": 15});
        e.applied(Err(("invalid_config".into(), vec![refused])));
        assert_eq!(e.refused[0].line, Some(3));
        e.next_diagnostic();
        assert_eq!(e.text.cursor(), (2, 14));
    }

    #[test]
    fn conditional_lines_follow_the_daemons_config_id() {
        let mut e = Editor::new();
        // Only lb2 reads the broken line.
        e.load(
            "/k.conf".into(),
            "@lb2 global_defs {\n@lb2     router_id\n@lb2 }\n".into(),
        );
        e.set_config_id("lb1");
        assert_eq!(e.errors(), 0, "{:?}", e.diagnostics);
        e.set_config_id("lb2");
        assert!(e.errors() > 0, "lb2 reads a router_id without a value");
    }

    #[test]
    fn diff_keeps_common_lines() {
        let d = diff("a\nb\nc\nd\n", "a\nc\nx\nd\n");
        assert_eq!(
            d,
            [
                DiffLine::Same("a".into()),
                DiffLine::Removed("b".into()),
                DiffLine::Same("c".into()),
                DiffLine::Added("x".into()),
                DiffLine::Same("d".into()),
            ]
        );
    }
}
