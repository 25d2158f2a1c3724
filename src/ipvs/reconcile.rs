//! What to tell the kernel: the table wanted against the table read back, as the shortest
//! list of operations. Services and destinations that already match are not touched (a
//! reload or a checker change must not reset the connections of a service that did not
//! change); a changed setting is an edit, not a delete and add.

use std::collections::BTreeMap;

use super::message::{Dest, Request, Service, ServiceKey};

/// A service and its destinations, wanted or found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceState {
    pub service: Service,
    pub dests: Vec<Dest>,
}

fn dest_key(d: &Dest) -> (std::net::IpAddr, u16) {
    (d.addr, d.port)
}

/// The operations that make `actual` into `desired`. A service found but not wanted is
/// deleted only when `ours` says it belongs to this configuration (someone else's services
/// are left alone; keepalived does the same unless `lvs_flush`).
pub fn reconcile(
    desired: &[ServiceState],
    actual: &[ServiceState],
    ours: impl Fn(&ServiceKey) -> bool,
) -> Vec<Request> {
    let found: BTreeMap<ServiceKey, &ServiceState> =
        actual.iter().map(|s| (s.service.key, s)).collect();
    let wanted: BTreeMap<ServiceKey, &ServiceState> =
        desired.iter().map(|s| (s.service.key, s)).collect();
    let mut ops = Vec::new();
    for key in found.keys() {
        if !wanted.contains_key(key) && ours(key) {
            ops.push(Request::DelService(*key));
        }
    }
    for (key, want) in &wanted {
        let Some(have) = found.get(key) else {
            ops.push(Request::NewService(want.service.clone()));
            for d in &want.dests {
                ops.push(Request::NewDest(*key, d.clone()));
            }
            continue;
        };
        if have.service != want.service {
            ops.push(Request::SetService(want.service.clone()));
        }
        let have_dests: BTreeMap<_, &Dest> = have.dests.iter().map(|d| (dest_key(d), d)).collect();
        let want_dests: BTreeMap<_, &Dest> = want.dests.iter().map(|d| (dest_key(d), d)).collect();
        for (k, d) in &have_dests {
            if !want_dests.contains_key(k) {
                ops.push(Request::DelDest(*key, (*d).clone()));
            }
        }
        for (k, d) in &want_dests {
            match have_dests.get(k) {
                None => ops.push(Request::NewDest(*key, (*d).clone())),
                Some(h) if h != d => ops.push(Request::SetDest(*key, (*d).clone())),
                Some(_) => {}
            }
        }
    }
    ops
}

/// Applies `ops` to a table the way the kernel would (for tests and dry runs).
pub fn apply(table: &mut Vec<ServiceState>, ops: &[Request]) {
    for op in ops {
        match op {
            Request::NewService(s) => table.push(ServiceState {
                service: s.clone(),
                dests: Vec::new(),
            }),
            Request::SetService(s) => {
                if let Some(t) = table.iter_mut().find(|t| t.service.key == s.key) {
                    t.service = s.clone();
                }
            }
            Request::DelService(k) => table.retain(|t| t.service.key != *k),
            Request::NewDest(k, d) | Request::SetDest(k, d) | Request::DelDest(k, d) => {
                let Some(t) = table.iter_mut().find(|t| t.service.key == *k) else {
                    continue;
                };
                t.dests.retain(|x| dest_key(x) != dest_key(d));
                if !matches!(op, Request::DelDest(..)) {
                    t.dests.push(d.clone());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::message::IPPROTO_TCP;
    use proptest::prelude::*;

    fn key(n: u8) -> ServiceKey {
        ServiceKey::Addr {
            proto: IPPROTO_TCP,
            addr: [10, 0, 0, n].into(),
            port: 80,
        }
    }

    fn service(n: u8, sched: &str) -> Service {
        Service {
            key: key(n),
            sched: sched.into(),
            flags: 0,
            timeout: 0,
            netmask: u32::MAX,
            pe_name: None,
        }
    }

    fn dest(n: u8, weight: u32) -> Dest {
        crate::ipvs::desired::dest([10, 0, 1, n].into(), 80, weight, None)
    }

    fn state(n: u8, sched: &str, dests: &[(u8, u32)]) -> ServiceState {
        ServiceState {
            service: service(n, sched),
            dests: dests.iter().map(|(d, w)| dest(*d, *w)).collect(),
        }
    }

    fn sorted(mut t: Vec<ServiceState>) -> Vec<ServiceState> {
        t.sort_by_key(|s| s.service.key);
        for s in &mut t {
            s.dests.sort_by_key(dest_key);
        }
        t
    }

    #[test]
    fn only_what_differs_is_touched() {
        let actual = vec![
            state(1, "rr", &[(1, 1), (2, 1)]),
            state(2, "rr", &[(1, 1)]),
            state(9, "wlc", &[]),
        ];
        let desired = vec![
            state(1, "rr", &[(1, 5), (3, 1)]),
            state(2, "wrr", &[(1, 1)]),
            state(4, "lc", &[(1, 2)]),
        ];
        let ops = reconcile(&desired, &actual, |k| *k != key(9));
        assert_eq!(
            ops,
            [
                Request::DelDest(key(1), dest(2, 1)),
                Request::SetDest(key(1), dest(1, 5)),
                Request::NewDest(key(1), dest(3, 1)),
                Request::SetService(service(2, "wrr")),
                Request::NewService(service(4, "lc")),
                Request::NewDest(key(4), dest(1, 2)),
            ],
            "service 9 is not ours: left alone; service 2's dest is unchanged"
        );
        assert!(reconcile(&desired, &desired, |_| true).is_empty());
    }

    proptest! {
        #[test]
        fn applying_the_operations_gives_the_desired_table(
            have in proptest::collection::btree_map(0u8..6, (0u8..3, proptest::collection::btree_map(0u8..5, 0u32..4, 0..4)), 0..5),
            want in proptest::collection::btree_map(0u8..6, (0u8..3, proptest::collection::btree_map(0u8..5, 0u32..4, 0..4)), 0..5),
        ) {
            let table = |m: &std::collections::BTreeMap<u8, (u8, std::collections::BTreeMap<u8, u32>)>| -> Vec<ServiceState> {
                m.iter()
                    .map(|(n, (s, ds))| {
                        let ds: Vec<(u8, u32)> = ds.iter().map(|(d, w)| (*d, *w)).collect();
                        state(*n, ["rr", "wrr", "lc"][usize::from(*s)], &ds)
                    })
                    .collect()
            };
            let (actual, desired) = (table(&have), table(&want));
            let ops = reconcile(&desired, &actual, |_| true);
            let mut result = actual.clone();
            apply(&mut result, &ops);
            prop_assert_eq!(sorted(result), sorted(desired.clone()));
            prop_assert!(reconcile(&desired, &desired, |_| true).is_empty());
        }
    }
}
