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
