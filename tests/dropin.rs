//! A drop-in for keepalived: the machine never refuses a start keepalived makes, and the
//! daemon says what it does not do (each `check` warning, and one line naming the keywords
//! accepted and not acted on) at start and at every reload.

mod common;

use std::time::Duration;

use common::control::Client;
use common::segment::{Segment, wait_for};
use nix::sys::signal::Signal;

#[test]
fn a_missing_misc_check_script_fails_its_real_server_and_the_daemon_runs() {
    if !common::require_root(
        "a_missing_misc_check_script_fails_its_real_server_and_the_daemon_runs",
    ) {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let conf = "global_defs {
    router_id dropin
    enable_traps
    enable_dbus
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
    }
}
virtual_server 10.77.0.100 80 {
    delay_loop 1
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 127.0.0.1 8081 {
        MISC_CHECK {
            misc_path \"/nonexistent/kac-check.sh\"
            retry 1
            delay_before_retry 1
        }
    }
}
";
    let mut d = common::start_kaconsole(h, conf, &[], &[]);
    let socket = h.socket();
    // The VRRP side runs: the master holds its VIP.
    let master = wait_for(Duration::from_secs(10), || h.has_address("10.77.0.100"));
    assert!(master.is_some(), "{}", d.log_text());
    // The checker fails every run: the real server goes down, with the reason.
    let down = wait_for(Duration::from_secs(10), || {
        Client::status(&socket)
            .is_some_and(|s| s["virtual_servers"][0]["real_servers"][0]["alive"] == false)
    });
    assert!(
        down.is_some(),
        "{:?}\n{}",
        Client::status(&socket),
        d.log_text()
    );
    let status = Client::status(&socket).unwrap();
    let rs = &status["virtual_servers"][0]["real_servers"][0];
    let reason = rs["last_error"].as_str().unwrap_or("");
    assert!(
        reason.contains("/nonexistent/kac-check.sh") && reason.contains("did not run"),
        "{rs}"
    );
    let log = d.log_text();
    let conf_path = h.dir.join("kaconsole.conf").display().to_string();
    // The warning `check` gives, on one line with file:line:col.
    let warning = format!(
        "{conf_path}:23:13: warning[script-not-found]: script /nonexistent/kac-check.sh does not exist"
    );
    assert_eq!(log.matches(&warning).count(), 1, "{log}");
    let summary = "accepted but not acted on (2 keyword(s), see `kaconsole check`): enable_traps, enable_dbus";
    assert_eq!(log.matches(summary).count(), 1, "{log}");
    // A reload says it all again.
    d.signal(Signal::SIGHUP);
    let again = wait_for(Duration::from_secs(5), || {
        let log = d.log_text();
        log.matches(&warning).count() == 2 && log.matches(summary).count() == 2
    });
    assert!(again.is_some(), "{}", d.log_text());
    assert!(h.has_address("10.77.0.100"), "{}", d.log_text());
    d.stop_with(Signal::SIGTERM);
}

/// Every setting keepalived reports and overrides is a warning in one wording that says what
/// keepalived does instead (the daemon starts, as keepalived does).
#[test]
fn settings_keepalived_overrides_are_warnings_in_one_wording() {
    let cases = [
        (
            "global_defs {\n    vrrp_strict\n}\n",
            "    state MASTER\n",
            "starts it as BACKUP",
        ),
        (
            "",
            "    version 3\n    authentication {\n        auth_type PASS\n        auth_pass secret\n    }\n",
            "sends adverts without authentication",
        ),
        (
            "global_defs {\n    vrrp_strict\n}\n",
            "    authentication {\n        auth_type PASS\n        auth_pass secret\n    }\n",
            "sends adverts without authentication",
        ),
        (
            "",
            "    state MASTER\n    authentication {\n        auth_type AH\n        auth_pass secret\n    }\n",
            "starts it as BACKUP",
        ),
        ("", "    state MASTER\n    nopreempt\n", "clears it"),
    ];
    for (global, extra, instead) in cases {
        let conf = format!(
            "{global}vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority 100\n{extra}    virtual_ipaddress {{\n        10.1.2.3/24\n    }}\n}}\n"
        );
        let loaded = kaconsole::config::load_text(
            std::path::Path::new("/k.conf"),
            conf.as_bytes(),
            &Default::default(),
            None,
        );
        let errors: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == kaconsole::config::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{conf}\n{errors:?}");
        let o = loaded.diagnostics.iter().find(|d| d.code == "overridden");
        assert!(
            o.is_some_and(|d| d
                .message
                .contains(&format!(": keepalived overrides it and {instead}"))),
            "{conf}\n{:?}",
            loaded.diagnostics
        );
    }
}

