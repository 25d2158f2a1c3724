//! Snapshots for the tests and benchmarks of the protocol and the console: a load balancer
//! with a MASTER, a BACKUP and a FAULT instance, scripts, and an LVS service with a real
//! server down. Only test builds have it (`cfg(test)`, or the `testing` feature the benches
//! turn on), never the release binary. Its status is the one in
//! tests/data/control/reply-status.json (with `lvs_mode` set): a change shows there.

use super::vrrp::Stats;
use super::{
    GroupStatus, InstanceStatus, RealServerStatus, ScriptStatus, Status, TrackerStatus,
    VirtualServerStatus,
};

pub fn instance(name: &str, state: &str, prio: u8) -> InstanceStatus {
    let backup = state == "BACKUP";
    InstanceStatus {
        name: name.into(),
        interface: "eth0".into(),
        vrid: 51,
        version: 2,
        state: state.into(),
        base_priority: prio,
        effective_priority: prio,
        master: backup.then(|| "10.0.0.1".to_string()),
        master_priority: backup.then_some(150),
        vips: vec!["10.0.0.100/24".into()],
        since_transition_s: 42.0,
        adver_int_s: 1.0,
        master_down_interval_s: 3.609375,
        next_advert_s: (state == "MASTER").then_some(0.5),
        master_down_in_s: backup.then_some(2.5),
        last_advert_gap_s: backup.then_some(1.0),
        advert_gaps: None,
        trackers: Vec::new(),
        stats: Stats {
            advert_rcvd: if backup { 3600 } else { 12 },
            advert_sent: if backup { 0 } else { 3590 },
            become_master: 1,
            ..Stats::default()
        },
    }
}

fn tracker(id: &str, weight: i32, status: &str, effect: &str) -> TrackerStatus {
    TrackerStatus {
        id: id.into(),
        weight,
        status: status.into(),
        effect: effect.into(),
    }
}

pub fn status() -> Status {
    let mut web = instance("VI_WEB", "MASTER", 150);
    web.effective_priority = 140;
    web.vrid = 10;
    web.trackers = vec![
        tracker("script:chk_nginx", -10, "down", "-10"),
        tracker("interface:eth1", 0, "up", "+0"),
    ];
    let mut db = instance("VI_DB", "BACKUP", 100);
    db.vrid = 20;
    db.interface = "eth1".into();
    db.vips = vec!["10.0.1.100/24".into(), "10.0.1.101/24".into()];
    let mut mail = instance("VI_MAIL", "FAULT", 90);
    mail.vrid = 30;
    mail.trackers = vec![tracker("file:/run/mail.ok", 0, "down", "fault")];
    mail.stats.authtype_mismatch = 3;
    Status {
        pid: 4242,
        host: "lb1".into(),
        uptime_s: 3723.0,
        config: "/etc/keepalived/keepalived.conf".into(),
        config_id: "lb1".into(),
        instances: vec![web, db, mail],
        groups: vec![GroupStatus {
            name: "G_FRONT".into(),
            state: "MASTER".into(),
        }],
        scripts: vec![ScriptStatus {
            name: "chk_nginx".into(),
            status: "down".into(),
            rise: 2,
            fall: 3,
            successes: 0,
            failures: 4,
            runs: 1234,
            last_exit: Some(7),
            last_timed_out: false,
            last_runtime_ms: Some(12.5),
            last_run_ago_s: Some(0.4),
            error: None,
        }],
        virtual_servers: vec![VirtualServerStatus {
            id: "10.0.0.100:80 TCP".into(),
            scheduler: "wrr".into(),
            quorum: 1,
            quorum_up: true,
            alive_weight: 1,
            sorry_server: Some("10.0.0.99:80".into()),
            sorry_active: false,
            suspended: false,
            real_servers: vec![
                RealServerStatus {
                    addr: "10.0.0.11:80".into(),
                    weight: 1,
                    alive: true,
                    checker: "HTTP_GET".into(),
                    last_error: None,
                    latency_ms: Some(3.2),
                },
                RealServerStatus {
                    addr: "10.0.0.12:80".into(),
                    weight: 1,
                    alive: false,
                    checker: "HTTP_GET".into(),
                    last_error: Some("connect: connection refused".into()),
                    latency_ms: None,
                },
            ],
        }],
        lvs_mode: None,
    }
}

/// `n` instances (for the benchmarks): a third each MASTER, BACKUP and FAULT.
pub fn many(n: usize) -> Status {
    let mut s = status();
    s.instances = (0..n)
        .map(|k| {
            let state = ["MASTER", "BACKUP", "FAULT"][k % 3];
            let mut i = instance(&format!("VI_{k:04}"), state, 100 + (k % 100) as u8);
            i.vrid = (k % 255 + 1) as u8;
            i.interface = format!("eth{}", k % 8);
            i
        })
        .collect();
    s
}
