//! The Prometheus exposition (text format 0.0.4) of a status, the daemon's figures and the
//! segment table - what `kaconsole daemon --metrics ADDR:PORT` serves on /metrics.
//!
//! The VRRP metrics keep mehdy/keepalived-exporter's names, labels and values (`iname`,
//! `intf`, `vrid`, `ip_address`; states 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT; scripts 0 BAD,
//! 1 GOOD), so its dashboards and alerts work unchanged. What no exporter can read from
//! keepalived's dump files is under `kaconsole_`.

use std::fmt::Write;

use super::protocol::segment::Snapshot;
use super::protocol::{DaemonStats, InstanceStatus, Status};

/// The exporter's state numbers (keepalived's `VRRP_STATE_*`); STOP, which keepalived never
/// dumps, as INIT.
pub fn state_value(state: &str) -> u8 {
    match state {
        "BACKUP" => 1,
        "MASTER" => 2,
        "FAULT" => 3,
        _ => 0,
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The text, one metric family after another.
#[derive(Default)]
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (k, (l, v)) in labels.iter().enumerate() {
                if k > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{l}=\"{}\"", esc(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// One family with a sample per instance.
    fn per_instance(
        &mut self,
        s: &Status,
        name: &str,
        kind: &str,
        help: &str,
        value: impl Fn(&InstanceStatus) -> u64,
    ) {
        self.family(name, kind, help);
        for i in &s.instances {
            let vrid = i.vrid.to_string();
            let labels = [
                ("iname", &*i.name),
                ("intf", &*i.interface),
                ("vrid", &vrid),
            ];
            self.sample(name, &labels, value(i));
        }
    }
}

/// keepalived-exporter's counters: name, help, the counter.
type Counter = (&'static str, &'static str, fn(&InstanceStatus) -> u64);

const EXPORTER_COUNTERS: [Counter; 14] = [
    (
        "keepalived_advertisements_received_total",
        "Advertisements received",
        |i| i.stats.advert_rcvd,
    ),
    (
        "keepalived_advertisements_sent_total",
        "Advertisements sent",
        |i| i.stats.advert_sent,
    ),
    ("keepalived_become_master_total", "Became master", |i| {
        i.stats.become_master
    }),
    ("keepalived_release_master_total", "Released master", |i| {
        i.stats.release_master
    }),
    (
        "keepalived_packet_length_errors_total",
        "Packet length errors",
        |i| i.stats.packet_len_err,
    ),
    (
        "keepalived_advertisements_interval_errors_total",
        "Advertisement interval errors",
        |i| i.stats.advert_interval_err,
    ),
    ("keepalived_ip_ttl_errors_total", "TTL errors", |i| {
        i.stats.ip_ttl_err
    }),
    (
        "keepalived_invalid_type_received_total",
        "Invalid type errors",
        |i| i.stats.invalid_type_rcvd,
    ),
    (
        "keepalived_address_list_errors_total",
        "Address list errors",
        |i| i.stats.addr_list_err,
    ),
    (
        "keepalived_authentication_invalid_total",
        "Authentication invalid",
        |i| i.stats.invalid_authtype,
    ),
    (
        "keepalived_authentication_mismatch_total",
        "Authentication mismatch",
        |i| i.stats.authtype_mismatch,
    ),
    (
        "keepalived_authentication_failure_total",
        "Authentication failure",
        |i| i.stats.auth_failure,
    ),
    (
        "keepalived_priority_zero_received_total",
        "Priority zero received",
        |i| i.stats.pri_zero_rcvd,
    ),
    (
        "keepalived_priority_zero_sent_total",
        "Priority zero sent",
        |i| i.stats.pri_zero_sent,
    ),
];

/// The whole exposition.
pub fn render(s: &Status, stats: &DaemonStats, segment: Option<&Snapshot>) -> String {
    let mut t = Text::default();
    t.family("keepalived_up", "gauge", "Status");
    t.sample("keepalived_up", &[], 1);
    vrrp_state(&mut t, s);
    for (name, help, value) in EXPORTER_COUNTERS {
        t.per_instance(s, name, "counter", help, value);
    }
    scripts(&mut t, s);
    priorities(&mut t, s);
    trackers(&mut t, s);
    gaps(&mut t, s);
    t.per_instance(
        s,
        "kaconsole_vrrp_version_errors_total",
        "counter",
        "Adverts of another VRRP version",
        |i| i.stats.version_err,
    );
    t.per_instance(
        s,
        "kaconsole_vrrp_checksum_errors_total",
        "counter",
        "Adverts with a bad checksum",
        |i| i.stats.checksum_err,
    );
    lvs(&mut t, s);
    if let Some(seg) = segment {
        segment_metrics(&mut t, seg);
    }
    daemon(&mut t, stats);
    t.0
}

fn vrrp_state(t: &mut Text, s: &Status) {
    let name = "keepalived_vrrp_state";
    t.family(name, "gauge", "State of vrrp");
    for i in &s.instances {
        let vrid = i.vrid.to_string();
        let v = state_value(&i.state);
        // One sample per VIP, as the exporter; an instance without VIPs still has one.
        let vips: Vec<&str> = i.vips.iter().map(|v| v.as_str()).collect();
        let vips = if vips.is_empty() { vec![""] } else { vips };
        for ip in vips {
            let labels = [
                ("iname", &*i.name),
                ("intf", &*i.interface),
                ("vrid", &vrid),
                ("ip_address", ip),
            ];
            t.sample(name, &labels, v);
        }
    }
}

fn scripts(t: &mut Text, s: &Status) {
    t.family("keepalived_script_status", "gauge", "Tracker Script Status");
    for sc in s.scripts.iter().filter(|sc| sc.status != "pending") {
        let v = u8::from(sc.status == "up");
        t.sample("keepalived_script_status", &[("name", &sc.name)], v);
    }
    t.family(
        "kaconsole_script_runs_total",
        "counter",
        "Runs of a vrrp_script",
    );
    for sc in &s.scripts {
        t.sample(
            "kaconsole_script_runs_total",
            &[("name", &sc.name)],
            sc.runs,
        );
    }
    t.family(
        "kaconsole_script_last_exit_status",
        "gauge",
        "Exit status of a vrrp_script's last run (-1: killed or could not start)",
    );
    for sc in s.scripts.iter().filter(|sc| sc.runs > 0) {
        let v = sc.last_exit.unwrap_or(-1);
        t.sample(
            "kaconsole_script_last_exit_status",
            &[("name", &sc.name)],
            v,
        );
    }
}

fn priorities(t: &mut Text, s: &Status) {
    t.per_instance(
        s,
        "kaconsole_vrrp_base_priority",
        "gauge",
        "Configured priority",
        |i| i.base_priority.into(),
    );
    t.per_instance(
        s,
        "kaconsole_vrrp_effective_priority",
        "gauge",
        "Priority after the trackers' weights (what the adverts carry)",
        |i| i.effective_priority.into(),
    );
}

fn trackers(t: &mut Text, s: &Status) {
    let name = "kaconsole_vrrp_tracker_contribution";
    t.family(
        name,
        "gauge",
        "What a tracker adds to the instance's priority now (0 while pending or in fault)",
    );
    for i in &s.instances {
        let vrid = i.vrid.to_string();
        for tr in &i.trackers {
            let v: i64 = tr.effect.trim_start_matches('+').parse().unwrap_or(0);
            let labels = [("iname", &*i.name), ("vrid", &vrid), ("tracker", &*tr.id)];
            t.sample(name, &labels, v);
        }
    }
    let name = "kaconsole_vrrp_tracker_fault";
    t.family(name, "gauge", "1 when a tracker puts the instance in FAULT");
    for i in &s.instances {
        let vrid = i.vrid.to_string();
        for tr in &i.trackers {
            let labels = [("iname", &*i.name), ("vrid", &vrid), ("tracker", &*tr.id)];
            t.sample(name, &labels, u8::from(tr.effect == "fault"));
        }
    }
}

fn gaps(t: &mut Text, s: &Status) {
    let name = "kaconsole_vrrp_advert_gap_seconds";
    t.family(
        name,
        "histogram",
        "Time between valid adverts received (jitter shows before a false failover)",
    );
    for i in &s.instances {
        let Some(h) = &i.advert_gaps else { continue };
        let vrid = i.vrid.to_string();
        let mut cumulative = 0;
        for (k, le) in h
            .le_s
            .iter()
            .map(|b| b.to_string())
            .chain(["+Inf".into()])
            .enumerate()
        {
            cumulative += h.counts.get(k).copied().unwrap_or(0);
            let labels = [
                ("iname", &*i.name),
                ("intf", &*i.interface),
                ("vrid", &vrid),
                ("le", &le),
            ];
            t.sample(&format!("{name}_bucket"), &labels, cumulative);
        }
        let labels = [
            ("iname", &*i.name),
            ("intf", &*i.interface),
            ("vrid", &vrid),
        ];
        t.sample(&format!("{name}_sum"), &labels, h.sum_s);
        t.sample(&format!("{name}_count"), &labels, cumulative);
    }
}

fn lvs(t: &mut Text, s: &Status) {
    t.family(
        "kaconsole_lvs_vs_quorum_up",
        "gauge",
        "1 while a virtual server has its quorum",
    );
    for vs in &s.virtual_servers {
        let v = u8::from(vs.quorum_up);
        t.sample("kaconsole_lvs_vs_quorum_up", &[("vs", &vs.id)], v);
    }
    let each =
        |t: &mut Text,
         name: &str,
         help: &str,
         value: &dyn Fn(&super::protocol::RealServerStatus) -> Option<String>| {
            t.family(name, "gauge", help);
            for vs in &s.virtual_servers {
                for rs in &vs.real_servers {
                    if let Some(v) = value(rs) {
                        let labels = [
                            ("vs", &*vs.id),
                            ("rs", &*rs.addr),
                            ("checker", &*rs.checker),
                        ];
                        t.sample(name, &labels, v);
                    }
                }
            }
        };
    each(
        t,
        "kaconsole_lvs_rs_up",
        "1 while a real server's checkers pass",
        &|rs| Some(u8::from(rs.alive).to_string()),
    );
    each(
        t,
        "kaconsole_lvs_rs_weight",
        "A real server's weight",
        &|rs| Some(rs.weight.to_string()),
    );
    each(
        t,
        "kaconsole_lvs_rs_check_latency_seconds",
        "Duration of a real server's last check",
        &|rs| rs.latency_ms.map(|ms| (ms / 1e3).to_string()),
    );
}

fn segment_metrics(t: &mut Text, seg: &Snapshot) {
    let name = "kaconsole_segment_routers";
    t.family(name, "gauge", "VRRP routers heard on the segment per VRID");
    for g in &seg.groups {
        let vrid = g.key.vrid.to_string();
        let family = if g.key.ipv6 { "ipv6" } else { "ipv4" };
        let version = g.key.version.to_string();
        let labels = [("vrid", &*vrid), ("family", family), ("version", &*version)];
        t.sample(name, &labels, g.routers.len());
    }
    let name = "kaconsole_segment_conflicts";
    t.family(name, "gauge", "Conflicts found on the segment, by kind");
    let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in &seg.findings {
        *kinds.entry(&f.kind).or_default() += 1;
    }
    for (kind, n) in kinds {
        t.sample(name, &[("kind", kind)], n);
    }
    t.family(
        "kaconsole_segment_packets_total",
        "counter",
        "VRRP packets heard on the segment",
    );
    t.sample("kaconsole_segment_packets_total", &[], seg.packets);
}

fn daemon(t: &mut Text, d: &DaemonStats) {
    let one = |t: &mut Text, name: &str, kind: &str, help: &str, v: String| {
        t.family(name, kind, help);
        t.sample(name, &[], v);
    };
    one(
        t,
        "kaconsole_reloads_total",
        "counter",
        "Successful reloads since the start",
        d.reloads.to_string(),
    );
    one(
        t,
        "kaconsole_control_clients",
        "gauge",
        "Control socket clients connected",
        d.clients.to_string(),
    );
    one(
        t,
        "kaconsole_control_clients_dropped_total",
        "counter",
        "Control clients dropped for not reading",
        d.clients_dropped.to_string(),
    );
    one(
        t,
        "kaconsole_uptime_seconds",
        "gauge",
        "Time since the daemon started",
        d.uptime_s.to_string(),
    );
    one(
        t,
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes",
        (d.rss_kb * 1024).to_string(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::{GapHistogram, fixture};

    #[test]
    fn the_exporters_names_labels_and_values() {
        let mut s = fixture::status();
        s.instances[0].advert_gaps = Some(GapHistogram {
            le_s: vec![0.5, 1.0],
            counts: vec![1, 2, 3],
            sum_s: 9.5,
        });
        let text = render(
            &s,
            &DaemonStats {
                rss_kb: 2,
                reloads: 3,
                ..Default::default()
            },
            None,
        );
        let i = &s.instances[0];
        let labels = format!(
            "iname=\"{}\",intf=\"{}\",vrid=\"{}\"",
            i.name, i.interface, i.vrid
        );
        assert!(text.contains("keepalived_up 1\n"), "{text}");
        assert!(
            text.contains(&format!(
                "keepalived_vrrp_state{{{labels},ip_address=\"{}\"}} {}\n",
                i.vips[0],
                state_value(&i.state)
            )),
            "{text}"
        );
        assert!(text.contains(&format!(
            "keepalived_advertisements_sent_total{{{labels}}} {}\n",
            i.stats.advert_sent
        )));
        assert!(text.contains(&format!(
            "kaconsole_vrrp_effective_priority{{{labels}}} {}\n",
            i.effective_priority
        )));
        assert!(text.contains(&format!(
            "kaconsole_vrrp_advert_gap_seconds_bucket{{{labels},le=\"1\"}} 3\n"
        )));
        assert!(text.contains(&format!(
            "kaconsole_vrrp_advert_gap_seconds_bucket{{{labels},le=\"+Inf\"}} 6\n"
        )));
        assert!(text.contains(&format!(
            "kaconsole_vrrp_advert_gap_seconds_count{{{labels}}} 6\n"
        )));
        assert!(text.contains("kaconsole_reloads_total 3\n"));
        assert!(text.contains("process_resident_memory_bytes 2048\n"));
        assert_eq!(state_value("MASTER"), 2);
        assert_eq!(state_value("FAULT"), 3);
        assert_eq!(state_value("BACKUP"), 1);
        assert_eq!(state_value("INIT"), 0);
    }

    #[test]
    fn the_dashboard_uses_only_metrics_that_exist() {
        let dashboard = include_str!("../../assets/grafana/kaconsole-dashboard.json");
        let mut s = fixture::status();
        s.instances[0].advert_gaps = Some(GapHistogram::default());
        let text = render(&s, &DaemonStats::default(), Some(&Snapshot::default()));
        let re = regex::Regex::new(r"(keepalived|kaconsole|process)_[a-z_]+").unwrap();
        let mut checked = 0;
        for m in re.find_iter(dashboard).map(|m| m.as_str()) {
            if m.ends_with('_') || m == "keepalived_vrrp" {
                continue;
            }
            let family = m.strip_suffix("_bucket").unwrap_or(m);
            assert!(text.contains(&format!("# TYPE {family} ")), "{m}");
            checked += 1;
        }
        assert!(checked >= 10);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