const NS_CONF: &str = "vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 52
    priority 150
    advert_int 1
    virtual_ipaddress {
        10.77.0.101/24
    }
}
";

/// A daemon started in an empty namespace (no eth0) runs in the named one: its VIP lands on
/// that namespace's eth0, and its adverts are heard there.
fn runs_in_the_named_namespace(test: &str, conf_ns: bool, flag_ns: bool) {
    if !common::require_root(test) {
        return;
    }
    let seg = Segment::new(2);
    let (h, peer) = (&seg.hosts[0], &seg.hosts[1]);
    let empty = common::NetNs::with_interfaces(0);
    let start_in = common::segment::Host {
        ns: empty.name.clone(),
        addr: String::new(),
        dir: h.dir.clone(),
    };
    let conf = if conf_ns {
        format!("net_namespace {}\n{NS_CONF}", h.ns)
    } else {
        NS_CONF.to_string()
    };
    if conf_ns {
        // `check` looks for the interfaces in the named namespace too.
        let path = h.write("check.conf", &conf);
        let out = empty.run(
            &common::kaconsole(),
            &["check", "-f", path.to_str().unwrap()],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("no-interface"), "{text}");
        assert!(out.status.code().is_some_and(|c| c < 2), "{text}");
    }
    let extra: Vec<&str> = if flag_ns { vec!["-s", &h.ns] } else { vec![] };
    let mut d = common::start_kaconsole(&start_in, &conf, &extra, &[]);
    let master = wait_for(Duration::from_secs(10), || h.has_address("10.77.0.101"));
    assert!(master.is_some(), "{}", d.log_text());
    assert!(
        d.log_text()
            .contains(&format!("Running in network namespace {}", h.ns)),
        "{}",
        d.log_text()
    );
    // Its adverts are on the segment: the other host hears VRID 52 from 10.77.0.1.
    let heard = peer.run(
        "timeout",
        &[
            "3",
            common::kaconsole().to_str().unwrap(),
            "sniff",
            "eth0",
            "--json",
        ],
    );
    let heard = String::from_utf8_lossy(&heard.stdout).into_owned();
    assert!(
        heard.contains("\"vrid\":52") && heard.contains("10.77.0.1"),
        "{heard}"
    );
    d.stop_with(Signal::SIGTERM);
}

#[test]
fn net_namespace_puts_the_vips_and_adverts_in_the_named_namespace() {
    runs_in_the_named_namespace(
        "net_namespace_puts_the_vips_and_adverts_in_the_named_namespace",
        true,
        false,
    );
}

#[test]
fn dash_s_runs_the_daemon_in_the_named_namespace() {
    runs_in_the_named_namespace("dash_s_runs_the_daemon_in_the_named_namespace", false, true);
}

#[test]
fn a_missing_namespace_stops_the_start_as_keepalived_does() {
    if !common::require_root("a_missing_namespace_stops_the_start_as_keepalived_does") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let mut d = common::start_kaconsole(h, NS_CONF, &["-s", "kac-no-such-ns"], &[]);
    assert_eq!(
        d.wait_exit(Duration::from_secs(5)),
        Some(1),
        "{}",
        d.log_text()
    );
    assert!(
        d.log_text()
            .contains("Unable to set network namespace kac-no-such-ns"),
        "{}",
        d.log_text()
    );
}

#[test]
fn snmp_and_release_vips_flags_are_refused_not_ignored() {
    for (flag, name) in [
        (vec!["-x"], "-x/--snmp"),
        (vec!["-A", "/tmp/agentx"], "-A/--snmp-agent-socket"),
        (vec!["-X"], "-X/--release-vips"),
    ] {
        let mut args = vec!["daemon", "-n", "-f", "/nonexistent/keepalived.conf"];
        args.extend(flag);
        let out = std::process::Command::new(common::kaconsole())
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(name) && err.contains("is not supported by kaconsole"),
            "{err}"
        );
    }
}

