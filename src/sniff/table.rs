//! What the adverts on a segment add up to: per VRRP group (VRID, family, version, multicast
//! or unicast) every router heard, who is master now, and the conflicts, each with its evidence.
//!
//! Anyone on the segment can send adverts, so what the table keeps is bounded (threat model,
//! rule 2), and so is the work per packet:
//! - only adverts that pass the TTL and checksum checks become routers; those that fail are
//!   counted per group with a few sources (sniff/rejected.rs), packets that do not decode are
//!   counted with the first few kept;
//! - at most [`Limits::routers`] routers and [`Limits::per_group`] per group: a new one takes
//!   the place of the least recently heard (of its group when the group is full, else of all);
//! - a router silent for [`Limits::silent_intervals`] of its intervals, and at least
//!   [`Limits::min_silence_us`], expires;
//! - per packet: hash lookups and moves in two recency lists (sniff/recency.rs), no scan; a
//!   snapshot costs what the table holds, however much was evicted before.
//!
//! Time is the packets' (or the `now` given to [`Table::expire`]): the table reads no clock.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::findings::{self, Malformed};
use super::observe::{Decoded, Observed};
use super::recency::{Link, List};
use super::rejected::Rejected;

pub use super::findings::Finding;
pub use super::router::{Key, Router};

/// How much the table keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Routers in all: a segment with every VRID of one family used by a pair holds 510.
    pub routers: usize,
    /// Routers per VRRP group: a real group has two or three.
    pub per_group: usize,
    /// A router silent for this many of its advert intervals expires...
    pub silent_intervals: u64,
    /// ...but not before this many microseconds: a router that died stays on the console long
    /// enough for an operator to see it go ("last heard 2 min ago").
    pub min_silence_us: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            routers: 1024,
            per_group: 32,
            silent_intervals: 10,
            min_silence_us: 300_000_000,
        }
    }
}

/// Malformed packets kept as evidence (a daemon watches its segment for months).
pub const MALFORMED_KEPT: usize = 20;

/// A router held by the table.
#[derive(Clone, Debug)]
struct Slot {
    key: Key,
    ip: IpAddr,
    router: Router,
}

#[derive(Clone, Debug, Default)]
struct Group {
    /// Its routers, the most recently heard first.
    order: List,
    /// The two routers whose adverts stay current the longest, (source, until when): whether
    /// another router advertises now is known without a scan. Exact while each router's
    /// "until" only grows; a router leaving the table leaves its place empty until the next
    /// advert (the split-brain rule counts overlaps, so one missed is harmless).
    active: [Option<(IpAddr, u64)>; 2],
}

/// Where a router is: its group's place and its address (an IPv4 address in the low bits;
/// a group has one family), hashed in one go. The std hasher is keyed at random, which matters
/// here: the addresses are whatever a neighbour chooses.
type Place = (u16, u128);

fn place(key: &Key, ip: IpAddr) -> Place {
    let bits = match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    (group_of(key) as u16, bits)
}

/// Every group a key can name: VRID, family, version (2 or 3), unicast or not.
const GROUPS: usize = 256 * 8;

/// A group's index: its key's fields in their order of comparison, so that going through the
/// groups by index goes through the keys in order.
fn group_of(k: &Key) -> usize {
    usize::from(k.vrid) << 3
        | usize::from(k.ipv6) << 2
        | usize::from(k.version == 3) << 1
        | usize::from(k.unicast)
}

fn key_of(group: usize) -> Key {
    Key {
        vrid: (group >> 3) as u8,
        ipv6: group & 4 != 0,
        version: if group & 2 != 0 { 3 } else { 2 },
        unicast: group & 1 != 0,
    }
}

#[derive(Clone, Debug, Default)]
pub struct Table {
    limits: Limits,
    slots: Vec<Slot>,
    /// Each slot's place among all routers and among its group's.
    all_links: Vec<Link>,
    group_links: Vec<Link>,
    /// Slots of routers that left the table, for the next ones.
    free: Vec<usize>,
    index: HashMap<Place, usize>,
    /// By [`group_of`]; empty until the first router.
    groups: Vec<Group>,
    /// Every router, the most recently heard first.
    all: List,
    rejected: BTreeMap<Key, Rejected>,
    /// Packets that do not decode: (time, source, why), the first [`MALFORMED_KEPT`].
    malformed: Vec<(u64, IpAddr, String)>,
    malformed_count: u64,
    pub packets: u64,
    pub last_us: u64,
    evicted: u64,
    expired: u64,
}

