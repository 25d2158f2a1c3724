//! `keepalived.data` (SIGUSR1; vrrp_data.c `dump_data_vrrp`): the global VRRP settings and
//! each instance, with keepalived's labels. keepalived also dumps its socket pool and its
//! own bookkeeping; those are its internals and are left out. Times are UTC.

use std::fmt::Write as _;

use super::text::{seconds, vip_text};
use crate::config::blocks::Config;
use crate::config::blocks::global::GlobalDefs;
use crate::config::blocks::vrrp::VrrpInstance;
use crate::config::values::Micros;
use crate::vrrp::engine::Engine;
use crate::vrrp::event::State;
use crate::vrrp::instance::Instance;
use crate::vrrp::instance_config::Auth;
use crate::vrrp::packet::Version;

fn on(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn enabled(b: bool) -> &'static str {
    if b { "enabled" } else { "disabled" }
}

/// The global definitions and the VRRP topology (the interfaces section is the machine's,
/// see interfaces.rs). `started` is engine time 0 on the wall clock.
pub fn data_text(engine: &Engine, config: &Config, started: f64) -> String {
    let g = &config.global_defs;
    let mut t = String::from("------< Global definitions >------\n");
    for (label, value) in global_lines(g) {
        let _ = writeln!(t, " {label} = {value}");
    }
    let security = enabled(g.enable_script_security);
    let _ = writeln!(t, " Script security {security}");
    t.push_str("------< VRRP Topology >------\n");
    for (idx, i) in engine.instances().iter().enumerate() {
        let m = config.vrrp_instances.get(idx);
        instance_text(&mut t, i, m, g, started);
    }
    t
}

/// The global definitions, label and value.
fn global_lines(g: &GlobalDefs) -> Vec<(&'static str, String)> {
    let secs = |m: Micros| seconds(m.0);
    let opt = |b: Option<bool>| b.map_or("unset", on).to_string();
    let router = g
        .router_id
        .clone()
        .unwrap_or_else(crate::sys::host::short_hostname);
    let lower_prio_delay = g
        .vrrp_garp_lower_prio_delay
        .unwrap_or(g.vrrp_garp_master_delay);
    let lower_prio_repeat = g
        .vrrp_garp_lower_prio_repeat
        .unwrap_or(g.vrrp_garp_master_repeat);
    let interval = |m: Micros| format!("{:.6}", m.0 as f64 / 1e6);
    vec![
        ("Router ID", router),
        ("Default smtp_alert", opt(g.smtp_alert)),
        ("Default smtp_alert_vrrp", opt(g.smtp_alert_vrrp)),
        ("Default smtp_alert_checker", opt(g.smtp_alert_checker)),
        (
            "Checkers log all failures",
            on(g.checker_log_all_failures).into(),
        ),
        ("Dynamic interfaces", on(g.dynamic_interfaces).into()),
        ("LVS flush", on(g.lvs_flush).into()),
        ("VRRP IPv4 mcast group", g.vrrp_mcast_group4.to_string()),
        ("VRRP IPv6 mcast group", g.vrrp_mcast_group6.to_string()),
        ("Gratuitous ARP delay", secs(g.vrrp_garp_master_delay)),
        (
            "Gratuitous ARP repeat",
            g.vrrp_garp_master_repeat.to_string(),
        ),
        (
            "Gratuitous ARP refresh timer",
            secs(g.vrrp_garp_master_refresh),
        ),
        (
            "Gratuitous ARP refresh repeat",
            g.vrrp_garp_master_refresh_repeat.to_string(),
        ),
        (
            "Gratuitous ARP lower priority delay",
            secs(lower_prio_delay),
        ),
        (
            "Gratuitous ARP lower priority repeat",
            lower_prio_repeat.to_string(),
        ),
        ("Num adverts before down", "3".to_string()),
        (
            "Send advert after receive lower priority advert",
            on(!g.vrrp_lower_prio_no_advert).into(),
        ),
        (
            "Send advert after receive higher priority advert",
            on(g.vrrp_higher_prio_send_advert).into(),
        ),
        ("Gratuitous ARP interval", interval(g.vrrp_garp_interval)),
        ("Gratuitous NA interval", interval(g.vrrp_gna_interval)),
        ("VRRP default protocol version", g.vrrp_version.to_string()),
        (
            "VRRP check unicast_src",
            on(g.vrrp_check_unicast_src).into(),
        ),
        (
            "VRRP skip check advert addresses",
            on(g.vrrp_skip_check_adv_addr).into(),
        ),
        ("VRRP strict mode", on(g.vrrp_strict).into()),
    ]
}

