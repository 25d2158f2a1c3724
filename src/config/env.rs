//! Checks of the configuration against the machine: interfaces, script files, users.
//! Separate from the configuration checks so they can be turned off (`--no-env`), and pure:
//! the machine is asked through [`Env`], which `sys` implements for the real one.

use std::path::{Path, PathBuf};

use super::blocks::Config;
use super::blocks::addr::{Route, Rule};
use super::blocks::global::UserGroup;
use super::blocks::scripts::Role;
use super::diag::{Diagnostics, Severity};
use super::source::Span;
use super::table::Command;

/// What the checks need to know about an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IfInfo {
    pub loopback: bool,
    pub multicast: bool,
}

/// What the checks need to know about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub regular: bool,
    pub executable: bool,
    /// The file or a directory above it can be written by someone other than root.
    pub writable_by_others: bool,
}

/// The machine, as the checks see it.
pub trait Env {
    fn interface(&self, name: &str) -> Option<IfInfo>;
    /// `None` if the file does not exist.
    fn file(&self, path: &Path) -> Option<FileInfo>;
    fn user_exists(&self, name: &str) -> bool;
    fn group_exists(&self, name: &str) -> bool;
    /// The directories searched for a command without a `/`.
    fn path_dirs(&self) -> Vec<PathBuf> {
        DEFAULT_PATH.iter().map(PathBuf::from).collect()
    }
}

/// Where commands are looked up when PATH is not set: like keepalived, which then uses
/// confstr(_CS_PATH), `/bin:/usr/bin` on glibc.
pub const DEFAULT_PATH: &[&str] = &["/bin", "/usr/bin"];

struct EnvCheck<'a> {
    env: &'a dyn Env,
    d: &'a mut Diagnostics,
    dynamic: bool,
    security: bool,
    default_user: Option<UserGroup>,
    security_span: Span,
    default_user_checked: bool,
}

pub fn check_env(cfg: &Config, env: &dyn Env, d: &mut Diagnostics) {
    let g = &cfg.global_defs;
    let mut c = EnvCheck {
        env,
        d,
        dynamic: g.dynamic_interfaces,
        security: g.enable_script_security,
        default_user: g.script_user.clone(),
        security_span: Span::default(),
        default_user_checked: false,
    };
    if let Some(u) = &g.script_user {
        c.user(u, g.seen.or_header("script_user"));
    }
    c.security_span = g.seen.or_header("enable_script_security");
    for i in &cfg.vrrp_instances {
        let at = |k: &str| i.seen.or_header(k);
        if let Some(ifname) = &i.interface {
            match env.interface(ifname) {
                None => c.missing_if(
                    ifname,
                    at("interface"),
                    &format!("({}) interface", i.name),
                    "",
                ),
                Some(info) if info.loopback => {
                    c.d.error(
                        "bad-interface",
                        at("interface"),
                        format!(
                            "({}) VRRP cannot run on the loopback interface {ifname}",
                            i.name
                        ),
                    );
                }
                Some(info) if !info.multicast && !i.unicast => {
                    c.d.error("bad-interface", at("interface"), format!("({}) interface {ifname} does not do multicast; keepalived puts the instance in FAULT", i.name))
                        .help("use unicast_peer on interfaces without multicast");
                }
                Some(_) => {}
            }
        }
        for t in &i.track_interface {
            if env.interface(&t.name).is_none() {
                c.missing_if(
                    &t.name,
                    t.span,
                    &format!("({}) tracked interface", i.name),
                    "",
                );
            }
        }
        for a in i
            .virtual_ipaddress
            .iter()
            .chain(&i.virtual_ipaddress_excluded)
        {
            if let Some(dev) = &a.dev
                && env.interface(dev).is_none()
            {
                c.missing_if(dev, a.span, "interface", &format!(" (address {})", a.addr));
            }
        }
        c.route_interfaces(&i.virtual_routes, &i.virtual_rules, "");
    }
    for sg in &cfg.vrrp_sync_groups {
        for t in &sg.track_interface {
            if env.interface(&t.name).is_none() {
                c.missing_if(
                    &t.name,
                    t.span,
                    &format!("(sync group {}) tracked interface", sg.name),
                    "",
                );
            }
        }
    }
    for a in &cfg.static_ipaddress {
        if let Some(dev) = &a.dev
            && env.interface(dev).is_none()
        {
            c.missing_if(
                dev,
                a.span,
                "interface",
                &format!(" (static address {})", a.addr),
            );
        }
    }
    // keepalived -t names a static route's missing interface too.
    c.route_interfaces(&cfg.static_routes, &cfg.static_rules, "static ");
    for s in cfg.scripts() {
        c.script(s.command, s.span, s.role);
    }
    for s in &cfg.vrrp_scripts {
        if let Some(u) = &s.user {
            c.user(u, s.seen.or_header("user"));
        }
    }
    if let Some(sd) = &g.lvs_sync_daemon
        && env.interface(&sd.interface).is_none()
    {
        c.missing_if(
            &sd.interface,
            g.seen.or_header("lvs_sync_daemon"),
            "lvs_sync_daemon interface",
            "",
        );
    }
    for vs in &cfg.virtual_servers {
        for rs in &vs.real_servers {
            for ch in &rs.checkers {
                if let Some(u) = ch.misc.as_ref().and_then(|m| m.user.as_ref()) {
                    c.user(u, ch.seen.or_header("user"));
                }
                if let Some(dev) = &ch.bind_if
                    && env.interface(dev).is_none()
                {
                    c.missing_if(dev, ch.seen.or_header("bind_if"), "checker bind_if", "");
                }
            }
        }
    }
    if let Some(ssl) = &cfg.ssl {
        for (k, f) in [
            ("ca", &ssl.ca),
            ("certificate", &ssl.certificate),
            ("key", &ssl.key),
        ] {
            if let Some(f) = f
                && env.file(Path::new(f)).is_none()
            {
                c.d.error(
                    "ssl-file-not-found",
                    ssl.seen.or_header(k),
                    format!("SSL {k} file {f} does not exist"),
                );
            }
        }
    }
}

