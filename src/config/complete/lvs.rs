//! LVS completion and checks (keepalived's vs/rs end handlers and validate_check_config).

use crate::config::fasthash::FastMap as HashMap;
use std::net::IpAddr;

use crate::config::blocks::Config;
use crate::config::blocks::checkers::CheckKind;
use crate::config::blocks::lvs::{Method, Protocol, VirtualServer, VsKey, VsgEntry};
use crate::config::diag::Diagnostics;
use crate::config::values::{Family, Micros};

use super::unknown_ref;

pub fn complete(cfg: &mut Config, d: &mut Diagnostics) {
    let groups: HashMap<String, Vec<VsgEntry>> = cfg
        .virtual_server_groups
        .iter()
        .map(|g| (g.name.clone(), g.entries.clone()))
        .collect();
    let group_names: Vec<String> = cfg
        .virtual_server_groups
        .iter()
        .map(|g| g.name.clone())
        .collect();
    let track_files: Vec<String> = cfg.track_files.iter().map(|f| f.name.clone()).collect();
    let g = &cfg.global_defs;
    let smtp_default_vs = g.smtp_alert_checker.or(g.smtp_alert);

    let mut seen_vs: HashMap<String, u32> = HashMap::default();
    for vs in &mut cfg.virtual_servers {
        let label = vs.label();
        let entries = match &vs.key {
            VsKey::Group(name) => match groups.get(name) {
                Some(e) => Some(e.clone()),
                None => {
                    unknown_ref(
                        d,
                        vs.seen.at,
                        "virtual_server_group",
                        name,
                        group_names.iter().map(String::as_str),
                    );
                    continue;
                }
            },
            _ => None,
        };
        let key = format!("{label}/{:?}", vs.protocol);
        if let Some(line) = seen_vs.insert(key, vs.seen.at.line) {
            d.warning("duplicate", vs.seen.at, format!("virtual_server {label} is defined twice (also line {line})"))
                .help("keepalived 2.2 does not notice this; the two definitions fight over the same IPVS service");
        }
        complete_vs(vs, entries.as_deref(), smtp_default_vs, d);
        for rs in &vs.real_servers {
            for c in &rs.checkers {
                if let Some(f) = &c.file
                    && !track_files.contains(&f.track_file)
                {
                    unknown_ref(
                        d,
                        c.seen.or_header("track_file"),
                        "track_file",
                        &f.track_file,
                        track_files.iter().map(String::as_str),
                    );
                }
            }
        }
    }
}