/// One ` VRRP Instance = NAME` section.
fn instance_text(
    t: &mut String,
    i: &Instance,
    m: Option<&VrrpInstance>,
    g: &GlobalDefs,
    started: f64,
) {
    let c = i.config();
    let _ = writeln!(t, " VRRP Instance = {}", c.name);
    let _ = writeln!(t, "   VRRP Version = {}", c.version.number());
    let _ = writeln!(t, "   State = {}", i.state());
    let _ = writeln!(t, "   Flags: none");
    let _ = writeln!(t, "   Wantstate = {}", i.wanted_state());
    if i.last_transition().0 > 0 {
        let at = started + i.last_transition().0 as f64 / 1e6;
        let _ = writeln!(t, "   Last transition = {at:.6}");
    }
    let down = i.master_down_interval().as_micros();
    let _ = writeln!(t, "   Master down timer = {down} usecs");
    let _ = writeln!(t, "   Interface = {}", c.interface);
    let _ = writeln!(t, "   Using src_ip = {}", c.src);
    if !c.unicast() {
        let _ = writeln!(t, "   Multicast address {}", c.mcast_dst);
    }
    for (label, value) in instance_lines(i) {
        let _ = writeln!(t, "   {label} = {value}");
    }
    advert_interval(t, i);
    let strict = m.and_then(|m| m.strict_mode).unwrap_or(g.vrrp_strict);
    let accept = m.and_then(|m| m.accept).unwrap_or(!strict);
    let _ = writeln!(t, "   Accept = {}", enabled(accept));
    let _ = writeln!(t, "   Preempt = {}", enabled(c.preempt));
    let auth = match c.auth {
        Auth::None => "none",
        Auth::Pass(_) => "SIMPLE_PASSWORD",
        Auth::Ah(_) => "IPSEC_AH",
    };
    let _ = writeln!(t, "   Authentication type = {auth}");
    if let Some(m) = m {
        addresses_and_notifies(t, i, m);
    }
    let changes = on(c.notify_priority_changes);
    let _ = writeln!(t, "   Notify priority changes = {changes}");
}

/// The gratuitous ARP settings, the down timer, the advert options and the priorities.
fn instance_lines(i: &Instance) -> Vec<(&'static str, String)> {
    let c = i.config();
    let secs = |d: crate::time::Duration| seconds(d.as_micros());
    let g = &c.garp;
    vec![
        ("Gratuitous ARP delay", secs(g.master_delay)),
        ("Gratuitous ARP repeat", g.master_repeat.to_string()),
        ("Gratuitous ARP refresh", secs(g.master_refresh)),
        (
            "Gratuitous ARP refresh repeat",
            g.master_refresh_repeat.to_string(),
        ),
        (
            "Gratuitous ARP lower priority delay",
            secs(g.lower_prio_delay),
        ),
        (
            "Gratuitous ARP lower priority repeat",
            g.lower_prio_repeat.to_string(),
        ),
        ("Down timer adverts", c.down_timer_adverts.to_string()),
        (
            "Send advert after receive lower priority advert",
            on(!c.lower_prio_no_advert).into(),
        ),
        (
            "Send advert after receive higher priority advert",
            on(c.higher_prio_send_advert).into(),
        ),
        ("Virtual Router ID", c.vrid.to_string()),
        ("Priority", i.base_priority().to_string()),
        ("Effective priority", i.effective_priority().to_string()),
        ("Total priority", i.effective_priority().to_string()),
    ]
}

/// VRRPv2 in seconds; v3 in milliseconds, with the master's as a BACKUP learned it.
fn advert_interval(t: &mut String, i: &Instance) {
    let c = i.config();
    if c.version == Version::V2 {
        let _ = writeln!(t, "   Advert interval = {} sec", c.adver_int.as_secs());
        return;
    }
    let ms = c.adver_int.as_micros() / 1000;
    let _ = writeln!(t, "   Advert interval = {ms} milli-sec");
    if i.state() == State::Backup {
        let mai = i.master_adver_int().as_micros() / 1000;
        let _ = writeln!(t, "   Master advert interval = {mai} milli-sec");
    }
}

fn addresses_and_notifies(t: &mut String, i: &Instance, m: &VrrpInstance) {
    if !m.virtual_ipaddress.is_empty() {
        let _ = writeln!(t, "   Virtual IP ({}):", m.virtual_ipaddress.len());
        for a in &m.virtual_ipaddress {
            let _ = writeln!(
                t,
                "     {}",
                vip_text(a, &i.config().interface, i.installed())
            );
        }
    }
    let smtp = if m.smtp_alert.unwrap_or(false) {
        "yes"
    } else {
        "no"
    };
    let _ = writeln!(t, "   Using smtp notification = {smtp}");
    let deleted = if m.notify.deleted.is_some() {
        "Deleted"
    } else {
        "Fault"
    };
    let _ = writeln!(t, "   Notify deleted = {deleted}");
}
