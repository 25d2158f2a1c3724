//! `vrrp_instance NAME { }` (keepalived's vrrp_parser.c).

use std::net::IpAddr;

use serde::Serialize;

use crate::config::ast::{Line, Node};
use crate::config::build::{Cx, Seen};
use crate::config::source::Span;
use crate::config::table::{Arg, Command, Keyword, Level::*, Table, UINT};
use crate::config::values::{Family, Micros};

use super::addr::{IpAddress, Route, Rule, parse_ip_address, parse_route, parse_rule};
use super::value_items;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Master,
    Backup,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AuthType {
    Pass,
    Ah,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Authentication {
    pub auth_type: Option<AuthType>,
    /// The password as written (keepalived uses the first 8 bytes).
    pub auth_pass: Option<String>,
    #[serde(skip)]
    pub seen: Seen,
}

/// A line of `track_interface`, `track_script`, `track_file`, `track_process`, `track_bfd`:
/// `NAME [weight W [reverse|noreverse]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrackRef {
    pub name: String,
    /// Unset: the tracked object's own weight (0 for interfaces).
    pub weight: Option<i32>,
    pub reverse: Option<bool>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnicastPeer {
    pub addr: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_ttl: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<u8>,
    #[serde(skip)]
    pub span: Span,
}

/// `use_vmac [IFNAME] [MAC]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Vmac {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Notify {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<Box<Command>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<Box<Command>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Box<Command>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Box<Command>>,
    /// The generic `notify` script (gets TYPE NAME STATE PRIORITY appended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub any: Option<Box<Command>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_rx_lower_pri: Option<Box<Command>>,
    /// `notify_deleted [SCRIPT]`: report DELETED (and run SCRIPT) when removed by a reload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Option<Box<Command>>>,
}

/// One VRRP instance. Values shown as options are resolved (from globals, the state, the
/// addresses) when the configuration is completed.
#[derive(Clone, Debug, Serialize)]
pub struct VrrpInstance {
    pub name: String,
    pub state: Option<State>,
    pub interface: Option<String>,
    pub virtual_router_id: Option<u8>,
    pub priority: Option<u8>,
    pub advert_int: Option<Micros>,
    pub version: Option<u8>,
    pub family: Option<Family>,
    pub authentication: Option<Authentication>,
    pub virtual_ipaddress: Vec<IpAddress>,
    pub virtual_ipaddress_excluded: Vec<IpAddress>,
    pub virtual_routes: Vec<Route>,
    pub virtual_rules: Vec<Rule>,
    pub track_interface: Vec<TrackRef>,
    pub track_script: Vec<TrackRef>,
    pub track_file: Vec<TrackRef>,
    pub track_process: Vec<TrackRef>,
    pub dont_track_primary: bool,
    pub src_ip: Option<IpAddr>,
    /// Unicast: configured by `unicast_src_ip`, `unicast_peer`, `check_unicast_src`, ...
    pub unicast: bool,
    pub unicast_peer: Vec<UnicastPeer>,
    pub unicast_fault_no_peer: bool,
    pub check_unicast_src: Option<bool>,
    pub unicast_ttl: Option<u8>,
    pub mcast_dst_ip: Option<IpAddr>,
    pub nopreempt: bool,
    pub preempt_delay: Micros,
    pub notify: Notify,
    pub smtp_alert: Option<bool>,
    pub notify_priority_changes: Option<bool>,
    pub use_vmac: Option<Vmac>,
    pub vmac_xmit_base: bool,
    pub use_vmac_addr: bool,
    pub accept: Option<bool>,
    pub strict_mode: Option<bool>,
    pub skip_check_adv_addr: Option<bool>,
    pub lower_prio_no_advert: Option<bool>,
    pub higher_prio_send_advert: Option<bool>,
    pub garp_master_delay: Option<Micros>,
    pub garp_master_repeat: Option<u32>,
    pub garp_master_refresh: Option<Micros>,
    pub garp_master_refresh_repeat: Option<u32>,
    pub garp_lower_prio_delay: Option<Micros>,
    pub garp_lower_prio_repeat: Option<u32>,
    pub promote_secondaries: bool,
    /// `no_virtual_ipaddress` (keepalived 2.2.8): an instance without VIPs on purpose.
    pub no_virtual_ipaddress: bool,
    /// Adverts missed before this BACKUP takes over (RFC: 3).
    pub down_timer_adverts: Option<u32>,
    pub v3_checksum_as_v2: Option<bool>,
    #[serde(skip)]
    pub seen: Seen,
}