/// What the table's bounds took out, and the bounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// Routers that made way for newer ones: a cap was hit.
    pub evicted: u64,
    /// Routers that expired after a long silence.
    pub expired: u64,
    pub max_routers: u64,
    pub max_per_group: u64,
}

impl Dropped {
    pub fn is_none(&self) -> bool {
        self.evicted == 0 && self.expired == 0
    }
}

/// The table as one value (the daemon's `segment` answer, sniff --json's last line).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub groups: Vec<GroupSnapshot>,
    pub findings: Vec<Finding>,
    pub free_vrids: Vec<u8>,
    pub packets: u64,
    /// Microseconds since the epoch of the last packet.
    pub last_us: u64,
    /// Absent while nothing was dropped.
    #[serde(default, skip_serializing_if = "Dropped::is_none")]
    pub dropped: Dropped,
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

/// Whether another router than `src` advertises at `now_us`.
fn others_active(active: &[Option<(IpAddr, u64)>; 2], src: IpAddr, now_us: u64) -> bool {
    active
        .iter()
        .flatten()
        .any(|(ip, until)| *ip != src && *until > now_us)
}

/// `src`'s adverts stay current until `until`: it takes its own place, or that of the one
/// ending first if it ends later.
fn note_active(active: &mut [Option<(IpAddr, u64)>; 2], src: IpAddr, until: u64) {
    if let Some(e) = active.iter_mut().flatten().find(|(ip, _)| *ip == src) {
        e.1 = until;
        return;
    }
    let ends = |k: usize| active[k].map_or(0, |(_, u)| u);
    let k = if ends(0) <= ends(1) { 0 } else { 1 };
    if active[k].is_none_or(|(_, u)| u < until) {
        active[k] = Some((src, until));
    }
}

impl Table {
    pub fn with_limits(limits: Limits) -> Table {
        Table {
            limits,
            ..Table::default()
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Routers held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Routers held in the group `key`.
    pub fn group_len(&self, key: &Key) -> usize {
        self.groups.get(group_of(key)).map_or(0, |g| g.order.len())
    }

    pub fn router(&self, key: &Key, ip: IpAddr) -> Option<&Router> {
        self.index
            .get(&place(key, ip))
            .map(|&i| &self.slots[i].router)
    }

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
        self.expire(self.last_us);
        let key = Key {
            vrid: advert.vrid,
            ipv6: s.src.is_ipv6(),
            version: advert.version.number(),
            unicast: !s.dst.is_multicast(),
        };
        // RFC 5798 §5.1.1.3: TTL / hop limit 255, else the packet came from off-link; and a
        // checksum that verifies. Either failing: evidence, not a router.
        let (bad_ttl, bad_checksum) = (s.ttl != 255, checksum.is_none());
        if bad_ttl || bad_checksum {
            self.reject(key, s.src, bad_ttl, bad_checksum);
            return;
        }
        let i = self.slot_for(key, s.src);
        let group = &mut self.groups[group_of(&key)];
        let r = &mut self.slots[i].router;
        // RFC 5798 §6.4.3: a master that hears another master's advert steps down or
        // answers; two routers that keep advertising together are a split brain.
        if advert.priority != 0 && others_active(&group.active, s.src, s.ts_us) {
            r.concurrent += 1;
        }
        r.heard(s, advert);
        note_active(&mut group.active, s.src, s.ts_us + r.interval_us() * 3 / 2);
    }

    /// An advert that failed a check: counted for its group (and its router, if known).
    fn reject(&mut self, key: Key, src: IpAddr, bad_ttl: bool, bad_checksum: bool) {
        let tally = self.rejected.entry(key).or_default();
        if bad_ttl {
            tally.bad_ttl.add(src);
        }
        if bad_checksum {
            tally.bad_checksum.add(src);
        }
        if let Some(&i) = self.index.get(&place(&key, src)) {
            let r = &mut self.slots[i].router;
            r.bad_ttl += u64::from(bad_ttl);
            r.bad_checksum += u64::from(bad_checksum);
        }
    }

    /// The slot of `src` in group `key`, moved to the front of both lists; a new one when
    /// it is not held yet, made room for by evicting the least recently heard.
    fn slot_for(&mut self, key: Key, src: IpAddr) -> usize {
        if self.groups.is_empty() {
            self.groups.resize_with(GROUPS, Group::default);
        }
        let (g, at) = (group_of(&key), place(&key, src));
        if let Some(&i) = self.index.get(&at) {
            self.all.touch(&mut self.all_links, i);
            self.groups[g].order.touch(&mut self.group_links, i);
            return i;
        }
        let order = &self.groups[g].order;
        if order.len() >= self.limits.per_group.max(1)
            && let Some(oldest) = order.back()
        {
            self.remove(oldest);
            self.evicted += 1;
        }
        if self.index.len() >= self.limits.routers.max(1)
            && let Some(oldest) = self.all.back()
        {
            self.remove(oldest);
            self.evicted += 1;
        }
        let slot = Slot {
            key,
            ip: src,
            router: Router::default(),
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                self.all_links.push(Link::default());
                self.group_links.push(Link::default());
                self.slots.len() - 1
            }
        };
        self.index.insert(at, i);
        self.all.push_front(&mut self.all_links, i);
        self.groups[g].order.push_front(&mut self.group_links, i);
        i
    }

