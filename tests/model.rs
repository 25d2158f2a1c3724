//! The model holds what keepalived would run with, also where kaconsole reports the input as an
//! error: a flag given `off` is on, a repeated script keeps the first, a BACKUP after MASTER
//! is ignored. (`check --dump` prints this model; the daemon will run it.)

use std::path::Path;

use kaconsole::config::blocks::Config;
use kaconsole::config::blocks::vrrp::State;
use kaconsole::config::table::Command;
use kaconsole::config::{LoadOptions, load_text};

fn model(text: &str) -> (Config, Vec<&'static str>) {
    let l = load_text(
        Path::new("/test/keepalived.conf"),
        text.as_bytes(),
        &LoadOptions::default(),
        None,
    );
    let codes = l.diagnostics.iter().map(|d| d.code).collect();
    (l.config, codes)
}

fn argv(c: Option<&Command>) -> Vec<&str> {
    c.map(|c| c.argv.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

const INSTANCE_BODY: &str = "interface eth0\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        10.0.0.1/24\n    }\n";

#[test]
fn a_flag_given_off_is_on() {
    let (c, codes) = model(&format!(
        "global_defs {{\n    vrrp_strict off\n}}\nvrrp_instance VI_1 {{\n    {INSTANCE_BODY}}}\n"
    ));
    assert!(codes.contains(&"flag-with-value"), "{codes:?}");
    assert!(c.global_defs.vrrp_strict);
    assert_eq!(c.vrrp_instances[0].strict_mode, Some(true));
}

#[test]
fn backup_after_master_is_ignored_master_after_backup_is_not() {
    let (c, codes) = model(&format!(
        "vrrp_instance A {{\n    state MASTER\n    state BACKUP\n    {INSTANCE_BODY}}}\n"
    ));
    assert_eq!(c.vrrp_instances[0].state, Some(State::Master));
    assert!(codes.contains(&"repeated"));
    let (c, _) = model(&format!(
        "vrrp_instance A {{\n    state BACKUP\n    state MASTER\n    {INSTANCE_BODY}}}\n"
    ));
    assert_eq!(c.vrrp_instances[0].state, Some(State::Master));
}

#[test]
fn repeated_scripts_keep_the_first() {
    let (c, codes) = model(&format!(
        "vrrp_instance VI_1 {{\n    notify_master /bin/first\n    notify_master /bin/second\n    {INSTANCE_BODY}}}\n\
         vrrp_sync_group G {{\n    group {{\n        VI_1\n    }}\n    notify_backup /bin/first\n    notify_backup /bin/second\n}}\n\
         virtual_server 10.0.0.1 80 {{\n    protocol TCP\n    quorum_up /bin/first\n    quorum_up /bin/second\n\
         real_server 10.0.0.2 80 {{\n        notify_down /bin/first\n        notify_down /bin/second\n        TCP_CHECK {{\n        }}\n    }}\n}}\n"
    ));
    assert_eq!(
        codes.iter().filter(|c| **c == "repeated").count(),
        4,
        "{codes:?}"
    );
    assert_eq!(
        argv(c.vrrp_instances[0].notify.master.as_deref()),
        ["/bin/first"]
    );
    assert_eq!(
        argv(c.vrrp_sync_groups[0].notify_backup.as_ref()),
        ["/bin/first"]
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(argv(vs.quorum_up.as_ref()), ["/bin/first"]);
    assert_eq!(
        argv(vs.real_servers[0].notify_down.as_ref()),
        ["/bin/first"]
    );
}

/// What the VRRP engine is given for a configuration: keepalived's defaults and rules resolved.
#[test]
fn the_engine_gets_keepalived_defaults_and_rules() {
    use kaconsole::time::{Duration, Instant};
    use kaconsole::vrrp::engine::{Engine, instance_configs};
    use kaconsole::vrrp::event::{Input, State as RunState};
    use kaconsole::vrrp::instance_config::Auth;
    use kaconsole::vrrp::packet::Version;
    let text = "global_defs {\n    vrrp_garp_master_repeat 3\n}\n\
        vrrp_script chk {\n    script \"/bin/true\"\n    weight -20\n}\n\
        vrrp_instance VI_1 {\n    state MASTER\n    nopreempt\n    interface eth0\n    virtual_router_id 51\n    priority 150\n    advert_int 2\n    authentication {\n        auth_type PASS\n        auth_pass secret\n    }\n    track_script {\n        chk\n    }\n    track_interface {\n        eth9 weight 10\n    }\n    virtual_ipaddress {\n        10.0.0.1/24\n    }\n}\n\
        vrrp_instance VI_2 {\n    strict_mode on\n    interface eth1\n    virtual_router_id 52\n    priority 100\n    preempt_delay 10\n    virtual_ipaddress {\n        10.1.0.1/24\n    }\n}\n\
        vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n}\n";
    let (c, codes) = model(text);
    assert!(!codes.iter().any(|c| c.contains("unknown")), "{codes:?}");
    let (instances, groups) = instance_configs(&c, |_| "10.0.0.2".parse().unwrap());
    let [a, b] = &instances[..] else { panic!() };
    assert_eq!((a.vrid, a.priority, a.version), (51, 150, Version::V2));
    assert_eq!(a.adver_int, Duration::secs(2));
    assert_eq!(
        a.auth,
        Auth::Pass(*b"secret\0\0"),
        "the password, zero-padded to 8"
    );
    assert!(
        a.initial_master && a.preempt,
        "keepalived: nopreempt does not work with state MASTER"
    );
    assert_eq!(a.garp.master_repeat, 3, "the global garp_master_repeat");
    assert_eq!(
        a.garp.lower_prio_repeat, 3,
        "lower-priority GARPs default to the global repeat"
    );
    // A sync group member's weights count only with sync_group_tracking_weight: keepalived
    // drops a weighted script and makes a weighted interface a FAULT tracker.
    let tracked: Vec<(&str, i32)> = a
        .trackers
        .iter()
        .map(|t| (t.id.as_str(), t.weight))
        .collect();
    assert_eq!(tracked, [("interface:eth9", 0)]);
    assert!(
        b.lower_prio_no_advert && b.garp.lower_prio_repeat == 0,
        "strict mode"
    );
    assert_eq!(
        b.preempt_delay,
        Duration::ZERO,
        "strict mode clears preempt_delay"
    );
    assert_eq!(groups[0].members, ["VI_1", "VI_2"]);
    let mut e = Engine::new(instances, groups).unwrap();
    let mut out = Vec::new();
    e.handle(Input::Start, Instant::ZERO, &mut out);
    assert_eq!(
        e.instances()[0].state(),
        RunState::Fault,
        "the tracked interface has not reported yet"
    );
    let up = Input::Link {
        interface: "eth9".into(),
        up: true,
    };
    e.handle(up, Instant(1), &mut out);
    assert!(
        e.instances().iter().all(|i| i.state() == RunState::Backup),
        "keepalived: state MASTER does not survive in a sync group of non-owners"
    );
}
