//! The engines' values in the protocol's terms. The protocol owns its types (so that an engine
//! can change without changing what consoles receive); what the daemon and the lab send is
//! converted here, field by field.

use super::protocol::{advert, segment, vrrp};
use crate::sniff::table;
use crate::vrrp::{event, packet};

/// Whether subscribers get an output: adverts and GARPs would flood them, and the engine's log
/// messages arrive as log lines already.
pub fn interesting(o: &event::Output) -> bool {
    !matches!(
        o,
        event::Output::Send { .. }
            | event::Output::Garp { .. }
            | event::Output::Install
            | event::Output::Uninstall
            | event::Output::Log { .. }
    ) && !matches!(
        o,
        event::Output::Notify(event::Notify::MasterRxLowerPri { .. })
    )
}

impl From<crate::time::Duration> for vrrp::Duration {
    fn from(d: crate::time::Duration) -> Self {
        vrrp::Duration(d.as_micros())
    }
}

impl From<event::State> for vrrp::State {
    fn from(s: event::State) -> Self {
        match s {
            event::State::Init => vrrp::State::Init,
            event::State::Backup => vrrp::State::Backup,
            event::State::Master => vrrp::State::Master,
            event::State::Fault => vrrp::State::Fault,
            event::State::Stop => vrrp::State::Stop,
        }
    }
}

impl From<event::Reason> for vrrp::Reason {
    fn from(r: event::Reason) -> Self {
        use event::Reason as E;
        match r {
            E::Startup => Self::Startup,
            E::Owner => Self::Owner,
            E::MasterDown => Self::MasterDown,
            E::Preempted { from, priority } => Self::Preempted { from, priority },
            E::Fault { cause } => Self::Fault { cause },
            E::Recovered => Self::Recovered,
            E::SyncGroup { group } => Self::SyncGroup { group },
            E::AddressRemoved { addr } => Self::AddressRemoved { addr },
            E::Stop => Self::Stop,
        }
    }
}

impl From<event::RxError> for vrrp::RxError {
    fn from(e: event::RxError) -> Self {
        use event::RxError as E;
        match e {
            E::Malformed(why) => Self::Malformed(why),
            E::UnexpectedAh => Self::UnexpectedAh,
            E::MissingAh => Self::MissingAh,
            E::Length { len, expected } => Self::Length { len, expected },
            E::Ttl { got } => Self::Ttl { got },
            E::Version { got, expected } => Self::Version { got, expected },
            E::InvalidAuthType(t) => Self::InvalidAuthType(t),
            E::AuthTypeMismatch { got, expected } => Self::AuthTypeMismatch { got, expected },
            E::Password => Self::Password,
            E::AhIcv => Self::AhIcv,
            E::AhSpi { spi, src } => Self::AhSpi { spi, src },
            E::AhReplay { seq, local } => Self::AhReplay { seq, local },
            E::Interval { mine, got } => Self::Interval { mine, got },
            E::Type(t) => Self::Type(t),
            E::AddrCount { got, expected } => Self::AddrCount { got, expected },
            E::Checksum { version } => Self::Checksum { version },
            E::Destination { unicast } => Self::Destination { unicast },
            E::VipMissing { vrid, addr } => Self::VipMissing { vrid, addr },
            E::UnicastSource(a) => Self::UnicastSource(a),
            E::TtlRange { ttl, min, max } => Self::TtlRange { ttl, min, max },
        }
    }
}

impl From<&event::Stats> for vrrp::Stats {
    fn from(s: &event::Stats) -> Self {
        vrrp::Stats {
            advert_rcvd: s.advert_rcvd,
            advert_sent: s.advert_sent,
            become_master: s.become_master,
            release_master: s.release_master,
            packet_len_err: s.packet_len_err,
            advert_interval_err: s.advert_interval_err,
            ip_ttl_err: s.ip_ttl_err,
            invalid_type_rcvd: s.invalid_type_rcvd,
            addr_list_err: s.addr_list_err,
            invalid_authtype: s.invalid_authtype,
            authtype_mismatch: s.authtype_mismatch,
            auth_failure: s.auth_failure,
            pri_zero_rcvd: s.pri_zero_rcvd,
            pri_zero_sent: s.pri_zero_sent,
            version_err: s.version_err,
            checksum_err: s.checksum_err,
        }
    }
}