fn complete_vs(
    vs: &mut VirtualServer,
    group: Option<&[VsgEntry]>,
    smtp_default: Option<bool>,
    d: &mut Diagnostics,
) {
    let label = vs.label();
    let at = vs.seen.at;
    let span = |k: &str| vs.seen.or_header(k);
    let has_addresses = match (&vs.key, group) {
        (VsKey::Address { .. }, _) => true,
        (VsKey::Group(_), Some(g)) => g.iter().any(|e| matches!(e, VsgEntry::Range { .. })),
        _ => false,
    };
    let has_fwmarks = match (&vs.key, group) {
        (VsKey::Fwmark(_), _) => true,
        (VsKey::Group(_), Some(g)) => g.iter().any(|e| matches!(e, VsgEntry::Fwmark { .. })),
        _ => false,
    };

    if vs.real_servers.is_empty() {
        d.error(
            "no-real-server",
            at,
            format!("virtual_server {label} has no real_server; keepalived ignores it"),
        );
    }
    if vs.ha_suspend && has_fwmarks {
        d.error(
            "ignored",
            span("ha_suspend"),
            format!(
                "virtual_server {label}: ha_suspend cannot work with fwmarks; keepalived clears it"
            ),
        );
        vs.ha_suspend = false;
    }
    if has_addresses {
        if vs.protocol.is_none() {
            d.error(
                "no-protocol",
                at,
                format!("virtual_server {label} has no protocol: keepalived makes it UDP"),
            )
            .help("add: protocol TCP (or UDP, SCTP)");
            vs.protocol = Some(Protocol::Udp);
        }
        if vs.sched_flags.ops && vs.protocol != Some(Protocol::Udp) {
            d.warning("ignored", span("ops"), format!("virtual_server {label}: one-packet scheduling (ops) needs UDP; keepalived clears it"));
            vs.sched_flags.ops = false;
        }
        let zero_port = match (&vs.key, group) {
            (VsKey::Address { port, .. }, _) => port.is_none(),
            (VsKey::Group(_), Some(g)) => g
                .iter()
                .any(|e| matches!(e, VsgEntry::Range { port: None, .. })),
            _ => false,
        };
        if zero_port && vs.persistence_timeout.is_none() {
            d.warning("zero-port", at, format!("virtual_server {label}: a service without port must be persistent; keepalived sets persistence_timeout 360"));
            vs.persistence_timeout = Some(360);
        }
    } else if vs.protocol.is_some() && has_fwmarks {
        d.warning("ignored", span("protocol"), format!("virtual_server {label}: protocol has no meaning for a fwmark service and is ignored"));
        vs.protocol = None;
    }
    if vs.lvs_sched.is_none() {
        d.warning(
            "default",
            at,
            format!("virtual_server {label} has no lvs_sched; keepalived uses wlc"),
        )
        .help("add: lvs_sched wlc (or rr, ...)");
        vs.lvs_sched = Some("wlc");
    }
    vs.smtp_alert.get_or_insert(smtp_default.unwrap_or(false));
    if vs.persistence_granularity.is_some() && vs.persistence_timeout.is_none() {
        vs.persistence_timeout = Some(360);
    }

    let mut method_reported = false;
    let vs_method = vs.lvs_method;
    let vs_family = vs.ip_family;
    let mut weight_sum: u64 = 0;
    let mut seen_rs: HashMap<(IpAddr, Option<u16>), u32> = HashMap::default();
    let defaults = (
        vs.alpha,
        vs.inhibit_on_failure,
        vs.retry,
        vs.connect_timeout,
        vs.delay_loop,
        vs.warmup,
        vs.delay_before_retry,
        vs.weight,
    );
    let sorry = vs.sorry_server.clone();
    let is_fwmark = matches!(vs.key, VsKey::Fwmark(_));
    let vs_port = match vs.key {
        VsKey::Address { port, .. } => port,
        _ => None,
    };
    vs.real_servers.retain_mut(|rs| {
        let rs_label = format!("[{}]:{}", rs.addr, rs.port.unwrap_or(0));
        if let Some(line) = seen_rs.insert((rs.addr, rs.port), rs.seen.at.line) {
            d.warning("duplicate", rs.seen.at, format!("virtual_server {label}: real_server {rs_label} is listed twice (also line {line}); keepalived drops this one"));
            return false;
        }
        let method = match (rs.lvs_method, vs_method) {
            (Some(m), _) | (None, Some(m)) => m,
            (None, None) => {
                if !method_reported {
                    d.warning("default", at, format!("virtual_server {label} has no lvs_method; keepalived uses NAT"))
                        .help("add: lvs_method NAT (or DR, TUN)");
                    method_reported = true;
                }
                Method::Nat
            }
        };
        rs.lvs_method = Some(method);
        let tunnel = matches!(method, Method::Tun { .. });
        if !tunnel && let Some(f) = vs_family && Family::of(&rs.addr) != f {
            d.error("family-mismatch", rs.seen.at, format!("virtual_server {label}: real_server {} is {} but the service is {}; keepalived drops it", rs.addr, Family::of(&rs.addr).name(), f.name()))
                .help("only TUN can forward to the other family");
            return false;
        }
        let (alpha, inhibit, retry, ct, dl, warmup, dbr, weight) = defaults;
        rs.alpha.get_or_insert(alpha);
        rs.inhibit_on_failure.get_or_insert(inhibit);
        if let Some(r) = retry {
            rs.retry.get_or_insert(r);
        }
        rs.connect_timeout.get_or_insert(ct);
        rs.delay_loop.get_or_insert(dl);
        if let Some(w) = warmup {
            rs.warmup.get_or_insert(w);
        }
        if let Some(w) = dbr {
            rs.delay_before_retry.get_or_insert(w);
        }
        let w = *rs.weight.get_or_insert(weight);
        weight_sum += u64::from(w);
        // keepalived's default for real servers is to mail (kept for compatibility).
        rs.smtp_alert.get_or_insert(smtp_default.unwrap_or(true));
        // Ports: NAT uses the service port when none is given; DR and TUN cannot translate.
        match (method, is_fwmark) {
            (Method::Nat, false) => {
                rs.port.get_or_insert(vs_port.unwrap_or(0));
            }
            (_, true) => {
                if rs.port.is_some() && method != Method::Nat {
                    d.warning("ignored", rs.seen.at, format!("virtual_server {label}: real_server {rs_label} has a port, which a fwmark service without NAT ignores"));
                    rs.port = None;
                }
            }
            (_, false) => match (rs.port, vs_port) {
                (None, p) => rs.port = p,
                (Some(p), Some(v)) if p != v => {
                    d.warning("port-mismatch", rs.seen.at, format!("virtual_server {label}: real_server {rs_label} uses port {p}, but DR/TUN cannot change the port; keepalived uses {v}"));
                    rs.port = Some(v);
                }
                _ => {}
            },
        }
        if let Some(s) = &sorry
            && s.addr == rs.addr
            && s.port == rs.port
            && s.inhibit != rs.inhibit_on_failure.unwrap_or(false)
        {
            d.warning("inconsistent", rs.seen.at, format!("virtual_server {label}: real_server {rs_label} is also the sorry server, with another inhibit setting"));
        }
        for c in &mut rs.checkers {
            complete_checker(c, rs.addr, rs.connect_timeout, rs.delay_loop, rs.retry, rs.delay_before_retry, rs.warmup, rs.alpha, d);
        }
        true
    });
    if let Some(s) = &mut vs.sorry_server {
        s.lvs_method.get_or_insert(vs_method.unwrap_or(Method::Nat));
    }
    if u64::from(vs.quorum) > weight_sum && !vs.real_servers.is_empty() {
        d.warning("quorum", span("quorum"), format!("virtual_server {label}: quorum {} exceeds the total weight {weight_sum} of its real servers; keepalived lowers it to {weight_sum}", vs.quorum));
        vs.quorum = weight_sum.min(u64::from(u32::MAX)) as u32;
    }
    if vs.hysteresis >= vs.quorum && vs.hysteresis > 0 {
        let h = vs.quorum.saturating_sub(1);
        d.warning("quorum", span("hysteresis"), format!("virtual_server {label}: hysteresis {} must be below the quorum {}; keepalived uses {h}", vs.hysteresis, vs.quorum));
        vs.hysteresis = h;
    }
}

