//! Trackers and the effective priority (keepalived's vrrp_track.c): each tracked object either
//! puts the instance in FAULT (weight 0) or adds its weight to the base priority; the sum is
//! clamped to 1..254, and an address owner (255) is never changed.

use serde::{Deserialize, Serialize};

/// How a tracked object (script, process, interface, file, BFD session) affects an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerConfig {
    /// `script:NAME`, `file:NAME`, `process:NAME`, `interface:NAME`, `bfd:NAME`.
    pub id: String,
    /// 0: a failure is a FAULT. Otherwise added while up (positive) or while down (negative).
    pub weight: i32,
    /// Swap the sense: a positive weight applies while down, a negative one while up; a
    /// weight-0 tracker faults while up.
    #[serde(default)]
    pub reverse: bool,
    /// A track_file: the status is a number (value x weight), not up/down.
    #[serde(default)]
    pub valued: bool,
}

/// What a tracked object reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackStatus {
    /// No result yet (a script that has not run): a weight-0 tracker holds the instance in
    /// FAULT until it reports; a weighted one counts nothing.
    Pending,
    Up,
    Down,
    /// A track_file's number.
    Value(i64),
}

/// keepalived: a track_file status of -254 or below means FAULT.
const FILE_FAULT: i64 = -254;

impl TrackerConfig {
    /// What `status` adds to the priority, or `None` if it faults the instance.
    /// (keepalived vrrp_track.c: initialise_* and process_script_update_priority.)
    pub fn effect(&self, status: TrackStatus) -> Effect {
        let mult: i64 = if self.reverse { -1 } else { 1 };
        let w = i64::from(self.weight);
        match status {
            TrackStatus::Pending if self.weight == 0 => Effect::Pending,
            TrackStatus::Pending => Effect::Weight(0),
            TrackStatus::Value(v) if self.valued => {
                if self.weight == 0 {
                    // A non-zero value is a fault; reverse: zero is.
                    let faulty = (v != 0) != self.reverse;
                    return if faulty {
                        Effect::Fault
                    } else {
                        Effect::Weight(0)
                    };
                }
                let status = v
                    .saturating_mul(w)
                    .saturating_mul(mult)
                    .clamp(FILE_FAULT, 253);
                if status <= FILE_FAULT {
                    Effect::Fault
                } else {
                    Effect::Weight(status as i32)
                }
            }
            TrackStatus::Value(v) => self.effect(if v != 0 {
                TrackStatus::Up
            } else {
                TrackStatus::Down
            }),
            TrackStatus::Up | TrackStatus::Down => {
                let up = status == TrackStatus::Up;
                if self.weight == 0 {
                    // reverse: the instance faults while the object is up.
                    return if up != self.reverse {
                        Effect::Weight(0)
                    } else {
                        Effect::Fault
                    };
                }
                // A positive weight counts while up, a negative one while down.
                let counts = (w > 0) == up;
                Effect::Weight(if counts { (w * mult) as i32 } else { 0 })
            }
        }
    }
}

/// What one tracker does to its instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Weight(i32),
    Fault,
    /// A fault tracker that has not reported yet.
    Pending,
}

/// The effective priority from the base and the sum of weights (vrrp_set_effective_priority):
/// an owner stays 255; others are clamped to 1..254, so trackers can neither make an owner
/// nor stop an instance.
pub fn effective_priority(base: u8, total_weight: i64) -> u8 {
    if base == 255 {
        return 255;
    }
    (i64::from(base) + total_weight).clamp(1, 254) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(weight: i32, reverse: bool) -> TrackerConfig {
        TrackerConfig {
            id: "script:x".into(),
            weight,
            reverse,
            valued: false,
        }
    }

    #[test]
    fn weights_follow_keepalived() {
        use Effect::{Fault, Weight};
        use TrackStatus::{Down, Up};
        // keepalived.conf(5): "weight W": a positive weight is added while the script succeeds,
        // a negative one while it fails; reverse swaps the sense.
        assert_eq!(t(10, false).effect(Up), Weight(10));
        assert_eq!(t(10, false).effect(Down), Weight(0));
        assert_eq!(t(-10, false).effect(Up), Weight(0));
        assert_eq!(t(-10, false).effect(Down), Weight(-10));
        assert_eq!(t(10, true).effect(Up), Weight(-10));
        assert_eq!(t(10, true).effect(Down), Weight(0));
        assert_eq!(t(-10, true).effect(Down), Weight(10));
        // Weight 0: a failure is a FAULT; reverse faults while up.
        assert_eq!(t(0, false).effect(Down), Fault);
        assert_eq!(t(0, false).effect(Up), Weight(0));
        assert_eq!(t(0, true).effect(Up), Fault);
        assert_eq!(t(0, false).effect(TrackStatus::Pending), Effect::Pending);
        assert_eq!(t(5, false).effect(TrackStatus::Pending), Weight(0));
    }

    #[test]
    fn track_files_multiply_and_fault_at_minus_254() {
        let f = |weight, reverse| TrackerConfig {
            valued: true,
            ..t(weight, reverse)
        };
        use TrackStatus::Value;
        assert_eq!(f(1, false).effect(Value(-10)), Effect::Weight(-10));
        assert_eq!(f(2, false).effect(Value(100)), Effect::Weight(200));
        assert_eq!(f(2, false).effect(Value(1000)), Effect::Weight(253));
        assert_eq!(f(1, false).effect(Value(-254)), Effect::Fault);
        assert_eq!(f(3, true).effect(Value(10)), Effect::Weight(-30));
        assert_eq!(f(0, false).effect(Value(7)), Effect::Fault);
        assert_eq!(f(0, false).effect(Value(0)), Effect::Weight(0));
    }

    #[test]
    fn effective_priority_is_clamped_and_owners_untouched() {
        // keepalived vrrp_set_effective_priority: clamp to [1, 254]; 255 is never changed.
        assert_eq!(effective_priority(100, 50), 150);
        assert_eq!(effective_priority(100, 200), 254);
        assert_eq!(effective_priority(100, -150), 1);
        assert_eq!(effective_priority(255, -100), 255);
    }
}