impl From<event::Notify> for vrrp::Notify {
    fn from(n: event::Notify) -> Self {
        use event::Notify as E;
        match n {
            E::State { state, priority } => Self::State {
                state: state.into(),
                priority,
            },
            E::MasterRxLowerPri { priority } => Self::MasterRxLowerPri { priority },
            E::Deleted {
                priority,
                was_fault,
            } => Self::Deleted {
                priority,
                was_fault,
            },
            E::Priority { state, priority } => Self::Priority {
                state: state.into(),
                priority,
            },
        }
    }
}

impl From<event::Output> for vrrp::Output {
    fn from(o: event::Output) -> Self {
        use event::Output as E;
        match o {
            E::Send { advert, ah_seq } => Self::Send {
                advert: advert.into(),
                ah_seq,
            },
            E::Install => Self::Install,
            E::Uninstall => Self::Uninstall,
            E::Garp { addrs, rounds } => Self::Garp { addrs, rounds },
            E::StateChange { from, to, reason } => Self::StateChange {
                from: from.into(),
                to: to.into(),
                reason: reason.into(),
            },
            E::Priority { from, to } => Self::Priority { from, to },
            E::Notify(n) => Self::Notify(n.into()),
            E::Rejected { from, error } => Self::Rejected {
                from,
                error: error.into(),
            },
            E::Log { message } => Self::Log { message },
            E::LearnedInterval { interval } => Self::LearnedInterval {
                interval: interval.into(),
            },
        }
    }
}

impl From<packet::Advert> for advert::Advert {
    fn from(a: packet::Advert) -> Self {
        advert::Advert {
            version: match a.version {
                packet::Version::V2 => advert::Version::V2,
                packet::Version::V3 => advert::Version::V3,
            },
            vrid: a.vrid,
            priority: a.priority,
            interval: a.interval.into(),
            auth: a.auth.map(|x| advert::Auth {
                kind: match x.kind {
                    packet::AuthType::None => advert::AuthType::None,
                    packet::AuthType::Pass => advert::AuthType::Pass,
                    packet::AuthType::Ah => advert::AuthType::Ah,
                    packet::AuthType::Unknown(n) => advert::AuthType::Unknown(n),
                },
                data: x.data,
            }),
            addrs: a.addrs,
        }
    }
}

impl From<table::Snapshot> for segment::Snapshot {
    fn from(s: table::Snapshot) -> Self {
        segment::Snapshot {
            groups: s.groups.into_iter().map(Into::into).collect(),
            findings: s.findings.into_iter().map(Into::into).collect(),
            free_vrids: s.free_vrids,
            packets: s.packets,
            last_us: s.last_us,
            dropped: segment::Dropped {
                evicted: s.dropped.evicted,
                expired: s.dropped.expired,
                max_routers: s.dropped.max_routers,
                max_per_group: s.dropped.max_per_group,
            },
        }
    }
}

impl From<table::GroupSnapshot> for segment::GroupSnapshot {
    fn from(g: table::GroupSnapshot) -> Self {
        segment::GroupSnapshot {
            key: segment::Key {
                vrid: g.key.vrid,
                ipv6: g.key.ipv6,
                version: g.key.version,
                unicast: g.key.unicast,
            },
            master: g.master,
            routers: g.routers.into_iter().map(|(a, r)| (a, r.into())).collect(),
        }
    }
}

