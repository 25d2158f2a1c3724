//! What the engine needs to know about an instance: the configuration with every default
//! resolved, plus what only the machine knows (the source address). Built from the checked
//! configuration model by [`InstanceConfig::from_model`], or directly (the simulator).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::checksum::ChecksumForm;
use super::packet::Version;
use super::track::TrackerConfig;
use crate::config::blocks::Config;
use crate::config::blocks::vrrp::{AuthType as ConfigAuth, State as ConfigState, VrrpInstance};
use crate::time::Duration;

/// The multicast groups of VRRP (RFC 5798 §5.1.1.2, §5.1.2.2).
pub const GROUP_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
pub const GROUP_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));

/// VRRPv2 authentication as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    None,
    /// The password, cut to 8 bytes and zero-padded.
    Pass([u8; 8]),
    /// IPSEC AH with this key (the password, 8 bytes).
    Ah([u8; 8]),
}

/// A unicast peer and the TTLs accepted from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub addr: IpAddr,
    pub min_ttl: u8,
    pub max_ttl: u8,
}

/// Gratuitous ARP / unsolicited NA settings (keepalived.conf(5) garp_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GarpConfig {
    /// The second burst after becoming MASTER (0: none).
    pub master_delay: Duration,
    /// Rounds per burst.
    pub master_repeat: u32,
    /// Re-announce every `master_refresh` while MASTER (0: never).
    pub master_refresh: Duration,
    pub master_refresh_repeat: u32,
    /// After a lower-priority advert as MASTER: rounds now, and again after the delay.
    pub lower_prio_delay: Duration,
    pub lower_prio_repeat: u32,
}

impl Default for GarpConfig {
    /// keepalived's defaults: 5 rounds now and 5 more after 5 s, no refresh.
    fn default() -> Self {
        GarpConfig {
            master_delay: Duration::secs(5),
            master_repeat: 5,
            master_refresh: Duration::ZERO,
            master_refresh_repeat: 1,
            lower_prio_delay: Duration::secs(5),
            lower_prio_repeat: 5,
        }
    }
}

/// One VRRP instance, every default resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceConfig {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub version: Version,
    /// Base priority; 255 is the address owner.
    pub priority: u8,
    /// `state MASTER` (keepalived's initial wantstate).
    pub initial_master: bool,
    /// Our advertisement interval.
    pub adver_int: Duration,
    /// Adverts missed before the master is down (keepalived `vrrp_down_timer_adverts`, RFC: 3).
    pub down_timer_adverts: u32,
    /// The addresses in our adverts (the instance's family, in configuration order).
    pub vips: Vec<IpAddr>,
    /// Excluded addresses: installed and announced, not advertised.
    pub evips: Vec<IpAddr>,
    pub auth: Auth,
    /// Preempt a lower-priority master (RFC 5798 Preempt_Mode; `nopreempt` clears it).
    pub preempt: bool,
    pub preempt_delay: Duration,
    pub lower_prio_no_advert: bool,
    pub higher_prio_send_advert: bool,
    pub skip_check_adv_addr: bool,
    /// Unicast peers; empty: multicast.
    pub unicast_peers: Vec<Peer>,
    /// Accept unicast adverts only from the peers.
    pub check_unicast_src: bool,
    /// Our address: the source of our adverts, compared with the sender's on equal priority
    /// (RFC 5798 §6.4.3 says "primary IP address"; keepalived compares the source it sends
    /// from, which is that address unless `mcast_src_ip`/`unicast_src_ip` says otherwise).
    pub src: IpAddr,
    /// Where multicast adverts go.
    pub mcast_dst: IpAddr,
    /// v3 over IPv4: with the pseudo-header (keepalived's default) or without
    /// (`v3_checksum_as_v2`, RFC 9568).
    pub checksum: ChecksumForm,
    pub garp: GarpConfig,
    pub trackers: Vec<TrackerConfig>,
    /// The instance's own interface faults it when down (not `dont_track_primary`).
    pub track_primary: bool,
    /// `vrrp_startup_delay`: BACKUP timers at startup count from this long after start.
    pub startup_delay: Duration,
    /// Report effective priority changes (`notify_priority_changes`).
    pub notify_priority_changes: bool,
}

