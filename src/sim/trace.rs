//! Traces: JSON lines, the scenario first, then every event, output and violation in order.
//! Replaying a trace runs its scenario again and compares line by line; golden traces in
//! tests/data/sim are replayed by `cargo test`.

use serde::{Deserialize, Serialize};

use super::scenario::{Event, Scenario};
use crate::time::Instant;
use crate::vrrp::event::Output;

/// One line of a trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TraceLine {
    Header {
        scenario: Box<Scenario>,
    },
    Output {
        t: Instant,
        router: String,
        from: String,
        out: Output,
    },
    Event {
        t: Instant,
        event: Event,
    },
    Violation {
        t: Instant,
        violation: String,
    },
}

impl TraceLine {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("trace lines serialize")
    }
}

/// The scenario at the head of a trace file.
pub fn read_scenario(text: &str) -> Result<Scenario, String> {
    let first = text.lines().next().ok_or("the trace is empty")?;
    match serde_json::from_str::<TraceLine>(first) {
        Ok(TraceLine::Header { scenario }) => Ok(*scenario),
        Ok(_) => Err("the first line of a trace must be {\"scenario\": ...}".into()),
        Err(e) => Err(format!("line 1: {e}")),
    }
}

/// Where a replay first differs from the recorded trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub line: usize,
    pub recorded: Option<String>,
    pub replayed: Option<String>,
}

/// Compares a recorded trace with a replay's lines (the header included).
pub fn compare(recorded: &str, replayed: &[TraceLine]) -> Result<(), Divergence> {
    let mut rec = recorded.lines().filter(|l| !l.trim().is_empty());
    let mut rep = replayed.iter().map(TraceLine::to_json);
    for line in 1.. {
        match (rec.next(), rep.next()) {
            (None, None) => return Ok(()),
            (a, b) if a.map(str::trim) == b.as_deref() => {}
            (a, b) => {
                return Err(Divergence {
                    line,
                    recorded: a.map(str::to_string),
                    replayed: b,
                });
            }
        }
    }
    unreachable!()
}