impl Default for VrrpInstance {
    fn default() -> Self {
        VrrpInstance {
            name: String::new(),
            state: None,
            interface: None,
            virtual_router_id: None,
            priority: None,
            advert_int: None,
            version: None,
            family: None,
            authentication: None,
            virtual_ipaddress: Vec::new(),
            virtual_ipaddress_excluded: Vec::new(),
            virtual_routes: Vec::new(),
            virtual_rules: Vec::new(),
            track_interface: Vec::new(),
            track_script: Vec::new(),
            track_file: Vec::new(),
            track_process: Vec::new(),
            dont_track_primary: false,
            src_ip: None,
            unicast: false,
            unicast_peer: Vec::new(),
            unicast_fault_no_peer: false,
            check_unicast_src: None,
            unicast_ttl: None,
            mcast_dst_ip: None,
            nopreempt: false,
            preempt_delay: Micros(0),
            notify: Notify::default(),
            smtp_alert: None,
            notify_priority_changes: None,
            use_vmac: None,
            vmac_xmit_base: false,
            use_vmac_addr: false,
            accept: None,
            strict_mode: None,
            skip_check_adv_addr: None,
            lower_prio_no_advert: None,
            higher_prio_send_advert: None,
            garp_master_delay: None,
            garp_master_repeat: None,
            garp_master_refresh: None,
            garp_master_refresh_repeat: None,
            garp_lower_prio_delay: None,
            garp_lower_prio_repeat: None,
            promote_secondaries: false,
            no_virtual_ipaddress: false,
            down_timer_adverts: None,
            v3_checksum_as_v2: None,
            seen: Seen::default(),
        }
    }
}

impl VrrpInstance {
    /// Trims the lists to their length and forgets where each keyword was written (see
    /// [`Config::compact`](super::Config::compact)).
    pub fn compact(&mut self) {
        self.virtual_ipaddress.shrink_to_fit();
        self.virtual_ipaddress_excluded.shrink_to_fit();
        self.virtual_routes.shrink_to_fit();
        self.virtual_rules.shrink_to_fit();
        self.track_interface.shrink_to_fit();
        self.track_script.shrink_to_fit();
        self.track_file.shrink_to_fit();
        self.track_process.shrink_to_fit();
        self.unicast_peer.shrink_to_fit();
        self.seen = Seen::default();
    }

    /// Records the family given by an address, or reports a mix of families.
    fn take_family(&mut self, a: &IpAddr, span: Span, what: &str, cx: &mut Cx<'_>) -> bool {
        let f = Family::of(a);
        match self.family {
            None => {
                self.family = Some(f);
                true
            }
            Some(x) if x == f => true,
            Some(x) => {
                cx.error(
                    "family-mismatch",
                    span,
                    format!("{what} {a} is {} but the instance is {}", f.name(), x.name()),
                )
                .help("an instance is either IPv4 or IPv6; use virtual_ipaddress_excluded for addresses of the other family");
                false
            }
        }
    }
}

type K = Keyword<VrrpInstance>;
type AK = Keyword<Authentication>;

pub static AUTHENTICATION: Table<Authentication> = Table::new(
    "authentication",
    "VRRPv2 authentication (RFC 3768 §5.3.6): deprecated by RFC 3768 itself, refused in strict mode.",
    &[
        AK::new(
            "auth_type",
            Arg::Choice(&["PASS", "AH"]),
            P0,
            "PASS (clear text password) or AH (IPsec AH, HMAC-MD5-96).",
        )
        .set(|a, v, _| {
            a.auth_type = Some(if v.word() == "AH" {
                AuthType::Ah
            } else {
                AuthType::Pass
            })
        }),
        AK::new(
            "auth_pass",
            Arg::Word,
            P0,
            "The password; only the first 8 characters are used.",
        )
        .set(|a, v, _| a.auth_pass = Some(v.word().to_string())),
    ],
);

