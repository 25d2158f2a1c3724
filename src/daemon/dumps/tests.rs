//! The three dump files of a fixed configuration after a fixed run, byte for byte against
//! golden files in tests/data/dumps/ (`KACONSOLE_BLESS=1` rewrites them; review the diff).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use super::*;
use crate::config::{LoadOptions, load_text};
use crate::time::Instant;
use crate::vrrp::engine::instance_configs;
use crate::vrrp::event::Input;

const CONFIG: &str = r#"
global_defs {
    router_id lb-golden
    smtp_alert_vrrp true
    vrrp_garp_master_delay 3
    vrrp_garp_interval 0.002
    enable_script_security
}
vrrp_script chk_web {
    script "/usr/bin/true web"
    interval 2
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret1
    }
    virtual_ipaddress {
        10.0.0.100/24 dev eth0 label eth0:vip
        10.0.0.101/24
    }
    virtual_ipaddress_excluded {
        10.0.1.100/24
    }
    virtual_routes {
        10.88.0.0/24 via 10.0.0.254 dev eth0 metric 5
        default via 10.0.0.1 dev eth0 table 100
    }
    virtual_rules {
        from 10.0.0.100 table 100
        to 10.9.0.0/16 fwmark 0x10/0xff preference 100 goto 200
    }
    track_script {
        chk_web
    }
    notify_master "/usr/bin/true master"
    notify "/usr/bin/true any"
    smtp_alert
}
vrrp_instance VI_2 {
    state BACKUP
    interface eth1
    virtual_router_id 52
    priority 100
    version 3
    advert_int 0.5
    nopreempt
    unicast_src_ip 10.0.2.1
    unicast_peer {
        10.0.2.2
    }
    virtual_ipaddress {
        10.0.2.100/24
    }
    notify_priority_changes
}
"#;

/// The engine after a start, a tracker report and five seconds of running.
fn run() -> (Engine, crate::config::blocks::Config) {
    let loaded = load_text(
        Path::new("/etc/keepalived/keepalived.conf"),
        CONFIG.as_bytes(),
        &LoadOptions::default(),
        None,
    );
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let config = loaded.config;
    let (instances, groups) = instance_configs(&config, |_| IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    let mut engine = Engine::new(instances, groups).unwrap();
    let mut out = Vec::new();
    let s = |secs: f64| Instant((secs * 1e6) as u64);
    engine.handle(Input::Start, s(0.5), &mut out);
    engine.handle(
        Input::Track {
            id: "script:chk_web".into(),
            status: crate::vrrp::track::TrackStatus::Up,
        },
        s(0.6),
        &mut out,
    );
    while let Some(t) = engine.poll_timeout().filter(|t| *t <= s(6.0)) {
        engine.handle(Input::Timeout, t, &mut out);
    }
    (engine, config)
}

fn golden(name: &str, text: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/dumps")
        .join(name);
    if std::env::var_os("KACONSOLE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (KACONSOLE_BLESS=1 writes it)", path.display()));
    assert_eq!(text, want, "{name} differs from its golden file");
}

const STARTED: f64 = 1_765_000_000.25;

#[test]
fn the_dumps_match_their_golden_files() {
    let (engine, config) = run();
    golden("keepalived.stats", &stats_text(&engine));
    golden("keepalived.json", &json_text(&engine, &config, STARTED));
    // json_version 2: the same array under "vrrp".
    let array = json_text(&engine, &config, STARTED);
    let wrapped = super::layout(array.clone(), 2);
    assert_eq!(wrapped, format!("{{\"vrrp\":{array}}}"));
    assert_eq!(super::layout(array.clone(), 1), array);
    // Without the interfaces section, which is the machine's.
    golden("keepalived.data", &data_text(&engine, &config, STARTED));
}
