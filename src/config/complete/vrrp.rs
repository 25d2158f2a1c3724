//! VRRP completion and checks (keepalived's vrrp_complete_init / vrrp_complete_instance).

use crate::config::fasthash::{FastMap as HashMap, FastSet};
use std::net::IpAddr;

use crate::config::blocks::Config;
use crate::config::blocks::global::GlobalDefs;
use crate::config::blocks::vrrp::{AuthType, State, TrackRef, VrrpInstance};
use crate::config::diag::Diagnostics;
use crate::config::table::fmt_secs;
use crate::config::values::{Family, Micros};

use super::{overridden, unknown_ref};

const SEC: u64 = 1_000_000;
const CENTI: u64 = 10_000;

pub fn complete(cfg: &mut Config, d: &mut Diagnostics) {
    let g = cfg.global_defs.clone();
    for i in &mut cfg.vrrp_instances {
        complete_instance(i, &g, d);
    }
    resolve_trackers(cfg, d);
    sync_groups(cfg, d);
    track_groups(cfg, d);
    duplicate_vrids(cfg, d);
    if let Some(sd) = &cfg.global_defs.lvs_sync_daemon
        && let Some(inst) = &sd.instance
        && !cfg.vrrp_instances.iter().any(|i| &i.name == inst)
    {
        let span = cfg.global_defs.seen.or_header("lvs_sync_daemon");
        unknown_ref(
            d,
            span,
            "vrrp_instance",
            inst,
            cfg.vrrp_instances.iter().map(|i| i.name.as_str()),
        );
    }
}

