//! Adverts that decode but fail a check - a TTL / hop limit other than 255 (RFC 5798
//! §5.1.1.3), a checksum that does not verify - never become routers: per VRRP group they are
//! counted, with the first few sources as evidence, so that what anyone can send stays bounded.

use std::net::IpAddr;

/// Sources named per check and group; the others are only counted.
pub const SOURCES_KEPT: usize = 4;

/// The adverts of one group that failed one check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    /// The first [`SOURCES_KEPT`] sources, each with its count.
    pub sources: Vec<(IpAddr, u64)>,
}

impl Tally {
    pub fn add(&mut self, src: IpAddr) {
        self.count += 1;
        if let Some((_, n)) = self.sources.iter_mut().find(|(ip, _)| *ip == src) {
            *n += 1;
        } else if self.sources.len() < SOURCES_KEPT {
            self.sources.push((src, 1));
        }
    }

    /// The evidence lines: `10.0.0.1: 3 advert(s)`, then what the other sources sent.
    pub fn evidence(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .sources
            .iter()
            .map(|(ip, n)| format!("{ip}: {n} advert(s)"))
            .collect();
        let named: u64 = self.sources.iter().map(|(_, n)| n).sum();
        if self.count > named {
            out.push(format!(
                "and {} advert(s) from other sources",
                self.count - named
            ));
        }
        out
    }
}

/// A group's rejected adverts, per check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rejected {
    pub bad_ttl: Tally,
    pub bad_checksum: Tally,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_sources_are_named_and_the_rest_counted() {
        let mut t = Tally::default();
        for k in 0..100u8 {
            t.add(IpAddr::from([10, 0, 0, k % 10]));
        }
        assert_eq!(t.count, 100);
        assert_eq!(t.sources.len(), SOURCES_KEPT);
        let e = t.evidence();
        assert_eq!(e[0], "10.0.0.0: 10 advert(s)");
        assert_eq!(e[SOURCES_KEPT], "and 60 advert(s) from other sources");
    }
}
