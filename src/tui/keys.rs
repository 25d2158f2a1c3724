//! The console's key maps: one per view, one per phase of the config editor, and the two
//! modes that take every key (typing a filter, the help open). [`super::model::Model::key`]
//! looks a key up in the map of what is on screen and does the action; the footer and the
//! `?` help are drawn from the same maps.

use crossterm::event::KeyCode;

use super::editor::{EditorCmd, Phase};
use super::keymap::{Key, KeyMap, Row};
use super::model::View;

/// Up or down a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
}

/// What a console key does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Quit,
    Help,
    CloseHelp,
    /// Clear the filter, else back to the overview.
    Back,
    Show(View),
    NextView,
    PrevView,
    /// Start typing a filter.
    Filter,
    FilterKeep,
    FilterClear,
    FilterErase,
    /// The key's character goes into the filter.
    FilterType,
    /// The overview's selected instance, in the detail view.
    Open,
    /// The overview's selection.
    Select(Dir),
    Scroll(Dir),
    /// The segment table's selection.
    SegmentSelect(Dir),
    /// The segment table's next order.
    SegmentOrder,
    Editor(EditorCmd),
    /// The previous or next node (several daemons).
    Node(Dir),
    /// The overview's or the LVS view's next order.
    Order,
    /// Scroll the help.
    HelpScroll(Dir),
}

use Act::*;

const fn code(c: KeyCode) -> Key {
    Key::Code(c)
}

const VIEWS: Row<Act> = Row {
    keys: &[
        (Key::Char('1'), Show(View::Overview)),
        (Key::Char('2'), Show(View::Detail)),
        (Key::Char('3'), Show(View::Trackers)),
        (Key::Char('4'), Show(View::Lvs)),
        (Key::Char('5'), Show(View::Events)),
        (Key::Char('6'), Show(View::Editor)),
        (Key::Char('7'), Show(View::Segment)),
        (code(KeyCode::Tab), NextView),
        (code(KeyCode::BackTab), PrevView),
    ],
    hint: "overview, instance, trackers, lvs, events, config, segment",
    footer: Some("1-7 Tab views"),
};

/// On several daemons: the node the views other than the overview show.
const NODES: Row<Act> = Row {
    keys: &[
        (Key::Char('['), Node(Dir::Up)),
        (Key::Char(']'), Node(Dir::Down)),
    ],
    hint: "the previous / next node (with several daemons)",
    footer: None,
};

const HELP: Row<Act> = Row {
    keys: &[(Key::Char('?'), Help)],
    hint: "this help (j/k scroll it, any other key closes it)",
    footer: Some("? help"),
};

const QUIT: Row<Act> = Row {
    keys: &[(Key::Char('q'), Quit), (Key::Ctrl('c'), Quit)],
    hint: "quit",
    footer: Some("q quit"),
};

/// Ctrl-C in the modes that take the other keys.
const CTRL_C: Row<Act> = Row {
    keys: &[(Key::Ctrl('c'), Quit)],
    hint: "quit",
    footer: None,
};

const FILTER: Row<Act> = Row {
    keys: &[(Key::Char('/'), Filter)],
    hint: "filter (Enter keeps it, Esc clears)",
    footer: Some("/ filter"),
};

/// `/` where the view itself is not filtered.
const FILTER_OTHERS: Row<Act> = Row {
    keys: &[(Key::Char('/'), Filter)],
    hint: "filter the other views (Enter keeps it, Esc clears)",
    footer: None,
};

const BACK: Row<Act> = Row {
    keys: &[(code(KeyCode::Esc), Back)],
    hint: "clear the filter, else back to the overview",
    footer: Some("Esc back"),
};

const SCROLL: Row<Act> = Row {
    keys: &[
        (Key::Char('j'), Scroll(Dir::Down)),
        (Key::Char('k'), Scroll(Dir::Up)),
        (code(KeyCode::Down), Scroll(Dir::Down)),
        (code(KeyCode::Up), Scroll(Dir::Up)),
    ],
    hint: "scroll",
    footer: Some("j/k scroll"),
};

pub static OVERVIEW: KeyMap<Act> = KeyMap {
    title: "overview",
    rows: &[
        Row {
            keys: &[(code(KeyCode::Enter), Open)],
            hint: "the selected instance's detail",
            footer: Some("Enter detail"),
        },
        Row {
            keys: &[
                (Key::Char('j'), Select(Dir::Down)),
                (Key::Char('k'), Select(Dir::Up)),
                (code(KeyCode::Down), Select(Dir::Down)),
                (code(KeyCode::Up), Select(Dir::Up)),
            ],
            hint: "move the selection",
            footer: Some("j/k move"),
        },
        Row {
            keys: &[(Key::Char('/'), Filter)],
            hint: "filter by name, interface, state (Enter keeps, Esc clears)",
            footer: Some("/ filter"),
        },
        Row {
            keys: &[(Key::Char('s'), Order)],
            hint: "order by name, VRID, state, priority, since (cycles)",
            footer: Some("s order"),
        },
        Row {
            keys: &[(code(KeyCode::Esc), Back)],
            hint: "clear the filter",
            footer: None,
        },
        VIEWS,
        NODES,
        HELP,
        QUIT,
    ],
};

