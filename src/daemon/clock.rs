//! The daemon's one clock: engine time (microseconds since the start, what the engines take)
//! on tokio's monotonic clock, and the wall-clock time of engine time 0, read once, for what
//! is shown with dates (dumps, the segment table).

use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use crate::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: tokio::time::Instant,
    /// Microseconds since the Unix epoch at engine time 0.
    wall_start_us: u64,
}

impl Clock {
    /// Engine time 0 is now.
    pub fn start() -> Clock {
        let wall_start_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        Clock {
            start: tokio::time::Instant::now(),
            wall_start_us,
        }
    }

    /// Engine time now.
    pub fn now(&self) -> Instant {
        Instant(self.start.elapsed().as_micros() as u64)
    }

    /// When tokio should wake up for engine time `t`.
    pub fn deadline(&self, t: Instant) -> tokio::time::Instant {
        self.start + StdDuration::from_micros(t.0)
    }

    /// Engine time `t` on the wall clock, in microseconds since the epoch.
    pub fn wall_us(&self, t: Instant) -> u64 {
        self.wall_start_us + t.0
    }

    /// Engine time 0 on the wall clock, in seconds since the epoch (the dumps' `started`).
    pub fn wall_start_s(&self) -> f64 {
        self.wall_start_us as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn engine_time_wall_time_and_deadlines_agree() {
        let clock = Clock::start();
        assert_eq!(clock.now(), Instant(0));
        tokio::time::advance(StdDuration::from_millis(1500)).await;
        assert_eq!(clock.now(), Instant(1_500_000));
        assert_eq!(clock.wall_us(clock.now()), clock.wall_start_us + 1_500_000);
        assert_eq!(
            clock.deadline(Instant(2_000_000)) - tokio::time::Instant::now(),
            StdDuration::from_millis(500)
        );
        assert!((clock.wall_start_s() * 1e6 - clock.wall_start_us as f64).abs() < 1.0);
    }
}