    /// Takes slot `i` out of the table.
    fn remove(&mut self, i: usize) {
        let (key, ip) = (self.slots[i].key, self.slots[i].ip);
        self.index.remove(&place(&key, ip));
        self.all.remove(&mut self.all_links, i);
        let g = &mut self.groups[group_of(&key)];
        g.order.remove(&mut self.group_links, i);
        for a in &mut g.active {
            if a.is_some_and(|(x, _)| x == ip) {
                *a = None;
            }
        }
        // Its strings and vectors go now, not when the slot is taken again.
        self.slots[i].router = Router::default();
        self.free.push(i);
    }

    /// How long `r` may be silent before it expires.
    fn silence_us(&self, r: &Router) -> u64 {
        (r.interval_us() * self.limits.silent_intervals).max(self.limits.min_silence_us)
    }

    /// Drops the routers silent for too long at `now_us`, from the least recently heard on
    /// (one heard later but with a shorter interval goes once those before it have).
    pub fn expire(&mut self, now_us: u64) {
        while let Some(i) = self.all.back() {
            let r = &self.slots[i].router;
            if now_us.saturating_sub(r.last_us) <= self.silence_us(r) {
                break;
            }
            self.remove(i);
            self.expired += 1;
        }
    }

    /// The router advertising for `key` now (the last heard, if still within its intervals).
    pub fn master(&self, key: &Key) -> Option<IpAddr> {
        let slot = &self.slots[self.groups.get(group_of(key))?.order.front()?];
        let r = &slot.router;
        let alive = self.last_us.saturating_sub(r.last_us) <= r.interval_us() * ALIVE_INTERVALS;
        (alive && !r.left).then_some(slot.ip)
    }

    /// VRIDs no router uses (over both families and versions).
    pub fn free_vrids(&self) -> Vec<u8> {
        let mut used = [false; 256];
        for (k, _) in self.held_groups() {
            used[usize::from(k.vrid)] = true;
        }
        (1..=255u8).filter(|v| !used[usize::from(*v)]).collect()
    }

    pub fn dropped(&self) -> Dropped {
        Dropped {
            evicted: self.evicted,
            expired: self.expired,
            max_routers: self.limits.routers as u64,
            max_per_group: self.limits.per_group as u64,
        }
    }

    /// The groups that hold routers, in key order.
    fn held_groups(&self) -> impl Iterator<Item = (Key, &Group)> {
        self.groups
            .iter()
            .enumerate()
            .filter(|(_, g)| !g.order.is_empty())
            .map(|(i, g)| (key_of(i), g))
    }