impl From<table::Router> for segment::Router {
    fn from(r: table::Router) -> Self {
        segment::Router {
            macs: r.macs,
            vmac: r.vmac,
            priority: r.priority,
            interval_cs: r.interval_cs,
            addrs: r.addrs,
            addrs_more: r.addrs_more,
            auth: r.auth.into_owned(),
            password: r.password,
            adverts: r.adverts,
            priority_zero: r.priority_zero,
            left: r.left,
            bad_ttl: r.bad_ttl,
            bad_checksum: r.bad_checksum,
            first_us: r.first_us,
            last_us: r.last_us,
            concurrent: r.concurrent,
        }
    }
}

impl From<table::Finding> for segment::Finding {
    fn from(f: table::Finding) -> Self {
        segment::Finding {
            kind: f.kind.into_owned(),
            vrid: f.vrid,
            message: f.message,
            evidence: f.evidence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of a golden file of tests/data/control/.
    fn golden(name: &str) -> Vec<serde_json::Value> {
        let path = format!("{}/tests/data/control/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn every_output_converts_to_its_golden_line_and_reads_the_same() {
        // The engine's outputs still read the wire's JSON (their traces use it), which gives an
        // engine value for every golden event; should an engine's JSON change, build these
        // values here instead.
        let names = std::fs::read_dir(format!("{}/tests/data/control", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("event-vrrp-"));
        let mut outputs = 0;
        for name in names {
            for line in golden(&name) {
                let wire = &line["event"]["output"];
                let engine: event::Output = serde_json::from_value(wire.clone()).unwrap();
                let ours = vrrp::Output::from(engine.clone());
                assert_eq!(serde_json::to_value(&ours).unwrap(), *wire, "{name}");
                // The console's words are the engine's (keepalived's log lines).
                match (&engine, &ours) {
                    (
                        event::Output::Rejected { error: e, .. },
                        vrrp::Output::Rejected { error: o, .. },
                    ) => assert_eq!(e.to_string(), o.to_string()),
                    (
                        event::Output::StateChange { from, to, .. },
                        vrrp::Output::StateChange { from: f, to: t, .. },
                    ) => assert_eq!(
                        (from.to_string(), to.to_string()),
                        (f.to_string(), t.to_string())
                    ),
                    _ => {}
                }
                outputs += 1;
            }
        }
        assert!(outputs > 50, "{outputs}");
    }

    #[test]
    fn what_subscribers_get() {
        let not = [
            event::Output::Install,
            event::Output::Log {
                message: "x".into(),
            },
            event::Output::Notify(event::Notify::MasterRxLowerPri { priority: 1 }),
        ];
        assert!(not.iter().all(|o| !interesting(o)));
        assert!(interesting(&event::Output::Priority { from: 1, to: 2 }));
    }

    #[test]
    fn a_sniffed_segment_and_the_counters_convert_field_for_field() {
        let t = table::from_test_captures(&[
            "vrrp2-multi-vip.pcap",
            "vrrp3-ipv4.pcap",
            "vrrp2-auth-pass.pcap",
        ]);
        let engine = t.snapshot();
        assert!(!engine.groups.is_empty() && !engine.findings.is_empty());
        let ours = segment::Snapshot::from(engine.clone());
        assert_eq!(
            serde_json::to_value(&ours).unwrap(),
            serde_json::to_value(&engine).unwrap()
        );
        for (g, o) in engine.groups.iter().zip(&ours.groups) {
            for ((_, r), (_, s)) in g.routers.iter().zip(&o.routers) {
                assert_eq!(r.rate(), s.rate());
            }
        }
        let stats = event::Stats {
            advert_rcvd: 1,
            advert_sent: 2,
            become_master: 3,
            release_master: 4,
            packet_len_err: 5,
            advert_interval_err: 6,
            ip_ttl_err: 7,
            invalid_type_rcvd: 8,
            addr_list_err: 9,
            invalid_authtype: 10,
            authtype_mismatch: 11,
            auth_failure: 12,
            pri_zero_rcvd: 13,
            pri_zero_sent: 14,
            version_err: 15,
            checksum_err: 16,
        };
        assert_eq!(
            serde_json::to_value(vrrp::Stats::from(&stats)).unwrap(),
            serde_json::to_value(&stats).unwrap()
        );
    }
}