pub static INSTANCE: KeyMap<Act> = KeyMap {
    title: "instance",
    rows: &[SCROLL, FILTER, BACK, VIEWS, NODES, HELP, QUIT],
};

pub static TRACKERS: KeyMap<Act> = KeyMap {
    title: "trackers",
    rows: &[SCROLL, FILTER, BACK, VIEWS, NODES, HELP, QUIT],
};

pub static LVS: KeyMap<Act> = KeyMap {
    title: "lvs",
    rows: &[
        SCROLL,
        Row {
            keys: &[(Key::Char('s'), Order)],
            hint: "real servers: as configured, down first, latency, weight",
            footer: Some("s order"),
        },
        FILTER,
        BACK,
        VIEWS,
        NODES,
        HELP,
        QUIT,
    ],
};

pub static EVENTS: KeyMap<Act> = KeyMap {
    title: "events",
    rows: &[SCROLL, FILTER, BACK, VIEWS, NODES, HELP, QUIT],
};

pub static SEGMENT: KeyMap<Act> = KeyMap {
    title: "segment",
    rows: &[
        Row {
            keys: &[
                (Key::Char('j'), SegmentSelect(Dir::Down)),
                (Key::Char('k'), SegmentSelect(Dir::Up)),
                (code(KeyCode::Down), SegmentSelect(Dir::Down)),
                (code(KeyCode::Up), SegmentSelect(Dir::Up)),
            ],
            hint: "move the selection",
            footer: Some("j/k move"),
        },
        Row {
            keys: &[(Key::Char('s'), SegmentOrder)],
            hint: "order by VRID, priority, last heard, adverts/s",
            footer: Some("s order"),
        },
        BACK,
        VIEWS,
        NODES,
        HELP,
        QUIT,
        FILTER_OTHERS,
    ],
};

/// The config view while looking at the text.
pub static CONFIG: KeyMap<Act> = KeyMap {
    title: "config",
    rows: &[
        Row {
            keys: &[
                (Key::Char('e'), Editor(EditorCmd::Edit)),
                (code(KeyCode::Enter), Editor(EditorCmd::Edit)),
                (Key::Char('i'), Editor(EditorCmd::Edit)),
            ],
            hint: "edit the text",
            footer: Some("e edit"),
        },
        Row {
            keys: &[
                (Key::Char('n'), Editor(EditorCmd::NextProblem)),
                (Key::Ctrl('n'), Editor(EditorCmd::NextProblem)),
            ],
            hint: "the next problem",
            footer: Some("n next problem"),
        },
        Row {
            keys: &[
                (Key::Char('a'), Editor(EditorCmd::Apply)),
                (Key::Char('s'), Editor(EditorCmd::Apply)),
                (Key::Ctrl('s'), Editor(EditorCmd::Apply)),
            ],
            hint: "apply (the diff first)",
            footer: Some("a apply"),
        },
        Row {
            keys: &[(Key::Char('r'), Editor(EditorCmd::Revert))],
            hint: "revert to the daemon's text",
            footer: Some("r revert"),
        },
        Row {
            keys: &[
                (Key::Char('j'), Editor(EditorCmd::Down)),
                (Key::Char('k'), Editor(EditorCmd::Up)),
                (code(KeyCode::Down), Editor(EditorCmd::Down)),
                (code(KeyCode::Up), Editor(EditorCmd::Up)),
                (code(KeyCode::PageDown), Editor(EditorCmd::PageDown)),
                (code(KeyCode::PageUp), Editor(EditorCmd::PageUp)),
            ],
            hint: "move the cursor",
            footer: None,
        },
        VIEWS,
        NODES,
        HELP,
        QUIT,
        FILTER_OTHERS,
        Row {
            keys: &[(code(KeyCode::Esc), Back)],
            hint: "back to the overview (or clear the filter)",
            footer: None,
        },
    ],
};

/// The config view while editing: the text takes the keys but these.
pub static CONFIG_EDITING: KeyMap<Act> = KeyMap {
    title: "while editing",
    rows: &[
        Row {
            keys: &[(code(KeyCode::Esc), Editor(EditorCmd::Stop))],
            hint: "stop editing",
            footer: Some("Esc stop"),
        },
        Row {
            keys: &[(Key::Ctrl('s'), Editor(EditorCmd::Apply))],
            hint: "apply (the diff first)",
            footer: Some("Ctrl-S apply"),
        },
        Row {
            keys: &[(Key::Ctrl('n'), Editor(EditorCmd::NextProblem))],
            hint: "the next problem",
            footer: Some("Ctrl-N next problem"),
        },
        CTRL_C,
        Row {
            keys: &[(Key::Any, Editor(EditorCmd::Type))],
            hint: "edit the text (arrows, Home, End, Ctrl-Z undo...)",
            footer: None,
        },
    ],
};

