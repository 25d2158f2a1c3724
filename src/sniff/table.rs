//! What the adverts on a segment add up to: per VRRP group (VRID, family, version, multicast
//! or unicast) every router heard, who is master now, and the conflicts, each with its evidence.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::observe::{Decoded, Observed, mac};
use crate::vrrp::packet::{Advert, AuthType, Version};

/// One VRRP group as the wire shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub vrid: u8,
    pub ipv6: bool,
    pub version: u8,
    /// Sent to a unicast address rather than the VRRP group (224.0.0.18 / ff02::12).
    pub unicast: bool,
}

/// A router of a group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Router {
    pub macs: BTreeSet<String>,
    #[serde(skip)]
    last_mac: Option<[u8; 6]>,
    pub vmac: bool,
    pub priority: u8,
    /// Advert interval in centiseconds.
    pub interval_cs: u32,
    pub addrs: Vec<IpAddr>,
    pub auth: Cow<'static, str>,
    /// The v2 simple password, as sent (it is plain text on the wire).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub adverts: u64,
    pub priority_zero: u64,
    /// Its last advert had priority 0: it stopped being master (RFC 5798 §6.4.3).
    pub left: bool,
    pub bad_ttl: u64,
    pub bad_checksum: u64,
    pub first_us: u64,
    pub last_us: u64,
    /// Adverts sent while another router of the group was also advertising.
    pub concurrent: u64,
}