impl InstanceConfig {
    pub fn v6(&self) -> bool {
        self.src.is_ipv6()
    }
    pub fn unicast(&self) -> bool {
        !self.unicast_peers.is_empty()
    }
    pub fn owner(&self) -> bool {
        self.priority == 255
    }
    /// The checksum form of the adverts we send: plain for v2, the pseudo-header for v3 over
    /// IPv6, as configured for v3 over IPv4.
    pub fn wire_checksum(&self) -> ChecksumForm {
        match (self.version, self.v6()) {
            (Version::V2, _) => ChecksumForm::Plain,
            (Version::V3, true) => ChecksumForm::PseudoHeader,
            (Version::V3, false) => self.checksum,
        }
    }

    /// A v2/IPv4 multicast instance with keepalived's defaults: a start for tests and the
    /// simulator.
    pub fn new(name: &str, interface: &str, vrid: u8, priority: u8, src: IpAddr) -> Self {
        let v6 = src.is_ipv6();
        InstanceConfig {
            name: name.to_string(),
            interface: interface.to_string(),
            vrid,
            version: if v6 { Version::V3 } else { Version::V2 },
            priority,
            initial_master: priority == 255,
            adver_int: Duration::secs(1),
            down_timer_adverts: 3,
            vips: Vec::new(),
            evips: Vec::new(),
            auth: Auth::None,
            preempt: true,
            preempt_delay: Duration::ZERO,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            skip_check_adv_addr: false,
            unicast_peers: Vec::new(),
            check_unicast_src: false,
            src,
            mcast_dst: if v6 { GROUP_V6 } else { GROUP_V4 },
            checksum: ChecksumForm::PseudoHeader,
            garp: GarpConfig::default(),
            trackers: Vec::new(),
            track_primary: true,
            startup_delay: Duration::ZERO,
            notify_priority_changes: false,
        }
    }

