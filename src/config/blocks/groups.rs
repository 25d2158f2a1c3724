//! `vrrp_sync_group`, `garp_group` and `track_group` (keepalived's vrrp_parser.c).

use serde::Serialize;

use crate::config::ast::Node;
use crate::config::build::{Cx, Seen};
use crate::config::source::Span;
use crate::config::table::{Arg, Command, Keyword, Level::*, Table};
use crate::config::values::Micros;

use super::value_items;
use super::vrrp::{TrackRef, interface_refs, track_refs};

/// A member name of a `group { }` list, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub name: String,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SyncGroup {
    pub name: String,
    pub group: Vec<Member>,
    pub track_interface: Vec<TrackRef>,
    pub track_script: Vec<TrackRef>,
    pub track_file: Vec<TrackRef>,
    pub track_process: Vec<TrackRef>,
    pub notify_master: Option<Command>,
    pub notify_backup: Option<Command>,
    pub notify_fault: Option<Command>,
    pub notify_stop: Option<Command>,
    pub notify: Option<Command>,
    pub smtp_alert: Option<bool>,
    pub notify_priority_changes: Option<bool>,
    pub sync_group_tracking_weight: bool,
    #[serde(skip)]
    pub seen: Seen,
}

/// The names of a `group { }` block: any number per line.
pub fn members(n: &Node, cx: &mut Cx<'_>) -> Vec<Member> {
    let mut out = Vec::new();
    for line in value_items(n, cx) {
        for i in 0..line.toks.len() {
            out.push(Member {
                name: line.word(i).unwrap_or_default().to_string(),
                span: line.span_of(i),
            });
        }
    }
    if out.is_empty() {
        cx.warning("empty-block", n.line.span_of(0), "the group block is empty");
    }
    out
}

type SK = Keyword<SyncGroup>;

pub static SYNC_GROUP: Table<SyncGroup> = Table::new(
    "vrrp_sync_group",
    "Instances that change state together (all MASTER or all BACKUP).",
    &[
        SK::new(
            "group",
            Arg::Values("VRRP_INSTANCE..."),
            P1,
            "The member instances.",
        )
        .set(|g, v, cx| {
            if let Some(n) = v.node() {
                if !g.group.is_empty() {
                    cx.error(
                        "repeated",
                        n.line.span_of(0),
                        "'group' is given twice; keepalived drops the rest of the sync group",
                    )
                    .help("list every member in one group block");
                }
                g.group.extend(members(n, cx));
            }
        }),
        SK::new(
            "track_interface",
            Arg::Values("IFNAME [weight W [reverse]]"),
            P1,
            "Interfaces tracked for every member.",
        )
        .set(|g, v, cx| {
            g.track_interface
                .extend(v.node().map(|n| interface_refs(n, cx)).unwrap_or_default())
        }),
        SK::new(
            "track_script",
            Arg::Values("SCRIPT [weight W [reverse|noreverse]]"),
            P1,
            "Scripts tracked for every member.",
        )
        .set(|g, v, cx| {
            g.track_script.extend(
                v.node()
                    .map(|n| track_refs(n, -253, 253, true, cx))
                    .unwrap_or_default(),
            )
        }),
        SK::new(
            "track_file",
            Arg::Values("TRACK_FILE [weight W [reverse|noreverse]]"),
            P1,
            "Track files for every member.",
        )
        .set(|g, v, cx| {
            g.track_file.extend(
                v.node()
                    .map(|n| track_refs(n, -254, 254, true, cx))
                    .unwrap_or_default(),
            )
        }),
        SK::new(
            "track_process",
            Arg::Values("TRACK_PROCESS [weight W [reverse|noreverse]]"),
            P1,
            "Processes tracked for every member.",
        )
        .set(|g, v, cx| {
            g.track_process.extend(
                v.node()
                    .map(|n| track_refs(n, -254, 254, true, cx))
                    .unwrap_or_default(),
            )
        }),
        SK::new(
            "track_bfd",
            Arg::Values("BFD [weight W [reverse|noreverse]]"),
            P2,
            "BFD sessions tracked for every member.",
        ),
        SK::new(
            "notify_master",
            Arg::Command,
            P1,
            "Script run when the group becomes MASTER.",
        )
        .keep_first()
        .set(|g, v, _| g.notify_master = Some(v.command())),
        SK::new(
            "notify_backup",
            Arg::Command,
            P1,
            "Script run when the group becomes BACKUP.",
        )
        .keep_first()
        .set(|g, v, _| g.notify_backup = Some(v.command())),
        SK::new(
            "notify_fault",
            Arg::Command,
            P1,
            "Script run when the group enters FAULT.",
        )
        .keep_first()
        .set(|g, v, _| g.notify_fault = Some(v.command())),
        SK::new(
            "notify_stop",
            Arg::Command,
            P1,
            "Script run when the group stops.",
        )
        .keep_first()
        .set(|g, v, _| g.notify_stop = Some(v.command())),
        SK::new(
            "notify",
            Arg::Command,
            P1,
            "Script run on every transition with GROUP NAME STATE 0 appended.",
        )
        .keep_first()
        .set(|g, v, _| g.notify = Some(v.command())),
        SK::new("smtp_alert", Arg::Bool, P1, "Mail on group transitions.")
            .set(|g, v, _| g.smtp_alert = Some(v.bool())),
        SK::new(
            "notify_priority_changes",
            Arg::Bool,
            P1,
            "Write members' priority changes to the FIFOs.",
        )
        .set(|g, v, _| g.notify_priority_changes = Some(v.bool())),
        SK::new(
            "sync_group_tracking_weight",
            Arg::Flag,
            P2,
            "Allow weighted trackers on the members.",
        )
        .deprecated(&["global_tracking"])
        .set(|g, _, _| g.sync_group_tracking_weight = true),
    ],
)
.unknown_help("the member instances go inside a group { } block");

