//! The checker engine's view of a checked configuration: each virtual server's real servers
//! and checkers with every option resolved as keepalived resolves it - the checker's own
//! value, else its real server's, else its virtual server's, else keepalived's default for
//! that kind of checker (check_data.c; keepalived.md §5).

use super::engine::{CheckerConfig, RealServerConfig, VirtualServerConfig};
use crate::config::blocks::Config;
use crate::config::blocks::checkers::{CheckKind, Checker};
use crate::config::blocks::lvs::{RealServer, VirtualServer, VsKey};
use crate::config::values::Micros;
use crate::time::Duration;

fn dur(m: Micros) -> Duration {
    Duration::micros(m.0)
}

/// `10.0.0.1:80 tcp`, `fwmark 1`, `group web`.
pub fn vs_id(vs: &VirtualServer) -> String {
    // Without `protocol` keepalived 2.2 makes the service UDP (`kaconsole check` says so).
    let proto = vs.protocol.map_or("udp", |p| p.name());
    match &vs.key {
        VsKey::Address { addr, port } => {
            let host = match addr {
                std::net::IpAddr::V6(a) => format!("[{a}]"),
                a => a.to_string(),
            };
            format!("{host}:{} {proto}", port.unwrap_or(0))
        }
        VsKey::Fwmark(m) => format!("fwmark {m}"),
        VsKey::Group(g) => format!("group {g}"),
    }
}

/// keepalived's `[addr]:proto:port` (utils.c `inet_sockaddrtotrio`).
fn trio(addr: std::net::IpAddr, proto: &str, port: u16) -> String {
    format!("[{addr}]:{proto}:{port}")
}

fn proto_name(vs: &VirtualServer) -> &'static str {
    match (&vs.key, vs.protocol) {
        (_, Some(p)) => p.name(),
        (VsKey::Address { .. }, None) => "udp",
        (_, None) => "none",
    }
}

/// keepalived's name for a virtual server (check_data.c `format_vs`): `[10.0.0.100]:tcp:80`,
/// `FWM 7`, `[web]:0` for a group.
pub fn vs_name(vs: &VirtualServer) -> String {
    match &vs.key {
        VsKey::Address { addr, port } => trio(*addr, proto_name(vs), port.unwrap_or(0)),
        VsKey::Fwmark(m) => format!("FWM {m}"),
        VsKey::Group(g) => format!("[{g}]:0"),
    }
}

/// keepalived's name for a real server: its address with the virtual server's protocol.
pub fn rs_name(rs: &RealServer, vs: &VirtualServer) -> String {
    trio(rs.addr, proto_name(vs), rs.port.unwrap_or(0))
}

fn kind_name(k: CheckKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{k:?}"))
}

fn checker(c: &Checker, rs: &RealServer, vs: &VirtualServer, log_all: bool) -> CheckerConfig {
    // FILE_CHECK has none of the timing options: keepalived follows the file with inotify,
    // kaconsole reads it every second and believes it at once.
    let delay_loop = match c.kind {
        CheckKind::File => Micros::secs(1),
        _ => c.delay_loop.or(rs.delay_loop).unwrap_or(vs.delay_loop),
    };
    // keepalived's per-kind defaults: MISC_CHECK does not retry, DNS_CHECK retries 3 times
    // a delay_loop apart, HTTP_GET and SSL_GET wait 3 s before a retry.
    let (retry, before_retry) = match c.kind {
        CheckKind::Misc | CheckKind::File => (0, Micros::secs(1)),
        CheckKind::Dns => (3, delay_loop),
        CheckKind::HttpGet | CheckKind::SslGet => (1, Micros::secs(3)),
        _ => (1, Micros::secs(1)),
    };
    CheckerConfig {
        kind: kind_name(c.kind),
        delay_loop: dur(delay_loop),
        retry: match c.kind {
            CheckKind::File => 0,
            _ => c.retry.or(rs.retry).or(vs.retry).unwrap_or(retry),
        },
        delay_before_retry: dur(c
            .delay_before_retry
            .or(rs.delay_before_retry)
            .or(vs.delay_before_retry)
            .unwrap_or(before_retry)),
        warmup: dur(c.warmup.or(rs.warmup).or(vs.warmup).unwrap_or(delay_loop)),
        alpha: c.alpha.or(rs.alpha).unwrap_or(vs.alpha),
        // The checker's own, or global_defs' checker_log_all_failures.
        log_all_failures: c.log_all_failures || log_all,
        fingerprint: serde_json::to_string(c).unwrap_or_default(),
    }
}