pub static VRRP_INSTANCE: Table<VrrpInstance> = Table::new(
    "vrrp_instance",
    "One VRRP virtual router: its VRID, priority, addresses and trackers.",
    &[
        K::new("state", Arg::Choice(&["MASTER", "BACKUP"]), P0, "Initial state wanted. With MASTER and no priority, the priority is 255.")
            .default("BACKUP (MASTER if priority 255)")
            // keepalived: a later MASTER replaces BACKUP, a later BACKUP does not replace MASTER.
            .repeat()
            .set(|i, v, cx| {
                let new = if v.word() == "MASTER" { State::Master } else { State::Backup };
                let here = cx.here;
                match i.state {
                    Some(State::Master) if new == State::Backup => {
                        cx.error("repeated", here, "'state' is already MASTER; keepalived ignores this BACKUP");
                        return;
                    }
                    Some(_) => {
                        cx.warning("repeated", here, "'state' is given more than once; the last one is used");
                    }
                    None => {}
                }
                i.state = Some(new);
            }),
        K::new("interface", Arg::Word, P0, "Interface the instance runs on.")
            .set(|i, v, cx| {
                let (w, here) = (v.word(), cx.here);
                if cx.ifname_ok(here, "interface", w) {
                    i.interface = Some(w.to_string());
                }
            }),
        K::new("virtual_router_id", Arg::Int { min: 1, max: 255 }, P0, "The VRID, shared by the routers of this virtual router; unique per interface and family.")
            .set(|i, v, _| i.virtual_router_id = Some(v.int() as u8)),
        K::new("priority", Arg::Int { min: 1, max: 255 }, P0, "Election priority; 255 means address owner.")
            .default("100 (255 with state MASTER)")
            .set(|i, v, _| i.priority = Some(v.int() as u8)),
        K::new("advert_int", Arg::Secs { min_us: 10_000, max_us: 255_000_000 }, P0, "Seconds between adverts: whole seconds for VRRPv2, 0.01 to 40.95 for VRRPv3.")
            .default("1")
            .set(|i, v, _| i.advert_int = Some(Micros(v.micros()))),
        K::new("version", Arg::Int { min: 2, max: 3 }, P1, "VRRP version (IPv6 instances use 3).")
            .default("vrrp_version (2)")
            .set(|i, v, _| i.version = Some(v.int() as u8)),
        K::new("authentication", Arg::Block(&AUTHENTICATION), P0, "VRRPv2 authentication.")
            .set(|i, v, cx| {
                if let Some(n) = v.node() {
                    let (mut a, seen) = AUTHENTICATION.read(n, cx);
                    a.seen = seen;
                    i.authentication = Some(a);
                }
            }),
        K::new("virtual_ipaddress", Arg::Values("ADDRESS[/LEN] [brd A|+|-] [dev IF] [scope S] [label L] [peer A] [no_track] [preferred_lft N|forever] ..."), P0, "Addresses held by the MASTER and carried in its adverts.")
            .set(|i, v, cx| {
                if let Some(n) = v.node() {
                    for item in value_items(n, cx) {
                        if let Some(a) = parse_ip_address(item, false, cx)
                            && i.take_family(&a.addr.addr, a.span, "address", cx)
                        {
                            i.virtual_ipaddress.push(a);
                        }
                    }
                }
            }),
        K::new("virtual_ipaddress_excluded", Arg::Values("ADDRESS[/LEN] ..."), P1, "Addresses held by the MASTER but not carried in adverts (either family).")
            .set(|i, v, cx| {
                if let Some(n) = v.node() {
                    for item in value_items(n, cx) {
                        if let Some(a) = parse_ip_address(item, false, cx) {
                            i.virtual_ipaddress_excluded.push(a);
                        }
                    }
                }
            }),
        K::new("virtual_routes", Arg::Values("ip route syntax"), P1, "Routes added while MASTER.")
            .set(|i, v, cx| {
                if let Some(n) = v.node() {
                    for item in value_items(n, cx) {
                        if let Some(r) = parse_route(item, false, cx) {
                            i.virtual_routes.push(r);
                        }
                    }
                }
            }),
        K::new("virtual_rules", Arg::Values("ip rule syntax"), P1, "Routing rules added while MASTER (give each a preference).")
            .set(|i, v, cx| {
                if let Some(n) = v.node() {
                    for item in value_items(n, cx) {
                        if let Some(r) = parse_rule(item, false, cx) {
                            i.virtual_rules.push(r);
                        }
                    }
                }
            }),
        K::new("track_interface", Arg::Values("IFNAME [weight -253..253 [reverse]]"), P0, "Interfaces whose state changes priority (weight) or puts the instance in FAULT (no weight).")
            .set(|i, v, cx| {
                if let Some(n) = v.node() {
                    i.track_interface.extend(interface_refs(n, cx));
                }
            }),
        K::new("track_script", Arg::Values("SCRIPT [weight -253..253 [reverse|noreverse]]"), P0, "vrrp_scripts whose result changes priority or puts the instance in FAULT.")
            .set(|i, v, cx| {
                if let Some(n) = v.node() {
                    i.track_script.extend(track_refs(n, -253, 253, true, cx));
                }
            }),
        K::new("track_file", Arg::Values("TRACK_FILE [weight -254..254 [reverse|noreverse]]"), P1, "track_files whose value changes priority.")
            .set(|i, v, cx| {
                if let Some(n) = v.node() {
                    i.track_file.extend(track_refs(n, -254, 254, true, cx));
                }
            }),
        K::new("track_process", Arg::Values("TRACK_PROCESS [weight -254..254 [reverse|noreverse]]"), P1, "vrrp_track_processes whose state changes priority.")
            .set(|i, v, cx| {
                if let Some(n) = v.node() {
                    i.track_process.extend(track_refs(n, -254, 254, true, cx));
                }
            }),
        K::new("track_bfd", Arg::Values("BFD [weight -253..253 [reverse|noreverse]]"), P2, "BFD sessions whose state changes priority."),
        K::new("dont_track_primary", Arg::Flag, P1, "Ignore faults of the instance's own interface.")
            .set(|i, _, _| i.dont_track_primary = true),
        K::new("mcast_src_ip", Arg::Ip, P1, "Source address of adverts.")
            .default("the interface's primary address")
            .set(|i, v, cx| {
                let a = v.ip();
                let here = cx.here;
                if i.take_family(&a, here, "source address", cx) {
                    i.src_ip = Some(a);
                }
            }),
        K::new("unicast_src_ip", Arg::Ip, P0, "Source address of unicast adverts.")
            .set(|i, v, cx| {
                let a = v.ip();
                let here = cx.here;
                i.unicast = true;
                if i.take_family(&a, here, "source address", cx) {
                    i.src_ip = Some(a);
                }
            }),
        K::new("unicast_peer", Arg::Values("ADDRESS [min_ttl 0..255] [max_ttl 0..255]"), P0, "Send adverts by unicast to these peers instead of multicast.")
            .set(|i, v, cx| {
                i.unicast = true;
                if let Some(n) = v.node() {
                    for item in value_items(n, cx) {
                        if let Some(p) = unicast_peer(item, cx)
                            && i.take_family(&p.addr, p.span, "unicast peer", cx)
                        {
                            if p.min_ttl.is_some() || p.max_ttl.is_some() {
                                i.check_unicast_src = Some(true);
                            }
                            i.unicast_peer.push(p);
                        }
                    }
                }
            }),
        K::new("unicast_fault_no_peer", Arg::Flag, P1, "Stay in FAULT when there are no unicast peers (instead of using multicast).")
            .set(|i, _, _| {
                i.unicast = true;
                i.unicast_fault_no_peer = true;
            }),
        K::new("check_unicast_src", Arg::Flag, P1, "Accept unicast adverts only from configured peers.")
            .set(|i, _, _| {
                i.unicast = true;
                i.check_unicast_src = Some(true);
            }),
        K::new("unicast_ttl", Arg::Int { min: 0, max: 255 }, P1, "TTL of unicast adverts.")
            .default("255")
            .set(|i, v, _| i.unicast_ttl = Some(v.int() as u8)),
        K::new("mcast_dst_ip", Arg::Ip, P2, "Multicast group of this instance's adverts.")
            .set(|i, v, cx| {
                let a = v.ip();
                let here = cx.here;
                let ok = match a {
                    IpAddr::V4(v4) => v4.is_multicast(),
                    IpAddr::V6(v6) => v6.is_multicast() && (v6.segments()[0] & 0x000f) == 2,
                };
                if !ok {
                    cx.error("invalid-value", here, format!("mcast_dst_ip {a} is not a (link-local) multicast address"));
                } else if i.take_family(&a, here, "multicast group", cx) {
                    i.mcast_dst_ip = Some(a);
                }
            }),
        K::new("nopreempt", Arg::Flag, P0, "Do not take over from a lower-priority MASTER (needs state BACKUP; set it on the higher-priority node).")
            .set(|i, _, _| i.nopreempt = true),
        K::new("preempt", Arg::Flag, P0, "Preempt a lower-priority MASTER (the default).")
            .set(|i, _, _| i.nopreempt = false),
        K::new("preempt_delay", Arg::Secs { min_us: 0, max_us: 1000 * 1_000_000 }, P1, "Wait this long after startup before preempting.")
            .default("0")
            .set(|i, v, _| i.preempt_delay = Micros(v.micros())),
        K::new("notify_master", Arg::Command, P0, "Script run on becoming MASTER.")
            .keep_first()
            .set(|i, v, _| i.notify.master = Some(Box::new(v.command()))),
        K::new("notify_backup", Arg::Command, P0, "Script run on becoming BACKUP.")
            .keep_first()
            .set(|i, v, _| i.notify.backup = Some(Box::new(v.command()))),
        K::new("notify_fault", Arg::Command, P0, "Script run on entering FAULT.")
            .keep_first()
            .set(|i, v, _| i.notify.fault = Some(Box::new(v.command()))),
        K::new("notify_stop", Arg::Command, P0, "Script run when the instance stops.")
            .keep_first()
            .set(|i, v, _| i.notify.stop = Some(Box::new(v.command()))),
        K::new("notify", Arg::Command, P0, "Script run on every transition with INSTANCE NAME STATE PRIORITY appended.")
            .keep_first()
            .set(|i, v, _| i.notify.any = Some(Box::new(v.command()))),
        K::new("notify_master_rx_lower_pri", Arg::Command, P1, "Script run when the MASTER receives a lower-priority advert.")
            .keep_first()
            .set(|i, v, _| i.notify.master_rx_lower_pri = Some(Box::new(v.command()))),
        K::new("notify_deleted", Arg::Custom("[SCRIPT [USER [GROUP]]]"), P1, "Report DELETED instead of FAULT when a reload removes the instance.")
            .set(|i, v, cx| {
                if let Some(n) = v.node() {
                    i.notify.deleted = Some(if n.line.argc() > 0 { cx.command(&n.line).map(Box::new) } else { None });
                }
            }),
        K::new("smtp_alert", Arg::Bool, P1, "Mail on state transitions.")
            .default("smtp_alert_vrrp, else smtp_alert, else off")
            .set(|i, v, _| i.smtp_alert = Some(v.bool())),
        K::new("notify_priority_changes", Arg::Bool, P1, "Write priority changes to the notify FIFOs.")
            .set(|i, v, _| i.notify_priority_changes = Some(v.bool())),
        K::new("use_vmac", Arg::Custom("[IFNAME] [MAC]"), P1, "Run on a macvlan with the VRRP virtual MAC 00:00:5e:00:01:VRID (RFC 5798 §7.3).")
            .set(|i, v, cx| i.use_vmac = v.node().map(|n| vmac(&n.line, cx))),
        K::new("vmac_xmit_base", Arg::Flag, P1, "With use_vmac, send and receive adverts on the base interface.")
            .set(|i, _, _| i.vmac_xmit_base = true),
        K::new("use_vmac_addr", Arg::Flag, P2, "Create VMACs for addresses on other interfaces.")
            .inert()
            .set(|i, _, _| i.use_vmac_addr = true),
        K::new("accept", Arg::Flag, P1, "Accept packets to the VIPs when not the address owner (the default unless strict).")
            .set(|i, _, _| i.accept = Some(true)),
        K::new("no_accept", Arg::Flag, P1, "Drop packets to the VIPs when not the address owner (firewall rules).")
            .set(|i, _, _| i.accept = Some(false)),
        K::new("strict_mode", Arg::Bool, P1, "RFC-strict behaviour for this instance.")
            .default("vrrp_strict")
            .set(|i, v, _| i.strict_mode = Some(v.bool())),
        K::new("skip_check_adv_addr", Arg::Bool, P1, "Do not check the address list of adverts from the known master.")
            .default("vrrp_skip_check_adv_addr")
            .set(|i, v, cx| {
                // keepalived 2.2 sets the option for any valid value, even off.
                if !v.bool() {
                    let here = cx.here;
                    cx.error("misread-value", here, "keepalived 2.2 turns skip_check_adv_addr ON for any value, including off")
                        .help("remove the line to leave it off");
                }
                i.skip_check_adv_addr = Some(true);
            }),
        K::new("lower_prio_no_advert", Arg::Bool, P1, "As MASTER, do not answer a lower-priority advert.")
            .default("vrrp_lower_prio_no_advert")
            .set(|i, v, _| i.lower_prio_no_advert = Some(v.bool())),
        K::new("higher_prio_send_advert", Arg::Bool, P1, "As MASTER, send an advert before yielding to a higher priority.")
            .default("vrrp_higher_prio_send_advert")
            .set(|i, v, _| i.higher_prio_send_advert = Some(v.bool())),
        K::new("garp_master_delay", Arg::Int { min: 0, max: 4294 }, P1, "Seconds before the second burst of gratuitous ARPs.")
            .default("vrrp_garp_master_delay (5)")
            .set(|i, v, _| i.garp_master_delay = Some(Micros::secs(v.int() as u64))),
        K::new("garp_master_repeat", Arg::Int { min: 1, max: UINT }, P1, "Gratuitous ARPs per address per burst.")
            .default("vrrp_garp_master_repeat (5)")
            .set(|i, v, _| i.garp_master_repeat = Some(v.int() as u32)),
        K::new("garp_master_refresh", Arg::Int { min: 0, max: UINT }, P1, "Seconds between gratuitous ARP refreshes while MASTER.")
            .default("vrrp_garp_master_refresh (0)")
            .set(|i, v, _| i.garp_master_refresh = Some(Micros::secs(v.int() as u64))),
        K::new("garp_master_refresh_repeat", Arg::Int { min: 1, max: UINT }, P1, "Gratuitous ARPs per address per refresh.")
            .default("vrrp_garp_master_refresh_repeat (1)")
            .set(|i, v, _| i.garp_master_refresh_repeat = Some(v.int() as u32)),
        K::new("garp_lower_prio_delay", Arg::Int { min: 0, max: 4294 }, P1, "Delay of the second gratuitous ARP burst after a lower-priority advert.")
            .set(|i, v, _| i.garp_lower_prio_delay = Some(Micros::secs(v.int() as u64))),
        K::new("garp_lower_prio_repeat", Arg::Int { min: 0, max: i32::MAX as i64 }, P1, "Gratuitous ARPs after a lower-priority advert.")
            .set(|i, v, _| i.garp_lower_prio_repeat = Some(v.int() as u32)),
        K::new("promote_secondaries", Arg::Flag, P1, "Set promote_secondaries on the interface so removing a VIP keeps the other addresses.")
            .set(|i, _, _| i.promote_secondaries = true),
        K::new("v3_checksum_as_v2", Arg::Bool, P1, "VRRPv3 over IPv4: checksum without the pseudo-header (RFC 9568).")
            .since("2.2.8")
            .set(|i, v, _| i.v3_checksum_as_v2 = Some(v.bool())),
        // Accepted, not implemented.
        K::new("use_ipvlan", Arg::Custom("[IFNAME] [ADDRESS[/LEN]] [bridge|private|vepa]"), P2, "Run on an L2 ipvlan."),
        K::new("vrf", Arg::Word, P2, "VRF for an interface-less unicast instance."),
        K::new("native_ipv6", Arg::Flag, P2, "Force IPv6 (deprecated)."),
        K::new("track_src_ip", Arg::Flag, P2, "FAULT when the configured source address disappears."),
        K::new("old_unicast_checksum", Arg::Custom("[never]"), P2, "VRRPv3 unicast checksum of keepalived before 1.3.6."),
        K::new("down_timer_adverts", Arg::Int { min: 1, max: 100 }, P1, "Missed adverts before a backup takes over (Master_Down_Interval = N * advert interval + skew).")
            .default("vrrp_down_timer_adverts")
            .set(|i, v, _| i.down_timer_adverts = Some(v.int() as u32)),
        K::new("garp_extra_if", Arg::Custom("[all] SECS"), P2, "Periodic gratuitous ARPs on other interfaces.")
            .deprecated(&["vmac_garp_intvl"]),
        K::new("kernel_rx_buf_size", Arg::Int { min: 0, max: UINT }, P2, "Receive buffer of the VRRP socket."),
        K::new("debug", Arg::Int { min: 0, max: 4 }, P2, "Debug level (no effect in keepalived either)."),
        K::new("linkbeat_use_polling", Arg::Flag, P2, "Deprecated: use linkbeat_interfaces."),
        K::new("lvs_sync_daemon_interface", Arg::Word, P2, "Deprecated: use lvs_sync_daemon in global_defs."),
        K::new("timer_expired_backup", Arg::Custom("[PRIORITY]"), P2, "Drop to BACKUP after the process was descheduled long enough for a takeover.")
            .since("2.2.8"),
        K::new("owner_ignore_adverts", Arg::Bool, P2, "As address owner, ignore adverts (RFC behaviour).").since("2.3.3"),
        K::new("no_virtual_ipaddress", Arg::Flag, P1, "The instance has no VIPs on purpose: no warning, and VRRPv3 allows it (not in strict mode).")
            .since("2.2.8")
            .set(|i, _, _| i.no_virtual_ipaddress = true),
        K::new("thread_timer_expired", Arg::Flag, P2, "Log when a timer thread runs late.").since("2.3.2"),
        K::new("auth_hmac", Arg::Block(&AUTH_HMAC), P1, "HMAC-SHA256 authentication of adverts (keepalived 2.4.0): not implemented yet; a configuration with it is refused rather than run unauthenticated.")
            .since("2.4.0")
            .inert()
            .set(|_, v, cx| {
                if let Some(n) = v.node() {
                    cx.check_unimplemented(&AUTH_HMAC, n);
                    cx.error(
                        "not-implemented",
                        n.line.span_of(0),
                        "'auth_hmac' (keepalived 2.4.0) is not implemented by kaconsole yet: its peers would drop every advert it sends, so the configuration is refused",
                    )
                    .help("the HMAC trailer comes with kaconsole's issue 16 (\"auth_hmac\"); until then run this instance without it, or keep keepalived 2.4 on this node");
                }
            }),
    ],
);

