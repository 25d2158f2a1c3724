//! Reading the configuration for the daemon: errors refuse it, with their diagnostics; the
//! warnings `kaconsole check` gives are kept for the log, one line each, with the keywords
//! accepted and not acted on named together.

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

/// A configuration the daemon can run, and what `kaconsole check` says about it.
#[derive(Debug)]
pub struct Accepted {
    pub config: Config,
    /// Each warning on one line: `FILE:LINE:COL: warning[CODE]: MESSAGE`.
    pub warnings: Vec<String>,
    /// The keywords accepted and not acted on, each once, in the order found.
    pub ignored: Vec<&'static str>,
}

impl Accepted {
    /// Logs each warning, then one line naming the keywords kaconsole does not act on: at
    /// start and at every reload.
    pub fn report(&self, log: &crate::daemon::log::Log) {
        for w in &self.warnings {
            log.warn(w);
        }
        if !self.ignored.is_empty() {
            log.warn(&format!(
                "accepted but not acted on ({} keyword(s), see `kaconsole check`): {}",
                self.ignored.len(),
                self.ignored.join(", ")
            ));
        }
    }
}

/// One line for the log: where, what, why (notes and help left to `kaconsole check`).
fn one_line(sources: &config::SourceMap, d: &config::Diagnostic) -> String {
    let at = d
        .span
        .map(|s| format!("{}: ", sources.location(s)))
        .unwrap_or_default();
    format!("{at}{}[{}]: {}", d.severity.as_str(), d.code, d.message)
}

/// Errors `keepalived -t` reports about the machine with which keepalived still starts,
/// disabling what they name: the daemon starts too, logs them, and shows the part failed.
pub const RUNS_ANYWAY: &[&str] = &[
    "script-not-found",
    "script-not-executable",
    "insecure-script",
    "script-user",
];

fn refuses(d: &config::Diagnostic) -> bool {
    d.severity == Severity::Error && !RUNS_ANYWAY.contains(&d.code)
}

/// Loads and checks `path` against this machine.
pub fn load(path: &Path, config_id: &str) -> Result<Accepted, ConfigRefused> {
    let opts = LoadOptions {
        config_id: config_id.to_string(),
        ..Default::default()
    };
    let loaded = config::load(path, &opts, Some(&Machine::new()));
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| refuses(d))
        .map(|d| diag::render_human(&loaded.sources, d, Color::Never))
        .collect();
    if errors.is_empty() {
        let warnings = loaded
            .diagnostics
            .iter()
            .map(|d| one_line(&loaded.sources, d))
            .collect();
        let mut ignored: Vec<&'static str> = Vec::new();
        for k in loaded.diagnostics.iter().filter_map(|d| d.keyword) {
            if !ignored.contains(&k) {
                ignored.push(k);
            }
        }
        let mut config = loaded.config;
        config.compact();
        Ok(Accepted {
            config,
            warnings,
            ignored,
        })
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
                .config
                .global_defs
                .router_id
                .as_deref(),
            Some("r1")
        );
    }
}
