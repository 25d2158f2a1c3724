//! `keepalived.json` (keepalived's JSON signal; vrrp_json.c): per instance a `data` object
//! with keepalived's keys, in its order, and `stats`. Arrays and scripts that are empty are
//! left out, as keepalived does.

use serde_json::Value;

use super::stats::JSON_KEYS;
use super::text::{float, quoted, route_text, rule_text, state_number, vip_text};
use crate::config::blocks::Config;
use crate::config::blocks::vrrp::VrrpInstance;
use crate::time::Duration;
use crate::vrrp::engine::Engine;
use crate::vrrp::instance::Instance;
use crate::vrrp::instance_config::Auth;

/// An object whose keys keep their order (keepalived's order).
#[derive(Default)]
struct Obj(Vec<(&'static str, Value)>);

impl Obj {
    fn put(&mut self, k: &'static str, v: impl Into<Value>) {
        self.0.push((k, v.into()));
    }

    /// Puts a list unless it is empty.
    fn put_list(&mut self, k: &'static str, v: Vec<String>) {
        if !v.is_empty() {
            self.put(k, v);
        }
    }

    fn render(&self) -> String {
        let fields: Vec<String> = self.0.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", fields.join(","))
    }
}

/// The dump's text. `started` maps the engine's clock to the wall clock (seconds since the
/// epoch at engine time 0).
pub fn json_text(engine: &Engine, config: &Config, started: f64) -> String {
    let items: Vec<String> = engine
        .instances()
        .iter()
        .enumerate()
        .map(|(idx, i)| {
            let m = config.vrrp_instances.get(idx);
            let mut d = Obj::default();
            identity(&mut d, i, m, config);
            timers_and_priorities(&mut d, i, started);
            behaviour(&mut d, i, m, config);
            if let Some(m) = m {
                scripts_and_addresses(&mut d, i, m, config);
            }
            auth(&mut d, &i.config().auth);
            let mut st = Obj::default();
            for (key, count) in JSON_KEYS {
                st.put(key, count(i.stats()));
            }
            format!("{{\"data\":{},\"stats\":{}}}", d.render(), st.render())
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn strict(m: Option<&VrrpInstance>, config: &Config) -> bool {
    m.and_then(|m| m.strict_mode)
        .unwrap_or(config.global_defs.vrrp_strict)
}

fn secs(d: Duration) -> Value {
    float(d.as_micros() as f64 / 1e6)
}

/// From `iname` to `master_priority`.
fn identity(d: &mut Obj, i: &Instance, m: Option<&VrrpInstance>, config: &Config) {
    let c = i.config();
    d.put("iname", c.name.clone());
    d.put("dont_track_primary", u32::from(!c.track_primary));
    d.put("skip_check_adv_addr", u32::from(c.skip_check_adv_addr));
    d.put("strict_mode", u32::from(strict(m, config)));
    let vmac = m
        .and_then(|m| m.use_vmac.as_ref())
        .map(|_| c.interface.clone())
        .unwrap_or_default();
    d.put("vmac_ifname", vmac);
    d.put("ifp_ifname", c.interface.clone());
    d.put("master_priority", i.master().map_or(0, |(_, p)| p));
}

/// From `last_transition` to `vipset`.
fn timers_and_priorities(d: &mut Obj, i: &Instance, started: f64) {
    let c = i.config();
    let lt = if i.last_transition().0 == 0 {
        0.0
    } else {
        started + i.last_transition().0 as f64 / 1e6
    };
    d.put(
        "last_transition",
        serde_json::Number::from_f64((lt * 1e6).round() / 1e6).map_or(Value::Null, Into::into),
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
}

/// From `promote_secondaries` to `notify_deleted`.
fn behaviour(d: &mut Obj, i: &Instance, m: Option<&VrrpInstance>, config: &Config) {
    let c = i.config();
    d.put(
        "promote_secondaries",
        m.is_some_and(|m| m.promote_secondaries),
    );
    d.put("adver_int", secs(c.adver_int));
    d.put("master_adver_int", secs(i.master_adver_int()));
    let accept = m.and_then(|m| m.accept).unwrap_or(!strict(m, config));
    d.put("accept", u32::from(accept));
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
}

/// The notify scripts, the addresses, routes and rules, the tracked interfaces and scripts.
fn scripts_and_addresses(d: &mut Obj, i: &Instance, m: &VrrpInstance, config: &Config) {
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
    let interface = &i.config().interface;
    let vip = |a| vip_text(a, interface, i.installed());
    d.put_list("vips", m.virtual_ipaddress.iter().map(vip).collect());
    d.put_list(
        "evips",
        m.virtual_ipaddress_excluded.iter().map(vip).collect(),
    );
    d.put_list("vroutes", m.virtual_routes.iter().map(route_text).collect());
    d.put_list("vrules", m.virtual_rules.iter().map(rule_text).collect());
    let tracked = m.track_interface.iter().map(|t| t.name.clone()).collect();
    d.put_list("track_ifp", tracked);
    let scripts = m
        .track_script
        .iter()
        .filter_map(|t| config.vrrp_scripts.iter().find(|s| s.name == t.name))
        .filter_map(|s| s.script.as_ref().map(|c| quoted(&c.argv)))
        .collect();
    d.put_list("track_script", scripts);
}

/// `auth_type` (0 none, 1 PASS, 2 AH) and `auth_data`, the password up to its first NUL.
fn auth(d: &mut Obj, auth: &Auth) {
    let kind = match auth {
        Auth::None => 0,
        Auth::Pass(_) => 1,
        Auth::Ah(_) => 2,
    };
    d.put("auth_type", kind);
    if let Auth::Pass(p) | Auth::Ah(p) = auth {
        let end = p.iter().position(|b| *b == 0).unwrap_or(p.len());
        d.put("auth_data", String::from_utf8_lossy(&p[..end]).into_owned());
    }
}