type HK = Keyword<()>;

/// `auth_hmac { }` (keepalived 2.4.0, vrrp_auth_hmac.c): read and checked, not implemented.
pub static AUTH_HMAC: Table<()> = Table::new(
    "auth_hmac",
    "HMAC-SHA256 authentication of adverts with a time-based sequence number (keepalived 2.4.0).",
    &[
        HK::new(
            "key",
            Arg::Custom("ID VALUE (hex:..., file:PATH, or ASCII; 32-64 bytes)"),
            P2,
            "A key and its id.",
        )
        .since("2.4.0")
        .repeat(),
        HK::new(
            "active_key",
            Arg::Int { min: 0, max: 255 },
            P2,
            "The id of the key used to send.",
        )
        .since("2.4.0"),
        HK::new(
            "time_window",
            Arg::Int { min: 0, max: UINT },
            P2,
            "Seconds of clock difference accepted.",
        )
        .since("2.4.0"),
        HK::new(
            "anti_replay",
            Arg::Choice(&["time", "monotonic"]),
            P2,
            "How the sequence number is kept.",
        )
        .since("2.4.0"),
        HK::new(
            "mode",
            Arg::Choice(&["enforce", "permissive", "receive-only"]),
            P2,
            "What happens to adverts without a valid HMAC.",
        )
        .since("2.4.0"),
    ],
);

