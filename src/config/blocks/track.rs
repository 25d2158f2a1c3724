//! Trackers: `vrrp_script`, `track_file`, `vrrp_track_process` (keepalived's vrrp_parser.c and
//! trackers/track_file.c).

use serde::Serialize;

use crate::config::ast::{Line, Node};
use crate::config::build::{Cx, Seen};
use crate::config::table::{Arg, Command, Keyword, Level::*, Table};
use crate::config::values::Micros;

use super::global::UserGroup;

#[derive(Clone, Debug, Serialize)]
pub struct VrrpScript {
    pub name: String,
    pub script: Option<Command>,
    pub interval: Micros,
    /// Unset: the interval.
    pub timeout: Option<Micros>,
    pub weight: i32,
    pub weight_reverse: bool,
    pub rise: u32,
    pub fall: u32,
    pub user: Option<UserGroup>,
    pub init_fail: bool,
    #[serde(skip)]
    pub seen: Seen,
}

impl Default for VrrpScript {
    fn default() -> Self {
        VrrpScript {
            name: String::new(),
            script: None,
            interval: Micros::secs(1),
            timeout: None,
            weight: 0,
            weight_reverse: false,
            rise: 1,
            fall: 1,
            user: None,
            init_fail: false,
            seen: Seen::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct TrackFile {
    pub name: String,
    pub file: String,
    pub weight: i32,
    pub weight_reverse: bool,
    /// `init_file [VALUE] [overwrite]`: create the file with VALUE at startup.
    pub init_file: Option<i64>,
    pub init_overwrite: bool,
    #[serde(skip)]
    pub seen: Seen,
}

impl Default for TrackFile {
    fn default() -> Self {
        TrackFile {
            name: String::new(),
            file: String::new(),
            weight: 1,
            weight_reverse: false,
            init_file: None,
            init_overwrite: false,
            seen: Seen::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamMatch {
    #[default]
    Exact,
    Initial,
    Partial,
}

#[derive(Clone, Debug, Serialize)]
pub struct TrackProcess {
    pub name: String,
    /// Process name, then the parameters to match.
    pub process: Vec<String>,
    pub param_match: ParamMatch,
    pub weight: i32,
    pub weight_reverse: bool,
    pub quorum: u32,
    pub quorum_max: Option<u32>,
    pub terminate_delay: Micros,
    pub fork_delay: Micros,
    pub full_command: bool,
    #[serde(skip)]
    pub seen: Seen,
}

impl Default for TrackProcess {
    fn default() -> Self {
        TrackProcess {
            name: String::new(),
            process: Vec::new(),
            param_match: ParamMatch::Exact,
            weight: 0,
            weight_reverse: false,
            quorum: 1,
            quorum_max: None,
            terminate_delay: Micros(0),
            fork_delay: Micros(0),
            full_command: false,
            seen: Seen::default(),
        }
    }
}

/// `WEIGHT [reverse]` at word 1, in `min..=max`.
pub fn weight_reverse(line: &Line, min: i64, max: i64, cx: &mut Cx<'_>) -> Option<(i32, bool)> {
    let w = cx.int(line, 1, min, max)?;
    let reverse = match line.word(2) {
        None => false,
        Some("reverse") => true,
        Some(o) => {
            cx.error(
                "invalid-value",
                line.span_of(2),
                format!("'weight': unknown option '{o}'"),
            )
            .help("the only option is reverse");
            false
        }
    };
    cx.extra(line, 2);
    Some((w as i32, reverse))
}

type SK = Keyword<VrrpScript>;
type FK = Keyword<TrackFile>;
type PK = Keyword<TrackProcess>;

const SECS_4294: i64 = 4294;
/// vrrp_script's interval and timeout: seconds with millisecond resolution (keepalived 2.3.2;
/// 2.2.7 takes whole seconds).
const SCRIPT_SECS: Arg = Arg::Secs {
    min_us: 1000,
    max_us: SECS_4294 as u64 * 1_000_000,
};

/// A duration in milliseconds (keepalived keeps 3 decimals), with a warning when it has a
/// fraction: keepalived before 2.3.2 refuses it.
fn millis_since_2_3_2(kw: &str, us: u64, cx: &mut Cx<'_>) -> u64 {
    let ms = us / 1000 * 1000;
    if !ms.is_multiple_of(1_000_000) {
        let here = cx.here;
        cx.warning(
            "newer-keyword",
            here,
            format!("'{kw}' with a fraction of a second needs keepalived 2.3.2 or later; older ones (Debian 12 ships 2.2.7) reject it"),
        );
    }
    ms
}
const DELAY_MAX: u64 = 3600 * 1_000_000;

pub static VRRP_SCRIPT: Table<VrrpScript> = Table::new(
    "vrrp_script",
    "A command run periodically; its exit status tracks health (0 = OK).",
    &[
        SK::new("script", Arg::Command, P0, "The command line (quote it to pass arguments).")
            .set(|s, v, _| s.script = Some(v.command())),
        SK::new("interval", SCRIPT_SECS, P0, "Seconds between runs (milliseconds allowed since keepalived 2.3.2).")
            .default("1")
            .set(|s, v, cx| s.interval = Micros(millis_since_2_3_2("interval", v.micros(), cx))),
        SK::new("timeout", SCRIPT_SECS, P0, "Seconds after which a run counts as failed (and is killed); milliseconds allowed since keepalived 2.3.2.")
            .default("interval")
            .set(|s, v, cx| s.timeout = Some(Micros(millis_since_2_3_2("timeout", v.micros(), cx)))),
        SK::new("weight", Arg::Custom("-253..253 [reverse]"), P0, "Priority change while the script fails (negative) or succeeds (positive); 0 means FAULT on failure.")
            .default("0")
            .set(|s, v, cx| {
                if let Some((w, r)) = v.node().and_then(|n| weight_reverse(&n.line, -253, 253, cx)) {
                    s.weight = w;
                    s.weight_reverse = r;
                }
            }),
        SK::new("rise", Arg::Int { min: 1, max: i32::MAX as i64 }, P0, "Successes in a row before the script is OK.")
            .default("1")
            .set(|s, v, _| s.rise = v.int() as u32),
        SK::new("fall", Arg::Int { min: 1, max: i32::MAX as i64 }, P0, "Failures in a row before the script is KO.")
            .default("1")
            .set(|s, v, _| s.fall = v.int() as u32),
        SK::new("user", Arg::Custom("USER [GROUP]"), P1, "User (and group) the script runs as.")
            .default("script_user")
            .set(|s, v, cx| s.user = v.node().and_then(|n| user_group(&n.line, cx))),
        SK::new("init_fail", Arg::Flag, P1, "Start in the failed state until the script succeeds.")
            .set(|s, _, _| s.init_fail = true),
    ],
);

pub fn user_group(line: &Line, cx: &mut Cx<'_>) -> Option<UserGroup> {
    let user = cx.word(line, 1, "a user name")?.to_string();
    cx.extra(line, 2);
    Some(UserGroup {
        user,
        group: line.word(2).map(str::to_string),
    })
}

pub static TRACK_FILE: Table<TrackFile> = Table::new(
    "track_file",
    "A file holding a number; its value times the weight changes priority (0 with weight 0: FAULT).",
    &[
        FK::new("file", Arg::Word, P1, "Path of the file (watched with inotify).")
            .set(|f, v, _| f.file = v.word().to_string()),
        FK::new("weight", Arg::Custom("-254..254 [reverse]"), P1, "Multiplier of the file's value.")
            .default("1")
            .set(|f, v, cx| {
                if let Some((w, r)) = v.node().and_then(|n| weight_reverse(&n.line, -254, 254, cx)) {
                    f.weight = w;
                    f.weight_reverse = r;
                }
            }),
        FK::new("init_file", Arg::Custom("[VALUE] [overwrite]"), P1, "Create the file with VALUE (default 0) at startup; overwrite replaces an existing file.")
            .set(|f, v, cx| {
                let Some(n) = v.node() else { return };
                let line = &n.line;
                f.init_file = Some(0);
                for i in 1..=line.argc() {
                    match line.word(i) {
                        Some("overwrite") => f.init_overwrite = true,
                        Some(w) => {
                            if let Some(val) = cx.int_str(line, i, w, i32::MIN as i64, i32::MAX as i64) {
                                f.init_file = Some(val);
                            }
                        }
                        None => {}
                    }
                }
            }),
    ],
);

pub static TRACK_PROCESS: Table<TrackProcess> = Table::new(
    "vrrp_track_process",
    "Tracks whether enough instances of a process run.",
    &[
        PK::new(
            "process",
            Arg::Custom("NAME [PARAMETER...]"),
            P1,
            "Process name, optionally with the parameters to match.",
        )
        .set(|p, v, cx| {
            if let Some(n) = v.node()
                && let Some(name) = cx.word(&n.line, 1, "a process name")
            {
                if name.is_empty() {
                    cx.error(
                        "invalid-value",
                        n.line.span_of(1),
                        "'process': the process name is empty",
                    );
                    return;
                }
                p.process = n.line.words().skip(1).map(str::to_string).collect();
                if p.process.len() > 1 {
                    p.full_command = true;
                }
            }
        }),
        PK::new(
            "param_match",
            Arg::Choice(&["initial", "partial"]),
            P1,
            "Match the parameters as a prefix (initial) or anywhere (partial).",
        )
        .default("exact")
        .set(|p, v, _| {
            p.param_match = if v.word() == "initial" {
                ParamMatch::Initial
            } else {
                ParamMatch::Partial
            };
            p.full_command = true;
        }),
        PK::new(
            "weight",
            Arg::Custom("-254..254 [reverse]"),
            P1,
            "Priority change while the quorum is not met (or met, with reverse).",
        )
        .default("0")
        .set(|p, v, cx| {
            if let Some((w, r)) = v
                .node()
                .and_then(|n| weight_reverse(&n.line, -254, 254, cx))
            {
                p.weight = w;
                p.weight_reverse = r;
            }
        }),
        PK::new(
            "quorum",
            Arg::Int { min: 1, max: 65535 },
            P1,
            "Fewest processes for the tracker to be up.",
        )
        .default("1")
        .set(|p, v, _| p.quorum = v.int() as u32),
        PK::new(
            "quorum_max",
            Arg::Int { min: 0, max: 65535 },
            P1,
            "Most processes for the tracker to be up.",
        )
        .set(|p, v, _| p.quorum_max = Some(v.int() as u32)),
        PK::new(
            "delay",
            Arg::Secs {
                min_us: 1,
                max_us: DELAY_MAX,
            },
            P1,
            "Sets terminate_delay and fork_delay.",
        )
        .set(|p, v, _| {
            p.terminate_delay = Micros(v.micros());
            p.fork_delay = Micros(v.micros());
        }),
        PK::new(
            "terminate_delay",
            Arg::Secs {
                min_us: 1,
                max_us: DELAY_MAX,
            },
            P1,
            "Wait this long before acting on a process exit.",
        )
        .set(|p, v, _| p.terminate_delay = Micros(v.micros())),
        PK::new(
            "fork_delay",
            Arg::Secs {
                min_us: 1,
                max_us: DELAY_MAX,
            },
            P1,
            "Wait this long before acting on a new process.",
        )
        .set(|p, v, _| p.fork_delay = Micros(v.micros())),
        PK::new(
            "full_command",
            Arg::Flag,
            P1,
            "Match the whole command line, not just the name.",
        )
        .set(|p, _, _| p.full_command = true),
    ],
);

/// Reads a named block (`vrrp_script NAME { }` etc.): the name, then the keywords.
pub fn read_named<T: Default>(
    table: &Table<T>,
    n: &Node,
    cx: &mut Cx<'_>,
) -> Option<(String, T, Seen)> {
    let name = cx.word(&n.line, 1, "a name")?.to_string();
    cx.extra(&n.line, 1);
    let (t, seen) = table.read(n, cx);
    Some((name, t, seen))
}
