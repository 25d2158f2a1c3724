//! The last minutes of each instance and real server, sampled from the status snapshots, for
//! the sparklines: effective priority (every snapshot), the gap between valid adverts (each
//! time the daemon counted a new one), real server latency.

use std::collections::{HashMap, VecDeque};

use crate::control::protocol::Status;

/// Samples kept per series: two minutes of priority at the console's 500 ms polling, four
/// of advert gaps at the default 1 s interval.
pub const SAMPLES: usize = 240;

#[derive(Clone, Debug, Default)]
pub struct Series(VecDeque<u64>);

impl Series {
    pub fn push(&mut self, v: u64) {
        if self.0.len() == SAMPLES {
            self.0.pop_front();
        }
        self.0.push_back(v);
    }
    /// The newest `n` samples, oldest first.
    pub fn last(&self, n: usize) -> Vec<u64> {
        self.0
            .iter()
            .skip(self.0.len().saturating_sub(n))
            .copied()
            .collect()
    }
    pub fn max(&self) -> Option<u64> {
        self.0.iter().copied().max()
    }
    pub fn latest(&self) -> Option<u64> {
        self.0.back().copied()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Clone, Debug, Default)]
pub struct InstanceHistory {
    pub priority: Series,
    /// Milliseconds between valid adverts.
    pub advert_gap_ms: Series,
    adverts_seen: u64,
}

#[derive(Clone, Debug, Default)]
pub struct History {
    pub instances: HashMap<String, InstanceHistory>,
    /// By `virtual server id / real server address`, in milliseconds.
    pub latency_ms: HashMap<String, Series>,
}

impl History {
    pub fn record(&mut self, s: &Status) {
        for i in &s.instances {
            let h = self.instances.entry(i.name.clone()).or_default();
            h.priority.push(i.effective_priority.into());
            // A new gap only when the daemon counted another advert since the last snapshot.
            if i.stats.advert_rcvd != h.adverts_seen {
                h.adverts_seen = i.stats.advert_rcvd;
                if let Some(g) = i.last_advert_gap_s {
                    h.advert_gap_ms.push((g * 1e3).round() as u64);
                }
            }
        }
        for vs in &s.virtual_servers {
            for rs in &vs.real_servers {
                if let Some(l) = rs.latency_ms {
                    self.latency_ms
                        .entry(rs_key(&vs.id, &rs.addr))
                        .or_default()
                        .push(l.round() as u64);
                }
            }
        }
    }
}

pub fn rs_key(vs: &str, rs: &str) -> String {
    format!("{vs} / {rs}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::fixture;

    #[test]
    fn a_gap_is_sampled_once_per_new_advert() {
        let mut s = fixture::status();
        let mut h = History::default();
        s.instances[1].stats.advert_rcvd = 10;
        s.instances[1].last_advert_gap_s = Some(1.02);
        h.record(&s);
        h.record(&s);
        let db = &h.instances[&s.instances[1].name];
        assert_eq!(db.advert_gap_ms.last(10), [1020], "the same advert twice");
        assert_eq!(db.priority.len(), 2, "priority every snapshot");
        s.instances[1].stats.advert_rcvd = 11;
        s.instances[1].last_advert_gap_s = Some(1.5);
        h.record(&s);
        assert_eq!(
            h.instances[&s.instances[1].name].advert_gap_ms.max(),
            Some(1500)
        );
    }

    #[test]
    fn series_keep_the_newest() {
        let mut s = Series::default();
        for v in 0..(SAMPLES as u64 + 10) {
            s.push(v);
        }
        assert_eq!(s.len(), SAMPLES);
        assert_eq!(s.last(2), [SAMPLES as u64 + 8, SAMPLES as u64 + 9]);
    }
}
