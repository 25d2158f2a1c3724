//! The VRRP side of the daemon: the engine driven by real time and real packets. Outputs
//! become raw-socket sends, rtnetlink address changes and gratuitous ARP / NA frames.
//! Its sockets (sockets.rs) follow the interfaces' indexes (interfaces.rs); VMACs are in
//! vmac.rs; a reload is prepared, then committed (reload.rs).

mod interfaces;
mod reload;
mod sockets;
mod vmac;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::log::Log;
use super::notify::{self, Notifier};
use super::supervisor::{Task, Tasks};
use crate::config::blocks::Config;
use crate::config::blocks::addr::{IpAddress, Route, Rule};
use crate::config::blocks::vrrp::VrrpInstance;
use crate::config::values::Family;
use crate::sys::iface::Iface;
use crate::sys::netlink::{Netlink, NetlinkError};
use crate::sys::packet_socket::PacketSocket;
use crate::sys::script::ScriptUsers;
use crate::vrrp::announce;
use crate::vrrp::engine::{Emitted, Engine, GroupError, Source, SyncGroupConfig, instance_configs};
use crate::vrrp::event::{Input, Output};
use crate::vrrp::frame::{self, Received};
use crate::vrrp::instance::Instance;
use crate::vrrp::instance_config::InstanceConfig;

pub use reload::Prepared;
use sockets::{Fresh, Open, SocketKey};
use vmac::{Vmac, vmac_name};

/// Why the VRRP side cannot start, or cannot take a new configuration.
#[derive(Debug, thiserror::Error)]
pub enum VrrpError {
    #[error("netlink: {0}")]
    Netlink(std::io::Error),
    #[error("({instance}) no interface {interface}")]
    NoVmacBase { instance: String, interface: String },
    #[error("({instance}) cannot create the VMAC {name}: {source}")]
    Vmac {
        instance: String,
        name: String,
        source: NetlinkError,
    },
    #[error("no interface {0}")]
    NoInterface(String),
    #[error("{interface}: VRRP socket: {source}")]
    Socket {
        interface: String,
        source: std::io::Error,
    },
    #[error("({instance}) interface {interface} has no {family} address to send from")]
    NoSourceAddress {
        instance: String,
        interface: String,
        family: &'static str,
    },
    #[error("{0}")]
    Groups(#[from] GroupError),
}

/// Interfaces looked up once: `getifaddrs` walks every address of the machine, and a router
/// with a thousand VIPs would pay for it on every GARP. Forgotten on every link event.
#[derive(Default)]
pub struct IfaceCache(std::cell::RefCell<HashMap<String, Iface>>);

impl IfaceCache {
    pub fn get(&self, name: &str) -> Option<Iface> {
        if let Some(i) = self.0.borrow().get(name) {
            return Some(i.clone());
        }
        let i = Iface::lookup(name)?;
        self.0.borrow_mut().insert(name.to_string(), i.clone());
        Some(i)
    }

