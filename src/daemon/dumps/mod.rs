//! What keepalived writes when asked by a signal: SIGUSR2 the counters to
//! `$TMPDIR/keepalived.stats` (vrrp_print.c `vrrp_print_stats`, same layout), and the
//! STATS_CLEAR signal the same, then zeroes them.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::vrrp::engine::Engine;

/// keepalived's temporary directory: `$TMPDIR` if absolute, else /tmp (lib/utils.c
/// `make_tmp_filename`).
pub fn tmp_file(name: &str) -> PathBuf {
    let dir = std::env::var("TMPDIR")
        .ok()
        .filter(|d| d.starts_with('/'))
        .unwrap_or_else(|| "/tmp".into());
    PathBuf::from(dir).join(name)
}

/// The stats file's text.
pub fn stats_text(engine: &Engine) -> String {
    let mut out = String::new();
    for i in engine.instances() {
        let s = i.stats();
        let _ = write!(
            out,
            "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  Became master: {}\n  Released master: {}\n  Packet Errors:\n    Length: {}\n    TTL: {}\n    Invalid Type: {}\n    Advertisement Interval: {}\n    Address List: {}\n  Authentication Errors:\n    Invalid Type: {}\n    Type Mismatch: {}\n    Failure: {}\n  Priority Zero:\n    Received: {}\n    Sent: {}\n",
            i.name(),
            s.advert_rcvd,
            s.advert_sent,
            s.become_master,
            s.release_master,
            s.packet_len_err,
            s.ip_ttl_err,
            s.invalid_type_rcvd,
            s.advert_interval_err,
            s.addr_list_err,
            s.invalid_authtype,
            s.authtype_mismatch,
            s.auth_failure,
            s.pri_zero_rcvd,
            s.pri_zero_sent
        );
    }
    out
}

/// Writes the stats file; with `clear`, zeroes the counters after.
pub fn write_stats(engine: &mut Engine, clear: bool) -> std::io::Result<PathBuf> {
    let path = tmp_file("keepalived.stats");
    std::fs::write(&path, stats_text(engine))?;
    if clear {
        for i in engine.instances_mut() {
            i.clear_stats();
        }
    }
    Ok(path)
}

/// keepalived's state numbers (vrrp.h): INIT 0, BACKUP 1, MASTER 2, FAULT 3, STOP 98.
fn state_number(s: crate::vrrp::event::State) -> u32 {
    use crate::vrrp::event::State::*;
    match s {
        Init => 0,
        Backup => 1,
        Master => 2,
        Fault => 3,
        Stop => 98,
    }
}