#[test]
fn dash_i_chooses_the_config_id_lines() {
    if !common::require_root("dash_i_chooses_the_config_id_lines") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let conf = NS_CONF.replace(
        "    priority 150\n",
        "@lb1 priority 150\n@lb2 priority 90\n",
    );
    let mut d = common::start_kaconsole(h, &conf, &["-i", "lb2"], &[]);
    let socket = h.socket();
    let prio = wait_for(Duration::from_secs(5), || {
        Client::status(&socket).is_some_and(|s| s["instances"][0]["base_priority"] == 90)
    });
    assert!(
        prio.is_some(),
        "{:?}\n{}",
        Client::status(&socket),
        d.log_text()
    );
    d.stop_with(Signal::SIGTERM);
}

/// `vrrp_rt_priority` schedules the VRRP loop SCHED_RR at that priority; `vrrp_no_swap`
/// locks the daemon in memory.
#[test]
fn vrrp_rt_priority_cpu_affinity_and_no_swap_take_effect() {
    if !common::require_root("vrrp_rt_priority_cpu_affinity_and_no_swap_take_effect") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let conf = format!(
        "global_defs {{\n    vrrp_rt_priority 10\n    vrrp_no_swap\n    vrrp_cpu_affinity 0\n}}\n{NS_CONF}"
    );
    let mut d = common::start_kaconsole(h, &conf, &[], &[]);
    let master = wait_for(Duration::from_secs(10), || h.has_address("10.77.0.101"));
    assert!(master.is_some(), "{}", d.log_text());
    let pid = d.pid();
    // /proc/PID/stat: field 40 is rt_priority, 41 the policy (2 = SCHED_RR), counted after
    // the command name in parentheses (fields 3 on).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    assert_eq!(
        (fields[37], fields[38]),
        ("10", "2"),
        "{stat}\n{}",
        d.log_text()
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let locked: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap();
    assert!(locked > 1000, "VmLck {locked} kB\n{}", d.log_text());
    let cpus = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(str::trim);
    assert_eq!(cpus, Some("0"), "vrrp_cpu_affinity 0\n{}", d.log_text());
    let log = d.log_text();
    assert!(
        log.contains("VRRP loop scheduled SCHED_RR with priority 10")
            && !log.contains("'vrrp_rt_priority' is accepted but not implemented")
            && !log.contains("'vrrp_no_swap' is accepted but not implemented"),
        "acted on, not reported: {log}"
    );
    d.stop_with(Signal::SIGTERM);
}

/// vrrp_garp_interval paces gratuitous ARPs: with 500 VIPs and 0.01, the ARPs a neighbour
/// captures are at least 10 ms apart (keepalived's garp_delay per interface).
#[test]
fn garp_interval_spreads_the_gratuitous_arps_of_500_vips() {
    if !common::require_root("garp_interval_spreads_the_gratuitous_arps_of_500_vips") {
        return;
    }
    let Some(tcpdump) = common::require_program("garp_interval", "tcpdump") else {
        return;
    };
    let seg = Segment::new(2);
    let (h, peer) = (&seg.hosts[0], &seg.hosts[1]);
    let pcap = peer.dir.join("garp.pcap");
    let mut capture = peer.spawn(
        &tcpdump,
        &["-i", "eth0", "-U", "-w", pcap.to_str().unwrap(), "arp"],
        "tcpdump.log",
    );
    std::thread::sleep(Duration::from_millis(500));
    let vips: String = (0..500)
        .map(|i| format!("        10.78.{}.{}/32\n", i / 250, i % 250 + 1))
        .collect();
    let conf = format!(
        "global_defs {{
    vrrp_garp_interval 0.01
    vrrp_garp_master_repeat 1
    vrrp_garp_master_delay 0
}}
vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 53
    priority 150
    advert_int 1
    virtual_ipaddress {{
        10.77.0.102/24
    }}
    virtual_ipaddress_excluded {{
{vips}    }}
}}
"
    );
    let mut d = common::start_kaconsole(h, &conf, &[], &[]);
    // The gratuitous ARPs of the 10.78 addresses (sender = target address).
    let garps = || -> Vec<u64> {
        let bytes = std::fs::read(&pcap).unwrap_or_default();
        let Ok(c) = kaconsole::pcap::parse(&bytes) else {
            return Vec::new();
        };
        c.records
            .iter()
            .filter(|r| {
                let f = &r.data;
                f.len() >= 42
                    && f[12..14] == [0x08, 0x06]
                    && f[28] == 10
                    && f[29] == 78
                    && f[28..32] == f[38..42]
            })
            .map(|r| r.ts_us)
            .collect()
    };
    let all = wait_for(Duration::from_secs(20), || garps().len() >= 500);
    capture.stop_with(Signal::SIGINT);
    assert!(all.is_some(), "{} GARPs\n{}", garps().len(), d.log_text());
    let mut ts = garps();
    ts.sort();
    let gaps: Vec<u64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
    let min = *gaps.iter().min().unwrap();
    assert!(
        min >= 9_500,
        "closest GARPs {min} us apart\n{}",
        d.log_text()
    );
    let span = ts.last().unwrap() - ts[0];
    assert!(span >= 499 * 9_500, "500 GARPs over {span} us");
    d.stop_with(Signal::SIGTERM);
}