#[allow(clippy::too_many_arguments)]
fn complete_checker(
    c: &mut crate::config::blocks::checkers::Checker,
    rs_addr: IpAddr,
    ct: Option<Micros>,
    dl: Option<Micros>,
    retry: Option<u32>,
    dbr: Option<Micros>,
    warmup: Option<Micros>,
    alpha: Option<bool>,
    d: &mut Diagnostics,
) {
    if matches!(c.kind, CheckKind::File | CheckKind::Bfd) {
        return;
    }
    let default_retry = match c.kind {
        CheckKind::Misc => 0,
        CheckKind::Dns => 3,
        _ => 1,
    };
    let delay_loop = *c.delay_loop.get_or_insert(dl.unwrap_or(Micros::secs(60)));
    if c.kind != CheckKind::Misc {
        c.connect_timeout
            .get_or_insert(ct.unwrap_or(Micros::secs(5)));
    }
    c.retry.get_or_insert(retry.unwrap_or(default_retry));
    let default_dbr = match c.kind {
        CheckKind::HttpGet | CheckKind::SslGet => Micros::secs(3),
        CheckKind::Dns => delay_loop,
        _ => Micros::secs(1),
    };
    c.delay_before_retry
        .get_or_insert(dbr.unwrap_or(default_dbr));
    c.warmup.get_or_insert(warmup.unwrap_or(delay_loop));
    c.alpha.get_or_insert(alpha.unwrap_or(false));
    if let Some(h) = &mut c.http {
        for u in &mut h.urls {
            if u.status_code.is_empty() {
                u.status_code.push((200, 299));
            }
        }
    }
    // A link-local destination needs an interface to route to.
    let dst = c.connect_ip.unwrap_or(rs_addr);
    if let IpAddr::V6(a) = dst
        && (a.segments()[0] & 0xffc0) == 0xfe80
        && c.bind_if.is_none()
        && c.kind != CheckKind::Misc
    {
        d.error(
            "link-local",
            c.seen.at,
            format!(
                "{} of link-local address {a} needs bind_if; keepalived drops the checker",
                c.kind.name()
            ),
        );
    }
    if let (Some(b), true) = (c.bindto, c.connect_ip.is_some())
        && b.is_ipv4() != dst.is_ipv4()
    {
        d.error(
            "family-mismatch",
            c.seen.or_header("bindto"),
            format!(
                "{}: bindto {b} and connect_ip {dst} are of different families",
                c.kind.name()
            ),
        );
    }
}