    /// Forgets `name` (its link changed: it may be new, gone, or have another MAC).
    pub fn forget(&self, name: &str) {
        self.0.borrow_mut().remove(name);
    }
}

/// A packet read by one of the socket tasks.
pub struct Packet {
    pub interface: String,
    pub rx: Received,
}

/// The running VRRP side.
pub struct Vrrp {
    pub engine: Engine,
    /// The checked configuration the engine was built from (VIP details, notify scripts).
    config: Config,
    /// The VRRP sockets, each on the index its interface had when it was opened.
    sockets: HashMap<SocketKey, Open>,
    packet_sockets: HashMap<u32, PacketSocket>,
    netlink: Netlink,
    packets: mpsc::UnboundedSender<Packet>,
    /// Where the socket readers and the netlink connection run, watched.
    tasks: Tasks,
    /// Keep the addresses when stopping (`-V`).
    pub dont_release: bool,
    pub notifier: Notifier,
    pub ifaces: IfaceCache,
    /// The interfaces the configuration depends on, and the index each had when last seen.
    used: BTreeSet<String>,
    indexes: HashMap<String, u32>,
    /// The names that have had an index: one that comes back is an interface created again.
    known: std::collections::HashSet<String>,
    /// VMAC interfaces we created (removed at stop) and the base sysctls we changed
    /// (restored at stop).
    vmacs: Vec<Vmac>,
    saved_sysctls: Vec<(String, String)>,
}

impl Vrrp {
    /// Builds the engine for `config` and opens what it needs. Packets go to `packets`; the
    /// tasks run on `tasks`.
    pub async fn new(
        config: Config,
        users: Arc<ScriptUsers>,
        packets: mpsc::UnboundedSender<Packet>,
        tasks: &Tasks,
        log: &Log,
    ) -> Result<Vrrp, VrrpError> {
        let (instances, groups) = engine_configs(&config)?;
        let engine = Engine::new(instances.clone(), groups)?;
        let (netlink, connection) = Netlink::open().map_err(VrrpError::Netlink)?;
        tasks.spawn(Task::Netlink, connection);
        let mut v = Vrrp {
            engine,
            config: Config::default(),
            sockets: HashMap::new(),
            packet_sockets: HashMap::new(),
            netlink,
            packets,
            tasks: tasks.clone(),
            dont_release: false,
            notifier: Notifier::default(),
            ifaces: IfaceCache::default(),
            used: BTreeSet::new(),
            indexes: HashMap::new(),
            known: Default::default(),
            vmacs: Vec::new(),
            saved_sysctls: Vec::new(),
        };
        v.notifier = Notifier::open(&config, users, log);
        let created = v.create_vmacs(&config.vrrp_instances, log).await?;
        let fresh = match v.open_sockets(&instances) {
            Ok(f) => f,
            Err(e) => {
                v.undo_vmacs(created, log).await;
                return Err(e);
            }
        };
        v.vmacs.extend(created.vmacs);
        v.saved_sysctls.extend(created.sysctls);
        for f in fresh {
            v.install_socket(f, log);
        }
        v.config = config;
        v.track_interfaces();
        Ok(v)
    }

    /// The configuration running.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The interfaces the configuration uses, and their indexes now.
    fn track_interfaces(&mut self) {
        self.used = interfaces::used_interfaces(&self.config, &self.engine);
        self.indexes.retain(|n, _| self.used.contains(n));
        for name in &self.used {
            if self.indexes.contains_key(name) {
                continue;
            }
            if let Ok(i) = nix::net::if_::if_nametoindex(name.as_str()) {
                self.indexes.insert(name.clone(), i);
                self.known.insert(name.clone());
            }
        }
    }

    /// Opens the sockets `instances` need that are not open already (on the interface's
    /// index now, joined to the same groups). Nothing is installed: the caller does, or
    /// drops them.
    fn open_sockets(&self, instances: &[InstanceConfig]) -> Result<Vec<Fresh>, VrrpError> {
        let mut fresh = Vec::new();
        for (key, groups) in sockets::wanted(instances) {
            let ifname = &key.0;
            let iface =
                Iface::lookup(ifname).ok_or_else(|| VrrpError::NoInterface(ifname.clone()))?;
            let open = self.sockets.get(&key);
            if open.is_some_and(|o| o.ifindex == iface.index && o.groups == groups) {
                continue;
            }
            let socket =
                sockets::open(&key, iface.index, &groups).map_err(|source| VrrpError::Socket {
                    interface: ifname.clone(),
                    source,
                })?;
            fresh.push(Fresh {
                key,
                socket,
                ifindex: iface.index,
                groups,
            });
        }
        Ok(fresh)
    }

    /// The netlink connection died: a new one, watched.
    pub fn reopen_netlink(&mut self) -> std::io::Result<()> {
        let (netlink, connection) = Netlink::open()?;
        self.tasks.spawn(Task::Netlink, connection);
        self.netlink = netlink;
        Ok(())
    }

