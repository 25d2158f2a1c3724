//! `global_defs { }` (keepalived's core/global_parser.c).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::config::ast::Node;
use crate::config::build::{Cx, Seen};
use crate::config::table::{Arg, Command, Keyword, Level::*, Table, UINT};
use crate::config::values::Micros;

use super::value_items;

/// Where alert mail goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
}

/// A notify FIFO and the user/group that owns it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Fifo {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LvsTimeouts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcpfin: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlushOnStop {
    /// Remove every IPVS service.
    Full,
    /// Remove only the virtual servers of this configuration.
    Vs,
}

/// `lvs_sync_daemon IF [inst VI] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LvsSyncDaemon {
    pub interface: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maxlen: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<IpAddr>,
}

/// The user (and group) scripts run as.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UserGroup {
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GlobalDefs {
    pub router_id: Option<String>,
    pub notification_email: Vec<String>,
    pub notification_email_from: Option<String>,
    pub smtp_server: Option<SmtpServer>,
    pub smtp_helo_name: Option<String>,
    pub smtp_connect_timeout: Micros,
    pub smtp_alert: Option<bool>,
    pub smtp_alert_vrrp: Option<bool>,
    pub smtp_alert_checker: Option<bool>,
    pub checker_log_all_failures: bool,
    pub no_email_faults: bool,
    pub no_checker_emails: bool,
    pub enable_script_security: bool,
    pub script_user: Option<UserGroup>,
    pub dynamic_interfaces: bool,
    pub dynamic_interfaces_allow_if_changes: bool,
    pub lvs_timeouts: LvsTimeouts,
    pub lvs_flush: bool,
    pub lvs_flush_on_stop: Option<FlushOnStop>,
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    pub vrrp_mcast_group4: Ipv4Addr,
    pub vrrp_mcast_group6: Ipv6Addr,
    pub vrrp_garp_master_delay: Micros,
    pub vrrp_garp_master_repeat: u32,
    pub vrrp_garp_master_refresh: Micros,
    pub vrrp_garp_master_refresh_repeat: u32,
    /// Unset: follows `vrrp_garp_master_delay`.
    pub vrrp_garp_lower_prio_delay: Option<Micros>,
    /// Unset: follows `vrrp_garp_master_repeat`.
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    pub vrrp_garp_interval: Micros,
    pub vrrp_gna_interval: Micros,
    pub vrrp_min_garp: bool,
    pub vrrp_lower_prio_no_advert: bool,
    pub vrrp_higher_prio_send_advert: bool,
    pub vrrp_version: u8,
    pub vrrp_check_unicast_src: bool,
    pub vrrp_skip_check_adv_addr: bool,
    pub vrrp_strict: bool,
    pub vrrp_startup_delay: Micros,
    /// `vrrp_delay_after_boot` (2.4.0): VRRP starts no earlier than this long after boot.
    pub vrrp_delay_after_boot: Micros,
    /// Adverts missed before a BACKUP takes over (the default of `down_timer_adverts`).
    pub vrrp_down_timer_adverts: u32,
    /// The default of the instances' `notify_priority_changes`.
    pub vrrp_notify_priority_changes: bool,
    /// After a reload, instances whose state did not change write it to the FIFOs.
    pub fifo_write_vrrp_states_on_reload: bool,
    pub v3_checksum_as_v2: bool,
    pub nftables: Option<String>,
    pub vrrp_iptables: Option<Vec<String>>,
    pub notify_fifo: Option<Fifo>,
    pub notify_fifo_script: Option<Command>,
    pub vrrp_notify_fifo: Option<Fifo>,
    pub vrrp_notify_fifo_script: Option<Command>,
    pub lvs_notify_fifo: Option<Fifo>,
    pub lvs_notify_fifo_script: Option<Command>,
    /// Run once before the daemon starts, and after it has stopped (keepalived 2.1).
    /// `json_version` (2.2.8): 2 wraps the JSON dump's instances in `{"vrrp": [...]}`.
    pub json_version: u8,
    pub startup_script: Option<Command>,
    pub startup_script_timeout: u32,
    pub shutdown_script: Option<Command>,
    pub shutdown_script_timeout: u32,
    pub max_auto_priority: Option<i32>,
    pub vrrp_priority: Option<i32>,
    pub checker_priority: Option<i32>,
    pub bfd_priority: Option<i32>,
    pub vrrp_rt_priority: Option<u32>,
    pub checker_rt_priority: Option<u32>,
    pub bfd_rt_priority: Option<u32>,
    pub vrrp_no_swap: bool,
    pub checker_no_swap: bool,
    pub bfd_no_swap: bool,
    pub vrrp_cpu_affinity: Vec<u32>,
    pub checker_cpu_affinity: Vec<u32>,
    pub bfd_cpu_affinity: Vec<u32>,
    pub enable_snmp_vrrp: bool,
    pub enable_snmp_checker: bool,
    pub enable_snmp_rfcv2: bool,
    pub enable_snmp_rfcv3: bool,
    pub enable_traps: bool,
    pub snmp_socket: Option<String>,
    pub enable_dbus: bool,
    pub dbus_service_name: Option<String>,
    pub reload_check_config: Option<String>,
    #[serde(skip)]
    pub seen: Seen,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: Micros::secs(30),
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            checker_log_all_failures: false,
            no_email_faults: false,
            no_checker_emails: false,
            enable_script_security: false,
            script_user: None,
            dynamic_interfaces: false,
            dynamic_interfaces_allow_if_changes: false,
            lvs_timeouts: LvsTimeouts::default(),
            lvs_flush: false,
            lvs_flush_on_stop: None,
            lvs_sync_daemon: None,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            vrrp_garp_master_delay: Micros::secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: Micros(0),
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_lower_prio_delay: None,
            vrrp_garp_lower_prio_repeat: None,
            vrrp_garp_interval: Micros(0),
            vrrp_gna_interval: Micros(0),
            vrrp_min_garp: false,
            vrrp_lower_prio_no_advert: false,
            vrrp_higher_prio_send_advert: false,
            vrrp_version: 2,
            vrrp_check_unicast_src: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_strict: false,
            vrrp_startup_delay: Micros(0),
            vrrp_delay_after_boot: Micros(0),
            vrrp_down_timer_adverts: 3,
            vrrp_notify_priority_changes: false,
            fifo_write_vrrp_states_on_reload: false,
            v3_checksum_as_v2: false,
            nftables: None,
            vrrp_iptables: None,
            notify_fifo: None,
            notify_fifo_script: None,
            vrrp_notify_fifo: None,
            vrrp_notify_fifo_script: None,
            lvs_notify_fifo: None,
            lvs_notify_fifo_script: None,
            json_version: 1,
            startup_script: None,
            startup_script_timeout: 10,
            shutdown_script: None,
            shutdown_script_timeout: 10,
            max_auto_priority: None,
            vrrp_priority: None,
            checker_priority: None,
            bfd_priority: None,
            vrrp_rt_priority: None,
            checker_rt_priority: None,
            bfd_rt_priority: None,
            vrrp_no_swap: false,
            checker_no_swap: false,
            bfd_no_swap: false,
            vrrp_cpu_affinity: Vec::new(),
            checker_cpu_affinity: Vec::new(),
            bfd_cpu_affinity: Vec::new(),
            enable_snmp_vrrp: false,
            enable_snmp_checker: false,
            enable_snmp_rfcv2: false,
            enable_snmp_rfcv3: false,
            enable_traps: false,
            snmp_socket: None,
            enable_dbus: false,
            dbus_service_name: None,
            reload_check_config: None,
            seen: Seen::default(),
        }
    }
}