/// startup_script runs (and is waited for) before VRRP starts; shutdown_script after
/// everything has stopped.
#[test]
fn startup_and_shutdown_scripts_run_around_the_daemon() {
    if !common::require_root("startup_and_shutdown_scripts_run_around_the_daemon") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let out = h.dir.join("hooks");
    let o = out.display();
    let conf = format!(
        "global_defs {{
    startup_script \"/bin/sh -c 'ip -o addr show dev eth0 | grep -c 10.77.0.101 >> {o}; echo start >> {o}'\"
    shutdown_script \"/bin/sh -c 'ip -o addr show dev eth0 | grep -c 10.77.0.101 >> {o}; echo stop >> {o}'\"
    script_user root
}}
{NS_CONF}"
    );
    let mut d = common::start_kaconsole(h, &conf, &[], &[]);
    let master = wait_for(Duration::from_secs(10), || h.has_address("10.77.0.101"));
    assert!(master.is_some(), "{}", d.log_text());
    assert_eq!(d.stop_with(Signal::SIGTERM), Some(0), "{}", d.log_text());
    // Before the start no VIP; after the stop none either (it was released first).
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default(),
        "0\nstart\n0\nstop\n",
        "{}",
        d.log_text()
    );
    let log = d.log_text();
    let at = |s: &str| log.find(s).unwrap_or_else(|| panic!("no '{s}' in {log}"));
    assert!(
        at("startup script /bin/sh -c") < at("Starting VRRP"),
        "{log}"
    );
    assert!(at("shutdown script /bin/sh -c") < at("Stopped"), "{log}");
}