impl Router {
    /// Adverts per second over the time it was heard.
    pub fn rate(&self) -> f64 {
        let span = self.last_us.saturating_sub(self.first_us) as f64 / 1e6;
        if self.adverts < 2 || span <= 0.0 {
            0.0
        } else {
            (self.adverts - 1) as f64 / span
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Group {
    pub routers: BTreeMap<IpAddr, Router>,
}

/// A problem on the segment, with what shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `vip-mismatch`, `auth-mismatch`, `interval-mismatch`, `version-mix`, `split-brain`,
    /// `two-owners`, `bad-ttl`, `bad-checksum`, `malformed`.
    pub kind: Cow<'static, str>,
    pub vrid: Option<u8>,
    pub message: String,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Table {
    pub groups: BTreeMap<Key, Group>,
    /// Packets that do not decode: (time, source, why), the first [`MALFORMED_KEPT`].
    pub malformed: Vec<(u64, IpAddr, String)>,
    pub malformed_count: u64,
    pub packets: u64,
    pub last_us: u64,
}

/// Malformed packets kept as evidence (a daemon watches its segment for months).
pub const MALFORMED_KEPT: usize = 20;

/// The table as one value (the daemon's `segment` answer, sniff --json's last line).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub groups: Vec<GroupSnapshot>,
    pub findings: Vec<Finding>,
    pub free_vrids: Vec<u8>,
    pub packets: u64,
    /// Microseconds since the epoch of the last packet.
    pub last_us: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupSnapshot {
    pub key: Key,
    pub master: Option<IpAddr>,
    pub routers: Vec<(IpAddr, Router)>,
}

/// A router still counts as advertising this many intervals after its last advert (a
/// backup's Master_Down_Interval is a little over three).
const ALIVE_INTERVALS: u64 = 3;

fn auth_name(a: &Advert) -> &'static str {
    match a.auth.map(|x| x.kind) {
        None if a.version == Version::V3 => "none (v3)",
        None | Some(AuthType::None) => "none",
        Some(AuthType::Pass) => "PASS",
        Some(AuthType::Ah) => "AH",
        Some(AuthType::Unknown(_)) => "unknown",
    }
}

impl Table {
    pub fn add(&mut self, s: &Observed) {
        self.packets += 1;
        self.last_us = self.last_us.max(s.ts_us);
        let (advert, checksum) = match &s.advert {
            Decoded::Advert { advert, checksum } => (advert, *checksum),
            Decoded::Malformed { error } => {
                self.malformed_count += 1;
                if self.malformed.len() < MALFORMED_KEPT {
                    self.malformed.push((s.ts_us, s.src, error.clone()));
                }
                return;
            }
        };
        let key = Key {
            vrid: advert.vrid,
            ipv6: s.src.is_ipv6(),
            version: advert.version.number(),
            unicast: !s.dst.is_multicast(),
        };
        let group = self.groups.entry(key).or_default();
        let interval_cs = (advert.interval.as_micros() / 10_000) as u32;
        // RFC 5798 §6.4.3: a master that hears another master's advert steps down or
        // answers; two routers that keep advertising together are a split brain.
        if advert.priority != 0 {
            let others_active = group.routers.iter().any(|(ip, r)| {
                *ip != s.src
                    && r.adverts > 0
                    && s.ts_us.saturating_sub(r.last_us)
                        < u64::from(r.interval_cs.max(1)) * 10_000 * 3 / 2
            });
            if others_active {
                group.routers.entry(s.src).or_default().concurrent += 1;
            }
        }
        let r = group.routers.entry(s.src).or_default();
        if r.adverts == 0 {
            r.first_us = s.ts_us;
        }
        r.adverts += 1;
        r.last_us = s.ts_us;
        // Per packet only what changed is rebuilt (a capture repeats the same adverts).
        if let Some(m) = &s.src_mac
            && r.last_mac != Some(*m)
        {
            r.last_mac = Some(*m);
            r.macs.insert(mac(m));
        }
        r.vmac |= s.vmac();
        r.interval_cs = interval_cs;
        if r.addrs != advert.addrs {
            r.addrs = advert.addrs.clone();
        }
        r.auth = Cow::Borrowed(auth_name(advert));
        let password = advert
            .auth
            .filter(|a| a.kind == AuthType::Pass)
            .and_then(|a| a.data);
        if password.is_some() || r.password.is_some() {
            r.password = password.map(|d| {
                String::from_utf8_lossy(&d)
                    .trim_end_matches('\0')
                    .to_string()
            });
        }
        r.left = advert.priority == 0;
        if advert.priority == 0 {
            r.priority_zero += 1;
        } else {
            r.priority = advert.priority;
        }
        // RFC 5798 §5.1.1.3: TTL / hop limit 255, else the packet came from off-link.
        if s.ttl != 255 {
            r.bad_ttl += 1;
        }
        if checksum.is_none() {
            r.bad_checksum += 1;
        }
    }

    /// The router advertising for `key` now (the last heard, if still within its intervals).
    pub fn master(&self, key: &Key) -> Option<IpAddr> {
        let g = self.groups.get(key)?;
        let (ip, r) = g.routers.iter().max_by_key(|(_, r)| r.last_us)?;
        let alive = self.last_us.saturating_sub(r.last_us)
            <= u64::from(r.interval_cs.max(1)) * 10_000 * ALIVE_INTERVALS;
        (alive && !r.left).then_some(*ip)
    }

    /// VRIDs no group uses (over both families and versions).
    pub fn free_vrids(&self) -> Vec<u8> {
        let used: BTreeSet<u8> = self.groups.keys().map(|k| k.vrid).collect();
        (1..=255).filter(|v| !used.contains(v)).collect()
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            groups: self
                .groups
                .iter()
                .map(|(k, g)| GroupSnapshot {
                    key: *k,
                    master: self.master(k),
                    routers: g.routers.iter().map(|(ip, r)| (*ip, r.clone())).collect(),
                })
                .collect(),
            findings: self.findings(),
            free_vrids: self.free_vrids(),
            packets: self.packets,
            last_us: self.last_us,
        }
    }

    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for (key, g) in &self.groups {
            let vrid = Some(key.vrid);
            let routers = |f: &dyn Fn(&Router) -> String| -> Vec<String> {
                g.routers
                    .iter()
                    .map(|(ip, r)| format!("{ip}: {}", f(r)))
                    .collect()
            };
            let differ = |f: &dyn Fn(&Router) -> String| {
                g.routers.values().map(f).collect::<BTreeSet<_>>().len() > 1
            };
            let show_addrs = |r: &Router| {
                let mut a: Vec<String> = r.addrs.iter().map(IpAddr::to_string).collect();
                a.sort();
                a.join(" ")
            };
            if differ(&show_addrs) {
                out.push(Finding {
                    kind: Cow::Borrowed("vip-mismatch"),
                    vrid,
                    message: format!(
                        "VRID {}: routers advertise different virtual addresses (keepalived logs \
                         \"ip address associated with VRID not present in MASTER advert\")",
                        key.vrid
                    ),
                    evidence: routers(&show_addrs),
                });
            }
            let show_auth = |r: &Router| match &r.password {
                Some(p) => format!("{} \"{p}\"", r.auth),
                None => r.auth.to_string(),
            };
            if differ(&show_auth) {
                out.push(Finding {
                    kind: Cow::Borrowed("auth-mismatch"),
                    vrid,
                    message: format!(
                        "VRID {}: different authentication: each side drops the other's adverts \
                         and both become MASTER",
                        key.vrid
                    ),
                    evidence: routers(&show_auth),
                });
            }
            let show_interval = |r: &Router| format!("{:.2} s", f64::from(r.interval_cs) / 100.0);
            if differ(&show_interval) {
                out.push(Finding {
                    kind: Cow::Borrowed("interval-mismatch"),
                    vrid,
                    message: format!(
                        "VRID {}: different advert intervals (v2 backups drop such adverts)",
                        key.vrid
                    ),
                    evidence: routers(&show_interval),
                });
            }
            // A preemption overlaps for an advert or two on one side; two masters keep
            // overlapping on both.
            let concurrent: Vec<String> = g
                .routers
                .iter()
                .filter(|(_, r)| r.concurrent >= 3)
                .map(|(ip, r)| {
                    format!(
                        "{ip}: {} of its {} adverts while another router advertised",
                        r.concurrent, r.adverts
                    )
                })
                .collect();
            if concurrent.len() > 1 {
                out.push(Finding {
                    kind: Cow::Borrowed("split-brain"),
                    vrid,
                    message: format!(
                        "VRID {}: more than one router advertises at the same time (two MASTERs)",
                        key.vrid
                    ),
                    evidence: concurrent,
                });
            }
            let owners: Vec<String> = g
                .routers
                .iter()
                .filter(|(_, r)| r.priority == 255)
                .map(|(ip, _)| ip.to_string())
                .collect();
            if owners.len() > 1 {
                out.push(Finding {
                    kind: Cow::Borrowed("two-owners"),
                    vrid,
                    message: format!(
                        "VRID {}: more than one address owner (priority 255)",
                        key.vrid
                    ),
                    evidence: owners,
                });
            }
            let bad = |f: fn(&Router) -> u64| -> Vec<String> {
                g.routers
                    .iter()
                    .filter(|(_, r)| f(r) > 0)
                    .map(|(ip, r)| format!("{ip}: {} of {} adverts", f(r), r.adverts))
                    .collect()
            };
            let ttl = bad(|r| r.bad_ttl);
            if !ttl.is_empty() {
                out.push(Finding {
                    kind: Cow::Borrowed("bad-ttl"),
                    vrid,
                    message: format!(
                        "VRID {}: adverts with a TTL/hop limit other than 255 (RFC 5798 §5.1.1.3: \
                         discarded; routed from another link?)",
                        key.vrid
                    ),
                    evidence: ttl,
                });
            }
            let sum = bad(|r| r.bad_checksum);
            if !sum.is_empty() {
                out.push(Finding {
                    kind: Cow::Borrowed("bad-checksum"),
                    vrid,
                    message: format!("VRID {}: adverts whose checksum does not verify", key.vrid),
                    evidence: sum,
                });
            }
        }
        // The same VRID and family in both versions (keepalived's version mismatch).
        let mut by_vrid: BTreeMap<(u8, bool), BTreeSet<u8>> = BTreeMap::new();
        for k in self.groups.keys() {
            by_vrid
                .entry((k.vrid, k.ipv6))
                .or_default()
                .insert(k.version);
        }
        for ((vrid, ipv6), versions) in by_vrid {
            if versions.len() > 1 {
                let evidence = self
                    .groups
                    .iter()
                    .filter(|(k, _)| k.vrid == vrid && k.ipv6 == ipv6)
                    .flat_map(|(k, g)| {
                        g.routers
                            .keys()
                            .map(move |ip| format!("{ip}: VRRPv{}", k.version))
                    })
                    .collect();
                out.push(Finding {
                    kind: Cow::Borrowed("version-mix"),
                    vrid: Some(vrid),
                    message: format!("VRID {vrid}: VRRPv2 and VRRPv3 on the same segment"),
                    evidence,
                });
            }
        }
        if self.malformed_count > 0 {
            out.push(Finding {
                kind: Cow::Borrowed("malformed"),
                vrid: None,
                message: format!("{} packet(s) that do not decode", self.malformed_count),
                evidence: self
                    .malformed
                    .iter()
                    .take(5)
                    .map(|(_, ip, e)| format!("{ip}: {e}"))
                    .collect(),
            });
        }
        out
    }
}