type K = Keyword<GlobalDefs>;

/// keepalived reads several delays as whole seconds up to UINT_MAX / 1e6.
const SECS_4294: i64 = 4294;
const LVS_MAX_TIMEOUT: i64 = 86400 * 31;

pub static TABLE: Table<GlobalDefs> = Table::new(
    "global_defs",
    "Settings for the whole daemon: identity, alert mail, VRRP and LVS defaults, notify FIFOs.",
    &[
        // Identity and mail.
        K::new("router_id", Arg::Word, P0, "Name of this node in alert mails and SNMP.")
            .default("hostname")
            .set(|g, v, _| g.router_id = Some(v.word().to_string())),
        K::new("notification_email", Arg::Values("ADDRESS"), P0, "Recipients of alert mails, one per line.")
            .set(|g, v, cx| {
                if let Some(n) = v.node() {
                    g.notification_email.extend(email_items(n, cx));
                }
            }),
        K::new("notification_email_from", Arg::Word, P0, "From: address of alert mails.")
            .default("keepalived@hostname")
            .set(|g, v, _| g.notification_email_from = Some(v.word().to_string())),
        K::new("smtp_server", Arg::Custom("HOST [PORT]"), P0, "SMTP relay for alert mails.")
            .default("none; port 25")
            .set(|g, v, cx| {
                if let Some(n) = v.node() {
                    g.smtp_server = smtp_server(n, cx);
                }
            }),
        K::new("smtp_helo_name", Arg::Word, P1, "Name sent in the SMTP HELO.")
            .default("hostname")
            .set(|g, v, _| g.smtp_helo_name = Some(v.word().to_string())),
        K::new("smtp_connect_timeout", Arg::Int { min: 1, max: SECS_4294 }, P0, "Seconds to wait for the SMTP server.")
            .default("30")
            .set(|g, v, _| g.smtp_connect_timeout = Micros::secs(v.int() as u64)),
        K::new("smtp_alert", Arg::Bool, P1, "Default for sending alert mails on every state change.")
            .set(|g, v, _| g.smtp_alert = Some(v.bool())),
        K::new("smtp_alert_vrrp", Arg::Bool, P1, "Default for alert mails on VRRP state changes.")
            .set(|g, v, _| g.smtp_alert_vrrp = Some(v.bool())),
        K::new("smtp_alert_checker", Arg::Bool, P1, "Default for alert mails on real server changes.")
            .set(|g, v, _| g.smtp_alert_checker = Some(v.bool())),
        K::new("checker_log_all_failures", Arg::Bool, P1, "Log every failed check, not only changes of state.")
            .set(|g, v, _| g.checker_log_all_failures = v.bool()),
        K::new("no_email_faults", Arg::Flag, P1, "Do not send alert mails for FAULT transitions.")
            .set(|g, _, _| g.no_email_faults = true),
        K::new("no_checker_emails", Arg::Bool, P1, "Mail only when a real server is added or removed.")
            .inert()
            .set(|g, v, _| g.no_checker_emails = v.bool()),
        // Scripts.
        K::new("enable_script_security", Arg::Flag, P1, "Refuse to run scripts that a non-root user could modify, when they would run as root.")
            .set(|g, _, _| g.enable_script_security = true),
        K::new("script_user", Arg::Custom("USER [GROUP]"), P1, "Default user (and group) scripts run as.")
            .default("keepalived_script if it exists, else root")
            .set(|g, v, cx| {
                if let Some(n) = v.node() {
                    let line = &n.line;
                    if let Some(user) = cx.word(line, 1, "a user name") {
                        g.script_user = Some(UserGroup {
                            user: user.to_string(),
                            group: line.word(2).map(str::to_string),
                        });
                        cx.extra(line, 2);
                    }
                }
            }),
        // Interfaces and LVS.
        K::new("dynamic_interfaces", Arg::Custom("[allow_if_changes]"), P1, "Allow interfaces that do not exist yet when the configuration is read.")
            .set(|g, v, cx| {
                g.dynamic_interfaces = true;
                if let Some(n) = v.node() {
                    match n.line.word(1) {
                        None => {}
                        Some("allow_if_changes") => g.dynamic_interfaces_allow_if_changes = true,
                        Some(w) => {
                            cx.error("invalid-value", n.line.span_of(1), format!("'dynamic_interfaces': unknown option '{w}'"))
                                .help("the only option is allow_if_changes");
                        }
                    }
                    cx.extra(&n.line, 1);
                }
            }),
        K::new("lvs_timeouts", Arg::Custom("[tcp SECS] [tcpfin SECS] [udp SECS]"), P1, "IPVS connection timeouts.")
            .default("the kernel's")
            .set(|g, v, cx| {
                if let Some(n) = v.node() {
                    lvs_timeouts(&mut g.lvs_timeouts, n, cx);
                }
            }),
        K::new("lvs_flush", Arg::Flag, P1, "Remove every IPVS service at startup.")
            .set(|g, _, _| g.lvs_flush = true),
        K::new("lvs_flush_on_stop", Arg::Custom("[VS]"), P1, "Remove IPVS services on shutdown: all of them, or with VS only this configuration's.")
            .deprecated(&["lvs_flush_onstop"])
            .set(|g, v, cx| {
                if let Some(n) = v.node() {
                    g.lvs_flush_on_stop = match n.line.word(1) {
                        None => Some(FlushOnStop::Full),
                        Some("VS") => Some(FlushOnStop::Vs),
                        Some(w) => {
                            cx.error("invalid-value", n.line.span_of(1), format!("'lvs_flush_on_stop': unknown type '{w}'"))
                                .help("write lvs_flush_on_stop or lvs_flush_on_stop VS");
                            None
                        }
                    };
                    cx.extra(&n.line, 1);
                }
            }),
        K::new("lvs_sync_daemon", Arg::Custom("IFNAME [inst VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR]"), P1, "Run the IPVS connection synchronisation daemon on IFNAME, following a VRRP instance's state.")
            .set(|g, v, cx| {
                if let Some(n) = v.node() {
                    g.lvs_sync_daemon = lvs_sync_daemon(n, cx);
                }
            }),
        // VRRP defaults.
        K::new("vrrp_mcast_group4", Arg::Ip, P1, "Multicast group of IPv4 adverts.")
            .default("224.0.0.18")
            .set(|g, v, cx| match v.ip() {
                IpAddr::V4(a) if a.is_multicast() => g.vrrp_mcast_group4 = a,
                a => mcast_group_error(cx, "vrrp_mcast_group4", a, "an IPv4 multicast address"),
            }),
        K::new("vrrp_mcast_group6", Arg::Ip, P1, "Multicast group of IPv6 adverts.")
            .default("ff02::12")
            .set(|g, v, cx| match v.ip() {
                IpAddr::V6(a) if a.is_multicast() => g.vrrp_mcast_group6 = a,
                a => mcast_group_error(cx, "vrrp_mcast_group6", a, "an IPv6 multicast address"),
            }),
        K::new("vrrp_garp_master_delay", Arg::Int { min: 0, max: SECS_4294 }, P1, "Seconds after becoming MASTER before the second burst of gratuitous ARPs; 0 for none.")
            .default("5")
            .set(|g, v, _| g.vrrp_garp_master_delay = Micros::secs(v.int() as u64)),
        K::new("vrrp_garp_master_repeat", Arg::Int { min: 1, max: UINT }, P1, "Gratuitous ARPs (or NAs) per address in each burst.")
            .default("5")
            .set(|g, v, _| g.vrrp_garp_master_repeat = v.int() as u32),
        K::new("vrrp_garp_master_refresh", Arg::Int { min: 0, max: UINT }, P1, "Seconds between gratuitous ARP refreshes while MASTER; 0 for none.")
            .default("0")
            .set(|g, v, _| g.vrrp_garp_master_refresh = Micros::secs(v.int() as u64)),
        K::new("vrrp_garp_master_refresh_repeat", Arg::Int { min: 1, max: UINT }, P1, "Gratuitous ARPs per address in each refresh.")
            .default("1")
            .set(|g, v, _| g.vrrp_garp_master_refresh_repeat = v.int() as u32),
        K::new("vrrp_garp_lower_prio_delay", Arg::Int { min: 0, max: SECS_4294 }, P1, "Delay of the second gratuitous ARP burst after a lower-priority advert was received as MASTER.")
            .default("vrrp_garp_master_delay")
            .set(|g, v, _| g.vrrp_garp_lower_prio_delay = Some(Micros::secs(v.int() as u64))),
        K::new("vrrp_garp_lower_prio_repeat", Arg::Int { min: 0, max: i32::MAX as i64 }, P1, "Gratuitous ARPs per address after a lower-priority advert was received as MASTER.")
            .default("vrrp_garp_master_repeat")
            .set(|g, v, _| g.vrrp_garp_lower_prio_repeat = Some(v.int() as u32)),
        K::new("vrrp_garp_interval", Arg::Secs { min_us: 1, max_us: u32::MAX as u64 }, P0, "Delay between gratuitous ARPs on one interface.")
            .default("0")
            .set(|g, v, _| g.vrrp_garp_interval = Micros(v.micros())),
        K::new("vrrp_gna_interval", Arg::Secs { min_us: 1, max_us: u32::MAX as u64 }, P0, "Delay between unsolicited neighbour advertisements on one interface.")
            .default("0")
            .set(|g, v, _| g.vrrp_gna_interval = Micros(v.micros())),
        K::new("vrrp_min_garp", Arg::Bool, P1, "One gratuitous ARP on becoming MASTER and no second burst (changes the GARP settings left at their defaults).")
            .set(|g, v, _| g.vrrp_min_garp = v.bool()),
        K::new("vrrp_lower_prio_no_advert", Arg::Bool, P1, "As MASTER, do not answer a lower-priority advert with an advert (the pre-RFC 9568 behaviour).")
            .set(|g, v, _| g.vrrp_lower_prio_no_advert = v.bool()),
        K::new("vrrp_higher_prio_send_advert", Arg::Bool, P1, "As MASTER, send one advert before yielding to a higher priority.")
            .set(|g, v, _| g.vrrp_higher_prio_send_advert = v.bool()),
        K::new("vrrp_version", Arg::Int { min: 2, max: 3 }, P1, "Default VRRP version of instances (IPv6 instances always use 3).")
            .default("2")
            .set(|g, v, _| g.vrrp_version = v.int() as u8),
        K::new("vrrp_check_unicast_src", Arg::Flag, P1, "In unicast mode accept adverts only from configured peers.")
            .set(|g, _, _| g.vrrp_check_unicast_src = true),
        K::new("vrrp_skip_check_adv_addr", Arg::Flag, P0, "Do not check the address list of adverts from the master already known.")
            .set(|g, _, _| g.vrrp_skip_check_adv_addr = true),
        K::new("vrrp_strict", Arg::Flag, P0, "Enforce RFC rules: no authentication, no unicast, VIPs unreachable unless owner (firewall rules).")
            .set(|g, _, _| g.vrrp_strict = true),
        K::new("vrrp_startup_delay", Arg::Secs { min_us: 1000, max_us: u32::MAX as u64 }, P1, "Delay before VRRP starts (lets the network come up after boot).")
            .default("0")
            .set(|g, v, _| g.vrrp_startup_delay = Micros(v.micros())),
        K::new("v3_checksum_as_v2", Arg::Bool, P1, "VRRPv3 over IPv4: compute the checksum without the pseudo-header, as RFC 9568, Cisco and Juniper do.")
            .since("2.2.8")
            .set(|g, v, _| g.v3_checksum_as_v2 = v.bool()),
        K::new("nftables", Arg::Custom("[TABLE]"), P1, "Use nftables (table TABLE, default 'keepalived') for no_accept and VMAC rules.")
            .inert()
            .set(|g, v, cx| {
                if let Some(n) = v.node() {
                    g.nftables = Some(n.line.word(1).unwrap_or("keepalived").to_string());
                    cx.extra(&n.line, 1);
                }
            }),
        K::new("vrrp_iptables", Arg::Custom("[IN_CHAIN [OUT_CHAIN]]"), P1, "Use iptables chains for no_accept and VMAC rules (Debian's keepalived uses nftables instead).")
            .inert()
            .set(|g, v, cx| {
                if let Some(n) = v.node() {
                    g.vrrp_iptables = Some(n.line.words().skip(1).map(str::to_string).collect());
                    cx.extra(&n.line, 2);
                }
            }),
        // Notify FIFOs.
        K::new("notify_fifo", Arg::Custom("PATH [USER [GROUP]]"), P1, "FIFO that receives every notify event, in order.")
            .set(|g, v, cx| g.notify_fifo = v.node().and_then(|n| fifo(n, cx))),
        K::new("notify_fifo_script", Arg::Command, P1, "Program started to read notify_fifo (the FIFO path is its last argument).")
            .set(|g, v, _| g.notify_fifo_script = Some(v.command())),
        K::new("vrrp_notify_fifo", Arg::Custom("PATH [USER [GROUP]]"), P1, "FIFO for VRRP events.")
            .set(|g, v, cx| g.vrrp_notify_fifo = v.node().and_then(|n| fifo(n, cx))),
        K::new("vrrp_notify_fifo_script", Arg::Command, P1, "Program started to read vrrp_notify_fifo.")
            .set(|g, v, _| g.vrrp_notify_fifo_script = Some(v.command())),
        K::new("lvs_notify_fifo", Arg::Custom("PATH [USER [GROUP]]"), P1, "FIFO for real and virtual server events.")
            .set(|g, v, cx| g.lvs_notify_fifo = v.node().and_then(|n| fifo(n, cx))),
        K::new("lvs_notify_fifo_script", Arg::Command, P1, "Program started to read lvs_notify_fifo.")
            .set(|g, v, _| g.lvs_notify_fifo_script = Some(v.command())),
        // Scheduling.
        K::new("max_auto_priority", Arg::OptInt { min: -1, max: 99, bare: 99 }, P1, "Highest realtime priority the daemon may raise itself to when timers run late; -1 disables.")
            .inert()
            .set(|g, v, _| g.max_auto_priority = Some(v.int() as i32)),
        K::new("vrrp_priority", Arg::Int { min: -20, max: 19 }, P1, "Nice value of VRRP processing.")
            .inert()
            .set(|g, v, _| g.vrrp_priority = Some(v.int() as i32)),
        K::new("checker_priority", Arg::Int { min: -20, max: 19 }, P1, "Nice value of the checkers.")
            .inert()
            .set(|g, v, _| g.checker_priority = Some(v.int() as i32)),
        K::new("bfd_priority", Arg::Int { min: -20, max: 19 }, P1, "Nice value of BFD.")
            .inert()
            .set(|g, v, _| g.bfd_priority = Some(v.int() as i32)),
        K::new("vrrp_rt_priority", Arg::Int { min: 1, max: 99 }, P1, "Realtime (SCHED_RR) priority of VRRP processing.")
            .set(|g, v, _| g.vrrp_rt_priority = Some(v.int() as u32)),
        K::new("checker_rt_priority", Arg::Int { min: 1, max: 99 }, P1, "Realtime (SCHED_RR) priority of the checkers.")
            .inert()
            .set(|g, v, _| g.checker_rt_priority = Some(v.int() as u32)),
        K::new("bfd_rt_priority", Arg::Int { min: 1, max: 99 }, P1, "Realtime (SCHED_RR) priority of BFD.")
            .inert()
            .set(|g, v, _| g.bfd_rt_priority = Some(v.int() as u32)),
        K::new("vrrp_no_swap", Arg::Flag, P1, "Lock VRRP processing in memory.")
            .set(|g, _, _| g.vrrp_no_swap = true),
        K::new("checker_no_swap", Arg::Flag, P1, "Lock the checkers in memory.")
            .set(|g, _, _| g.checker_no_swap = true),
        K::new("bfd_no_swap", Arg::Flag, P1, "Lock BFD in memory.")
            .inert()
            .set(|g, _, _| g.bfd_no_swap = true),
        K::new("vrrp_cpu_affinity", Arg::Custom("CPU..."), P1, "CPUs VRRP processing may run on.")
            .set(|g, v, cx| g.vrrp_cpu_affinity = v.node().map(|n| cpus(n, cx)).unwrap_or_default()),
        K::new("checker_cpu_affinity", Arg::Custom("CPU..."), P1, "CPUs the checkers may run on.")
            .inert()
            .set(|g, v, cx| g.checker_cpu_affinity = v.node().map(|n| cpus(n, cx)).unwrap_or_default()),
        K::new("bfd_cpu_affinity", Arg::Custom("CPU..."), P1, "CPUs BFD may run on.")
            .inert()
            .set(|g, v, cx| g.bfd_cpu_affinity = v.node().map(|n| cpus(n, cx)).unwrap_or_default()),
        K::new("vrrp_rlimit_rttime", Arg::Int { min: 1, max: UINT }, P2, "CPU microseconds VRRP may use between blocking calls when realtime.")
            .deprecated(&["vrrp_rlimit_rtime"]),
        K::new("checker_rlimit_rttime", Arg::Int { min: 1, max: UINT }, P2, "CPU microseconds the checkers may use between blocking calls when realtime.")
            .deprecated(&["checker_rlimit_rtime"]),
        K::new("bfd_rlimit_rttime", Arg::Int { min: 1, max: UINT }, P2, "CPU microseconds BFD may use between blocking calls when realtime.")
            .deprecated(&["bfd_rlimit_rtime"]),
        K::new("min_auto_priority_delay", Arg::Int { min: 1, max: 10_000_000 }, P2, "Microseconds late a timer must be before the priority is raised."),
        // SNMP and DBus.
        K::new("enable_snmp_vrrp", Arg::Flag, P1, "Serve the KEEPALIVED-MIB VRRP objects over AgentX.")
            .inert()
            .aliases(&["enable_snmp_keepalived"])
            .set(|g, _, _| g.enable_snmp_vrrp = true),
        K::new("enable_snmp_checker", Arg::Flag, P1, "Serve the KEEPALIVED-MIB checker objects over AgentX.")
            .inert()
            .set(|g, _, _| g.enable_snmp_checker = true),
        K::new("enable_snmp_rfc", Arg::Flag, P1, "Serve the RFC 2787 and RFC 6527 VRRP MIBs.")
            .inert()
            .set(|g, _, _| {
                g.enable_snmp_rfcv2 = true;
                g.enable_snmp_rfcv3 = true;
            }),
        K::new("enable_snmp_rfcv2", Arg::Flag, P1, "Serve the RFC 2787 VRRP MIB.")
            .inert()
            .set(|g, _, _| g.enable_snmp_rfcv2 = true),
        K::new("enable_snmp_rfcv3", Arg::Flag, P1, "Serve the RFC 6527 VRRPv3 MIB.")
            .inert()
            .set(|g, _, _| g.enable_snmp_rfcv3 = true),
        K::new("enable_traps", Arg::Flag, P1, "Send SNMP traps.")
            .inert()
            .set(|g, _, _| g.enable_traps = true),
        K::new("snmp_socket", Arg::Word, P1, "AgentX master socket.")
            .inert()
            .default("unix:/var/agentx/master")
            .set(|g, v, _| g.snmp_socket = Some(v.word().to_string())),
        K::new("enable_dbus", Arg::Flag, P1, "Export VRRP state over DBus.")
            .inert()
            .set(|g, _, _| g.enable_dbus = true),
        K::new("dbus_service_name", Arg::Word, P1, "DBus service name.")
            .inert()
            .default("org.keepalived.Vrrp1")
            .set(|g, v, _| g.dbus_service_name = Some(v.word().to_string())),
        K::new("reload_check_config", Arg::Custom("[LOGFILE]"), P1, "Check a new configuration before reloading and keep the old one if it fails.")
            .inert()
            .set(|g, v, cx| {
                if let Some(n) = v.node() {
                    g.reload_check_config = Some(n.line.word(1).unwrap_or("/dev/null").to_string());
                    cx.extra(&n.line, 1);
                }
            }),
        K::new("include_check", Arg::Custom("[[+|-]read|match|wildcard_match|brace_match ...]"), P2, "Which include problems are errors (applied while reading, to the includes that follow).")
            .set(|_, _, _| {}),
        // Accepted, not implemented.
        K::new("process_names", Arg::Flag, P2, "Name the processes keepalived_vrrp, keepalived_lvs, keepalived_bfd."),
        K::new("process_name", Arg::Word, P2, "Name of the parent process."),
        K::new("vrrp_process_name", Arg::Word, P2, "Name of the VRRP process."),
        K::new("checker_process_name", Arg::Word, P2, "Name of the checker process.").deprecated(&["lvs_process_name"]),
        K::new("bfd_process_name", Arg::Word, P2, "Name of the BFD process."),
        K::new("startup_script", Arg::Command, P1, "Script run once before VRRP and the checkers start (the daemon waits for it).")
            .set(|g, v, _| g.startup_script = Some(v.command())),
        K::new("startup_script_timeout", Arg::Int { min: 1, max: 1000 }, P1, "Seconds the startup script may run before it is killed.")
            .default("10")
            .set(|g, v, _| g.startup_script_timeout = v.int() as u32),
        K::new("shutdown_script", Arg::Command, P1, "Script run once after the daemon has stopped everything.")
            .set(|g, v, _| g.shutdown_script = Some(v.command())),
        K::new("shutdown_script_timeout", Arg::Int { min: 1, max: 1000 }, P1, "Seconds the shutdown script may run before it is killed.")
            .default("10")
            .set(|g, v, _| g.shutdown_script_timeout = v.int() as u32),
        K::new("default_interface", Arg::Word, P2, "Interface for static addresses and routes without dev.").default("eth0"),
        K::new("disable_local_igmp", Arg::Flag, P2, "Turn off igmp_link_local_mcast_reports while running."),
        K::new("vrrp_down_timer_adverts", Arg::Int { min: 1, max: 100 }, P1, "Missed adverts before a backup takes over (default of down_timer_adverts).")
            .default("3")
            .set(|g, v, _| g.vrrp_down_timer_adverts = v.int() as u32),
        K::new("vrrp_garp_extra_if", Arg::Custom("[all] SECS"), P2, "Periodic gratuitous ARPs on interfaces other than the instance's.")
            .deprecated(&["vrrp_vmac_garp_intvl"]),
        K::new("vrrp_ipsets", Arg::Custom("[NAME [NAME6 [NAME_IF6 [IGMP [MLD]]]]]"), P2, "ipset names used with vrrp_iptables."),
        K::new("nftables_priority", Arg::Int { min: i32::MIN as i64, max: i32::MAX as i64 }, P2, "Priority of the nftables base chains.").default("-1"),
        K::new("nftables_ifindex", Arg::Flag, P2, "Key nftables IPv6 link-local sets by interface index."),
        K::new("nftables_counters", Arg::Flag, P2, "Add counters to the nftables rules."),
        K::new("nftables_ipvs", Arg::Custom("[TABLE]"), P2, "Use nftables fwmarks for virtual server groups."),
        K::new("nftables_ipvs_priority", Arg::Int { min: i32::MIN as i64, max: i32::MAX as i64 }, P2, "Priority of the IPVS nftables chains."),
        K::new("nftables_ipvs_start_fwmark", Arg::Int { min: 1, max: UINT }, P2, "First fwmark allocated for virtual server groups.").default("1000"),
        K::new("vrrp_notify_priority_changes", Arg::Bool, P1, "Also write priority changes to the notify FIFOs (the default of notify_priority_changes).")
            .set(|g, v, _| g.vrrp_notify_priority_changes = v.bool()),
        K::new("fifo_write_vrrp_states_on_reload", Arg::Flag, P1, "After a reload, instances whose state did not change write it to the FIFOs too.")
            .set(|g, _, _| g.fifo_write_vrrp_states_on_reload = true),
        K::new("rs_init_notifies", Arg::Bool, P2, "Send notifies for the initial state of real servers."),
        K::new("vrrp_netlink_cmd_rcv_bufs", Arg::Int { min: 0, max: UINT }, P2, "Receive buffer of the VRRP netlink command socket."),
        K::new("vrrp_netlink_cmd_rcv_bufs_force", Arg::Bool, P2, "Force the buffer size beyond rmem_max."),
        K::new("vrrp_netlink_monitor_rcv_bufs", Arg::Int { min: 0, max: UINT }, P2, "Receive buffer of the VRRP netlink monitor socket."),
        K::new("vrrp_netlink_monitor_rcv_bufs_force", Arg::Bool, P2, "Force the buffer size beyond rmem_max."),
        K::new("process_monitor_rcv_bufs", Arg::Int { min: 0, max: UINT }, P2, "Receive buffer of the process monitor socket."),
        K::new("process_monitor_rcv_bufs_force", Arg::Bool, P2, "Force the buffer size beyond rmem_max."),
        K::new("lvs_netlink_cmd_rcv_bufs", Arg::Int { min: 0, max: UINT }, P2, "Receive buffer of the checker netlink command socket."),
        K::new("lvs_netlink_cmd_rcv_bufs_force", Arg::Bool, P2, "Force the buffer size beyond rmem_max."),
        K::new("lvs_netlink_monitor_rcv_bufs", Arg::Int { min: 0, max: UINT }, P2, "Receive buffer of the checker netlink monitor socket."),
        K::new("lvs_netlink_monitor_rcv_bufs_force", Arg::Bool, P2, "Force the buffer size beyond rmem_max."),
        K::new("vrrp_rx_bufs_policy", Arg::Custom("MTU|ADVERT|SIZE"), P2, "How the VRRP receive buffers are sized."),
        K::new("vrrp_rx_bufs_multiplier", Arg::Int { min: 1, max: UINT }, P2, "Multiplier of the receive buffer policy.").default("3"),
        K::new("log_unknown_vrids", Arg::Flag, P2, "Log adverts for VRIDs that are not configured."),
        K::new("vmac_prefix", Arg::Word, P2, "Prefix of generated VMAC interface names.").default("vrrp"),
        K::new("vmac_addr_prefix", Arg::Word, P2, "Prefix of VMAC interfaces for addresses on other interfaces."),
        K::new("umask", Arg::Custom("NUMBER|BITS"), P2, "File creation mask."),
        K::new("random_seed", Arg::Int { min: 0, max: UINT }, P2, "Seed of ${_RANDOM}."),
        K::new("reload_time_file", Arg::Word, P2, "File holding a time at which to reload."),
        K::new("reload_repeat", Arg::Flag, P2, "Keep the reload time file after use."),
        K::new("reload_file", Arg::Custom("[PATH]"), P2, "File that exists while the configuration is being read."),
        K::new("config_save_dir", Arg::Word, P2, "Directory where each configuration read is saved."),
        K::new("tmp_config_directory", Arg::Word, P2, "Directory for the consolidated configuration copy."),
        K::new("data_use_instance", Arg::Bool, P2, "Put the instance name in the SIGUSR1 data file names."),
        K::new("vrrp_delay_after_boot", Arg::Secs { min_us: 0, max_us: u32::MAX as u64 }, P1, "VRRP starts no earlier than this long after boot (the longer of this and vrrp_startup_delay wins).")
            .since("2.4.0")
            .set(|g, v, _| g.vrrp_delay_after_boot = Micros(v.micros())),
        K::new("json_version", Arg::Int { min: 1, max: 2 }, P1, "Layout of the JSON dump: 1 an array of instances, 2 an object {\"vrrp\": [...]}.")
            .default("1")
            .since("2.2.8")
            .set(|g, v, _| g.json_version = v.int() as u8),
        K::new("use_symlink_paths", Arg::Bool, P2, "Check and run scripts by the path as written, without resolving symbolic links.").since("2.3.0"),
        K::new("snmp_vs_stats_update_interval", Arg::Secs { min_us: 0, max_us: u32::MAX as u64 }, P2, "How long SNMP virtual server statistics are cached.").since("2.3.0"),
        K::new("snmp_rs_stats_update_interval", Arg::Secs { min_us: 0, max_us: u32::MAX as u64 }, P2, "How long SNMP real server statistics are cached.").since("2.3.0"),
        K::new("dbus_no_interface_name", Arg::Flag, P2, "DBus object paths without the interface name.").since("2.3.0"),
        K::new("vrrp_owner_ignore_adverts", Arg::Bool, P2, "Default of owner_ignore_adverts: an address owner ignores adverts.").since("2.3.3"),
        K::new("iproute_usr_dir", Arg::Word, P2, "Where iproute2's system tables (rt_tables, ...) are read.").since("2.3.2"),
        K::new("iproute_etc_dir", Arg::Word, P2, "Where iproute2's local tables are read.").since("2.3.2"),
        K::new("state_dump_file", Arg::Word, P2, "File of the SIGUSR1 state dump.").since("2.3.3"),
        K::new("stats_dump_file", Arg::Word, P2, "File of the SIGUSR2 statistics dump.").since("2.3.3"),
        K::new("json_dump_file", Arg::Word, P2, "File of the JSON state dump.").since("2.3.3"),
    ],
);

