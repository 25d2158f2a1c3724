//! `kaconsole daemon`: keepalived's command line: the VRRP daemon, and `-t`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::config::diag::{self, Color};
use crate::config::{Loaded, Severity};

use super::DEFAULT_CONFIG;
use super::check::{load, summary};

/// keepalived's daemon flags (keepalived --help, 2.2.7), accepted so that unit files and
/// scripts written for keepalived work unchanged. Not accepted: `-T/--genhash` (genhash is
/// `kaconsole genhash`) and `--config-fd` (keepalived's internal hand-over to its children).
#[derive(Args, Debug)]
#[command(disable_version_flag = true)]
pub struct DaemonArgs {
    /// Use the specified configuration file.
    #[arg(short = 'f', long = "use-file", value_name = "FILE", default_value = DEFAULT_CONFIG)]
    pub file: PathBuf,
    /// Check the configuration and exit (output to LOG_FILE if given).
    #[arg(short = 't', long = "config-test", value_name = "LOG_FILE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub config_test: Option<String>,
    /// Skip configuration lines starting @ID that do not match ID (default: short host name).
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    pub config_id: Option<String>,
    /// Error if any configuration file is missing.
    #[arg(short = 'e', long = "all-config")]
    pub all_config: bool,
    /// Only run the VRRP subsystem.
    #[arg(short = 'P', long = "vrrp")]
    pub vrrp: bool,
    /// Only run the health-checker subsystem.
    #[arg(short = 'C', long = "check")]
    pub check: bool,
    /// Don't run BFD.
    #[arg(short = 'B', long = "no_bfd")]
    pub no_bfd: bool,
    /// Run every subsystem even without configuration.
    #[arg(long = "all")]
    pub all: bool,
    /// Log to the console.
    #[arg(short = 'l', long = "log-console")]
    pub log_console: bool,
    /// Detailed log messages.
    #[arg(short = 'D', long = "log-detail")]
    pub log_detail: bool,
    /// Syslog facility: 0-7, local0-7, user or daemon.
    #[arg(short = 'S', long = "log-facility", value_name = "FACILITY")]
    pub log_facility: Option<String>,
    /// Log to FILE (default /tmp/keepalived.log).
    #[arg(short = 'g', long = "log-file", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub log_file: Option<Option<PathBuf>>,
    /// Flush the log file after each line.
    #[arg(long = "flush-log-file")]
    pub flush_log_file: bool,
    /// Don't log via syslog.
    #[arg(short = 'G', long = "no-syslog")]
    pub no_syslog: bool,
    /// umask for created files.
    #[arg(short = 'u', long = "umask", value_name = "MASK")]
    pub umask: Option<String>,
    /// Drop the VIPs on a transition caused by a signal.
    #[arg(short = 'X', long = "release-vips")]
    pub release_vips: bool,
    /// Don't remove VIPs and routes when stopping.
    #[arg(short = 'V', long = "dont-release-vrrp")]
    pub dont_release_vrrp: bool,
    /// Don't remove the IPVS configuration when stopping.
    #[arg(short = 'I', long = "dont-release-ipvs")]
    pub dont_release_ipvs: bool,
    /// Don't respawn subsystems.
    #[arg(short = 'R', long = "dont-respawn")]
    pub dont_respawn: bool,
    /// Stay in the foreground.
    #[arg(short = 'n', long = "dont-fork")]
    pub dont_fork: bool,
    /// Dump the configuration data.
    #[arg(short = 'd', long = "dump-conf")]
    pub dump_conf: bool,
    /// Pid file of the daemon.
    #[arg(short = 'p', long = "pid", value_name = "FILE")]
    pub pid: Option<PathBuf>,
    /// Pid file of VRRP (keepalived's VRRP child).
    #[arg(short = 'r', long = "vrrp_pid", value_name = "FILE")]
    pub vrrp_pid: Option<PathBuf>,
    /// Pid file of the checkers (keepalived's checker child).
    #[arg(short = 'c', long = "checkers_pid", value_name = "FILE")]
    pub checkers_pid: Option<PathBuf>,
    /// Pid file of BFD.
    #[arg(short = 'b', long = "bfd_pid", value_name = "FILE")]
    pub bfd_pid: Option<PathBuf>,
    /// Report all address changes notified via netlink.
    #[arg(short = 'a', long = "address-monitoring")]
    pub address_monitoring: bool,
    /// Enable SNMP.
    #[arg(short = 'x', long = "snmp")]
    pub snmp: bool,
    /// SNMP master agent socket.
    #[arg(short = 'A', long = "snmp-agent-socket", value_name = "FILE")]
    pub snmp_agent_socket: Option<String>,
    /// Run in network namespace NAME.
    #[arg(short = 's', long = "namespace", value_name = "NAME")]
    pub namespace: Option<String>,
    /// Produce a core dump on abnormal termination.
    #[arg(short = 'm', long = "core-dump")]
    pub core_dump: bool,
    /// Also set the kernel core pattern.
    #[arg(short = 'M', long = "core-dump-pattern", value_name = "PATTERN", num_args = 0..=1, require_equals = true)]
    pub core_dump_pattern: Option<Option<String>>,
    /// Print the number of the signal for STOP, RELOAD, DATA, STATS, STATS_CLEAR or JSON
    /// (for `kill -s $(kaconsole daemon --signum=RELOAD) PID`) and exit.
    #[arg(long = "signum", value_name = "SIGFUNC")]
    pub signum: Option<String>,
    /// Print the version.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// The control socket for `kaconsole tui` (not a keepalived flag) [default:
    /// /run/kaconsole/kaconsole.sock as root, else $XDG_RUNTIME_DIR/kaconsole/kaconsole.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Serve Prometheus metrics on http://ADDR:PORT/metrics (not a keepalived flag; a
    /// keyword would make keepalived refuse the file). keepalived-exporter's names, plus
    /// effective priorities, advert gaps, real servers and the daemon's own figures.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<std::net::SocketAddr>,
}