    /// Does what the engine said.
    /// `removed` and `old_config` are a reload's: the instances it removed, and the
    /// configuration they came from.
    pub async fn apply(
        &mut self,
        out: impl IntoIterator<Item = Emitted>,
        removed: &[Instance],
        old_config: Option<&Config>,
        log: &Log,
    ) {
        for e in out {
            log.vrrp_event(&e.output, || match e.source {
                Source::Removed(k) => removed.get(k).map_or("(removed)", |i| i.name()),
                s => self.engine.source_name(s),
            });
            let (inst, configured): (&Instance, Option<&VrrpInstance>) = match e.source {
                Source::Instance(i) => (
                    &self.engine.instances()[i],
                    self.config.vrrp_instances.get(i),
                ),
                Source::Removed(k) => {
                    let inst = &removed[k];
                    let m = old_config
                        .and_then(|c| c.vrrp_instances.iter().find(|m| m.name == inst.name()));
                    (inst, m)
                }
                Source::Group(g) => {
                    match &e.output {
                        Output::Log { message } => log.info(message),
                        Output::Notify(n) => {
                            let name = self.engine.source_name(Source::Group(g)).to_string();
                            notify::dispatch(&self.config, &mut self.notifier, true, &name, n, log);
                        }
                        _ => {}
                    }
                    continue;
                }
            };
            let cfg = inst.config_shared();
            match e.output {
                // Its interface is gone: no socket, nobody to say goodbye to there.
                Output::Send { .. } if !inst.interface_present() => {}
                Output::Send { advert, ah_seq } => {
                    let dsts: Vec<IpAddr> = if cfg.unicast() {
                        cfg.unicast_peers.iter().map(|p| p.addr).collect()
                    } else {
                        vec![cfg.mcast_dst]
                    };
                    for dst in dsts {
                        if let Err(err) = self.send(&cfg, &advert, ah_seq, dst) {
                            log.warn(&format!("({}) send to {dst}: {err}", cfg.name));
                        }
                    }
                }
                Output::Install => {
                    self.addresses_and_routes(true, configured, &cfg, log).await;
                }
                Output::Uninstall if !self.dont_release => {
                    self.addresses_and_routes(false, configured, &cfg, log)
                        .await;
                }
                Output::Garp { addrs, rounds } => {
                    let frames = announcements(&self.ifaces, &cfg, configured, &addrs);
                    self.send_frames(&frames, rounds, &cfg.name, log);
                }
                Output::Log { message } => instance_line(log, &cfg, &message),
                Output::Notify(n) => {
                    let m = match (e.source, old_config) {
                        (Source::Removed(_), Some(old)) => old,
                        _ => &self.config,
                    };
                    notify::dispatch(m, &mut self.notifier, false, &cfg.name, &n, log);
                }
                // -D: what keepalived logs with --log-detail.
                Output::LearnedInterval { interval } if log.detail => {
                    log.info(&format!(
                        "({}) advert interval changed to {interval} (the master's)",
                        cfg.name
                    ));
                }
                Output::StateChange { from, to, reason } if log.detail => {
                    log.info(&format!("({}) {from} -> {to} ({reason})", cfg.name));
                }
                Output::Rejected { from, error } => {
                    log.info(&format!("({}) {error} (from {from})", cfg.name));
                }
                _ => {}
            }
        }
    }

    /// `static_ipaddress` and `static_routes`: set at start whatever the VRRP state, removed
    /// at stop.
    pub async fn statics(&self, add: bool, log: &Log) {
        let m = &self.config;
        let addrs = m.static_ipaddress.iter().map(|a| (a, a.dev.clone()));
        self.ip_set(add, "static", addrs, &m.static_routes, &m.static_rules, log)
            .await;
    }

    /// At start, removes the addresses and routes a previous run may have left (a SIGKILLed
    /// daemon cannot clean up; keepalived does the same: "removing VIPs").
    pub async fn release_stale(&self, log: &Log) {
        for (i, inst) in self.engine.instances().iter().enumerate() {
            let configured = self.config.vrrp_instances.get(i);
            self.addresses_and_routes(false, configured, inst.config(), log)
                .await;
        }
    }

    /// keepalived's order: addresses then routes when becoming MASTER, routes then addresses
    /// when leaving it.
    async fn addresses_and_routes(
        &self,
        add: bool,
        configured: Option<&VrrpInstance>,
        cfg: &InstanceConfig,
        log: &Log,
    ) {
        let routes = configured.map_or(&[][..], |m| &m.virtual_routes[..]);
        let rules = configured.map_or(&[][..], |m| &m.virtual_rules[..]);
        let addrs = vips(configured).map(|a| (a, Some(vip_dev(a, configured, cfg))));
        self.ip_set(add, &cfg.name, addrs, routes, rules, log).await;
    }