fn mcast_group_error(cx: &mut Cx<'_>, kw: &str, a: IpAddr, want: &str) {
    let here = cx.here;
    cx.error("invalid-value", here, format!("'{kw}': {a} is not {want}"));
}

fn email_items(n: &Node, cx: &mut Cx<'_>) -> Vec<String> {
    let mut items = Vec::new();
    for line in value_items(n, cx) {
        for (i, w) in line.words().enumerate() {
            // keepalived takes any word (a bare local user, as in its samples, is fine); an
            // empty one is a mail that cannot be sent.
            if w.is_empty() {
                cx.warning(
                    "invalid-value",
                    line.span_of(i),
                    "notification_email: an empty address",
                )
                .help("write one address per line: admin@example.com");
                continue;
            }
            items.push(w.to_string());
        }
    }
    if items.is_empty() {
        cx.warning(
            "empty-block",
            n.line.span_of(0),
            "notification_email block is empty",
        );
    }
    items
}

fn smtp_server(n: &Node, cx: &mut Cx<'_>) -> Option<SmtpServer> {
    let line = &n.line;
    let host = cx.word(line, 1, "a host name or address")?.to_string();
    let port = match line.word(2) {
        Some(_) => cx.int(line, 2, 1, 65535)? as u16,
        None => 25,
    };
    cx.extra(line, 2);
    Some(SmtpServer { host, port })
}

