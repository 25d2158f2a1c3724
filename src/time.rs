//! Time for the engines: integer microseconds, never floats, never a clock.
//!
//! An [`Instant`] counts microseconds from an epoch the driver picks (the daemon's start, the
//! simulator's zero); a [`Duration`] is a span in microseconds. VRRPv3 intervals travel in
//! centiseconds and keepalived's timer formulas are exact in microseconds, so integers lose
//! nothing (RFC 5798 §6.1's Skew_Time is exactly `(256 - prio) * interval / 256`).

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use serde::{Deserialize, Serialize};

/// A point in time, in microseconds since the driver's epoch.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Instant(pub u64);

/// A span of time in microseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Duration(pub u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);

    /// The span since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn micros(us: u64) -> Duration {
        Duration(us)
    }
    pub const fn millis(ms: u64) -> Duration {
        Duration(ms * 1_000)
    }
    pub const fn secs(s: u64) -> Duration {
        Duration(s * 1_000_000)
    }
    /// VRRPv3 carries intervals in centiseconds (RFC 5798 §5.2.7).
    pub const fn centis(cs: u64) -> Duration {
        Duration(cs * 10_000)
    }
    pub const fn as_micros(self) -> u64 {
        self.0
    }
    /// Whole centiseconds, rounded down.
    pub const fn as_centis(self) -> u64 {
        self.0 / 10_000
    }
    pub const fn as_secs(self) -> u64 {
        self.0 / 1_000_000
    }
    pub const fn saturating_mul(self, n: u64) -> Duration {
        Duration(self.0.saturating_mul(n))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.since(earlier)
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration(self.0.saturating_add(d.0))
    }
}

impl Sub for Duration {
    type Output = Duration;
    fn sub(self, d: Duration) -> Duration {
        Duration(self.0.saturating_sub(d.0))
    }
}

/// Seconds with up to six decimals, trailing zeros dropped: `3.609375s`.
fn fmt_micros(us: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (s, frac) = (us / 1_000_000, us % 1_000_000);
    if frac == 0 {
        write!(f, "{s}s")
    } else {
        let digits = format!("{frac:06}");
        write!(f, "{s}.{}s", digits.trim_end_matches('0'))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_micros(self.0, f)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_micros(self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_displays_exactly() {
        let t = Instant(1_000_000) + Duration::micros(2_609_375);
        assert_eq!(t.to_string(), "3.609375s");
        assert_eq!(Instant(5) - Instant(9), Duration::ZERO);
        assert_eq!(Duration::centis(10), Duration::millis(100));
        assert_eq!(Duration::millis(361).as_centis(), 36);
        assert_eq!((Instant(u64::MAX) + Duration::secs(1)), Instant(u64::MAX));
    }
}