    /// Adds (or removes) addresses, each on its interface, routes and rules - in keepalived's
    /// order: addresses, routes, rules; the reverse to remove. `who` names them in the log.
    async fn ip_set<'a>(
        &self,
        add: bool,
        who: &str,
        addrs: impl Iterator<Item = (&'a IpAddress, Option<String>)>,
        routes: &[Route],
        rules: &[Rule],
        log: &Log,
    ) {
        let verb = if add { "add" } else { "remove" };
        let index = |dev: Option<&str>| dev.and_then(|d| self.ifaces.get(d)).map(|i| i.index);
        if !add {
            self.rules(false, rules, who, log).await;
            self.routes(false, routes, who, log).await;
        }
        for (a, dev) in addrs {
            let Some(ifindex) = index(dev.as_deref()) else {
                // An address to remove from an interface that is gone went with it.
                if add {
                    log.warn(&format!("({who}) no interface for {}", a.addr.addr));
                }
                continue;
            };
            let r = if add {
                self.netlink.add_address(ifindex, a).await
            } else {
                self.netlink.del_address(ifindex, a).await
            };
            if let Err(err) = r {
                log.warn(&format!("({who}) cannot {verb} {}: {err}", a.addr.addr));
            }
        }
        if add {
            self.routes(true, routes, who, log).await;
            self.rules(true, rules, who, log).await;
        }
    }

    async fn rules(&self, add: bool, rules: &[Rule], who: &str, log: &Log) {
        for r in rules {
            if let Err(err) = self.netlink.rule(add, r).await {
                let verb = if add { "add" } else { "remove" };
                log.warn(&format!("({who}) cannot {verb} a rule: {err}"));
            }
        }
    }

    async fn routes(&self, add: bool, routes: &[Route], who: &str, log: &Log) {
        for r in routes {
            let dev = r
                .dev
                .as_deref()
                .and_then(|d| self.ifaces.get(d))
                .map(|i| i.index);
            if let Err(err) = self.netlink.route(add, r, dev).await {
                let verb = if add { "add" } else { "remove" };
                log.warn(&format!("({who}) cannot {verb} a route: {err}"));
            }
        }
    }

    fn send(
        &self,
        cfg: &InstanceConfig,
        advert: &crate::vrrp::packet::Advert,
        ah_seq: Option<u32>,
        dst: IpAddr,
    ) -> std::io::Result<()> {
        let key = (
            cfg.interface.clone(),
            cfg.v6(),
            crate::vrrp::checksum::IPPROTO_VRRP,
        );
        let Some(socket) = self.sockets.get(&key).map(|o| &o.socket) else {
            return Err(std::io::Error::other("no socket"));
        };
        if cfg.v6() {
            // The kernel writes the IPv6 header and the checksum.
            let msg = advert.to_bytes(cfg.wire_checksum(), cfg.src, dst);
            socket.send(&msg, cfg.src, dst)
        } else {
            socket.send(&frame::build_ipv4(cfg, advert, ah_seq, dst), cfg.src, dst)
        }
    }

    /// Sends `frames` `rounds` times, each out of its interface (keepalived sends a burst's
    /// rounds back to back).
    fn send_frames(&mut self, frames: &[(u32, Vec<u8>)], rounds: u32, name: &str, log: &Log) {
        for _ in 0..rounds {
            for (ifindex, f) in frames {
                let s = match self.packet_sockets.entry(*ifindex) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        match PacketSocket::open(*ifindex) {
                            Ok(s) => e.insert(s),
                            Err(err) => {
                                log.warn(&format!("({name}) packet socket: {err}"));
                                return;
                            }
                        }
                    }
                };
                if let Err(err) = s.send(f) {
                    log.warn(&format!("({name}) gratuitous ARP/NA: {err}"));
                }
            }
        }
    }
}