/// `NAME [weight W [reverse|noreverse]]` lines of a track block.
/// The lines of a `track_interface` block, without those naming no valid interface.
pub fn interface_refs(n: &Node, cx: &mut Cx<'_>) -> Vec<TrackRef> {
    let mut refs = track_refs(n, -253, 253, false, cx);
    refs.retain(|t| cx.ifname_ok(t.span, "track_interface", &t.name));
    refs
}

pub fn track_refs(
    n: &Node,
    min: i64,
    max: i64,
    allow_noreverse: bool,
    cx: &mut Cx<'_>,
) -> Vec<TrackRef> {
    let mut out: Vec<TrackRef> = Vec::new();
    let kw = n.keyword().to_string();
    for item in value_items(n, cx) {
        let name = item.keyword().to_string();
        if out.iter().any(|t| t.name == name) {
            cx.warning(
                "duplicate",
                item.span_of(0),
                format!("{kw}: '{name}' is listed twice; keepalived ignores the second"),
            );
            continue;
        }
        let mut t = TrackRef {
            name,
            weight: None,
            reverse: None,
            span: item.span_of(0),
        };
        match item.word(1) {
            None => {}
            Some("weight") => {
                let Some(w) = cx.int(item, 2, min, max) else {
                    continue;
                };
                t.weight = Some(w as i32);
                match item.word(3) {
                    None => {}
                    Some("reverse") => t.reverse = Some(true),
                    Some("noreverse") if allow_noreverse => t.reverse = Some(false),
                    Some(o) => {
                        cx.error(
                            "invalid-value",
                            item.span_of(3),
                            format!("{kw}: unknown weight option '{o}'"),
                        )
                        .help(if allow_noreverse {
                            "options are reverse and noreverse"
                        } else {
                            "the only option is reverse"
                        });
                        continue;
                    }
                }
                cx.extra(item, 3);
            }
            Some(o) => {
                cx.error(
                    "invalid-value",
                    item.span_of(1),
                    format!("{kw}: unknown option '{o}'"),
                )
                .help("write: NAME weight W");
                continue;
            }
        }
        out.push(t);
    }
    out
}

