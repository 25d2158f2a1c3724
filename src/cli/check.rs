//! `kaconsole check`: validate a configuration and report like a compiler.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::config::diag::{self, Color};
use crate::config::{self, LoadOptions, Loaded, Severity};
use crate::sys::env::Machine;

use super::DEFAULT_CONFIG;
use crate::sys::host::short_hostname;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Configuration file.
    #[arg(short = 'f', long = "use-file", value_name = "FILE", default_value = DEFAULT_CONFIG)]
    pub file: PathBuf,
    /// Config id for @ID conditional lines (default: the short host name).
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    pub config_id: Option<String>,
    /// Print diagnostics as JSON lines.
    #[arg(long)]
    pub json: bool,
    /// Skip the checks against this machine (interfaces, script files, users).
    #[arg(long)]
    pub no_env: bool,
    /// Print the resolved configuration as JSON (diagnostics go to stderr).
    #[arg(long)]
    pub dump: bool,
    /// Every include problem is an error (keepalived's -e).
    #[arg(short = 'e', long = "all-config")]
    pub all_config: bool,
    /// Colours in the report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

pub(super) fn load(
    file: &std::path::Path,
    config_id: Option<&str>,
    all_config: bool,
    env: bool,
) -> Loaded {
    let opts = LoadOptions {
        config_id: config_id.map_or_else(short_hostname, str::to_string),
        all_config,
        ..Default::default()
    };
    let mut loaded = config::load(file, &opts, None);
    if env {
        // With net_namespace, the interfaces are those of that namespace (keepalived -t
        // enters it too).
        let mut d = config::diag::Diagnostics::default();
        if let Some(ns) = &loaded.config.net_namespace
            && let Err(e) = crate::sys::netns::enter(ns)
        {
            d.warning(
                "net-namespace",
                None,
                format!("cannot enter network namespace {ns} ({e}): the interfaces are checked in this one"),
            );
        }
        config::env::check_env(&loaded.config, &Machine::new(), &mut d);
        loaded.diagnostics.extend(d.into_vec());
        loaded
            .diagnostics
            .sort_by_key(|d| d.span.map(|s| (s.file, s.line, s.col)));
    }
    loaded
}

pub fn run(args: &CheckArgs) -> ExitCode {
    let loaded = load(
        &args.file,
        args.config_id.as_deref(),
        args.all_config,
        !args.no_env,
    );
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.dump {
        match serde_json::to_string_pretty(&loaded.config) {
            Ok(s) => {
                let _ = writeln!(out, "{s}");
            }
            Err(e) => eprintln!("kaconsole: cannot print the configuration: {e}"),
        }
        let mut err = std::io::stderr().lock();
        report(&mut err, &loaded, args, std::io::stderr().is_terminal());
    } else {
        report(&mut out, &loaded, args, std::io::stdout().is_terminal());
    }
    let code = exit_code(&loaded);
    // The process ends here: freeing a large model piece by piece would only add to the run
    // time (a tenth of it for 65,000 instances).
    std::mem::forget(loaded);
    code
}

fn report(w: &mut dyn Write, loaded: &Loaded, args: &CheckArgs, tty: bool) {
    if args.json {
        for d in &loaded.diagnostics {
            if let Ok(s) = serde_json::to_string(&diag::to_json(&loaded.sources, d)) {
                let _ = writeln!(w, "{s}");
            }
        }
        return;
    }
    let color = match args.color {
        ColorChoice::Always => Color::Always,
        ColorChoice::Never => Color::Never,
        ColorChoice::Auto if tty && std::env::var_os("NO_COLOR").is_none() => Color::Always,
        ColorChoice::Auto => Color::Never,
    };
    for d in &loaded.diagnostics {
        let _ = writeln!(w, "{}", diag::render_human(&loaded.sources, d, color));
    }
    let _ = writeln!(w, "{}", summary(loaded, &args.file));
}

/// The last line of the report.
pub fn summary(loaded: &Loaded, file: &std::path::Path) -> String {
    let errors = loaded.count(Severity::Error);
    let warnings = loaded.count(Severity::Warning);
    let c = &loaded.config;
    let files = loaded.sources.files().count();
    let what = format!(
        "{} vrrp_instance{}, {} virtual_server{}{}",
        c.vrrp_instances.len(),
        plural(c.vrrp_instances.len()),
        c.virtual_servers.len(),
        plural(c.virtual_servers.len()),
        if files > 1 {
            format!(", {files} files")
        } else {
            String::new()
        }
    );
    match (errors, warnings) {
        (0, 0) => format!("{}: OK ({what})", file.display()),
        (0, w) => format!("{}: {w} warning{} ({what})", file.display(), plural(w)),
        (e, w) => format!(
            "{}: {e} error{}, {w} warning{} ({what})",
            file.display(),
            plural(e),
            plural(w)
        ),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn exit_code(loaded: &Loaded) -> ExitCode {
    if loaded.has_errors() {
        ExitCode::from(2)
    } else if loaded.count(Severity::Warning) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