/// The gratuitous ARP / unsolicited NA frame of each address, with the interface it lives on.
fn announcements(
    ifaces: &IfaceCache,
    cfg: &InstanceConfig,
    configured: Option<&VrrpInstance>,
    addrs: &[IpAddr],
) -> Vec<(u32, Vec<u8>)> {
    let mut frames = Vec::new();
    for addr in addrs {
        let dev = vips(configured)
            .find(|a| a.addr.addr == *addr)
            .map_or_else(|| cfg.interface.clone(), |a| vip_dev(a, configured, cfg));
        let Some(iface) = ifaces.get(&dev) else {
            continue;
        };
        let Some(mac) = iface.mac else { continue };
        let f = match addr {
            IpAddr::V4(a) => announce::gratuitous_arp(mac, *a),
            IpAddr::V6(a) => announce::unsolicited_na(mac, *a, forwarding_v6(&dev)),
        };
        frames.push((iface.index, f));
    }
    frames
}

/// The VIPs and eVIPs of an instance, as configured.
fn vips(configured: Option<&VrrpInstance>) -> impl Iterator<Item = &IpAddress> {
    configured.into_iter().flat_map(|m| {
        m.virtual_ipaddress
            .iter()
            .chain(&m.virtual_ipaddress_excluded)
    })
}

/// keepalived sets the NA Router flag when the interface forwards IPv6.
fn forwarding_v6(dev: &str) -> bool {
    std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{dev}/forwarding"))
        .is_ok_and(|s| s.trim() == "1")
}

pub(super) fn engine_configs(
    config: &Config,
) -> Result<(Vec<InstanceConfig>, Vec<SyncGroupConfig>), VrrpError> {
    let mut missing = None;
    let (instances, groups) = instance_configs(config, |i| {
        let ifname = i.interface.as_deref().unwrap_or_default();
        let v6 = i.family == Some(Family::Inet6);
        match Iface::lookup(ifname).and_then(|f| f.vrrp_source(v6)) {
            Some(a) => a,
            None => {
                if i.src_ip.is_none() {
                    missing = Some(VrrpError::NoSourceAddress {
                        instance: i.name.clone(),
                        interface: ifname.to_string(),
                        family: if v6 { "IPv6 link-local" } else { "IPv4" },
                    });
                }
                IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
            }
        }
    });
    if let Some(m) = missing {
        return Err(m);
    }
    // With use_vmac the instance lives on its VMAC (its source address stays the base
    // interface's, as keepalived sends it).
    let instances = instances
        .into_iter()
        .zip(&config.vrrp_instances)
        .map(|(mut c, m)| {
            // vmac_xmit_base: adverts in and out of the base interface, VIPs on the VMAC.
            if m.use_vmac.is_some() && !m.vmac_xmit_base {
                c.interface = vmac_name(m);
            }
            c
        })
        .collect();
    Ok((instances, groups))
}

/// Where a VIP lives: its `dev`, else the VMAC with use_vmac (also when adverts go out of
/// the base interface with vmac_xmit_base), else the instance's interface.
fn vip_dev(a: &IpAddress, configured: Option<&VrrpInstance>, cfg: &InstanceConfig) -> String {
    if let Some(d) = &a.dev {
        return d.clone();
    }
    match configured {
        Some(m) if m.use_vmac.is_some() => vmac_name(m),
        _ => cfg.interface.clone(),
    }
}

/// The engine input for a packet.
pub fn packet_input(p: Packet) -> Input {
    Input::Packet {
        interface: p.interface,
        rx: p.rx,
    }
}

/// An instance's log line, with the journal's fields: INSTANCE, VRID, and STATE for the
/// "Entering ... STATE" lines.
fn instance_line(log: &Log, cfg: &InstanceConfig, message: &str) {
    let mut fields = vec![
        ("INSTANCE", cfg.name.clone()),
        ("VRID", cfg.vrid.to_string()),
    ];
    if let Some(state) = message
        .split_once("Entering ")
        .and_then(|(_, rest)| rest.split_once(" STATE"))
        .map(|(state, _)| state)
    {
        fields.push(("STATE", state.to_string()));
    }
    log.record(super::log_sinks::Level::Info, message, &fields);
}
