//! The data dump's `------< Interfaces >------` section: the machine's interfaces.

use std::fmt::Write as _;

use nix::net::if_::InterfaceFlags as F;

/// The `------< Interfaces >------` section: every interface of the namespace with
/// keepalived's labels for what the kernel tells (`dump_if`; its own bookkeeping is left out).
pub(super) fn interfaces_text() -> String {
    let mut t = String::from("------< Interfaces >------\n");
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return t;
    };
    let mut names: Vec<(u32, String, F)> = Vec::new();
    let all: Vec<_> = addrs.collect();
    for a in &all {
        if !names.iter().any(|(_, n, _)| *n == a.interface_name) {
            let index = nix::net::if_::if_nametoindex(a.interface_name.as_str()).unwrap_or(0);
            names.push((index, a.interface_name.clone(), a.flags));
        }
    }
    names.sort();
    for (index, name, flags) in names {
        let iface = crate::sys::iface::Iface::lookup(&name);
        let _ = writeln!(t, " Name = {name}");
        let _ = writeln!(t, "   index = {index}");
        let v4 = iface.as_ref().and_then(|i| i.ipv4);
        let v6 = iface.as_ref().and_then(|i| i.link_local);
        let _ = writeln!(
            t,
            "   IPv4 address = {}",
            v4.map_or("(none)".into(), |a| a.to_string())
        );
        let _ = writeln!(
            t,
            "   IPv6 address = {}",
            v6.map_or("(none)".into(), |a| a.to_string())
        );
        let loopback = flags.contains(F::IFF_LOOPBACK);
        if let Some(mac) = iface.and_then(|i| i.mac).filter(|_| !loopback) {
            let hex: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(t, "   MAC = {}", hex.join(":"));
            let _ = writeln!(t, "   MAC broadcast = ff:ff:ff:ff:ff:ff");
        }
        let mut state = Vec::new();
        if flags.contains(F::IFF_UP) {
            state.push("UP");
        }
        if flags.contains(F::IFF_RUNNING) {
            state.push("RUNNING");
        }
        if !flags.contains(F::IFF_BROADCAST) {
            state.push("no broadcast");
        }
        if loopback {
            state.push("loopback");
        }
        if !flags.contains(F::IFF_MULTICAST) {
            state.push("no multicast");
        }
        let _ = writeln!(t, "   State = {}", state.join(", "));
        if let Ok(mtu) = std::fs::read_to_string(format!("/sys/class/net/{name}/mtu")) {
            let _ = writeln!(t, "   MTU = {}", mtu.trim());
        }
        let hw = if loopback { "LOOPBACK" } else { "ETHERNET" };
        let _ = writeln!(t, "   HW Type = {hw}");
    }
    t
}
