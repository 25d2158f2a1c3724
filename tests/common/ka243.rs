//! keepalived 2.4.3, the second oracle: built once from the vendored source into
//! target/ka243 by scripts/build_keepalived_243.sh (or named by $KACONSOLE_KEEPALIVED_243).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The keepalived 2.4.3 binary, built if needed; `None` (the test skips) when it cannot be,
/// except under CI=true, where that fails.
pub fn keepalived_243(test: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KACONSOLE_KEEPALIVED_243") {
        return Some(PathBuf::from(p));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("target/ka243/prefix/sbin/keepalived");
    if !bin.exists() {
        // The vendored source: $KACONSOLE_VENDOR, else the shared folder beside the checkout
        // (or the workspace's, for a clone elsewhere).
        let dirs = [
            std::env::var_os("KACONSOLE_VENDOR").map(PathBuf::from),
            Some(root.join("../shared/vendor")),
            Some(PathBuf::from("/work/shared/vendor")),
        ];
        let tarball = dirs
            .into_iter()
            .flatten()
            .map(|d| d.join("keepalived-2.4.3.tar.gz"))
            .find(|t| t.exists());
        if let Some(tarball) = tarball {
            let _ = Command::new(root.join("scripts/build_keepalived_243.sh"))
                .arg(&tarball)
                .status();
        }
    }
    if bin.exists() {
        return Some(bin);
    }
    assert!(
        !super::in_ci(),
        "{test}: keepalived 2.4.3 is not built (scripts/build_keepalived_243.sh), and CI=true forbids skipping"
    );
    eprintln!("{test}: skipped (keepalived 2.4.3 is not built: scripts/build_keepalived_243.sh)");
    None
}
