//! This machine and this process: the host name as keepalived uses it, our memory.

/// The version and the commit it was built from: `0.1.0 (commit 1234abcd5678)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KACONSOLE_COMMIT"),
    ")"
);

/// The host name up to the first dot: keepalived's default config id (`-i`) and `router_id`.
pub fn short_hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.split('.').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// The network namespace this process runs in, when it is not the machine's first one: its
/// name as `ip netns` gave it (a file in /run/netns), else `netns-INODE`. Files the daemon
/// puts in /run, which every namespace shares, carry it, so that two daemons in two
/// namespaces (and their consoles) never meet.
pub fn netns_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let ns = |p: &str| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let mine = ns("/proc/self/ns/net")?;
    if ns("/proc/1/ns/net") == Some(mine) {
        return None;
    }
    let named = std::fs::read_dir("/run/netns").ok().and_then(|dir| {
        dir.flatten().find_map(|e| {
            let m = e.metadata().ok()?;
            ((m.dev(), m.ino()) == mine).then(|| e.file_name().to_string_lossy().into_owned())
        })
    });
    Some(named.unwrap_or_else(|| format!("netns-{}", mine.1)))
}

/// This process's resident memory in KiB (/proc/self/statm), 0 if unknown.
pub fn rss_kb() -> u64 {
    let page_kb = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4, |p| p as u64 / 1024);
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * page_kb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_hostname_is_the_first_label() {
        let full = nix::unistd::gethostname().unwrap().into_string().unwrap();
        let short = short_hostname();
        assert!(!short.is_empty() && !short.contains('.'), "{short}");
        assert!(full.starts_with(&short), "{full} / {short}");
    }

    #[test]
    fn our_resident_memory_grows_with_what_we_touch() {
        let before = rss_kb();
        assert!(before > 0);
        let block = vec![1u8; 64 << 20];
        let after = rss_kb();
        assert!(after >= before + 60 * 1024, "{before} KiB -> {after} KiB");
        drop(block);
    }
}
