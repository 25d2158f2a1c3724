//! The real machine for the configuration's environment checks.

use std::collections::HashMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;
use nix::unistd::{Group, User};

use crate::config::env::{DEFAULT_PATH, Env, FileInfo, IfInfo};

/// This machine (in the current network namespace).
pub struct Machine {
    interfaces: HashMap<String, IfInfo>,
}

impl Machine {
    /// Reads the interfaces once; files and users are looked up on demand.
    pub fn new() -> Self {
        let mut interfaces = HashMap::new();
        if let Ok(addrs) = getifaddrs() {
            for a in addrs {
                let e = interfaces
                    .entry(a.interface_name.clone())
                    .or_insert(IfInfo {
                        loopback: false,
                        multicast: false,
                    });
                e.loopback |= a.flags.contains(InterfaceFlags::IFF_LOOPBACK);
                e.multicast |= a.flags.contains(InterfaceFlags::IFF_MULTICAST);
            }
        }
        Machine { interfaces }
    }
}

impl Default for Machine {
    fn default() -> Self {
        Self::new()
    }
}

/// Writable by group or others, or owned by someone other than root.
fn unsafe_meta(m: &std::fs::Metadata) -> bool {
    m.uid() != 0 || m.permissions().mode() & 0o022 != 0
}

impl Env for Machine {
    fn interface(&self, name: &str) -> Option<IfInfo> {
        self.interfaces.get(name).copied()
    }

    fn file(&self, path: &Path) -> Option<FileInfo> {
        let meta = std::fs::metadata(path).ok()?;
        let mut writable_by_others = unsafe_meta(&meta);
        let mut dir: Option<&Path> = path.parent();
        while let Some(d) = dir {
            if d.as_os_str().is_empty() {
                break;
            }
            if let Ok(m) = std::fs::metadata(d) {
                // A sticky directory (like /tmp) does not let others replace our file.
                let sticky = m.permissions().mode() & 0o1000 != 0;
                if !sticky && unsafe_meta(&m) {
                    writable_by_others = true;
                }
            }
            dir = d.parent();
        }
        Some(FileInfo {
            regular: meta.is_file(),
            executable: meta.permissions().mode() & 0o111 != 0,
            writable_by_others,
        })
    }

    fn user_exists(&self, name: &str) -> bool {
        matches!(User::from_name(name), Ok(Some(_)))
    }

    fn group_exists(&self, name: &str) -> bool {
        matches!(Group::from_name(name), Ok(Some(_)))
    }

    fn path_dirs(&self) -> Vec<PathBuf> {
        match std::env::var_os("PATH") {
            Some(p) => std::env::split_paths(&p).collect(),
            None => DEFAULT_PATH.iter().map(PathBuf::from).collect(),
        }
    }
}
