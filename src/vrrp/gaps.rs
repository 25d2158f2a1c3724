//! The gaps between the valid adverts an instance receives, counted in fixed buckets: the
//! histogram `--metrics` exports. Jitter in the gaps shows before a false failover does.

use crate::time::Duration;

/// The buckets' upper bounds in microseconds (Prometheus' `le`), from 50 ms to 10 s: they
/// cover VRRPv3's short intervals and keepalived's default of 1 s with room for jitter.
pub const BOUNDS_US: [u64; 12] = [
    50_000, 100_000, 250_000, 500_000, 750_000, 1_000_000, 1_250_000, 1_500_000, 2_000_000,
    3_000_000, 5_000_000, 10_000_000,
];

/// Counts per bucket (not cumulative; the last counts what is above every bound), and the
/// sum of the gaps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gaps {
    pub counts: [u64; BOUNDS_US.len() + 1],
    pub sum_us: u64,
}

impl Gaps {
    pub fn record(&mut self, gap: Duration) {
        let us = gap.as_micros();
        let i = BOUNDS_US.partition_point(|&b| b < us);
        self.counts[i] += 1;
        self.sum_us = self.sum_us.saturating_add(us);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_goes_into_the_first_bucket_that_holds_it() {
        let mut g = Gaps::default();
        g.record(Duration::micros(1_000_000)); // le 1.0 holds 1.0
        g.record(Duration::micros(1_000_001));
        g.record(Duration::micros(20_000_000));
        g.record(Duration::micros(0));
        assert_eq!(g.counts[5], 1);
        assert_eq!(g.counts[6], 1);
        assert_eq!(g.counts[12], 1);
        assert_eq!(g.counts[0], 1);
        assert_eq!(g.count(), 4);
        assert_eq!(g.sum_us, 22_000_001);
    }
}