/// A command line as keepalived prints it: each word in single quotes.
fn quoted(argv: &[String]) -> String {
    argv.iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An object whose keys keep their order (keepalived's order).
struct Obj(Vec<(&'static str, serde_json::Value)>);

impl Obj {
    fn put(&mut self, k: &'static str, v: impl Into<serde_json::Value>) {
        self.0.push((k, v.into()));
    }
    fn render(&self) -> String {
        let fields: Vec<String> = self.0.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", fields.join(","))
    }
}

/// The JSON dump (`$TMPDIR/keepalived.json`, keepalived's JSON signal; vrrp_json.c): per
/// instance a `data` object with keepalived's keys, in its order, and `stats`. Arrays and
/// scripts that are empty are left out, as keepalived does. `started` maps the engine's clock
/// to the wall clock (seconds since the epoch at engine time 0).
pub fn json_text(engine: &Engine, model: &crate::config::blocks::Config, started: f64) -> String {
    let mut items = Vec::new();
    for (idx, i) in engine.instances().iter().enumerate() {
        let c = i.config();
        let m = model.vrrp_instances.get(idx);
        let strict = m
            .and_then(|m| m.strict_mode)
            .unwrap_or(model.global_defs.vrrp_strict);
        let secs = |d: crate::time::Duration| float(d.as_micros() as f64 / 1e6);
        let mut d = Obj(Vec::new());
        d.put("iname", c.name.clone());
        d.put("dont_track_primary", u32::from(!c.track_primary));
        d.put("skip_check_adv_addr", u32::from(c.skip_check_adv_addr));
        d.put("strict_mode", u32::from(strict));
        let vmac = m
            .and_then(|m| m.use_vmac.as_ref())
            .map(|_| c.interface.clone())
            .unwrap_or_default();
        d.put("vmac_ifname", vmac);
        d.put("ifp_ifname", c.interface.clone());
        d.put("master_priority", i.master().map_or(0, |(_, p)| p));
        let lt = if i.last_transition().0 == 0 {
            0.0
        } else {
            started + i.last_transition().0 as f64 / 1e6
        };
        d.put(
            "last_transition",
            serde_json::Number::from_f64((lt * 1e6).round() / 1e6)
                .map_or(serde_json::Value::Null, Into::into),
        );
        d.put("garp_delay", secs(c.garp.master_delay));
        d.put("garp_refresh", c.garp.master_refresh.as_secs());
        d.put("garp_rep", c.garp.master_repeat);
        d.put("garp_refresh_rep", c.garp.master_refresh_repeat);
        d.put("garp_lower_prio_delay", c.garp.lower_prio_delay.as_secs());
        d.put("garp_lower_prio_rep", c.garp.lower_prio_repeat);
        d.put("lower_prio_no_advert", u32::from(c.lower_prio_no_advert));
        d.put(
            "higher_prio_send_advert",
            u32::from(c.higher_prio_send_advert),
        );
        d.put("vrid", c.vrid);
        d.put("base_priority", i.base_priority());
        d.put("effective_priority", i.effective_priority());
        d.put("vipset", i.installed());
        d.put(
            "promote_secondaries",
            m.is_some_and(|m| m.promote_secondaries),
        );
        d.put("adver_int", secs(c.adver_int));
        d.put("master_adver_int", secs(i.master_adver_int()));
        d.put(
            "accept",
            u32::from(m.and_then(|m| m.accept).unwrap_or(!strict)),
        );
        d.put("nopreempt", !c.preempt);
        d.put("preempt_delay", c.preempt_delay.as_secs());
        d.put("state", state_number(i.state()));
        d.put("wantstate", state_number(i.wanted_state()));
        d.put("version", u32::from(c.version.number()));
        d.put("smtp_alert", m.and_then(|m| m.smtp_alert).unwrap_or(false));
        d.put(
            "notify_deleted",
            m.is_some_and(|m| m.notify.deleted.is_some()),
        );
        if let Some(m) = m {
            let n = &m.notify;
            for (key, cmd) in [
                ("script_backup", &n.backup),
                ("script_master", &n.master),
                ("script_fault", &n.fault),
                ("script_stop", &n.stop),
                ("script", &n.any),
                ("script_master_rx_lower_pri", &n.master_rx_lower_pri),
            ] {
                if let Some(cmd) = cmd {
                    d.put(key, quoted(&cmd.argv));
                }
            }
            let vips: Vec<String> = m
                .virtual_ipaddress
                .iter()
                .map(|a| vip_text(a, &c.interface, i.installed()))
                .collect();
            if !vips.is_empty() {
                d.put("vips", vips);
            }
            let evips: Vec<String> = m
                .virtual_ipaddress_excluded
                .iter()
                .map(|a| vip_text(a, &c.interface, i.installed()))
                .collect();
            if !evips.is_empty() {
                d.put("evips", evips);
            }
            let routes: Vec<String> = m.virtual_routes.iter().map(route_text).collect();
            if !routes.is_empty() {
                d.put("vroutes", routes);
            }
            let rules: Vec<String> = m.virtual_rules.iter().map(rule_text).collect();
            if !rules.is_empty() {
                d.put("vrules", rules);
            }
            let tracked: Vec<String> = m.track_interface.iter().map(|t| t.name.clone()).collect();
            if !tracked.is_empty() {
                d.put("track_ifp", tracked);
            }
            let scripts: Vec<String> = m
                .track_script
                .iter()
                .filter_map(|t| model.vrrp_scripts.iter().find(|s| s.name == t.name))
                .filter_map(|s| s.script.as_ref().map(|c| quoted(&c.argv)))
                .collect();
            if !scripts.is_empty() {
                d.put("track_script", scripts);
            }
        }
        let auth_type = match c.auth {
            crate::vrrp::instance_config::Auth::None => 0,
            crate::vrrp::instance_config::Auth::Pass(_) => 1,
            crate::vrrp::instance_config::Auth::Ah(_) => 2,
        };
        d.put("auth_type", auth_type);
        if let crate::vrrp::instance_config::Auth::Pass(p)
        | crate::vrrp::instance_config::Auth::Ah(p) = c.auth
        {
            let end = p.iter().position(|b| *b == 0).unwrap_or(p.len());
            d.put("auth_data", String::from_utf8_lossy(&p[..end]).into_owned());
        }
        let s = i.stats();
        let mut st = Obj(Vec::new());
        st.put("advert_rcvd", s.advert_rcvd);
        st.put("advert_sent", s.advert_sent);
        st.put("become_master", s.become_master);
        st.put("release_master", s.release_master);
        st.put("packet_len_err", s.packet_len_err);
        st.put("advert_interval_err", s.advert_interval_err);
        st.put("ip_ttl_err", s.ip_ttl_err);
        st.put("invalid_type_rcvd", s.invalid_type_rcvd);
        st.put("addr_list_err", s.addr_list_err);
        st.put("invalid_authtype", s.invalid_authtype);
        st.put("authtype_mismatch", s.authtype_mismatch);
        st.put("auth_failure", s.auth_failure);
        st.put("pri_zero_rcvd", s.pri_zero_rcvd);
        st.put("pri_zero_sent", s.pri_zero_sent);
        items.push(format!(
            "{{\"data\":{},\"stats\":{}}}",
            d.render(),
            st.render()
        ));
    }
    format!("[{}]", items.join(","))
}

/// A number as keepalived's JSON writer prints a double (`%g`-like: 1, not 1.0).
fn float(x: f64) -> serde_json::Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        serde_json::Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, Into::into)
    }
}

/// Microseconds as keepalived prints seconds: `5`, `0.5`.
fn seconds(us: u64) -> String {
    float(us as f64 / 1e6).to_string()
}

/// keepalived's route text (vrrp_iproute.c `format_iproute`) for the common fields:
/// `prepend 10.88.0.0/24 via inet 10.77.0.254 dev eth0 proto 18`.
fn route_text(r: &crate::config::blocks::addr::Route) -> String {
    let mut t = String::from("prepend ");
    if r.rtype != "unicast" {
        t.push_str(r.rtype);
        t.push(' ');
    }
    match r.to {
        Some(p) => t.push_str(&format!("{}/{}", p.addr, p.len)),
        None => t.push_str("default"),
    }
    if let Some(f) = r.from {
        t.push_str(&format!(" from {}/{}", f.addr, f.len));
    }
    if let Some(src) = r.src {
        t.push_str(&format!(" src {src}"));
    }
    if let Some(via) = r.via {
        let fam = if via.is_ipv6() { "inet6" } else { "inet" };
        t.push_str(&format!(" via {fam} {via}"));
    }
    if let Some(dev) = &r.dev {
        t.push_str(&format!(" dev {dev}"));
    }
    if let Some(table) = &r.table
        && table != "main"
        && table != "254"
    {
        t.push_str(&format!(" table {table}"));
    }
    t.push_str(" proto 18");
    if let Some(m) = r.metric {
        t.push_str(&format!(" metric {m}"));
    }
    if r.onlink {
        t.push_str(" onlink");
    }
    t
}

/// keepalived's rule text (vrrp_iprule.c `format_iprule`) for the common fields:
/// `from 10.77.0.100 tos 0x0 lookup 100`.
fn rule_text(r: &crate::config::blocks::addr::Rule) -> String {
    let prefix = |p: crate::config::values::Prefix| {
        let max = if p.addr.is_ipv6() { 128 } else { 32 };
        if p.len == max {
            p.addr.to_string()
        } else {
            format!("{}/{}", p.addr, p.len)
        }
    };
    let mut t = String::new();
    if r.from.is_none() && r.to.is_none() && r.family == Some(crate::config::values::Family::Inet6)
    {
        t.push_str("inet6 ");
    }
    match r.from {
        Some(p) => t.push_str(&format!("from {}", prefix(p))),
        None => t.push_str("from all"),
    }
    if let Some(p) = r.to {
        t.push_str(&format!(" to {}", prefix(p)));
    }
    if let Some(p) = r.preference {
        t.push_str(&format!(" priority {p}"));
    }
    t.push_str(" tos 0x0");
    let protocol = if r.no_track {
        String::new()
    } else {
        " protocol 18".into()
    };
    if let Some((mark, mask)) = r.fwmark {
        t.push_str(&format!(" fwmark {mark:#x}"));
        if let Some(mask) = mask {
            t.push_str(&format!("/{mask:#x}"));
        }
    }
    if let Some(i) = &r.iif {
        t.push_str(&format!(" iif {i}"));
    }
    if let Some(o) = &r.oif {
        t.push_str(&format!(" oif {o}"));
    }
    t.push_str(&protocol);
    match r.rtype {
        "goto" => t.push_str(&format!(" goto {}", r.goto.unwrap_or(0))),
        "nop" => t.push_str(" nop"),
        "unicast" => {
            let table = r
                .table
                .as_deref()
                .map_or(254, |t| crate::sys::netlink::table_id(t).unwrap_or(254));
            t.push_str(&format!(" lookup {table}"));
        }
        other => t.push_str(&format!(" type {other}")),
    }
    if r.no_track {
        t.push_str(" no_track");
    }
    t
}

/// keepalived's VIP text: `10.0.0.100/24 dev eth0 scope global`, then ` set` once installed.
fn vip_text(a: &crate::config::blocks::addr::IpAddress, interface: &str, set: bool) -> String {
    let dev = a.dev.as_deref().unwrap_or(interface);
    let scope = a.scope.as_deref().unwrap_or("global");
    let mut t = format!("{}/{} dev {dev} scope {scope}", a.addr.addr, a.addr.len);
    if let Some(label) = &a.label {
        t.push_str(&format!(" label {label}"));
    }
    if set {
        t.push_str(" set");
    }
    t
}

/// Writes the JSON dump.
pub fn write_json(
    engine: &Engine,
    model: &crate::config::blocks::Config,
    started: f64,
) -> std::io::Result<PathBuf> {
    let path = tmp_file("keepalived.json");
    std::fs::write(&path, json_text(engine, model, started))?;
    Ok(path)
}

/// The data dump (`$TMPDIR/keepalived.data`, SIGUSR1; vrrp_data.c `dump_data_vrrp`): the
/// global VRRP settings and each instance with keepalived's labels. keepalived also dumps its
/// socket pool and interface table; those are its internals and are left out. Times are UTC.
pub fn data_text(engine: &Engine, model: &crate::config::blocks::Config, started: f64) -> String {
    use std::fmt::Write as _;
    let g = &model.global_defs;
    let on = |b: bool| if b { "true" } else { "false" };
    let mut t = String::new();
    let _ = writeln!(t, "------< Global definitions >------");
    let router = g
        .router_id
        .clone()
        .unwrap_or_else(crate::cli::default_config_id);
    let secs = |m: crate::config::values::Micros| seconds(m.0);
    let opt = |b: Option<bool>| b.map_or("unset", on);
    let lines = [
        ("Router ID", router),
        ("Default smtp_alert", opt(g.smtp_alert).to_string()),
        (
            "Default smtp_alert_vrrp",
            opt(g.smtp_alert_vrrp).to_string(),
        ),
        (
            "Default smtp_alert_checker",
            opt(g.smtp_alert_checker).to_string(),
        ),
        (
            "Checkers log all failures",
            on(g.checker_log_all_failures).to_string(),
        ),
        ("Dynamic interfaces", on(g.dynamic_interfaces).to_string()),
        ("LVS flush", on(g.lvs_flush).to_string()),
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
            secs(
                g.vrrp_garp_lower_prio_delay
                    .unwrap_or(g.vrrp_garp_master_delay),
            ),
        ),
        (
            "Gratuitous ARP lower priority repeat",
            g.vrrp_garp_lower_prio_repeat
                .unwrap_or(g.vrrp_garp_master_repeat)
                .to_string(),
        ),
        ("Num adverts before down", "3".to_string()),
        (
            "Send advert after receive lower priority advert",
            on(!g.vrrp_lower_prio_no_advert).to_string(),
        ),
        (
            "Send advert after receive higher priority advert",
            on(g.vrrp_higher_prio_send_advert).to_string(),
        ),
        (
            "Gratuitous ARP interval",
            format!("{:.6}", g.vrrp_garp_interval.0 as f64 / 1e6),
        ),
        (
            "Gratuitous NA interval",
            format!("{:.6}", g.vrrp_gna_interval.0 as f64 / 1e6),
        ),
        ("VRRP default protocol version", g.vrrp_version.to_string()),
        (
            "VRRP check unicast_src",
            on(g.vrrp_check_unicast_src).to_string(),
        ),
        (
            "VRRP skip check advert addresses",
            on(g.vrrp_skip_check_adv_addr).to_string(),
        ),
        ("VRRP strict mode", on(g.vrrp_strict).to_string()),
    ];
    for (label, value) in lines {
        let _ = writeln!(t, " {label} = {value}");
    }
    let security = if g.enable_script_security {
        "enabled"
    } else {
        "disabled"
    };
    let _ = writeln!(t, " Script security {security}");
    let _ = writeln!(t, "------< VRRP Topology >------");
    for (idx, i) in engine.instances().iter().enumerate() {
        let c = i.config();
        let m = model.vrrp_instances.get(idx);
        let secs = |d: crate::time::Duration| seconds(d.as_micros());
        let _ = writeln!(t, " VRRP Instance = {}", c.name);
        let _ = writeln!(t, "   VRRP Version = {}", c.version.number());
        let _ = writeln!(t, "   State = {}", i.state());
        let _ = writeln!(t, "   Flags: none");
        let _ = writeln!(t, "   Wantstate = {}", i.wanted_state());
        if i.last_transition().0 > 0 {
            let at = started + i.last_transition().0 as f64 / 1e6;
            let _ = writeln!(t, "   Last transition = {at:.6}");
        }
        let _ = writeln!(
            t,
            "   Master down timer = {} usecs",
            i.master_down_interval().as_micros()
        );
        let _ = writeln!(t, "   Interface = {}", c.interface);
        let _ = writeln!(t, "   Using src_ip = {}", c.src);
        if !c.unicast() {
            let _ = writeln!(t, "   Multicast address {}", c.mcast_dst);
        }
        let _ = writeln!(t, "   Gratuitous ARP delay = {}", secs(c.garp.master_delay));
        let _ = writeln!(t, "   Gratuitous ARP repeat = {}", c.garp.master_repeat);
        let _ = writeln!(
            t,
            "   Gratuitous ARP refresh = {}",
            secs(c.garp.master_refresh)
        );
        let _ = writeln!(
            t,
            "   Gratuitous ARP refresh repeat = {}",
            c.garp.master_refresh_repeat
        );
        let _ = writeln!(
            t,
            "   Gratuitous ARP lower priority delay = {}",
            secs(c.garp.lower_prio_delay)
        );
        let _ = writeln!(
            t,
            "   Gratuitous ARP lower priority repeat = {}",
            c.garp.lower_prio_repeat
        );
        let _ = writeln!(t, "   Down timer adverts = {}", c.down_timer_adverts);
        let _ = writeln!(
            t,
            "   Send advert after receive lower priority advert = {}",
            on(!c.lower_prio_no_advert)
        );
        let _ = writeln!(
            t,
            "   Send advert after receive higher priority advert = {}",
            on(c.higher_prio_send_advert)
        );
        let _ = writeln!(t, "   Virtual Router ID = {}", c.vrid);
        let _ = writeln!(t, "   Priority = {}", i.base_priority());
        let _ = writeln!(t, "   Effective priority = {}", i.effective_priority());
        let _ = writeln!(t, "   Total priority = {}", i.effective_priority());
        if c.version == crate::vrrp::packet::Version::V2 {
            let _ = writeln!(t, "   Advert interval = {} sec", c.adver_int.as_secs());
        } else {
            let ms = c.adver_int.as_micros() / 1000;
            let _ = writeln!(t, "   Advert interval = {ms} milli-sec");
            if i.state() == crate::vrrp::event::State::Backup {
                let mai = i.master_adver_int().as_micros() / 1000;
                let _ = writeln!(t, "   Master advert interval = {mai} milli-sec");
            }
        }
        let strict = m.and_then(|m| m.strict_mode).unwrap_or(g.vrrp_strict);
        let accept = m.and_then(|m| m.accept).unwrap_or(!strict);
        let _ = writeln!(
            t,
            "   Accept = {}",
            if accept { "enabled" } else { "disabled" }
        );
        let _ = writeln!(
            t,
            "   Preempt = {}",
            if c.preempt { "enabled" } else { "disabled" }
        );
        let auth = match c.auth {
            crate::vrrp::instance_config::Auth::None => "none",
            crate::vrrp::instance_config::Auth::Pass(_) => "SIMPLE_PASSWORD",
            crate::vrrp::instance_config::Auth::Ah(_) => "IPSEC_AH",
        };
        let _ = writeln!(t, "   Authentication type = {auth}");
        if let Some(m) = m {
            if !m.virtual_ipaddress.is_empty() {
                let _ = writeln!(t, "   Virtual IP ({}):", m.virtual_ipaddress.len());
                for a in &m.virtual_ipaddress {
                    let _ = writeln!(t, "     {}", vip_text(a, &c.interface, i.installed()));
                }
            }
            let smtp = m.smtp_alert.unwrap_or(false);
            let _ = writeln!(
                t,
                "   Using smtp notification = {}",
                if smtp { "yes" } else { "no" }
            );
            let deleted = if m.notify.deleted.is_some() {
                "Deleted"
            } else {
                "Fault"
            };
            let _ = writeln!(t, "   Notify deleted = {deleted}");
        }
        let _ = writeln!(
            t,
            "   Notify priority changes = {}",
            on(c.notify_priority_changes)
        );
    }
    t.push_str(&interfaces_text());
    t
}