    /// The engine's view of a checked instance. `src` is the source address when the
    /// configuration gives none (the interface's primary address, or its IPv6 link-local).
    pub fn from_model(cfg: &Config, i: &VrrpInstance, src: IpAddr) -> InstanceConfig {
        let g = &cfg.global_defs;
        let src = i.src_ip.unwrap_or(src);
        let v6 = src.is_ipv6();
        let priority = i.priority.unwrap_or(100);
        let micros = |m: crate::config::values::Micros| Duration(m.0);
        // The checked model holds the weights keepalived runs with: the tracked object's own
        // weight where the reference gives none, and weights that cannot count (sync group
        // members, address owners) already dropped.
        let mut trackers = Vec::new();
        for (kind, list, default) in [
            ("interface", &i.track_interface, 0),
            ("script", &i.track_script, 0),
            ("file", &i.track_file, 1),
            ("process", &i.track_process, 0),
        ] {
            for t in list {
                trackers.push(TrackerConfig {
                    id: format!("{kind}:{}", t.name),
                    weight: t.weight.unwrap_or(default),
                    reverse: t.reverse.unwrap_or(false),
                    valued: kind == "file",
                });
            }
        }
        let auth = match &i.authentication {
            Some(a) if i.version == Some(2) && !v6 => {
                let key = crate::vrrp::ah::key(a.auth_pass.as_deref().unwrap_or("").as_bytes());
                match a.auth_type {
                    Some(ConfigAuth::Pass) => Auth::Pass(key),
                    Some(ConfigAuth::Ah) => Auth::Ah(key),
                    None => Auth::None,
                }
            }
            _ => Auth::None,
        };
        let family_of_src = |a: &IpAddr| a.is_ipv6() == v6;
        let strict = i.strict_mode.unwrap_or(g.vrrp_strict);
        let initial_master = i.state == Some(ConfigState::Master);
        let garp_master_delay = i.garp_master_delay.unwrap_or(g.vrrp_garp_master_delay);
        let garp_master_repeat = i.garp_master_repeat.unwrap_or(g.vrrp_garp_master_repeat);
        let mut c = InstanceConfig {
            name: i.name.clone(),
            interface: i.interface.clone().unwrap_or_default(),
            vrid: i.virtual_router_id.unwrap_or(0),
            version: if i.version == Some(3) || v6 {
                Version::V3
            } else {
                Version::V2
            },
            priority,
            initial_master,
            adver_int: i.advert_int.map_or(Duration::secs(1), micros),
            // RFC 5798 §6.1 counts 3 adverts; keepalived lets the count be set.
            down_timer_adverts: i.down_timer_adverts.unwrap_or(g.vrrp_down_timer_adverts),
            vips: i
                .virtual_ipaddress
                .iter()
                .map(|a| a.addr.addr)
                .filter(family_of_src)
                .collect(),
            evips: i
                .virtual_ipaddress_excluded
                .iter()
                .map(|a| a.addr.addr)
                .collect(),
            auth,
            preempt: !i.nopreempt,
            preempt_delay: micros(i.preempt_delay),
            lower_prio_no_advert: i
                .lower_prio_no_advert
                .unwrap_or(g.vrrp_lower_prio_no_advert),
            higher_prio_send_advert: i
                .higher_prio_send_advert
                .unwrap_or(g.vrrp_higher_prio_send_advert),
            skip_check_adv_addr: i.skip_check_adv_addr.unwrap_or(false),
            unicast_peers: i
                .unicast_peer
                .iter()
                .map(|p| Peer {
                    addr: p.addr,
                    min_ttl: p.min_ttl.unwrap_or(0),
                    max_ttl: p.max_ttl.unwrap_or(255),
                })
                .collect(),
            check_unicast_src: i.check_unicast_src.unwrap_or(false),
            src,
            mcast_dst: i
                .mcast_dst_ip
                .unwrap_or(if v6 { GROUP_V6 } else { GROUP_V4 }),
            checksum: if i.v3_checksum_as_v2 == Some(true) {
                ChecksumForm::Plain
            } else {
                ChecksumForm::PseudoHeader
            },
            // keepalived: the instance's garp_master_* default to the globals; the
            // lower-priority ones to the global garp_master_* (not the instance's).
            garp: GarpConfig {
                master_delay: micros(garp_master_delay),
                master_repeat: garp_master_repeat,
                master_refresh: micros(i.garp_master_refresh.unwrap_or(g.vrrp_garp_master_refresh)),
                master_refresh_repeat: i
                    .garp_master_refresh_repeat
                    .unwrap_or(g.vrrp_garp_master_refresh_repeat),
                lower_prio_delay: micros(
                    i.garp_lower_prio_delay.unwrap_or(
                        g.vrrp_garp_lower_prio_delay
                            .unwrap_or(g.vrrp_garp_master_delay),
                    ),
                ),
                lower_prio_repeat: i.garp_lower_prio_repeat.unwrap_or(
                    g.vrrp_garp_lower_prio_repeat
                        .unwrap_or(g.vrrp_garp_master_repeat),
                ),
            },
            trackers,
            track_primary: !i.dont_track_primary,
            startup_delay: micros(g.vrrp_startup_delay),
            notify_priority_changes: i
                .notify_priority_changes
                .unwrap_or(g.vrrp_notify_priority_changes),
        };
        // keepalived vrrp_complete_instance: an owner, or an instance starting as MASTER,
        // cannot be nopreempt; preempt_delay only means something with preemption.
        if c.priority == 255 || initial_master {
            c.preempt = true;
        }
        if c.priority == 255 || initial_master || !c.preempt || strict {
            c.preempt_delay = Duration::ZERO;
        }
        if strict {
            // vrrp_strict (RFC 5798 to the letter): discard lower priorities silently
            // (§6.4.3), never answer a higher one, no extra GARPs, the RFC's 3 adverts.
            c.lower_prio_no_advert = true;
            c.higher_prio_send_advert = false;
            c.garp.lower_prio_repeat = 0;
            c.garp.lower_prio_delay = Duration::ZERO;
            c.down_timer_adverts = 3;
        }
        c
    }
}