/// The table of keepalived's captures in tests/data/pcaps/ (`names`), for tests.
#[cfg(test)]
pub fn from_test_captures(names: &[&str]) -> Table {
    let mut t = Table::default();
    for name in names {
        let path = format!("{}/tests/data/pcaps/{name}", env!("CARGO_MANIFEST_DIR"));
        let c = crate::pcap::parse(&std::fs::read(path).unwrap()).unwrap();
        for r in &c.records {
            if let Some(s) = super::observe::observe(c.linktype, r.ts_us, &r.data) {
                t.add(&s);
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;
    use crate::vrrp::checksum::ChecksumForm;
    use crate::vrrp::packet::Auth;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// An advert from `src` at `t` seconds.
    fn advert(t: f64, src: &str, prio: u8) -> Observed {
        Observed {
            ts_us: (t * 1e6) as u64,
            src_mac: Some([0x52, 0x54, 0, 0, 0, src.len() as u8]),
            vlan: None,
            src: ip(src),
            dst: ip("224.0.0.18"),
            ttl: 255,
            ah: false,
            advert: Decoded::Advert {
                advert: Advert {
                    version: Version::V2,
                    vrid: 51,
                    priority: prio,
                    interval: Duration::secs(1),
                    auth: Some(Auth {
                        kind: AuthType::None,
                        data: Some([0; 8]),
                    }),
                    addrs: vec![ip("10.0.0.100")],
                },
                checksum: Some(ChecksumForm::Plain),
            },
        }
    }

    fn with(mut s: Observed, f: impl FnOnce(&mut Advert)) -> Observed {
        if let Decoded::Advert { advert, .. } = &mut s.advert {
            f(advert);
        }
        s
    }

    fn table(seen: &[Observed]) -> Table {
        let mut t = Table::default();
        for s in seen {
            t.add(s);
        }
        t
    }

    fn kinds(t: &Table) -> Vec<String> {
        t.findings().iter().map(|f| f.kind.to_string()).collect()
    }

    const KEY: Key = Key {
        vrid: 51,
        ipv6: false,
        version: 2,
        unicast: false,
    };

    #[test]
    fn a_clean_failover_is_no_conflict() {
        // .1 advertises until 5 s and dies; .2 takes over 3.6 s later.
        let mut s: Vec<Observed> = (0..6).map(|k| advert(k as f64, "10.0.0.1", 150)).collect();
        s.extend((0..5).map(|k| advert(8.6 + k as f64, "10.0.0.2", 100)));
        let t = table(&s);
        assert!(kinds(&t).is_empty(), "{:?}", t.findings());
        assert_eq!(t.master(&KEY), Some(ip("10.0.0.2")));
        assert_eq!(t.groups[&KEY].routers.len(), 2);
        assert!((t.groups[&KEY].routers[&ip("10.0.0.2")].rate() - 1.0).abs() < 0.01);
        assert!(!t.free_vrids().contains(&51));
        assert_eq!(crate::ranges::ranges(&t.free_vrids()), "1-50, 52-255");
    }

    #[test]
    fn preemption_is_no_split_brain_but_two_masters_are() {
        // .2 (higher) starts; .1 sends one more advert, then goes quiet.
        let mut s: Vec<Observed> = (0..5).map(|k| advert(k as f64, "10.0.0.1", 100)).collect();
        s.push(advert(4.5, "10.0.0.2", 200));
        s.push(advert(5.0, "10.0.0.1", 100));
        s.extend((1..6).map(|k| advert(4.5 + k as f64, "10.0.0.2", 200)));
        assert!(kinds(&table(&s)).is_empty(), "{:?}", table(&s).findings());
        // Both keep advertising: split brain.
        let mut s: Vec<Observed> = Vec::new();
        for k in 0..10 {
            s.push(advert(k as f64, "10.0.0.1", 100));
            s.push(advert(k as f64 + 0.5, "10.0.0.2", 100));
        }
        let t = table(&s);
        assert_eq!(kinds(&t), ["split-brain"]);
        assert_eq!(t.findings()[0].evidence.len(), 2, "both routers named");
    }

    #[test]
    fn every_kind_of_conflict_is_found_with_its_evidence() {
        let other_vips = with(advert(0.5, "10.0.0.2", 100), |a| {
            a.addrs = vec![ip("10.0.0.200")]
        });
        assert_eq!(
            kinds(&table(&[advert(0.0, "10.0.0.1", 150), other_vips])),
            ["vip-mismatch"]
        );
        let pass = |pw: &[u8; 8]| {
            let pw = *pw;
            move |a: &mut Advert| {
                a.auth = Some(Auth {
                    kind: AuthType::Pass,
                    data: Some(pw),
                })
            }
        };
        let t = table(&[
            with(advert(0.0, "10.0.0.1", 150), pass(b"secret\0\0")),
            with(advert(0.5, "10.0.0.2", 100), pass(b"other\0\0\0")),
        ]);
        assert_eq!(kinds(&t), ["auth-mismatch"]);
        assert!(t.findings()[0].evidence[0].contains("\"secret\""));
        let t = table(&[
            advert(0.0, "10.0.0.1", 150),
            with(advert(0.5, "10.0.0.2", 100), |a| {
                a.interval = Duration::secs(2)
            }),
        ]);
        assert_eq!(kinds(&t), ["interval-mismatch"]);
        let t = table(&[
            advert(0.0, "10.0.0.1", 150),
            with(advert(0.5, "10.0.0.2", 100), |a| {
                a.version = Version::V3;
                a.auth = None;
            }),
        ]);
        assert_eq!(kinds(&t), ["version-mix"]);
        let t = table(&[advert(0.0, "10.0.0.1", 255), advert(10.0, "10.0.0.2", 255)]);
        assert_eq!(kinds(&t), ["two-owners"]);
        let mut routed = advert(0.0, "10.0.0.1", 150);
        routed.ttl = 64;
        assert_eq!(kinds(&table(&[routed])), ["bad-ttl"]);
        let mut broken = advert(0.0, "10.0.0.1", 150);
        broken.advert = Decoded::Advert {
            advert: broken.advert().unwrap().clone(),
            checksum: None,
        };
        assert_eq!(kinds(&table(&[broken])), ["bad-checksum"]);
        let mut junk = advert(0.0, "10.0.0.1", 150);
        junk.advert = Decoded::Malformed {
            error: "short".into(),
        };
        assert_eq!(kinds(&table(&[junk])), ["malformed"]);
    }

    #[test]
    fn a_master_leaving_with_priority_zero_is_nobody() {
        let t = table(&[advert(0.0, "10.0.0.1", 150), advert(0.5, "10.0.0.1", 0)]);
        assert_eq!(t.master(&KEY), None, "its last advert said it was leaving");
        assert_eq!(t.groups[&KEY].routers[&ip("10.0.0.1")].priority_zero, 1);
        let t = table(&[
            advert(0.0, "10.0.0.1", 0),
            advert(0.6, "10.0.0.2", 100),
            advert(1.6, "10.0.0.2", 100),
        ]);
        assert_eq!(
            t.master(&KEY),
            Some(ip("10.0.0.2")),
            "the backup that took over"
        );
        // Silent for longer than three intervals: nobody is master any more.
        let t = table(&[
            advert(0.0, "10.0.0.1", 150),
            with(advert(10.0, "10.0.0.9", 100), |a| a.vrid = 52),
        ]);
        assert_eq!(t.master(&KEY), None);
    }
}
