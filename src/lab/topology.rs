//! What the lab builds: addresses, names and each router's keepalived.conf. Pure, so the
//! configurations are checked by unit tests.
//!
//! ```text
//!   r1 .11   r2 .12   r3 .13 ...      VI_1 10.88.0.100 (r1 first), VI_2 10.88.0.200 (reversed)
//!     \________|________/             virtual_server 10.88.0.100:80 -> b1 .21, b2 .22
//!              | br0 10.88.0.0/24
//!     client .2    b1 .21   b2 .22
//! ```

use std::path::Path;

pub const SUBNET_PREFIX: &str = "10.88.0";
pub const VIP_1: &str = "10.88.0.100";
pub const VIP_2: &str = "10.88.0.200";
pub const CLIENT: &str = "10.88.0.2";
pub const BACKENDS: [&str; 2] = ["10.88.0.21", "10.88.0.22"];
pub const HTTP_PORT: u16 = 80;

/// Router `i` (1-based) of `n`.
pub fn router_name(i: usize) -> String {
    format!("r{i}")
}

pub fn router_addr(i: usize) -> String {
    format!("{SUBNET_PREFIX}.{}", 10 + i)
}

/// VI_1 prefers r1, VI_2 prefers the last router; a failed health check costs 50.
pub fn priorities(i: usize, n: usize) -> (u8, u8) {
    let step = |k: usize| (200 - 10 * (k - 1).min(15)) as u8;
    (step(i), step(n + 1 - i))
}

/// The configuration of router `name`, number `i` of `n`; `dir` holds its health file.
pub fn router_config(name: &str, i: usize, n: usize, dir: &Path) -> String {
    let (p1, p2) = priorities(i, n);
    let health = dir.join("healthy");
    let backends: String = BACKENDS
        .iter()
        .map(|b| {
            format!(
                "    real_server {b} {HTTP_PORT} {{
        weight 1
        HTTP_GET {{
            url {{
                path /
                status_code 200
            }}
            connect_timeout 2
        }}
    }}
"
            )
        })
        .collect();
    format!(
        "# kaconsole lab: router {name} of {n} (generated)
global_defs {{
    router_id {name}
    enable_script_security
    script_user root
}}

# Healthy while {health} exists (the lab's H key removes it).
vrrp_script chk_health {{
    script \"/usr/bin/test -e {health}\"
    interval 1
    fall 1
    rise 1
    weight -50
}}

vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {p1}
    advert_int 1
    virtual_ipaddress {{
        {VIP_1}/24
    }}
    track_script {{
        chk_health
    }}
}}

vrrp_instance VI_2 {{
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority {p2}
    advert_int 1
    virtual_ipaddress {{
        {VIP_2}/24
    }}
}}

virtual_server {VIP_1} {HTTP_PORT} {{
    delay_loop 2
    lb_algo rr
    lb_kind DR
    protocol TCP
{backends}}}
",
        health = health.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, LoadOptions};

    #[test]
    fn every_router_config_is_clean() {
        for n in [1, 3, 8] {
            for i in 1..=n {
                let text = router_config(&router_name(i), i, n, Path::new("/run/kalab/r1"));
                let loaded = config::load_text(
                    Path::new("/run/kalab/r1/keepalived.conf"),
                    text.as_bytes(),
                    &LoadOptions::default(),
                    None,
                );
                assert!(
                    loaded.diagnostics.is_empty(),
                    "router {i} of {n}: {:?}\n{text}",
                    loaded.diagnostics
                );
                assert_eq!(loaded.config.vrrp_instances.len(), 2);
                assert_eq!(loaded.config.virtual_servers.len(), 1);
            }
        }
    }

    #[test]
    fn vi_1_prefers_r1_and_vi_2_the_last_router() {
        let n = 3;
        let p: Vec<(u8, u8)> = (1..=n).map(|i| priorities(i, n)).collect();
        assert_eq!(p, [(200, 180), (190, 190), (180, 200)]);
        // A failed health check moves VI_1 off r1.
        assert!(p[0].0 - 50 < p[1].0);
    }
}