fn complete_instance(i: &mut VrrpInstance, g: &GlobalDefs, d: &mut Diagnostics) {
    let name = i.name.clone();
    let seen = i.seen.clone();
    let at = |k: &str| seen.or_header(k);
    let strict = *i.strict_mode.get_or_insert(g.vrrp_strict);

    if i.virtual_router_id.is_none() && !seen.has("virtual_router_id") {
        d.error(
            "missing-keyword",
            seen.at,
            format!("({name}) virtual_router_id is not set"),
        )
        .help("add: virtual_router_id <1..255>, the same on every router of this virtual router");
    }
    if i.interface.is_none() && !seen.has("interface") {
        d.error(
            "missing-keyword",
            seen.at,
            format!("({name}) interface is not set"),
        )
        .help("add: interface <name> (keepalived 2.2 needs it even in unicast mode)");
    }

    // RFC 3768 is IPv4 only; RFC 5798 §5.2.1 carries IPv6 in version 3.
    let family = *i.family.get_or_insert(Family::Inet);
    let version = match (family, i.version) {
        (Family::Inet6, Some(2)) => {
            if strict {
                d.error("ipv6-on-v2", at("version"), format!("({name}) VRRP version 2 cannot carry IPv6 addresses (RFC 3768); strict mode uses version 3"));
                3
            } else {
                d.warning("ipv6-on-v2", at("version"), format!("({name}) VRRP version 2 over IPv6 is a keepalived extension; other implementations need version 3"))
                    .help("use version 3 for IPv6 instances");
                2
            }
        }
        (Family::Inet6, None) => 3,
        (_, Some(v)) => v,
        (_, None) => g.vrrp_version,
    };
    i.version = Some(version);

    // vrrp.c vrrp_complete_instance: no_virtual_ipaddress (2.2.8) allows an instance
    // without VIPs, except in strict mode.
    // vrrp.c: down_timer_adverts is incompatible with strict mode (the RFC's 3 adverts).
    if strict && i.down_timer_adverts.unwrap_or(g.vrrp_down_timer_adverts) != 3 {
        overridden(
            d,
            at("down_timer_adverts"),
            &name,
            "strict mode counts 3 missed adverts (RFC 5798)",
            "resets down_timer_adverts to 3",
        );
        i.down_timer_adverts = Some(3);
    }
    if i.no_virtual_ipaddress && strict {
        overridden(
            d,
            at("no_virtual_ipaddress"),
            &name,
            "no_virtual_ipaddress and strict mode are incompatible",
            "clears no_virtual_ipaddress",
        );
        i.no_virtual_ipaddress = false;
    }
    if i.virtual_ipaddress.is_empty() && !i.no_virtual_ipaddress {
        if version == 3 || strict {
            d.error(
                "no-vip",
                seen.at,
                format!("({name}) no virtual_ipaddress: VRRPv3 and strict mode need at least one"),
            );
        } else {
            d.warning(
                "no-vip",
                seen.at,
                format!("({name}) no virtual_ipaddress specified"),
            )
            .help("an instance without addresses only elects a master");
        }
    }

    // state and priority: keepalived's surprising defaults.
    let priority = match i.priority {
        Some(p) => p,
        None if i.state == Some(State::Master) => {
            d.warning("implicit-owner", at("state"), format!("({name}) state MASTER without priority: keepalived makes this node the address owner (priority 255)"))
                .help("set the priority explicitly (e.g. priority 150); 255 means this node owns the addresses");
            255
        }
        None => 100,
    };
    i.priority = Some(priority);
    let mut state = i.state.unwrap_or(if priority == 255 {
        State::Master
    } else {
        State::Backup
    });
    if strict && (state == State::Master) != (priority == 255) {
        let instead = if priority == 255 {
            "starts it as MASTER"
        } else {
            "starts it as BACKUP"
        };
        overridden(
            d,
            at("state"),
            &name,
            "strict mode allows state MASTER only for the address owner (priority 255)",
            instead,
        )
        .help("set the state to match the priority");
        state = if priority == 255 {
            State::Master
        } else {
            State::Backup
        };
    }

    authentication(i, &name, strict, version, family, &mut state, priority, d);
    i.state = Some(state);

    unicast(i, &name, strict, d);

    // RFC 5798 §5.2.9: the first IPv6 address is the link-local address.
    if family == Family::Inet6
        && !i.unicast
        && let Some(first) = i.virtual_ipaddress.first()
        && let IpAddr::V6(a) = first.addr.addr
        && (a.segments()[0] & 0xffc0) != 0xfe80
    {
        let msg = format!(
            "({name}) the first IPv6 virtual address should be link-local (RFC 5798 §5.2.9)"
        );
        if strict {
            d.error("strict-mode", first.span, msg);
        } else {
            d.warning("ipv6-first-vip", first.span, msg).help(
                "other VRRP implementations reject adverts whose first address is not link-local",
            );
        }
    }

    // An advert carries at most what fits in a 1500-byte frame, and 255 addresses.
    let max_vips = match family {
        Family::Inet => (1500 - 14 - 20 - 8 - if version == 2 { 8 } else { 0 }) / 4,
        Family::Inet6 => (1500 - 14 - 40 - 8) / 16,
    }
    .min(255);
    if i.virtual_ipaddress.len() > max_vips {
        let extra = i.virtual_ipaddress.split_off(max_vips);
        d.warning("too-many-vips", extra[0].span, format!("({name}) only {max_vips} addresses fit in an advert; keepalived moves the other {} to virtual_ipaddress_excluded", extra.len()));
        i.virtual_ipaddress_excluded.extend(extra);
    }

    preemption(i, &name, strict, state, priority, d);

    i.accept.get_or_insert(priority == 255 || !strict);
    if i.accept == Some(true) && priority != 255 && strict && version == 2 {
        d.warning(
            "strict-mode",
            at("accept"),
            format!("({name}) accept mode does not comply with RFC 3768; strict mode turns it off"),
        );
        i.accept = Some(false);
    }
    if strict {
        strict_off(
            d,
            &name,
            at("garp_lower_prio_repeat"),
            &mut i.garp_lower_prio_repeat,
            0,
            "repeated gratuitous ARPs",
        );
        strict_off(
            d,
            &name,
            at("garp_lower_prio_delay"),
            &mut i.garp_lower_prio_delay,
            Micros(0),
            "a gratuitous ARP delay",
        );
        strict_off(
            d,
            &name,
            at("lower_prio_no_advert"),
            &mut i.lower_prio_no_advert,
            true,
            "answering lower-priority adverts",
        );
        strict_off(
            d,
            &name,
            at("higher_prio_send_advert"),
            &mut i.higher_prio_send_advert,
            false,
            "higher_prio_send_advert",
        );
    }
    i.garp_lower_prio_repeat.get_or_insert(
        g.vrrp_garp_lower_prio_repeat
            .unwrap_or(g.vrrp_garp_master_repeat),
    );
    i.garp_lower_prio_delay.get_or_insert(
        g.vrrp_garp_lower_prio_delay
            .unwrap_or(g.vrrp_garp_master_delay),
    );
    i.lower_prio_no_advert
        .get_or_insert(g.vrrp_lower_prio_no_advert);
    i.higher_prio_send_advert
        .get_or_insert(g.vrrp_higher_prio_send_advert);
    i.garp_master_delay.get_or_insert(g.vrrp_garp_master_delay);
    i.garp_master_repeat
        .get_or_insert(g.vrrp_garp_master_repeat);
    i.garp_master_refresh
        .get_or_insert(g.vrrp_garp_master_refresh);
    i.garp_master_refresh_repeat
        .get_or_insert(g.vrrp_garp_master_refresh_repeat);
    i.skip_check_adv_addr
        .get_or_insert(g.vrrp_skip_check_adv_addr);
    i.check_unicast_src.get_or_insert(g.vrrp_check_unicast_src);
    i.v3_checksum_as_v2.get_or_insert(g.v3_checksum_as_v2);
    i.smtp_alert
        .get_or_insert(g.smtp_alert_vrrp.or(g.smtp_alert).unwrap_or(false));

    advert_int(i, &name, version, d);

    if let Some(own) = i.interface.clone() {
        i.track_interface.retain(|t| {
            if t.name == own {
                d.warning("redundant", t.span, format!("({name}) track_interface {own} is the instance's own interface, which is always tracked"))
                    .help("remove it (or use dont_track_primary to ignore the own interface)");
                false
            } else {
                true
            }
        });
    }
    if i.vmac_xmit_base && i.use_vmac.is_none() {
        d.warning(
            "ignored",
            at("vmac_xmit_base"),
            format!("({name}) vmac_xmit_base only applies with use_vmac"),
        );
        i.vmac_xmit_base = false;
    }
    if let Some(v) = &mut i.use_vmac {
        if strict && v.mac.is_some() {
            overridden(
                d,
                at("use_vmac"),
                &name,
                "strict mode does not allow a configured VMAC address",
                "uses the RFC 5798 one",
            );
            v.mac = None;
        }
        if strict && i.vmac_xmit_base {
            d.warning(
                "strict-mode",
                at("vmac_xmit_base"),
                format!("({name}) vmac_xmit_base is incompatible with strict mode"),
            );
            i.vmac_xmit_base = false;
        }
        if i.promote_secondaries {
            d.warning(
                "redundant",
                at("promote_secondaries"),
                format!("({name}) promote_secondaries is set automatically on VMAC interfaces"),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn authentication(
    i: &mut VrrpInstance,
    name: &str,
    strict: bool,
    version: u8,
    family: Family,
    state: &mut State,
    priority: u8,
    d: &mut Diagnostics,
) {
    let Some(a) = &i.authentication else { return };
    let at = |k: &str| a.seen.or_header(k);
    let drop_reason = if a.auth_type.is_none() {
        Some((
            at("auth_pass"),
            "authentication without auth_type has no effect".to_string(),
        ))
    } else if strict {
        Some((
            at("auth_type"),
            "strict mode does not support authentication".to_string(),
        ))
    } else if version == 3 {
        Some((
            at("auth_type"),
            "VRRP version 3 has no authentication (RFC 5798 §9)".to_string(),
        ))
    } else if a.auth_pass.as_deref().is_none_or(str::is_empty) {
        Some((
            at("auth_type"),
            "authentication without auth_pass".to_string(),
        ))
    } else if family == Family::Inet6 && a.auth_type == Some(AuthType::Ah) {
        Some((
            at("auth_type"),
            "AH authentication is not possible with IPv6".to_string(),
        ))
    } else {
        None
    };
    if let Some((span, why)) = drop_reason {
        overridden(d, span, name, &why, "sends adverts without authentication")
            .help("remove the authentication block, or make it valid");
        i.authentication = None;
        return;
    }
    if let Some(p) = &a.auth_pass
        && p.len() > 8
    {
        let kept: String = p.bytes().take(8).map(char::from).collect();
        d.warning("truncated", at("auth_pass"), format!("({name}) auth_pass is longer than 8 characters; only '{kept}' is used"))
            .help("VRRPv2 carries 8 bytes of password (RFC 3768 §5.3.10); every node must use the same first 8");
    }
    if a.auth_type == Some(AuthType::Ah) && *state == State::Master && priority != 255 {
        overridden(
            d,
            i.seen.or_header("state"),
            name,
            "state MASTER does not work with AH authentication",
            "starts it as BACKUP",
        );
        *state = State::Backup;
    }
}

fn unicast(i: &mut VrrpInstance, name: &str, strict: bool, d: &mut Diagnostics) {
    let at = |k: &str| i.seen.or_header(k);
    if i.unicast && i.unicast_peer.is_empty() {
        if i.unicast_fault_no_peer {
            d.warning("unicast", i.seen.at, format!("({name}) unicast without peers: the instance stays in FAULT (unicast_fault_no_peer)"));
        } else {
            let span = ["unicast_src_ip", "check_unicast_src", "unicast_peer"]
                .iter()
                .find_map(|k| i.seen.get(k))
                .unwrap_or(i.seen.at);
            d.warning("unicast", span, format!("({name}) a unicast keyword without unicast_peer: keepalived falls back to multicast (deprecated)"))
                .help("add a unicast_peer block, or remove the unicast keywords");
            i.unicast = false;
        }
    }
    if i.unicast_peer.is_empty() {
        if i.unicast_ttl.is_some() {
            d.warning(
                "ignored",
                at("unicast_ttl"),
                format!("({name}) unicast_ttl without unicast peers has no effect"),
            );
            i.unicast_ttl = None;
        }
        return;
    }
    if strict {
        d.warning("strict-mode", at("unicast_peer"), format!("({name}) strict mode forbids unicast (RFC 5798 sends adverts to the multicast group); keepalived 2.2 does not enforce this"));
    }
    if let Some(src) = i.src_ip
        && let Some(p) = i.unicast_peer.iter().find(|p| p.addr == src)
    {
        d.warning("unicast", p.span, format!("({name}) unicast_peer {src} is this node's own source address"))
            .help("list only the other routers; a node that hears itself may stay MASTER next to the real master");
    }
    let mut seen_peers: HashMap<IpAddr, u32> = HashMap::default();
    for p in &i.unicast_peer {
        if let Some(line) = seen_peers.insert(p.addr, p.span.line) {
            d.warning(
                "duplicate",
                p.span,
                format!(
                    "({name}) unicast_peer {} is listed twice (also line {line})",
                    p.addr
                ),
            );
        }
    }
    if i.mcast_dst_ip.is_some() {
        d.warning(
            "ignored",
            at("mcast_dst_ip"),
            format!("({name}) mcast_dst_ip has no effect in unicast mode"),
        );
        i.mcast_dst_ip = None;
    }
    i.unicast_ttl.get_or_insert(255);
}

fn preemption(
    i: &mut VrrpInstance,
    name: &str,
    strict: bool,
    state: State,
    priority: u8,
    d: &mut Diagnostics,
) {
    let at = |k: &str| i.seen.or_header(k);
    if i.nopreempt && priority == 255 {
        overridden(
            d,
            at("nopreempt"),
            name,
            "nopreempt has no effect for the address owner (priority 255)",
            "clears it",
        );
        i.nopreempt = false;
    }
    if i.nopreempt && state == State::Master {
        overridden(d, at("nopreempt"), name, "nopreempt does not work with state MASTER", "clears it")
            .help("use state BACKUP on every node, and nopreempt on the node that should not take the VIPs back");
        i.nopreempt = false;
    }
    if i.preempt_delay.0 > 0 {
        let why = if state == State::Master {
            Some("does not work with state MASTER")
        } else if strict {
            Some("is not allowed in strict mode")
        } else if i.nopreempt {
            Some("has no effect with nopreempt")
        } else {
            None
        };
        if let Some(why) = why {
            overridden(
                d,
                at("preempt_delay"),
                name,
                &format!("preempt_delay {why}"),
                "clears it",
            );
            i.preempt_delay = Micros(0);
        }
    }
}

fn strict_off<T: PartialEq + Copy>(
    d: &mut Diagnostics,
    name: &str,
    span: crate::config::source::Span,
    slot: &mut Option<T>,
    strict_value: T,
    what: &str,
) {
    if let Some(v) = slot
        && *v != strict_value
    {
        overridden(
            d,
            span,
            name,
            &format!("strict mode does not allow {what}"),
            "resets it",
        );
    }
    *slot = Some(strict_value);
}

/// RFC 3768 §5.3.7: whole seconds (8 bits). RFC 5798 §5.2.7: centiseconds (12 bits).
fn advert_int(i: &mut VrrpInstance, name: &str, version: u8, d: &mut Diagnostics) {
    let span = i.seen.or_header("advert_int");
    let us = i.advert_int.map_or(SEC, |m| m.0);
    let fixed = if version == 2 {
        if !us.is_multiple_of(SEC) {
            let r = (us.saturating_add(SEC / 2) / SEC).max(1) * SEC;
            d.error("advert-int", span, format!("({name}) VRRPv2 advert_int must be whole seconds (RFC 3768 §5.3.7); keepalived rounds {} to {}", fmt_secs(us), fmt_secs(r)))
                .help("use version 3 for sub-second intervals");
            r
        } else {
            us
        }
    } else if us > 4095 * CENTI {
        d.error("advert-int", span, format!("({name}) VRRPv3 advert_int is at most 40.95 seconds (RFC 5798 §5.2.7); keepalived uses 40.95"));
        4095 * CENTI
    } else if !us.is_multiple_of(CENTI) {
        let r = ((us + CENTI / 2) / CENTI).max(1) * CENTI;
        d.error("advert-int", span, format!("({name}) VRRPv3 advert_int is in units of 0.01 seconds; keepalived rounds {} to {}", fmt_secs(us), fmt_secs(r)));
        r
    } else {
        us
    };
    i.advert_int = Some(Micros(fixed));
}

/// Checks tracker references and fills in weights inherited from the tracked objects.
fn resolve_trackers(cfg: &mut Config, d: &mut Diagnostics) {
    let scripts: HashMap<String, (i32, bool)> = cfg
        .vrrp_scripts
        .iter()
        .filter(|s| s.script.is_some())
        .map(|s| (s.name.clone(), (s.weight, s.weight_reverse)))
        .collect();
    let files: HashMap<String, (i32, bool)> = cfg
        .track_files
        .iter()
        .map(|f| (f.name.clone(), (f.weight, f.weight_reverse)))
        .collect();
    let procs: HashMap<String, (i32, bool)> = cfg
        .track_processes
        .iter()
        .map(|p| (p.name.clone(), (p.weight, p.weight_reverse)))
        .collect();
    let empty_scripts: Vec<String> = cfg
        .vrrp_scripts
        .iter()
        .filter(|s| s.script.is_none())
        .map(|s| s.name.clone())
        .collect();

    let resolve = |refs: &mut Vec<TrackRef>,
                   table: &HashMap<String, (i32, bool)>,
                   what: &str,
                   d: &mut Diagnostics| {
        refs.retain_mut(|t| match table.get(&t.name) {
            Some(&(w, r)) => {
                t.weight.get_or_insert(w);
                t.reverse.get_or_insert(r);
                true
            }
            None if empty_scripts.contains(&t.name) && what == "vrrp_script" => {
                d.error(
                    "unknown-reference",
                    t.span,
                    format!("vrrp_script '{}' has no script line, so keepalived drops it and this tracker", t.name),
                );
                false
            }
            None => {
                unknown_ref(d, t.span, what, &t.name, table.keys().map(String::as_str));
                false
            }
        });
    };
    let mut used_scripts: FastSet<String> = FastSet::default();
    let unresolved_before = d.len();
    for i in &mut cfg.vrrp_instances {
        used_scripts.extend(i.track_script.iter().map(|t| t.name.clone()));
        resolve(&mut i.track_script, &scripts, "vrrp_script", d);
        resolve(&mut i.track_file, &files, "track_file", d);
        resolve(&mut i.track_process, &procs, "vrrp_track_process", d);
        for t in &mut i.track_interface {
            t.weight.get_or_insert(0);
            t.reverse.get_or_insert(false);
        }
        // Trackers cannot change the priority of the address owner.
        if i.priority == Some(255) {
            let weighted = i
                .track_script
                .iter()
                .chain(&i.track_file)
                .chain(&i.track_process)
                .chain(&i.track_interface)
                .find(|t| t.weight.unwrap_or(0) != 0);
            if let Some(t) = weighted {
                d.warning("owner-weight", t.span, format!("({}) weighted trackers cannot change the priority of an address owner (priority 255); keepalived ignores the weight of '{}'", i.name, t.name))
                    .help("use weight 0 (FAULT on failure) or a priority below 255");
            }
            drop_weighted_trackers(i, false);
        }
    }
    for g in &mut cfg.vrrp_sync_groups {
        used_scripts.extend(g.track_script.iter().map(|t| t.name.clone()));
        resolve(&mut g.track_script, &scripts, "vrrp_script", d);
        resolve(&mut g.track_file, &files, "track_file", d);
        resolve(&mut g.track_process, &procs, "vrrp_track_process", d);
    }
    // After a mistyped reference, the script it meant is not "unused".
    let had_unknown = d
        .iter()
        .skip(unresolved_before)
        .any(|x| x.code == "unknown-reference");
    for s in &cfg.vrrp_scripts {
        if s.script.is_none() {
            s.seen
                .lacks(
                    d,
                    format!(
                        "vrrp_script {} ends without a script line; keepalived removes it",
                        s.name
                    ),
                )
                .help("add: script \"/path/to/check arguments\"");
        } else if !used_scripts.contains(s.name.as_str()) && !had_unknown {
            d.warning(
                "unused",
                s.seen.at,
                format!(
                    "vrrp_script {} is not tracked by any instance or sync group, so it never runs",
                    s.name
                ),
            )
            .help("add it to a track_script block, or remove it");
        }
    }
    for f in &cfg.track_files {
        if f.file.is_empty() {
            f.seen.lacks(
                d,
                format!(
                    "track_file {} ends without a file line; keepalived ignores it",
                    f.name
                ),
            );
        }
    }
    for p in &cfg.track_processes {
        if p.process.is_empty() {
            p.seen.lacks(
                d,
                format!(
                    "vrrp_track_process {} ends without a process line; keepalived ignores it",
                    p.name
                ),
            );
        }
        if let Some(max) = p.quorum_max
            && max != 0
            && max < p.quorum
        {
            d.warning("inconsistent", p.seen.or_header("quorum_max"), format!("vrrp_track_process {}: quorum_max {max} is less than quorum {}; keepalived ignores it", p.name, p.quorum));
        }
    }
}

/// A track_group's members are instances; static addresses, routes and rules name a
/// track_group defined before them (keepalived looks the group up as it reads the line).
fn track_groups(cfg: &Config, d: &mut Diagnostics) {
    let instances: FastSet<&str> = cfg.vrrp_instances.iter().map(|i| i.name.as_str()).collect();
    for g in &cfg.track_groups {
        for m in g
            .group
            .iter()
            .filter(|m| !instances.contains(m.name.as_str()))
        {
            unknown_ref(
                d,
                m.span,
                "vrrp_instance",
                &m.name,
                cfg.vrrp_instances.iter().map(|i| i.name.as_str()),
            );
        }
    }
    let uses = (cfg
        .static_ipaddress
        .iter()
        .map(|a| (&a.track_group, a.span)))
    .chain(cfg.static_routes.iter().map(|r| (&r.track_group, r.span)))
    .chain(cfg.static_rules.iter().map(|r| (&r.track_group, r.span)));
    for (name, span) in uses.filter_map(|(g, s)| g.as_deref().map(|g| (g, s))) {
        match cfg.track_groups.iter().find(|g| g.name == name) {
            None => unknown_ref(
                d,
                span,
                "track_group",
                name,
                cfg.track_groups.iter().map(|g| g.name.as_str()),
            ),
            Some(g) if g.seen.at.file == span.file && g.seen.at.line > span.line => {
                d.error(
                    "unknown-reference",
                    span,
                    format!(
                        "track_group {name} is defined below, at line {}; keepalived only finds groups defined before their use",
                        g.seen.at.line
                    ),
                )
                .help("move the track_group block above this line");
            }
            Some(_) => {}
        }
    }
}

fn sync_groups(cfg: &mut Config, d: &mut Diagnostics) {
    let names: Vec<String> = cfg.vrrp_instances.iter().map(|i| i.name.clone()).collect();
    let mut member_of: HashMap<String, String> = HashMap::default();
    for g in &cfg.vrrp_sync_groups {
        if g.group.is_empty() {
            d.error(
                "missing-keyword",
                g.seen.at,
                format!(
                    "vrrp_sync_group {} has no group block; keepalived removes it",
                    g.name
                ),
            )
            .help("add: group { VI_1 VI_2 }");
            continue;
        }
        let mut valid = 0;
        for m in &g.group {
            if !names.contains(&m.name) {
                unknown_ref(
                    d,
                    m.span,
                    "vrrp_instance",
                    &m.name,
                    names.iter().map(String::as_str),
                );
                continue;
            }
            if let Some(other) = member_of.get(&m.name) {
                let msg = if other == &g.name {
                    format!("{} is listed twice in vrrp_sync_group {}", m.name, g.name)
                } else {
                    format!(
                        "vrrp_instance {} is already in vrrp_sync_group {other}; an instance can be in one sync group only",
                        m.name
                    )
                };
                d.error("sync-group", m.span, msg);
                continue;
            }
            member_of.insert(m.name.clone(), g.name.clone());
            valid += 1;
        }
        if valid == 1 {
            d.warning("sync-group", g.seen.at, format!("vrrp_sync_group {} has only one instance", g.name))
                .help("a sync group keeps several instances in the same state; with one member it does nothing");
        }
        // Members must not mix address owners and others.
        let prios: Vec<u8> = g
            .group
            .iter()
            .filter_map(|m| cfg.vrrp_instances.iter().find(|i| i.name == m.name))
            .filter_map(|i| i.priority)
            .collect();
        if prios.contains(&255) && prios.iter().any(|p| *p != 255) {
            d.warning("sync-group", g.seen.at, format!("vrrp_sync_group {} mixes address owners (priority 255) with other priorities; this cannot work", g.name));
        }
    }
    // Weighted trackers of members are ignored unless sync_group_tracking_weight.
    for i in &mut cfg.vrrp_instances {
        let Some(gname) = member_of.get(&i.name) else {
            continue;
        };
        let Some(g) = cfg.vrrp_sync_groups.iter().find(|g| &g.name == gname) else {
            continue;
        };
        if g.sync_group_tracking_weight {
            continue;
        }
        for t in i
            .track_script
            .iter()
            .chain(&i.track_file)
            .chain(&i.track_process)
            .chain(&i.track_interface)
        {
            if t.weight.unwrap_or(0) != 0 {
                d.warning("sync-group-weight", t.span, format!("({}) the weight of '{}' is ignored: the instance is in vrrp_sync_group {gname}", i.name, t.name))
                    .help("track it with weight 0, or set sync_group_tracking_weight in the sync group");
            }
        }
        drop_weighted_trackers(i, true);
    }
}

/// What keepalived runs when weights cannot count (a sync group member without
/// sync_group_tracking_weight, or an address owner; vrrp.c vrrp_complete_instance): weighted
/// scripts and processes are not tracked at all, a track_file with the default weight (1)
/// becomes a FAULT tracker (weight 0) and one with another weight is not tracked, a weighted
/// interface becomes a FAULT tracker in a sync group and is not tracked by an owner.
/// (keepalived 2.2.7 forgets processes; kaconsole treats them as scripts.)
pub(crate) fn drop_weighted_trackers(i: &mut VrrpInstance, sync: bool) {
    let weighted = |t: &TrackRef| t.weight.unwrap_or(0) != 0;
    i.track_script.retain(|t| !weighted(t));
    i.track_process.retain(|t| !weighted(t));
    i.track_file.retain(|t| !weighted(t) || t.weight == Some(1));
    for t in &mut i.track_file {
        t.weight = Some(0);
    }
    if sync {
        for t in &mut i.track_interface {
            t.weight = Some(0);
        }
    } else {
        i.track_interface.retain(|t| !weighted(t));
    }
}

/// Two instances with the same VRID on the same segment are one virtual router to the peers.
fn duplicate_vrids(cfg: &Config, d: &mut Diagnostics) {
    let mcast4 = IpAddr::V4(cfg.global_defs.vrrp_mcast_group4);
    let mcast6 = IpAddr::V6(cfg.global_defs.vrrp_mcast_group6);
    // (VRID, family, interface, multicast group) -> (instance, line)
    type Segment = (u8, Family, String, Option<IpAddr>);
    let mut first: HashMap<Segment, (String, u32)> = HashMap::default();
    for i in &cfg.vrrp_instances {
        let (Some(vrid), Some(family), Some(ifname)) =
            (i.virtual_router_id, i.family, i.interface.clone())
        else {
            continue;
        };
        // Multicast instances clash per interface and group; unicast ones when they share a
        // source address and a peer (checked below).
        if i.unicast {
            continue;
        }
        let group = i.mcast_dst_ip.unwrap_or(if family == Family::Inet {
            mcast4
        } else {
            mcast6
        });
        let key = (vrid, family, ifname.clone(), Some(group));
        let span = i.seen.or_header("virtual_router_id");
        if let Some((other, line)) = first.get(&key) {
            d.error(
                "duplicate-vrid",
                span,
                format!(
                    "{other} and {} both use VRID {vrid} ({}) on interface {ifname}",
                    i.name,
                    family.name()
                ),
            )
            .note(format!("{other} sets it at line {line}"))
            .help("each virtual router on a segment needs its own VRID");
        } else {
            first.insert(key, (i.name.clone(), span.line));
        }
    }
    let unicast: Vec<&VrrpInstance> = cfg.vrrp_instances.iter().filter(|i| i.unicast).collect();
    for (n, a) in unicast.iter().enumerate() {
        for b in &unicast[..n] {
            if a.virtual_router_id != b.virtual_router_id
                || a.family != b.family
                || a.interface != b.interface
            {
                continue;
            }
            if a.src_ip.is_some() && a.src_ip != b.src_ip {
                continue;
            }
            if let Some(p) = a
                .unicast_peer
                .iter()
                .find(|p| b.unicast_peer.iter().any(|q| q.addr == p.addr))
            {
                d.error(
                    "duplicate-vrid",
                    a.seen.or_header("virtual_router_id"),
                    format!(
                        "{} and {} use VRID {} with the same unicast peer {}",
                        b.name,
                        a.name,
                        a.virtual_router_id.unwrap_or(0),
                        p.addr
                    ),
                );
            }
        }
    }
}