impl EnvCheck<'_> {
    /// With enable_script_security and no script_user, scripts run as keepalived_script, which
    /// must exist (keepalived then refuses the scripts). Checked once, when there is a script.
    fn default_user_exists(&mut self) {
        if self.default_user_checked || !self.security || self.default_user.is_some() {
            return;
        }
        self.default_user_checked = true;
        if !self.env.user_exists("keepalived_script") {
            self.d
                .error(
                    "script-user",
                    self.security_span,
                    "enable_script_security is set, but there is no script_user and no keepalived_script user: keepalived refuses to run the scripts",
                )
                .help("create the user (useradd -r -s /sbin/nologin keepalived_script) or set script_user");
        }
    }

    /// The interfaces routes and rules name (`dev`, next hops' `dev`, `iif`, `oif`);
    /// `kind` is "" for an instance's, "static " for global ones.
    fn route_interfaces(&mut self, routes: &[Route], rules: &[Rule], kind: &str) {
        for r in routes {
            let devs = r
                .dev
                .iter()
                .chain(r.nexthops.iter().filter_map(|n| n.dev.as_ref()));
            for dev in devs {
                if self.env.interface(dev).is_none() {
                    self.missing_if(dev, r.span, &format!("{kind}route interface"), "");
                }
            }
        }
        for r in rules {
            for dev in r.iif.iter().chain(&r.oif) {
                if self.env.interface(dev).is_none() {
                    self.missing_if(dev, r.span, &format!("{kind}rule interface"), "");
                }
            }
        }
    }

    fn missing_if(&mut self, name: &str, span: Span, what: &str, context: &str) {
        if self.dynamic {
            self.d.warning(
                "no-interface",
                span,
                format!("{what} {name}{context} does not exist (yet); dynamic_interfaces is set"),
            );
        } else {
            self.d
                .error("no-interface", span, format!("{what} {name}{context} does not exist"))
                .help("check the name with `ip link`, or set dynamic_interfaces in global_defs for interfaces created later");
        }
    }

    fn user(&mut self, u: &UserGroup, span: Span) {
        if !self.env.user_exists(&u.user) {
            self.d
                .error("no-user", span, format!("user {} does not exist", u.user));
        }
        if let Some(g) = &u.group
            && !self.env.group_exists(g)
        {
            self.d
                .error("no-user", span, format!("group {g} does not exist"));
        }
    }

    /// The script must exist and be executable; with enable_script_security a script run as
    /// root must not be writable by anyone else.
    /// A script that cannot run never refuses the daemon's start (keepalived starts and
    /// disables it): the daemon runs it anyway and each run fails, so a tracker or checker
    /// shows as failed with the reason. `check` grades it as `keepalived -t` does: an error
    /// for a vrrp_script (vrrp.c `check_track_script_secure` reports a configuration error),
    /// a warning for a MISC_CHECK (check_misc.c `check_misc_script_security` logs a notice)
    /// and for a notify script.
    fn script(&mut self, cmd: &Command, span: Span, role: Role) {
        self.default_user_exists();
        let (sev, effect) = match role {
            Role::Tracker => (
                Severity::Error,
                "; the daemon starts and every run fails: the instances tracking it count it as failed (keepalived disables it)",
            ),
            Role::Checker => (
                Severity::Warning,
                "; every check fails: its real server stays down (keepalived disables the checker)",
            ),
            Role::Notify => (Severity::Warning, "; its events are not delivered"),
        };
        let Some(prog) = cmd.argv.first() else { return };
        let path = if prog.contains('/') {
            Some(PathBuf::from(prog))
        } else {
            self.env
                .path_dirs()
                .into_iter()
                .map(|d| d.join(prog))
                .find(|p| self.env.file(p).is_some())
        };
        let Some(path) = path else {
            self.d
                .push(
                    sev,
                    "script-not-found",
                    Some(span),
                    format!("command '{prog}' is not found in PATH{effect}"),
                )
                .help("give the full path; keepalived disables scripts it cannot find");
            return;
        };
        match self.env.file(&path) {
            None => {
                self.d
                    .push(
                        sev,
                        "script-not-found",
                        Some(span),
                        format!("script {} does not exist{effect}", path.display()),
                    )
                    .help("keepalived disables scripts it cannot find");
            }
            Some(f) if !f.regular || !f.executable => {
                self.d
                    .push(
                        sev,
                        "script-not-executable",
                        Some(span),
                        format!("{} is not an executable file{effect}", path.display()),
                    )
                    .help(format!("chmod +x {}", path.display()));
            }
            Some(f) => {
                // Who runs it: its own user, else script_user, else keepalived_script (when
                // that user is missing, keepalived refuses every script: see script-user).
                // lib/notify.c get_default_script_user.
                let as_root = cmd
                    .user
                    .as_deref()
                    .or(self.default_user.as_ref().map(|u| u.user.as_str()))
                    == Some("root");
                if self.security && as_root && f.writable_by_others {
                    self.d
                        .error("insecure-script", span, format!("{} (or a directory above it) can be written by users other than root, and it would run as root", path.display()))
                        .help("keepalived refuses it with enable_script_security: fix the permissions or run it as another user");
                }
            }
        }
        if let Some(u) = &cmd.user {
            self.user(
                &UserGroup {
                    user: u.clone(),
                    group: cmd.group.clone(),
                },
                span,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LoadOptions, load_text};

    /// One interface (eth0), one world-writable script, and the users given.
    struct Fake {
        users: &'static [&'static str],
    }

    impl Env for Fake {
        fn interface(&self, name: &str) -> Option<IfInfo> {
            (name == "eth0").then_some(IfInfo {
                loopback: false,
                multicast: true,
            })
        }
        fn file(&self, path: &Path) -> Option<FileInfo> {
            (path == Path::new("/tmp/chk.sh")).then_some(FileInfo {
                regular: true,
                executable: true,
                writable_by_others: true,
            })
        }
        fn user_exists(&self, name: &str) -> bool {
            self.users.contains(&name)
        }
        fn group_exists(&self, _: &str) -> bool {
            true
        }
    }

    fn codes(global: &str, env: &Fake) -> Vec<&'static str> {
        let text = format!(
            "global_defs {{\n{global}\n}}\nvrrp_script chk {{\n    script /tmp/chk.sh\n}}\n\
             vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 1\n    priority 100\n    \
             virtual_ipaddress {{\n        10.0.0.1/24\n    }}\n    track_script {{\n        chk\n    }}\n}}\n"
        );
        let l = load_text(
            Path::new("/k.conf"),
            text.as_bytes(),
            &LoadOptions::default(),
            None,
        );
        let mut d = Diagnostics::default();
        check_env(&l.config, env, &mut d);
        d.iter().map(|x| x.code).collect()
    }

    #[test]
    fn a_static_route_on_a_missing_interface_is_named() {
        let text =
            "static_routes {\n    192.168.212.0/24 dev eth3\n    192.168.213.0/24 dev eth0\n}\n";
        let l = load_text(
            Path::new("/k.conf"),
            text.as_bytes(),
            &LoadOptions::default(),
            None,
        );
        let mut d = Diagnostics::default();
        check_env(&l.config, &Fake { users: &[] }, &mut d);
        let found: Vec<_> = d
            .iter()
            .map(|x| (x.code, x.span.map(|s| s.line), x.message.clone()))
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0, found[0].1), ("no-interface", Some(2)));
        assert!(found[0].2.contains("eth3"), "{found:?}");
    }

    #[test]
    fn an_insecure_script_matters_only_when_it_runs_as_root() {
        let security = "    enable_script_security";
        // keepalived_script exists: the default script user, not root.
        let with_user = Fake {
            users: &["root", "keepalived_script"],
        };
        assert!(codes(security, &with_user).is_empty());
        // Without it keepalived refuses to run the scripts.
        let root_only = Fake { users: &["root"] };
        assert_eq!(codes(security, &root_only), ["script-user"]);
        // script_user root: insecure.
        let as_root = format!("{security}\n    script_user root");
        assert_eq!(codes(&as_root, &with_user), ["insecure-script"]);
        // Without enable_script_security nothing is refused (complete() warns about that).
        assert!(codes("", &root_only).is_empty());
    }
}