/// Every virtual server of `cfg`, for the engine.
pub fn from_config(cfg: &Config) -> Vec<VirtualServerConfig> {
    cfg.virtual_servers
        .iter()
        .map(|vs| VirtualServerConfig {
            id: vs_id(vs),
            name: vs_name(vs),
            quorum: vs.quorum,
            hysteresis: vs.hysteresis,
            sorry_server: vs
                .sorry_server
                .as_ref()
                .map(|s| format!("{}:{}", s.addr, s.port.unwrap_or(0))),
            sorry_inhibit: vs.sorry_server.as_ref().is_some_and(|s| s.inhibit),
            real_servers: vs
                .real_servers
                .iter()
                .map(|rs| RealServerConfig {
                    addr: format!("{}:{}", rs.addr, rs.port.unwrap_or(0)),
                    name: rs_name(rs, vs),
                    weight: rs.weight.unwrap_or(vs.weight),
                    inhibit_on_failure: rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure),
                    checkers: rs
                        .checkers
                        .iter()
                        .map(|c| checker(c, rs, vs, cfg.global_defs.checker_log_all_failures))
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, LoadOptions};

    /// The engine's view of `text`; `clean`: it must have no errors (warnings such as a
    /// missing lvs_sched are fine).
    fn model(text: &str, clean: bool) -> Vec<VirtualServerConfig> {
        let loaded = config::load_text(
            std::path::Path::new("/k.conf"),
            text.as_bytes(),
            &LoadOptions::default(),
            None,
        );
        assert!(!clean || !loaded.has_errors(), "{:?}", loaded.diagnostics);
        from_config(&loaded.config)
    }

    #[test]
    fn options_come_from_the_checker_then_the_real_server_then_the_virtual_server() {
        let vs = model(
            "virtual_server 10.0.0.100 80 {
    protocol TCP
    delay_loop 10
    quorum 2
    hysteresis 1
    sorry_server 10.0.0.99 80
    real_server 10.0.0.11 80 {
        weight 3
        retry 4
        TCP_CHECK {
            connect_timeout 2
        }
        HTTP_GET {
            url {
                path /
            }
            retry 7
            delay_loop 2
        }
    }
    real_server 10.0.0.12 80 {
        alpha
        inhibit_on_failure
        MISC_CHECK {
            misc_path /bin/true
        }
        DNS_CHECK {
            name example.com
        }
    }
}
",
            true,
        );
        let v = &vs[0];
        assert_eq!(v.id, "10.0.0.100:80 tcp");
        assert_eq!(v.name, "[10.0.0.100]:tcp:80");
        assert_eq!(v.real_servers[0].name, "[10.0.0.11]:tcp:80");
        assert_eq!((v.quorum, v.hysteresis), (2, 1));
        assert_eq!(v.sorry_server.as_deref(), Some("10.0.0.99:80"));
        let (r1, r2) = (&v.real_servers[0], &v.real_servers[1]);
        assert_eq!((r1.addr.as_str(), r1.weight), ("10.0.0.11:80", 3));
        let (tcp, http) = (&r1.checkers[0], &r1.checkers[1]);
        assert_eq!(tcp.kind, "TCP_CHECK");
        assert_eq!(tcp.retry, 4, "the real server's retry");
        assert_eq!(
            tcp.delay_loop,
            Duration::secs(10),
            "the virtual server's delay_loop"
        );
        assert_eq!(
            tcp.delay_before_retry,
            Duration::secs(1),
            "keepalived's default"
        );
        assert_eq!(
            tcp.warmup,
            Duration::secs(10),
            "warmup defaults to delay_loop"
        );
        assert_eq!(http.retry, 7, "the checker's own");
        assert_eq!(http.delay_loop, Duration::secs(2));
        assert_eq!(
            http.delay_before_retry,
            Duration::secs(3),
            "HTTP_GET waits 3 s"
        );
        assert!(!tcp.alpha);
        assert_eq!((r2.weight, r2.inhibit_on_failure), (1, true));
        let (misc, dns) = (&r2.checkers[0], &r2.checkers[1]);
        assert!(misc.alpha && dns.alpha, "the real server's alpha");
        assert_eq!(misc.retry, 0, "MISC_CHECK does not retry");
        assert_eq!(dns.retry, 3, "DNS_CHECK retries 3 times");
        assert_eq!(
            dns.delay_before_retry,
            Duration::secs(10),
            "a delay_loop apart"
        );
    }

    #[test]
    fn fwmark_and_group_services_are_named() {
        let vs = model(
            "virtual_server fwmark 7 {\n    real_server 10.0.0.11 80 {\n    }\n}\nvirtual_server_group web {\n    10.0.0.100 80\n}\nvirtual_server group web {\n    protocol TCP\n    real_server 10.0.0.12 80 {\n    }\n}\nvirtual_server 10.0.0.101 53 {\n    real_server 10.0.0.13 53 {\n    }\n}\n",
            false,
        );
        assert_eq!(vs[0].id, "fwmark 7");
        assert_eq!(
            (vs[0].name.as_str(), vs[1].name.as_str()),
            ("FWM 7", "[web]:0")
        );
        assert_eq!(vs[1].id, "group web");
        // An error for `kaconsole check`, but the model holds what keepalived would run.
        assert_eq!(
            vs[2].id, "10.0.0.101:53 udp",
            "keepalived's default protocol"
        );
    }
}