/// The signal keepalived uses for each function (lib/signals.c `get_signum`); the daemon
/// will answer the same signals.
pub fn signum(function: &str) -> Option<i32> {
    use nix::libc;
    Some(match function {
        "STOP" => libc::SIGTERM,
        "RELOAD" => libc::SIGHUP,
        "DATA" => libc::SIGUSR1,
        "STATS" => libc::SIGUSR2,
        "STATS_CLEAR" => libc::SIGRTMAX() - 1,
        "JSON" => libc::SIGRTMIN() + 2,
        _ => return None,
    })
}

/// keepalived -t exit codes (lib/scheduler.h `enum chk_exit_code`).
const EXIT_FATAL: u8 = 4;
const EXIT_ERROR: u8 = 5;
const EXIT_SECURITY: u8 = 6;
/// keepalived's EXIT_NOTCONFIGURED: the same number as the security status.
const EXIT_NOT_CONFIGURED: u8 = 6;

pub fn run(args: &DaemonArgs) -> ExitCode {
    if let Some(f) = &args.signum {
        return match signum(f) {
            Some(n) => {
                println!("{n}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("Unknown sigfunc {f}");
                ExitCode::from(1)
            }
        };
    }
    if args.version {
        println!(
            "kaconsole {} (keepalived 2.2 compatible)",
            crate::sys::host::VERSION
        );
        return ExitCode::SUCCESS;
    }
    let Some(log) = &args.config_test else {
        return run_daemon(args);
    };
    let loaded = load(&args.file, args.config_id.as_deref(), args.all_config, true);
    let mut text = String::new();
    for d in &loaded.diagnostics {
        text.push_str(&diag::render_human(&loaded.sources, d, Color::Never));
        text.push('\n');
    }
    text.push_str(&summary(&loaded, &args.file));
    text.push('\n');
    if log.is_empty() {
        let _ = std::io::stderr().write_all(text.as_bytes());
    } else if let Err(e) = std::fs::write(log, &text) {
        eprintln!("kaconsole daemon: cannot write {log}: {e}");
    }
    ExitCode::from(config_test_code(&loaded))
}

/// keepalived's exit status for a normal run (lib/scheduler.h `enum exit_code`).
const EXIT_RUN_FATAL: u8 = 1;
const EXIT_RUN_CONFIG: u8 = 2;
const EXIT_RUN_PERMISSION: u8 = 4;

/// keepalived's `-u` value (strtoul base 0: `0x1f`, `077`, `63`), at most 0777.
pub fn parse_umask(s: &str) -> Option<u32> {
    let s = s.trim();
    let v = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()?
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()?
    } else {
        s.parse().ok()?
    };
    (v <= 0o777).then_some(v)
}

