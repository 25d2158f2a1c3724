//! The lab's throwaway network: network namespaces named `kalab-<pid>-...`, one of them holding
//! the bridge every other one is cabled to. Built with iproute2 (`ip`), removed on drop, and
//! by [`clean`] for what a killed lab left behind.

use std::process::{Command, Output};

/// Every lab namespace starts with this.
pub const PREFIX: &str = "kalab-";

/// Runs `ip ARGS`; an error names the command and what ip said.
pub fn ip(args: &[&str]) -> Result<Output, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e} (is iproute2 installed?)"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A bridge segment and the namespaces cabled to it.
pub struct Net {
    /// `kalab-<pid>-`.
    pub prefix: String,
    bridge_ns: String,
    /// Every namespace created, the bridge's last.
    namespaces: Vec<String>,
    /// Left in place on drop (`kaconsole lab --keep`).
    pub keep: bool,
}

impl Net {
    /// The bridge namespace with bridge `br0`.
    pub fn new() -> Result<Net, String> {
        let prefix = format!("{PREFIX}{}-", std::process::id());
        let bridge_ns = format!("{prefix}seg");
        let mut net = Net {
            prefix,
            bridge_ns: bridge_ns.clone(),
            namespaces: Vec::new(),
            keep: false,
        };
        ip(&["netns", "add", &bridge_ns])?;
        net.namespaces.push(bridge_ns.clone());
        ip(&["-n", &bridge_ns, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &bridge_ns, "link", "set", "br0", "up"])?;
        Ok(net)
    }

    /// A namespace `<prefix><name>` cabled to the bridge (port `name`, `eth0` inside) with
    /// `addr` (CIDR) on eth0; returns its full name.
    pub fn host(&mut self, name: &str, addr: &str) -> Result<String, String> {
        let ns = format!("{}{name}", self.prefix);
        ip(&["netns", "add", &ns])?;
        self.namespaces.insert(0, ns.clone());
        let b = self.bridge_ns.as_str();
        ip(&[
            "-n", b, "link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ])?;
        ip(&["-n", b, "link", "set", name, "master", "br0", "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        ip(&["-n", &ns, "addr", "add", addr, "dev", "eth0"])?;
        ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        Ok(ns)
    }

    /// Cuts or restores the cable of host `name` (its bridge port).
    pub fn set_cable(&self, name: &str, up: bool) -> Result<(), String> {
        let state = if up { "up" } else { "down" };
        ip(&["-n", &self.bridge_ns, "link", "set", name, state]).map(|_| ())
    }

    pub fn namespaces(&self) -> &[String] {
        &self.namespaces
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if !self.keep {
            for ns in &self.namespaces {
                remove(ns);
            }
        }
    }
}

/// Kills what runs in namespace `ns`, then deletes it.
fn remove(ns: &str) {
    if let Ok(out) = ip(&["netns", "pids", ns]) {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
    let _ = ip(&["netns", "del", ns]);
}

/// The lab namespaces that exist now (`kalab-...`), with those of other labs.
pub fn lab_namespaces() -> Vec<String> {
    ip(&["netns", "list"])
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .filter(|n| n.starts_with(PREFIX))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The pid of the lab that made namespace `ns` (`kalab-<pid>-...`).
fn owner(ns: &str) -> Option<i32> {
    let rest = ns.strip_prefix(PREFIX)?;
    // The simulated lab's directory: kalab-sim-<pid>.
    let rest = rest.strip_prefix("sim-").unwrap_or(rest);
    rest.split('-').next()?.parse().ok()
}

/// Whether the lab that made `name` (a namespace, or its directory `kalab-<pid>`) still runs.
fn lab_runs(name: &str) -> bool {
    owner(name).is_some_and(|pid| {
        pid as u32 != std::process::id() && std::path::Path::new(&format!("/proc/{pid}")).exists()
    })
}

/// `kaconsole lab --clean`: removes the namespaces of labs that no longer run, what runs in
/// them, and their directories. Returns what was removed, and the namespaces left because
/// their lab is still running.
pub fn clean() -> (Vec<String>, Vec<String>) {
    let (mut removed, mut running) = (Vec::new(), Vec::new());
    for ns in lab_namespaces() {
        if lab_runs(&ns) {
            running.push(ns);
        } else {
            remove(&ns);
            removed.push(ns);
        }
    }
    for entry in std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Only a real directory of ours (a lab makes them 0700): not a symlink, not what a
        // local user made under a lab's name.
        let ours = std::fs::symlink_metadata(entry.path()).is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.is_dir() && m.uid() == nix::unistd::geteuid().as_raw()
        });
        if name.starts_with(PREFIX) && !lab_runs(&name) && ours {
            let _ = std::fs::remove_dir_all(entry.path());
            removed.push(entry.path().display().to_string());
        }
    }
    (removed, running)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_namespace_names_its_lab() {
        assert_eq!(super::owner("kalab-4242-r1"), Some(4242));
        assert_eq!(super::owner("kalab-4242"), Some(4242), "its directory");
        assert_eq!(
            super::owner("kalab-sim-4242"),
            Some(4242),
            "a simulated lab's"
        );
        assert_eq!(super::owner("kalab-x-r1"), None);
        assert_eq!(super::owner("other-4242-r1"), None);
    }
}