fn lvs_timeouts(t: &mut LvsTimeouts, n: &Node, cx: &mut Cx<'_>) {
    let line = &n.line;
    if line.argc() < 2 {
        cx.error(
            "missing-value",
            line.end_span(),
            "'lvs_timeouts' needs at least one of tcp, tcpfin, udp with a value",
        );
        return;
    }
    let mut i = 1;
    while let Some(opt) = line.word(i) {
        let slot = match opt {
            "tcp" => &mut t.tcp,
            "tcpfin" => &mut t.tcpfin,
            "udp" => &mut t.udp,
            _ => {
                cx.error(
                    "invalid-value",
                    line.span_of(i),
                    format!("'lvs_timeouts': unknown option '{opt}'"),
                )
                .help("options are tcp, tcpfin and udp");
                i += 1;
                continue;
            }
        };
        if let Some(v) = cx.int(line, i + 1, 0, LVS_MAX_TIMEOUT) {
            *slot = Some(v as u32);
        }
        i += 2;
    }
}

fn lvs_sync_daemon(n: &Node, cx: &mut Cx<'_>) -> Option<LvsSyncDaemon> {
    let line = &n.line;
    let interface = cx.word(line, 1, "an interface name")?.to_string();
    if !cx.ifname_ok(line.span_of(1), "lvs_sync_daemon", &interface) {
        return None;
    }
    let mut d = LvsSyncDaemon {
        interface,
        ..Default::default()
    };
    let mut i = 2;
    let mut positional = 0;
    while let Some(w) = line.word(i) {
        match w {
            "inst" => {
                d.instance = cx
                    .word(line, i + 1, "a vrrp_instance name")
                    .map(str::to_string)
            }
            "id" => d.id = cx.int(line, i + 1, 0, 255).map(|v| v as u8),
            "maxlen" => d.maxlen = cx.int(line, i + 1, 1, 65507).map(|v| v as u16),
            "port" => d.port = cx.int(line, i + 1, 1, 65535).map(|v| v as u16),
            "ttl" => d.ttl = cx.int(line, i + 1, 1, 255).map(|v| v as u8),
            "group" => {
                if let Some(a) = cx.ip(line, i + 1) {
                    if a.is_multicast() {
                        d.group = Some(a);
                    } else {
                        cx.error(
                            "invalid-value",
                            line.span_of(i + 1),
                            format!("'lvs_sync_daemon': group {a} is not a multicast address"),
                        );
                    }
                }
            }
            _ if positional == 0 && d.instance.is_none() => {
                // Old form: lvs_sync_daemon IF VI_1 [SYNCID]
                d.instance = Some(w.to_string());
                positional += 1;
                i += 1;
                continue;
            }
            _ if positional == 1 && d.id.is_none() => {
                cx.warning(
                    "deprecated",
                    line.span_of(i),
                    "write 'id' before the lvs_sync_daemon sync id",
                );
                d.id = cx.int_str(line, i, w, 0, 255).map(|v| v as u8);
                positional += 1;
                i += 1;
                continue;
            }
            _ => {
                cx.error(
                    "invalid-value",
                    line.span_of(i),
                    format!("'lvs_sync_daemon': unknown option '{w}'"),
                )
                .help("options are inst, id, maxlen, port, ttl, group");
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Some(d)
}

fn fifo(n: &Node, cx: &mut Cx<'_>) -> Option<Fifo> {
    let line = &n.line;
    let path = cx.word(line, 1, "a FIFO path")?.to_string();
    cx.extra(line, 3);
    Some(Fifo {
        path,
        user: line.word(2).map(str::to_string),
        group: line.word(3).map(str::to_string),
    })
}

fn cpus(n: &Node, cx: &mut Cx<'_>) -> Vec<u32> {
    let line = &n.line;
    if line.argc() == 0 {
        cx.error(
            "missing-value",
            line.end_span(),
            format!("'{}' needs CPU numbers", line.keyword()),
        );
    }
    (1..=line.argc())
        .filter_map(|i| cx.int(line, i, 0, 4095).map(|v| v as u32))
        .collect()
}

impl GlobalDefs {
    /// keepalived's global_parser.c: `vrrp_delay_after_boot` becomes a startup delay of what
    /// is left of it after `uptime_us`, when that is longer than `vrrp_startup_delay`.
    pub fn apply_delay_after_boot(&mut self, uptime_us: u64) {
        let left = self.vrrp_delay_after_boot.0.saturating_sub(uptime_us);
        if left > self.vrrp_startup_delay.0 {
            self.vrrp_startup_delay = Micros(left);
        }
    }
}

#[cfg(test)]
mod delay_tests {
    use super::*;

    #[test]
    fn delay_after_boot_is_what_is_left_of_it_when_longer_than_the_startup_delay() {
        let mut g = GlobalDefs {
            vrrp_delay_after_boot: Micros::secs(100),
            vrrp_startup_delay: Micros::secs(5),
            ..GlobalDefs::default()
        };
        g.apply_delay_after_boot(90_000_000);
        assert_eq!(g.vrrp_startup_delay, Micros::secs(10));
        g.apply_delay_after_boot(99_000_000);
        assert_eq!(
            g.vrrp_startup_delay,
            Micros::secs(10),
            "the longer one wins"
        );
        g.apply_delay_after_boot(200_000_000);
        assert_eq!(
            g.vrrp_startup_delay,
            Micros::secs(10),
            "long booted: no change"
        );
    }
}