/// Runs the daemon in the foreground (it never forks; `-n` is accepted for unit files).
fn run_daemon(args: &DaemonArgs) -> ExitCode {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("kaconsole daemon: needs root (raw sockets, addresses)");
        return ExitCode::from(EXIT_RUN_PERMISSION);
    }
    // `-u`: the umask of everything the daemon creates (pid file, FIFOs, dumps, socket).
    if let Some(u) = &args.umask {
        let Some(mask) = parse_umask(u) else {
            eprintln!("kaconsole daemon: -u {u}: not a umask (0 to 0777)");
            return ExitCode::from(EXIT_RUN_FATAL);
        };
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
    }
    crate::sys::memory::keep_heap_thresholds();
    let log_targets = match log_targets(args) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("kaconsole daemon: {e}");
            return ExitCode::from(EXIT_RUN_CONFIG);
        }
    };
    let opts = crate::daemon::Options {
        log_targets,
        config: args.file.clone(),
        config_id: args
            .config_id
            .clone()
            .unwrap_or_else(crate::sys::host::short_hostname),
        log_detail: args.log_detail,
        dont_release_vrrp: args.dont_release_vrrp,
        dont_release_ipvs: args.dont_release_ipvs,
        pid_file: args
            .pid
            .clone()
            .unwrap_or_else(|| PathBuf::from("/run/kaconsole.pid")),
        socket: args
            .socket
            .clone()
            .unwrap_or_else(super::default_daemon_socket),
    };
    match crate::control::daemon_link::run_daemon(opts, args.metrics) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ crate::daemon::DaemonError::Config(_)) => {
            eprintln!("kaconsole daemon: {e}");
            ExitCode::from(EXIT_RUN_CONFIG)
        }
        Err(e) => {
            eprintln!("kaconsole daemon: {e}");
            ExitCode::from(EXIT_RUN_FATAL)
        }
    }
}

/// `-l`, `-S`, `-G`, `-g[FILE]`, `--flush-log-file`, `-D`: keepalived's logging flags.
fn log_targets(args: &DaemonArgs) -> Result<crate::daemon::log_sinks::Targets, String> {
    use crate::daemon::log_sinks::{Facility, Targets};
    let facility = match &args.log_facility {
        Some(f) => Facility::parse(f)?,
        None => Facility::default(),
    };
    Ok(Targets {
        console: args.log_console,
        syslog: !args.no_syslog,
        facility,
        file: args
            .log_file
            .clone()
            .map(|f| f.unwrap_or_else(|| PathBuf::from("/tmp/keepalived.log"))),
        flush: args.flush_log_file,
        detail: args.log_detail,
    })
}

/// keepalived's `-t` exit status. An include that is an error stops keepalived before any
/// check: 6 (EXIT_NOTCONFIGURED). Otherwise the highest class of problem found wins
/// (config_err_t): 6 for script security, else 5 for any other error, else 4 when the only
/// errors are configuration files that cannot be read; 0 without errors. Unlike keepalived,
/// warnings alone do not fail the test; once it fails, the script-security warning still
/// makes it 6, as in keepalived. (A missing interface is 5, not 4: keepalived reports it with
/// a warning too, and the warning's class is the higher.)
fn config_test_code(loaded: &Loaded) -> u8 {
    let errors = || {
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    };
    let any = |code: &str| loaded.diagnostics.iter().any(|d| d.code == code);
    if errors().next().is_none() {
        0
    } else if errors().any(|d| d.code == "include") {
        EXIT_NOT_CONFIGURED
    } else if any("insecure-script") || any("script-user") || any("script-security") {
        EXIT_SECURITY
    } else if errors().all(|d| d.code == "file-not-found") {
        EXIT_FATAL
    } else {
        EXIT_ERROR
    }
}

#[cfg(test)]
mod tests {
    use super::parse_umask;

    #[test]
    fn umask_values_are_read_as_keepalived_reads_them() {
        assert_eq!(parse_umask("077"), Some(0o77));
        assert_eq!(parse_umask("0022"), Some(0o22));
        assert_eq!(parse_umask("0x3f"), Some(0o77));
        assert_eq!(parse_umask("18"), Some(18), "no leading 0: decimal");
        assert_eq!(parse_umask("0"), Some(0));
        assert_eq!(parse_umask("01000"), None, "more than 0777");
        assert_eq!(parse_umask("rw"), None);
        assert_eq!(parse_umask("089"), None, "not octal");
    }
}