/// The `------< Interfaces >------` section: every interface of the namespace with
/// keepalived's labels for what the kernel tells (`dump_if`; its own bookkeeping is left out).
fn interfaces_text() -> String {
    use nix::net::if_::InterfaceFlags as F;
    use std::fmt::Write as _;
    let mut t = String::from("------< Interfaces >------\n");
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return t;
    };
    let mut names: Vec<(u32, String, F)> = Vec::new();
    let all: Vec<_> = addrs.collect();
    for a in &all {
        if !names.iter().any(|(_, n, _)| *n == a.interface_name) {
            let index = nix::net::if_::if_nametoindex(a.interface_name.as_str()).unwrap_or(0);
            names.push((index, a.interface_name.clone(), a.flags));
        }
    }
    names.sort();
    for (index, name, flags) in names {
        let iface = crate::sys::iface::Iface::lookup(&name);
        let _ = writeln!(t, " Name = {name}");
        let _ = writeln!(t, "   index = {index}");
        let v4 = iface.as_ref().and_then(|i| i.ipv4);
        let v6 = iface.as_ref().and_then(|i| i.link_local);
        let _ = writeln!(
            t,
            "   IPv4 address = {}",
            v4.map_or("(none)".into(), |a| a.to_string())
        );
        let _ = writeln!(
            t,
            "   IPv6 address = {}",
            v6.map_or("(none)".into(), |a| a.to_string())
        );
        let loopback = flags.contains(F::IFF_LOOPBACK);
        if let Some(mac) = iface.and_then(|i| i.mac).filter(|_| !loopback) {
            let hex: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(t, "   MAC = {}", hex.join(":"));
            let _ = writeln!(t, "   MAC broadcast = ff:ff:ff:ff:ff:ff");
        }
        let mut state = Vec::new();
        if flags.contains(F::IFF_UP) {
            state.push("UP");
        }
        if flags.contains(F::IFF_RUNNING) {
            state.push("RUNNING");
        }
        if !flags.contains(F::IFF_BROADCAST) {
            state.push("no broadcast");
        }
        if loopback {
            state.push("loopback");
        }
        if !flags.contains(F::IFF_MULTICAST) {
            state.push("no multicast");
        }
        let _ = writeln!(t, "   State = {}", state.join(", "));
        if let Ok(mtu) = std::fs::read_to_string(format!("/sys/class/net/{name}/mtu")) {
            let _ = writeln!(t, "   MTU = {}", mtu.trim());
        }
        let hw = if loopback { "LOOPBACK" } else { "ETHERNET" };
        let _ = writeln!(t, "   HW Type = {hw}");
    }
    t
}

/// Writes the data dump.
pub fn write_data(
    engine: &Engine,
    model: &crate::config::blocks::Config,
    started: f64,
) -> std::io::Result<PathBuf> {
    let path = tmp_file("keepalived.data");
    std::fs::write(&path, data_text(engine, model, started))?;
    Ok(path)
}