#[derive(Clone, Debug, Default, Serialize)]
pub struct GarpGroup {
    pub garp_interval: Option<Micros>,
    pub gna_interval: Option<Micros>,
    pub interfaces: Vec<Member>,
    #[serde(skip)]
    pub seen: Seen,
}

type GK = Keyword<GarpGroup>;
const INT_MAX_US: u64 = i32::MAX as u64;

pub static GARP_GROUP: Table<GarpGroup> = Table::new(
    "garp_group",
    "Rate limit of gratuitous ARPs / NAs over a set of interfaces.",
    &[
        GK::new(
            "garp_interval",
            Arg::Secs {
                min_us: 0,
                max_us: INT_MAX_US,
            },
            P2,
            "Smallest gap between gratuitous ARPs.",
        )
        .inert()
        .set(|g, v, _| g.garp_interval = Some(Micros(v.micros()))),
        GK::new(
            "gna_interval",
            Arg::Secs {
                min_us: 0,
                max_us: INT_MAX_US,
            },
            P2,
            "Smallest gap between unsolicited NAs.",
        )
        .inert()
        .set(|g, v, _| g.gna_interval = Some(Micros(v.micros()))),
        GK::new(
            "interface",
            Arg::Word,
            P2,
            "The interface the limits apply to.",
        )
        .set(|g, v, cx| {
            let (name, here) = (v.word(), cx.here);
            if cx.ifname_ok(here, "interface", name) {
                g.interfaces.push(Member {
                    name: name.to_string(),
                    span: here,
                });
            }
        }),
        GK::new(
            "interfaces",
            Arg::Values("IFNAME..."),
            P2,
            "Interfaces sharing one limit.",
        )
        .set(|g, v, cx| {
            let mut names = v.node().map(|n| members(n, cx)).unwrap_or_default();
            names.retain(|m| cx.ifname_ok(m.span, "interfaces", &m.name));
            g.interfaces.extend(names);
        }),
    ],
);

#[derive(Clone, Debug, Default, Serialize)]
pub struct TrackGroup {
    pub name: String,
    pub group: Vec<Member>,
    #[serde(skip)]
    pub seen: Seen,
}

type TK = Keyword<TrackGroup>;

pub static TRACK_GROUP: Table<TrackGroup> = Table::new(
    "track_group",
    "Instances put in FAULT when a static address, route or rule naming this group cannot be restored.",
    &[TK::new(
        "group",
        Arg::Values("VRRP_INSTANCE..."),
        P2,
        "The instances.",
    )
    .set(|g, v, cx| {
        g.group
            .extend(v.node().map(|n| members(n, cx)).unwrap_or_default())
    })],
);