fn unicast_peer(item: &Line, cx: &mut Cx<'_>) -> Option<UnicastPeer> {
    let a = item.keyword();
    let Ok(addr) = a.parse::<IpAddr>() else {
        let d = cx.error(
            "invalid-address",
            item.span_of(0),
            format!("invalid unicast peer address '{a}'"),
        );
        if item.argc() > 0 && item.words().skip(1).all(|w| w.parse::<IpAddr>().is_ok()) {
            d.help("put one peer per line");
        }
        return None;
    };
    let mut p = UnicastPeer {
        addr,
        min_ttl: None,
        max_ttl: None,
        span: item.span_of(0),
    };
    let mut i = 1;
    while let Some(opt) = item.word(i) {
        match opt {
            "min_ttl" => p.min_ttl = Some(cx.int(item, i + 1, 0, 255)? as u8),
            "max_ttl" => p.max_ttl = Some(cx.int(item, i + 1, 0, 255)? as u8),
            _ => {
                let d = cx.error(
                    "invalid-value",
                    item.span_of(i),
                    format!("unknown unicast_peer option '{opt}'"),
                );
                if opt.parse::<IpAddr>().is_ok() {
                    d.help(
                        "put one peer per line: keepalived reads only the first address of a line",
                    );
                } else {
                    d.help("options are min_ttl and max_ttl");
                }
                break;
            }
        }
        i += 2;
    }
    if let (Some(lo), Some(hi)) = (p.min_ttl, p.max_ttl)
        && lo > hi
    {
        cx.warning(
            "inconsistent",
            item.span_of(0),
            format!("min_ttl {lo} > max_ttl {hi}: every advert from this peer is discarded"),
        );
    }
    Some(p)
}

fn vmac(line: &Line, cx: &mut Cx<'_>) -> Vmac {
    let mut v = Vmac::default();
    for i in 1..=line.argc().min(2) {
        let w = line.word(i).unwrap_or("");
        if w.contains(':') {
            let octets: Vec<&str> = w.trim_end_matches(':').split(':').collect();
            let valid = (octets.len() == 5 || octets.len() == 6)
                && octets
                    .iter()
                    .all(|o| !o.is_empty() && o.len() <= 2 && u8::from_str_radix(o, 16).is_ok());
            if !valid {
                cx.error(
                    "invalid-value",
                    line.span_of(i),
                    format!("use_vmac: '{w}' is not a MAC address"),
                );
                continue;
            }
            let first = u8::from_str_radix(octets[0], 16).unwrap_or(0);
            if first & 1 == 1 {
                cx.error(
                    "invalid-value",
                    line.span_of(i),
                    format!("use_vmac: {w} is a multicast MAC address"),
                );
                continue;
            }
            v.mac = Some(w.to_string());
        } else if cx.ifname_ok(line.span_of(i), "use_vmac", w) {
            v.name = Some(w.to_string());
        }
    }
    cx.extra(line, 2);
    v
}
