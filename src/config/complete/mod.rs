//! Completing the model after reading: defaults that depend on other settings (keepalived's
//! `vrrp_complete_instance`, `validate_check_config`), references between blocks, duplicates,
//! and the checks keepalived does (and some it does not) on the whole configuration.
//!
//! Severity: an *error* is a configuration that does not do what it says (keepalived refuses
//! it, drops part of it, or silently changes a value); a *warning* is one that works but is
//! risky, deprecated or changed in a harmless way.

mod lvs;
mod vrrp;

use super::fasthash::FastMap as HashMap;

use super::blocks::Config;
use super::diag::Diagnostics;
use super::source::Span;
use super::table::suggest;
use super::values::Micros;

pub fn complete(cfg: &mut Config, d: &mut Diagnostics) {
    complete_global(cfg);
    duplicate_names(cfg, d);
    vrrp::complete(cfg, d);
    lvs::complete(cfg, d);
    script_security(cfg, d);
}

fn complete_global(cfg: &mut Config) {
    let g = &mut cfg.global_defs;
    if g.vrrp_min_garp {
        // keepalived changes only the settings left at their defaults.
        if !g.seen.has("vrrp_garp_master_repeat") {
            g.vrrp_garp_master_repeat = 1;
        }
        if !g.seen.has("vrrp_garp_master_delay") {
            g.vrrp_garp_master_delay = Micros(0);
        }
    }
    g.vrrp_garp_lower_prio_delay
        .get_or_insert(g.vrrp_garp_master_delay);
    g.vrrp_garp_lower_prio_repeat
        .get_or_insert(g.vrrp_garp_master_repeat);
}

/// Reports names defined twice among `items`; keepalived keeps the first of most kinds.
fn report_duplicates<'a>(
    d: &mut Diagnostics,
    what: &str,
    items: impl Iterator<Item = (&'a str, Span)>,
    error: bool,
) {
    let mut first: HashMap<&str, Span> = HashMap::default();
    for (name, span) in items {
        if let Some(prev) = first.get(name) {
            let msg = format!(
                "{what} '{name}' is defined twice (first at line {})",
                prev.line
            );
            let diag = if error {
                d.error("duplicate", span, msg)
            } else {
                d.warning("duplicate", span, msg)
            };
            diag.help("keepalived uses the first definition; rename or remove this one");
        } else {
            first.insert(name, span);
        }
    }
}

fn duplicate_names(cfg: &Config, d: &mut Diagnostics) {
    report_duplicates(
        d,
        "vrrp_instance",
        cfg.vrrp_instances
            .iter()
            .map(|i| (i.name.as_str(), i.seen.at)),
        true,
    );
    report_duplicates(
        d,
        "vrrp_sync_group",
        cfg.vrrp_sync_groups
            .iter()
            .map(|g| (g.name.as_str(), g.seen.at)),
        true,
    );
    report_duplicates(
        d,
        "vrrp_script",
        cfg.vrrp_scripts
            .iter()
            .map(|s| (s.name.as_str(), s.seen.at)),
        true,
    );
    report_duplicates(
        d,
        "track_file",
        cfg.track_files.iter().map(|s| (s.name.as_str(), s.seen.at)),
        true,
    );
    report_duplicates(
        d,
        "vrrp_track_process",
        cfg.track_processes
            .iter()
            .map(|s| (s.name.as_str(), s.seen.at)),
        true,
    );
    report_duplicates(
        d,
        "virtual_server_group",
        cfg.virtual_server_groups
            .iter()
            .map(|s| (s.name.as_str(), s.seen.at)),
        true,
    );
}

/// Reports a name that refers to nothing, with the closest defined name.
/// A setting keepalived reports and then overrides, carrying on: always a warning, in one
/// wording that says what keepalived does instead (`check` and the daemon's log agree; the
/// daemon does the same).
pub(super) fn overridden<'d>(
    d: &'d mut Diagnostics,
    span: Span,
    name: &str,
    what: &str,
    instead: &str,
) -> &'d mut super::Diagnostic {
    d.warning(
        "overridden",
        span,
        format!("({name}) {what}: keepalived overrides it and {instead}"),
    )
}

fn unknown_ref<'a>(
    d: &mut Diagnostics,
    span: Span,
    what: &str,
    name: &str,
    defined: impl Iterator<Item = &'a str> + Clone,
) {
    let diag = d.error(
        "unknown-reference",
        span,
        format!("{what} '{name}' is not defined"),
    );
    if let Some(s) = suggest(name, defined.clone()) {
        diag.help(format!("did you mean '{s}'?"));
    } else {
        let names: Vec<&str> = defined.take(5).collect();
        if names.is_empty() {
            diag.help(format!("define it with a {what} block"));
        } else {
            diag.help(format!("defined: {}", names.join(", ")));
        }
    }
}

/// keepalived -t reports a SECURITY VIOLATION whenever scripts are configured without
/// `enable_script_security` (they then run as root whatever their permissions).
fn script_security(cfg: &Config, d: &mut Diagnostics) {
    if cfg.global_defs.enable_script_security {
        return;
    }
    let first_script = cfg.scripts().first().map(|s| s.span);
    if let Some(span) = first_script {
        d.warning(
            "script-security",
            span,
            "scripts are configured but enable_script_security is not set: they may run as root \
             whatever their permissions (keepalived -t reports a SECURITY VIOLATION)",
        )
        .help("add enable_script_security to global_defs (and a keepalived_script user or script_user)");
    }
}