/// promote_secondaries sets the interface's sysctl while the daemon runs, and puts the old
/// value back at stop.
#[test]
fn promote_secondaries_is_set_while_running() {
    if !common::require_root("promote_secondaries_is_set_while_running") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let value = || {
        let o = h.run("cat", &["/proc/sys/net/ipv4/conf/eth0/promote_secondaries"]);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(value(), "0");
    let conf = NS_CONF.replace(
        "    advert_int 1\n",
        "    advert_int 1\n    promote_secondaries\n",
    );
    let mut d = common::start_kaconsole(h, &conf, &[], &[]);
    let master = wait_for(Duration::from_secs(10), || h.has_address("10.77.0.101"));
    assert!(master.is_some(), "{}", d.log_text());
    assert_eq!(value(), "1", "{}", d.log_text());
    assert!(
        !d.log_text()
            .contains("'promote_secondaries' is accepted but not implemented")
    );
    d.stop_with(Signal::SIGTERM);
    assert_eq!(value(), "0");
}

/// `instance NAME` names the default pid file, as keepalived's make_pidfile_name does.
#[test]
fn instance_names_the_pid_file() {
    if !common::require_root("instance_names_the_pid_file") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let name = format!("kactest{}", std::process::id());
    let path = h.write("kaconsole.conf", &format!("instance {name}\n{NS_CONF}"));
    let mut d = h.spawn(
        &common::kaconsole(),
        &["daemon", "-n", "-l", "-f", path.to_str().unwrap()],
        "kaconsole.log",
    );
    let pid_file = std::path::PathBuf::from(format!("/run/kaconsole_{name}.pid"));
    let written = wait_for(Duration::from_secs(5), || {
        std::fs::read_to_string(&pid_file).is_ok_and(|t| t == format!("{}\n", d.pid()))
    });
    assert!(written.is_some(), "{}", d.log_text());
    d.stop_with(Signal::SIGTERM);
    assert!(!pid_file.exists(), "removed at exit");
}

/// down_timer_adverts / vrrp_down_timer_adverts set the adverts a BACKUP waits for; strict
/// mode puts the RFC's 3 back, with a warning.
#[test]
fn down_timer_adverts_and_notify_priority_changes_reach_the_engine() {
    use kaconsole::vrrp::instance_config::InstanceConfig;
    let load = |global: &str| {
        let conf = format!(
            "global_defs {{\n{global}}}\n{}{}",
            NS_CONF,
            NS_CONF.replace("VI_1", "VI_2").replace(
                "virtual_router_id 52",
                "virtual_router_id 54\n    down_timer_adverts 2"
            )
        );
        kaconsole::config::load_text(
            std::path::Path::new("/k.conf"),
            conf.as_bytes(),
            &Default::default(),
            None,
        )
    };
    let src = "10.77.0.1".parse().unwrap();
    let l = load("    vrrp_down_timer_adverts 5\n");
    let counts: Vec<u32> = l
        .config
        .vrrp_instances
        .iter()
        .map(|i| InstanceConfig::from_model(&l.config, i, src).down_timer_adverts)
        .collect();
    assert_eq!(counts, [5, 2]);
    // vrrp_notify_priority_changes is the instances' default.
    let l = load("    vrrp_notify_priority_changes\n");
    assert!(
        l.config
            .vrrp_instances
            .iter()
            .all(|i| InstanceConfig::from_model(&l.config, i, src).notify_priority_changes)
    );
    let l = load("    vrrp_strict\n    vrrp_down_timer_adverts 5\n");
    let counts: Vec<u32> = l
        .config
        .vrrp_instances
        .iter()
        .map(|i| InstanceConfig::from_model(&l.config, i, src).down_timer_adverts)
        .collect();
    assert_eq!(counts, [3, 3]);
    assert!(
        l.diagnostics
            .iter()
            .any(|d| d.code == "overridden" && d.message.contains("resets down_timer_adverts to 3")),
        "{:?}",
        l.diagnostics
    );
}

/// fifo_write_vrrp_states_on_reload: after a reload an instance that stays MASTER writes its
/// state line to the FIFO again.
#[test]
fn fifo_write_vrrp_states_on_reload_repeats_unchanged_states() {
    if !common::require_root("fifo_write_vrrp_states_on_reload_repeats_unchanged_states") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let fifo = h.dir.join("vrrp.fifo");
    let conf = format!(
        "global_defs {{\n    vrrp_notify_fifo {}\n    fifo_write_vrrp_states_on_reload\n}}\n{NS_CONF}",
        fifo.display()
    );
    let mut d = common::start_kaconsole(h, &conf, &[], &[]);
    let master = wait_for(Duration::from_secs(10), || h.has_address("10.77.0.101"));
    assert!(master.is_some(), "{}", d.log_text());
    // The daemon holds the FIFO open read-write: what it wrote waits in the pipe.
    let mut reader = common::open_fifo(&fifo);
    d.signal(Signal::SIGHUP);
    let reloaded = wait_for(Duration::from_secs(5), || {
        d.log_text().contains("Reloading")
    });
    assert!(reloaded.is_some(), "{}", d.log_text());
    std::thread::sleep(Duration::from_millis(500));
    let mut text = String::new();
    let _ = std::io::Read::read_to_string(&mut reader, &mut text);
    assert_eq!(
        text.matches("INSTANCE \"VI_1\" MASTER 150\n").count(),
        2,
        "{text}\n{}",
        d.log_text()
    );
    d.stop_with(Signal::SIGTERM);
}