    /// The table as one value, groups in key order and routers in address order.
    pub fn snapshot(&self) -> Snapshot {
        let groups: Vec<GroupSnapshot> = self
            .held_groups()
            .map(|(k, g)| {
                let mut routers: Vec<(IpAddr, Router)> = g
                    .order
                    .iter(&self.group_links)
                    .map(|i| (self.slots[i].ip, self.slots[i].router.clone()))
                    .collect();
                routers.sort_unstable_by_key(|(ip, _)| *ip);
                GroupSnapshot {
                    key: k,
                    master: self.master(&k),
                    routers,
                }
            })
            .collect();
        let malformed = Malformed {
            count: self.malformed_count,
            kept: &self.malformed,
        };
        Snapshot {
            findings: findings::findings(&groups, &self.rejected, malformed),
            groups,
            free_vrids: self.free_vrids(),
            packets: self.packets,
            last_us: self.last_us,
            dropped: self.dropped(),
        }
    }

    /// The conflicts, each with its evidence (a snapshot's).
    pub fn findings(&self) -> Vec<Finding> {
        self.snapshot().findings
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
    use crate::vrrp::packet::{Advert, Auth, AuthType, Version};

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
        assert_eq!(t.group_len(&KEY), 2);
        assert!((t.router(&KEY, ip("10.0.0.2")).unwrap().rate() - 1.0).abs() < 0.01);
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
        assert_eq!(t.router(&KEY, ip("10.0.0.1")).unwrap().priority_zero, 1);
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

    /// Advert `n` of a flood: VRIDs 1-255 in turn, a source never seen before, 255 virtual
    /// addresses (the most an advert can carry), one every 100 µs.
    fn spoofed(n: u32) -> Observed {
        let vrid = (n % 255 + 1) as u8;
        let src = std::net::Ipv4Addr::from(0x0a64_0000 + n).to_string();
        with(advert(f64::from(n) * 1e-4, &src, 100), |a| {
            a.vrid = vrid;
            a.addrs = (1..=255u32)
                .map(|k| IpAddr::from(std::net::Ipv4Addr::from(0x0ac8_0000 + k)))
                .collect();
        })
    }

    #[test]
    fn a_group_index_names_one_key_and_keeps_their_order() {
        let keys: Vec<Key> = (0..GROUPS).map(key_of).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "in key order");
        assert!((0..GROUPS).all(|i| group_of(&keys[i]) == i));
        assert_eq!(group_of(&KEY), 51 * 8);
    }

    #[test]
    fn a_flood_of_spoofed_adverts_stays_within_the_caps() {
        let mut t = Table::default();
        let limits = t.limits();
        let mut after_10k = 0;
        for n in 0..100_000 {
            t.add(&spoofed(n));
            if n == 9_999 {
                after_10k = serde_json::to_string(&t.snapshot()).unwrap().len();
            }
        }
        assert_eq!(t.len(), limits.routers);
        let snap = t.snapshot();
        assert!(
            snap.groups
                .iter()
                .all(|g| g.routers.len() <= limits.per_group)
        );
        let held: usize = snap.groups.iter().map(|g| g.routers.len()).sum();
        assert_eq!(held, limits.routers);
        assert_eq!(snap.dropped.evicted, 100_000 - limits.routers as u64);
        assert_eq!(snap.dropped.max_routers, limits.routers as u64);
        // Each router keeps the first addresses of its advert and counts the rest.
        let (_, r) = &snap.groups[0].routers[0];
        assert_eq!((r.addrs.len(), r.addrs_more), (32, 223));
        // The snapshot is as big after 100,000 adverts as after 10,000: what was evicted
        // costs nothing (here under a kilobyte a router).
        let size = serde_json::to_string(&snap).unwrap().len();
        assert!(size < limits.routers * 1024, "{size} bytes");
        assert!(
            size <= after_10k + after_10k / 20,
            "{after_10k} then {size}"
        );
        // And the summary says the table was full.
        let text = super::super::report::summary(&t);
        assert!(text.contains("table full: 98976 router(s)"), "{text}");
    }