/// The config view showing the diff to apply.
pub static CONFIG_CONFIRM: KeyMap<Act> = KeyMap {
    title: "with the diff shown",
    rows: &[
        Row {
            keys: &[
                (Key::Char('y'), Editor(EditorCmd::Confirm)),
                (Key::Char('Y'), Editor(EditorCmd::Confirm)),
            ],
            hint: "write and reload (a backup is kept)",
            footer: Some("y apply"),
        },
        CTRL_C,
        Row {
            keys: &[(Key::Any, Editor(EditorCmd::Cancel))],
            hint: "cancel",
            footer: Some("any other key cancels"),
        },
    ],
};

/// The config view asking before `r` throws the edits away.
pub static CONFIG_REVERT: KeyMap<Act> = KeyMap {
    title: "asked to revert",
    rows: &[
        Row {
            keys: &[
                (Key::Char('y'), Editor(EditorCmd::ConfirmRevert)),
                (Key::Char('Y'), Editor(EditorCmd::ConfirmRevert)),
            ],
            hint: "throw the edits away: the daemon's text again",
            footer: Some("y discard the edits"),
        },
        CTRL_C,
        Row {
            keys: &[(Key::Any, Editor(EditorCmd::Cancel))],
            hint: "keep the edits",
            footer: Some("any other key keeps them"),
        },
    ],
};

/// The config view waiting for the daemon's answer to an apply.
pub static CONFIG_APPLYING: KeyMap<Act> = KeyMap {
    title: "while applying",
    rows: &[CTRL_C],
};

/// Typing a filter after `/`.
pub static FILTERING: KeyMap<Act> = KeyMap {
    title: "filter",
    rows: &[
        Row {
            keys: &[(code(KeyCode::Enter), FilterKeep)],
            hint: "keep the filter",
            footer: Some("Enter keep"),
        },
        Row {
            keys: &[(code(KeyCode::Esc), FilterClear)],
            hint: "clear the filter",
            footer: Some("Esc clear"),
        },
        Row {
            keys: &[(code(KeyCode::Backspace), FilterErase)],
            hint: "erase the last character",
            footer: None,
        },
        CTRL_C,
        Row {
            keys: &[(Key::Text, FilterType)],
            hint: "the filter's text",
            footer: None,
        },
    ],
};

/// The help on screen.
pub static HELP_OPEN: KeyMap<Act> = KeyMap {
    title: "help",
    rows: &[
        CTRL_C,
        Row {
            keys: &[
                (Key::Char('j'), HelpScroll(Dir::Down)),
                (Key::Char('k'), HelpScroll(Dir::Up)),
                (code(KeyCode::Down), HelpScroll(Dir::Down)),
                (code(KeyCode::Up), HelpScroll(Dir::Up)),
            ],
            hint: "scroll the help when it is longer than the screen",
            footer: Some("j/k scroll"),
        },
        Row {
            keys: &[(Key::Any, CloseHelp)],
            hint: "close the help",
            footer: Some("any other key closes the help"),
        },
    ],
};

/// A view's keys (the config view's while looking at the text).
pub fn view_map(v: View) -> &'static KeyMap<Act> {
    match v {
        View::Overview => &OVERVIEW,
        View::Detail => &INSTANCE,
        View::Trackers => &TRACKERS,
        View::Lvs => &LVS,
        View::Events => &EVENTS,
        View::Editor => &CONFIG,
        View::Segment => &SEGMENT,
    }
}

/// The config view's keys in a phase of the editor.
pub fn config_map(phase: &Phase) -> &'static KeyMap<Act> {
    match phase {
        Phase::Viewing => &CONFIG,
        Phase::Editing => &CONFIG_EDITING,
        Phase::Confirm(_) => &CONFIG_CONFIRM,
        Phase::Applying => &CONFIG_APPLYING,
        Phase::ConfirmRevert => &CONFIG_REVERT,
    }
}

/// The maps a view's help shows: its own, then (the config view) those of the editor's phases.
pub fn help_maps(v: View) -> Vec<&'static KeyMap<Act>> {
    match v {
        View::Editor => vec![
            &CONFIG,
            &CONFIG_EDITING,
            &CONFIG_CONFIRM,
            &CONFIG_REVERT,
            &CONFIG_APPLYING,
        ],
        v => vec![view_map(v)],
    }
}
