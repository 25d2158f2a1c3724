//! An instance's timers, in quinn-proto's shape: a small table of deadlines, the earliest of
//! which is what the driver sleeps until.

use serde::{Deserialize, Serialize};

use crate::time::Instant;

/// The timers of one VRRP instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// MASTER: the next advertisement (RFC 5798 §6.4.3 Adver_Timer).
    Adver,
    /// BACKUP: the master is presumed down (RFC 5798 §6.4.2 Master_Down_Timer).
    MasterDown,
    /// MASTER: the second gratuitous ARP burst, `garp_master_delay` after the first.
    GarpDelay,
    /// MASTER: the second burst after a lower-priority advert, `garp_lower_prio_delay` later.
    LowerPrioGarpDelay,
}

impl Timer {
    const ALL: [Timer; 4] = [
        Timer::Adver,
        Timer::MasterDown,
        Timer::GarpDelay,
        Timer::LowerPrioGarpDelay,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// A deadline per [`Timer`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerTable {
    deadlines: [Option<Instant>; 4],
}

impl TimerTable {
    pub fn set(&mut self, t: Timer, at: Instant) {
        self.deadlines[t.index()] = Some(at);
    }

    pub fn stop(&mut self, t: Timer) {
        self.deadlines[t.index()] = None;
    }

    pub fn get(&self, t: Timer) -> Option<Instant> {
        self.deadlines[t.index()]
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Stops and returns the earliest timer due at `now`, if any; ties go in the order of
    /// [`Timer`]'s variants.
    pub fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let t = Timer::ALL
            .into_iter()
            .filter(|t| self.get(*t).is_some_and(|at| at <= now))
            .min_by_key(|t| (self.get(*t), *t))?;
        self.stop(t);
        Some(t)
    }

    pub fn clear(&mut self) {
        self.deadlines = Default::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_order() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Timer::GarpDelay, Instant(50));
        t.set(Timer::MasterDown, Instant(10));
        t.set(Timer::Adver, Instant(10));
        assert_eq!(t.next(), Some(Instant(10)));
        assert_eq!(t.pop_expired(Instant(9)), None);
        assert_eq!(t.pop_expired(Instant(60)), Some(Timer::Adver));
        assert_eq!(t.pop_expired(Instant(60)), Some(Timer::MasterDown));
        assert_eq!(t.pop_expired(Instant(60)), Some(Timer::GarpDelay));
        assert_eq!(t.pop_expired(Instant(60)), None);
    }
}
