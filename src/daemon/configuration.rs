//! Reading the configuration for the daemon: errors refuse it, with their diagnostics.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::diag::{self, Color};
use crate::config::{self, LoadOptions, Severity, blocks::Config};
use crate::sys::env::Machine;

/// A configuration with errors, and the errors as `kaconsole check` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRefused {
    pub path: PathBuf,
    pub errors: Vec<String>,
}

impl fmt::Display for ConfigRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path.display();
        write!(
            f,
            "{p}: {} error(s); `kaconsole check -f {p}` shows them all\n{}",
            self.errors.len(),
            self.errors.join("\n")
        )
    }
}

impl std::error::Error for ConfigRefused {}

/// Loads and checks `path` against this machine.
pub fn load(path: &Path, config_id: &str) -> Result<Config, ConfigRefused> {
    let opts = LoadOptions {
        config_id: config_id.to_string(),
        ..Default::default()
    };
    let loaded = config::load(path, &opts, Some(&Machine::new()));
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| diag::render_human(&loaded.sources, d, Color::Never))
        .collect();
    if errors.is_empty() {
        let mut config = loaded.config;
        config.compact();
        Ok(config)
    } else {
        Err(ConfigRefused {
            path: path.to_path_buf(),
            errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_with_errors_is_refused_with_each_error_rendered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keepalived.conf");
        std::fs::write(
            &path,
            "vrrp_instance VI_1 {\n    intervl 2\n}\nvrrp_instance VI_2 {\n    priority 999\n}\n",
        )
        .unwrap();
        let refused = load(&path, "host").unwrap_err();
        assert!(refused.errors.len() >= 2, "{refused}");
        let text = refused.to_string();
        assert!(text.starts_with(&format!("{}: ", path.display())), "{text}");
        assert!(text.contains("`kaconsole check -f"), "{text}");
        assert!(text.contains("unknown keyword 'intervl'"), "{text}");
        std::fs::write(&path, "global_defs {\n    router_id r1\n}\n").unwrap();
        assert_eq!(
            load(&path, "host")
                .unwrap()
                .global_defs
                .router_id
                .as_deref(),
            Some("r1")
        );
    }
}
