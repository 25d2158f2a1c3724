//! `net_namespace NAME` / `-s NAME`: the daemon runs in a named network namespace (one made
//! with `ip netns add NAME`), entered before any socket or netlink is opened, as keepalived's
//! core/namespaces.c `set_namespaces` does.

use std::fs::File;
use std::path::PathBuf;

use nix::sched::{CloneFlags, setns};

/// Where `ip netns` keeps its named namespaces (keepalived's netns_dir).
pub const NETNS_DIR: &str = "/var/run/netns";

/// Why the namespace could not be entered.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("'{0}' is not a namespace name")]
    BadName(String),
    #[error("cannot open {path}: {source} (create it with `ip netns add NAME`)")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("setns {path}: {source}")]
    Setns { path: PathBuf, source: nix::Error },
}

/// Moves the calling thread into network namespace `name`; threads it starts afterwards are
/// in it too. Call it before any other thread exists.
pub fn enter(name: &str) -> Result<(), NetnsError> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(NetnsError::BadName(name.to_string()));
    }
    let path = PathBuf::from(NETNS_DIR).join(name);
    let file = File::open(&path).map_err(|source| NetnsError::Open {
        path: path.clone(),
        source,
    })?;
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|source| NetnsError::Setns { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_paths_are_refused() {
        for bad in ["", "../x", "a/b", "..", "."] {
            assert!(matches!(enter(bad), Err(NetnsError::BadName(_))), "{bad}");
        }
        assert!(matches!(
            enter("kaconsole-no-such-namespace"),
            Err(NetnsError::Open { .. })
        ));
    }
}