    #[test]
    fn the_least_recently_heard_makes_way() {
        let mut t = Table::with_limits(Limits {
            routers: 3,
            per_group: 2,
            ..Limits::default()
        });
        // The group is full: .1 heard again, so .2 makes way for .3.
        t.add(&advert(0.0, "10.0.0.1", 150));
        t.add(&advert(0.1, "10.0.0.2", 100));
        t.add(&advert(1.0, "10.0.0.1", 150));
        t.add(&advert(1.1, "10.0.0.3", 100));
        let held = |t: &Table, key: &Key| -> Vec<String> {
            t.snapshot()
                .groups
                .iter()
                .filter(|g| g.key == *key)
                .flat_map(|g| g.routers.iter().map(|(ip, _)| ip.to_string()))
                .collect()
        };
        assert_eq!(held(&t, &KEY), ["10.0.0.1", "10.0.0.3"]);
        // The table is full: a router of another group takes the place of the least
        // recently heard of all (.1, since .3 came after it).
        let other = |t: f64, src: &str| with(advert(t, src, 100), |a| a.vrid = 52);
        t.add(&other(1.2, "10.0.0.9"));
        t.add(&other(1.3, "10.0.0.8"));
        assert_eq!(held(&t, &KEY), ["10.0.0.3"]);
        assert_eq!(t.len(), 3);
        assert_eq!(t.snapshot().dropped.evicted, 2);
        let summary = super::super::report::summary(&t);
        assert!(
            summary.contains("at most 3 routers, 2 per group"),
            "{summary}"
        );
    }

    #[test]
    fn silent_routers_expire_after_ten_intervals_and_at_least_five_minutes() {
        let slow = |t: f64, src: &str| {
            with(advert(t, src, 100), |a| {
                a.vrid = 52;
                a.interval = Duration::secs(60)
            })
        };
        let mut t = table(&[advert(0.0, "10.0.0.1", 150), slow(1.0, "10.0.0.2")]);
        // 1 s interval: ten intervals are less than the five minutes it is kept at least.
        t.add(&advert(299.0, "10.0.0.3", 100));
        assert!(t.router(&KEY, ip("10.0.0.1")).is_some());
        t.add(&advert(300.5, "10.0.0.3", 100));
        assert!(t.router(&KEY, ip("10.0.0.1")).is_none(), "silent 300.5 s");
        assert_eq!(t.snapshot().dropped.expired, 1);
        // 60 s interval: kept for ten of them.
        let slow_key = Key { vrid: 52, ..KEY };
        t.expire(600_000_000);
        assert!(t.router(&slow_key, ip("10.0.0.2")).is_some());
        t.expire(601_500_000);
        assert!(t.router(&slow_key, ip("10.0.0.2")).is_none());
        assert_eq!(t.group_len(&slow_key), 0);
        assert!(t.free_vrids().contains(&52), "its group went with it");
        assert_eq!(t.snapshot().dropped.evicted, 0, "nothing was full");
    }

    #[test]
    fn adverts_that_fail_a_check_are_counted_not_kept() {
        let mut t = table(&[advert(0.0, "10.0.0.1", 150)]);
        for n in 0..10_000u32 {
            let src = std::net::Ipv4Addr::from(0x0a65_0000 + n).to_string();
            let mut routed = advert(1.0, &src, 100);
            routed.ttl = 64;
            t.add(&routed);
            let mut junk = advert(1.0, &src, 100);
            junk.advert = Decoded::Malformed {
                error: "short".into(),
            };
            t.add(&junk);
        }
        let mut broken = advert(2.0, "10.0.0.1", 150);
        broken.advert = Decoded::Advert {
            advert: broken.advert().unwrap().clone(),
            checksum: None,
        };
        t.add(&broken);
        assert_eq!(t.len(), 1, "only the router whose adverts passed");
        let r = t.router(&KEY, ip("10.0.0.1")).unwrap();
        assert_eq!((r.adverts, r.bad_checksum), (1, 1));
        let f = t.findings();
        let kinds: Vec<&str> = f.iter().map(|f| f.kind.as_ref()).collect();
        assert_eq!(kinds, ["bad-ttl", "bad-checksum", "malformed"]);
        assert!(f[0].message.contains("10000 advert(s)"), "{}", f[0].message);
        assert_eq!(
            f[0].evidence.len(),
            super::super::rejected::SOURCES_KEPT + 1
        );
        assert_eq!(f[0].evidence[0], "10.101.0.0: 1 advert(s)");
        assert_eq!(f[1].evidence, ["10.0.0.1: 1 advert(s)"]);
        assert!(f[2].message.starts_with("10000 packet(s)"));
        assert_eq!(t.malformed.len(), MALFORMED_KEPT);
    }
}
