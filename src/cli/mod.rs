//! The command line: `kaconsole <command>`.

mod attach;
mod check;
mod daemon;
mod docs;
mod genhash;
pub mod ops;
mod sim;
mod sniff;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use attach::AttachArgs;
pub use check::CheckArgs;
pub use daemon::DaemonArgs;
pub use genhash::GenhashArgs;
pub use sim::SimArgs;
pub use sniff::SniffArgs;

/// The control socket when the daemon runs as root (`--socket` for another).
/// The system's control socket directory; a daemon in another network namespace than the
/// machine's first one uses a subdirectory named after it (see [`in_netns`]).
pub const SOCKET_DIR: &str = "/run/kaconsole";
const SOCKET_FILE: &str = "kaconsole.sock";

/// `dir/kaconsole.sock`, or `dir/NETNS/kaconsole.sock` in another network namespace: /run is
/// shared by every namespace, and a console must never attach to another namespace's daemon
/// by default.
fn in_netns(dir: PathBuf) -> PathBuf {
    match crate::sys::host::netns_name() {
        Some(ns) => dir.join(ns).join(SOCKET_FILE),
        None => dir.join(SOCKET_FILE),
    }
}

/// The system's control socket for this network namespace.
pub fn system_socket() -> PathBuf {
    in_netns(PathBuf::from(SOCKET_DIR))
}

/// A user's own control socket: `$XDG_RUNTIME_DIR/kaconsole/kaconsole.sock` (per namespace).
pub fn user_socket() -> Option<PathBuf> {
    let dirs = directories::BaseDirs::new()?;
    Some(in_netns(dirs.runtime_dir()?.join("kaconsole")))
}

/// Where a daemon listens without `--socket`: /run/kaconsole as root, else the user's runtime
/// directory.
pub fn default_daemon_socket() -> PathBuf {
    if nix::unistd::geteuid().is_root() {
        return system_socket();
    }
    user_socket().unwrap_or_else(system_socket)
}

/// Where the console connects without `--socket`: the user's own daemon if one is listening,
/// else the system's.
pub fn default_tui_socket() -> PathBuf {
    user_socket()
        .filter(|p| p.exists())
        .unwrap_or_else(system_socket)
}

/// keepalived.conf default location, as keepalived.
pub const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";

#[derive(Parser, Debug)]
#[command(
    name = "kaconsole",
    version = crate::sys::host::VERSION,
    about = "keepalived rebuilt in Rust, with a live operations console",
    long_about = "keepalived rebuilt in Rust as one binary: it reads keepalived.conf unchanged, \
                  speaks VRRP with keepalived nodes, and shows what keepalived never could.",
    after_help = "Run 'kaconsole <command> --help' for the options of a command."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a keepalived.conf like `keepalived -t`, with clearer messages.
    #[command(
        long_about = "Check a keepalived.conf: syntax, values, references between blocks, \
        keepalived's rules (and a few more), and - unless --no-env - the interfaces, scripts and \
        users it names on this machine.\n\n\
        Each problem is printed as FILE:LINE:COL: error|warning[code]: message, with the line and \
        a caret, and a help line when there is a fix.\n\n\
        Exit status: 0 no problem, 1 warnings only, 2 errors.",
        after_help = "Examples:\n  kaconsole check\n  kaconsole check -f keepalived.conf -i lb1\n  kaconsole check --json | jq '.diagnostics[] | .message'"
    )]
    Check(CheckArgs),
    /// The keepalived daemon (keepalived's flags): VRRP, LVS and the checkers; -t tests.
    #[command(
        long_about = "The VRRP, LVS and health-checker daemon, accepting keepalived's command line \
        flags. It runs in the foreground (one process; -n is accepted), needs root, and reads -f \
        FILE (default /etc/keepalived/keepalived.conf). A configuration with errors is refused \
        (exit 2); SIGTERM/SIGINT stop it (masters send priority 0 and release their addresses, \
        unless -V), SIGHUP reloads the configuration, keeping the state of the instances \
        keepalived would keep; a configuration with errors is refused and the running one stays.\n\n\
        It logs as keepalived: to syslog (facility daemon, -S 0-7 for local0-7, -G none), -l to \
        the console, -g[FILE] to a file; under systemd to the journal with fields (INSTANCE, \
        STATE, VRID). --metrics ADDR:PORT serves Prometheus metrics.\n\n\
        `kaconsole daemon -t [-f FILE]` checks the configuration and exits like \
        `keepalived -t`: 0 valid, 4 only configuration files missing, 5 other errors (a missing \
        interface included, as keepalived), 6 script security or a broken include. Warnings \
        do not fail the test; `kaconsole check` shows them.",
        after_help = "Examples:\n  kaconsole daemon -n -l -D\n  kaconsole daemon -t -f /etc/keepalived/keepalived.conf && systemctl reload kaconsole\n  kaconsole daemon -n -S 3 --metrics 127.0.0.1:9650\n  kill -s $(kaconsole daemon --signum=DATA) $(cat /run/kaconsole/kaconsole.pid)"
    )]
    Daemon(Box<DaemonArgs>),
    /// Many VRRP routers in virtual time: generated scenarios, invariants checked.
    #[command(
        long_about = "Run the real VRRP engine in many simulated routers, in virtual time: \
        generated scenarios of 2-8 routers and 1-4 VRIDs on segments with latency, jitter, loss, \
        duplication and partitions, with crashes, clean stops, restarts, link and tracker flips. \
        Packets go through the real codec. After each chaotic phase the network is quiet long \
        enough to converge, and the rules are checked throughout: legal transitions, a MASTER \
        never silent and holding its addresses, no takeover while a better master is heard, \
        then one MASTER per VRID - the best one unless preemption is off - and sync groups in \
        agreement.\n\n\
        The same --seed runs the same scenarios. A failure names its scenario; --only N \
        --trace FILE writes its trace as JSON lines, and --replay FILE runs a trace again and \
        compares it line by line.\n\n\
        Exit status: 0 no violation, 1 violations (or a replay that differs), 2 bad usage.",
        after_help = "Examples:\n  kaconsole sim --scenarios 10000 --seed 7\n  kaconsole sim --seed 7 --only 42 --trace /tmp/t.jsonl\n  kaconsole sim --replay /tmp/t.jsonl"
    )]
    Sim(SimArgs),
    /// A throwaway network with live routers and the console: see it all work, then break it.
    #[command(
        long_about = "A throwaway network with live routers and the console attached. As root it \
        builds network namespaces on a bridge (10.88.0.0/24, names starting kalab-): N routers \
        (default 3) each running a real kaconsole daemon with two VRRP instances (VI_1 prefers \
        r1 and tracks a health script, VI_2 prefers the last router) and a virtual_server, two \
        HTTP backends and a client. The console shows one router at a time; < and > switch.\n\n\
        Keys that break things: K kill the router (SIGKILL), R restart it, P pause it (SIGSTOP, \
        a hung router), L cut or restore its cable, H fail or restore its health check, B and N \
        stop or start a backend. Watch the failover in the overview and the events view.\n\n\
        Everything is removed on exit, on Ctrl-C and on a crash of the lab; --clean removes what \
        a killed lab left. --keepalived adds a router running the real keepalived.",
        after_help = "Examples:\n  sudo kaconsole lab\n  sudo kaconsole lab --routers 4 --keepalived\n  kaconsole lab --sim      (no root: the routers in the simulator)\n  sudo kaconsole lab --clean"
    )]
    Lab(crate::lab::LabArgs),
    /// Who speaks VRRP on a segment, and which VRIDs clash.
    #[command(
        long_about = "List the VRRP routers heard on a segment and flag the conflicts. Captures on \
        IFACE (root; `any` for every interface) with a kernel filter for VRRP and AH, or reads a \
        pcap file with -r; -w also writes what it captured.\n\n\
        Each advert is printed as a line (--json: as a JSON object). At the end (--duration, \
        --count, end of file or Ctrl-C) comes a table per VRID, family, version and mode: every \
        router with its MAC (* for a virtual MAC), priority, interval, auth, adverts per second \
        and who is MASTER now; then the conflicts with their evidence - different VIPs, auth or \
        intervals for one VRID, VRRPv2 and v3 mixed, two routers advertising at once (split \
        brain), two address owners, TTL not 255, bad checksums, malformed packets - and the \
        free VRIDs.\n\n\
        Exit status: 0 no conflict, 1 conflicts, 2 error.",
        after_help = "Examples:\n  sudo kaconsole sniff eth0 --duration 10\n  kaconsole sniff any -r capture.pcap --json\n  sudo kaconsole sniff eth0 -w vrrp.pcap"
    )]
    Sniff(SniffArgs),
    /// The MD5 digest of a page, for HTTP_GET's `digest` (keepalived's genhash).
    #[command(
        long_about = "Fetch a URL the way the HTTP_GET checker does (the same request bytes as \
        keepalived) and print the MD5 digest of the body: the value for a url block's `digest`. \
        The options are keepalived's genhash's (-s -p -u -V -P -t -v).\n\n\
        Unlike keepalived's genhash, which prints \"Connection failed\" and exits 0, a failure \
        (no connection, a timeout, a truncated or non-HTTP answer) exits 1 with the reason.",
        after_help = "Examples:\n  kaconsole genhash -s 10.0.0.11 -p 80 -u /health\n  kaconsole genhash -S -s 10.0.0.11 -p 443 -u /"
    )]
    Genhash(GenhashArgs),
    /// Which node is master: the daemon's instances, groups and real servers, for scripts.
    #[command(
        long_about = "Ask the running daemon for its state: each VRRP instance with its \
        interface, VRID, state, effective/base priority, the master it hears and its VIPs; the \
        sync groups; the virtual servers and their real servers. --json prints the control \
        protocol's status object.\n\n\
        Exit status: 0 every instance and group is MASTER or BACKUP, 1 one is in FAULT (or still \
        in INIT), 2 no daemon answers.",
        after_help = "Examples:\n  kaconsole status\n  kaconsole status --json | jq -r '.instances[] | select(.state == \"MASTER\") | .name'\n  kaconsole status --socket /run/kaconsole/blue/kaconsole.sock || alert"
    )]
    Status(ops::StatusArgs),
    /// Reload the daemon's configuration and wait for its verdict.
    #[command(
        long_about = "Ask the running daemon to reload its configuration file (as SIGHUP does) \
        and wait for the verdict. A configuration with errors is refused and the running one \
        stays: the reasons are printed. Needs the rights of an admin of the control socket \
        (root or the daemon's user).\n\n\
        Exit status: 0 reloaded, 1 refused (the reasons on standard error), 2 no daemon answers.",
        after_help = "Examples:\n  kaconsole check && kaconsole reload\n  ExecReload=/usr/sbin/kaconsole reload   (in the systemd unit)"
    )]
    Reload(ops::ReloadArgs),
    /// The daemon's events: state changes, priorities, log lines.
    #[command(
        long_about = "Print the daemon's recent events (it keeps the last 200): state changes \
        with their reasons, effective priority changes, rejected adverts, notifies and log lines. \
        --follow keeps printing new ones as they happen; --json prints the control protocol's \
        event lines, one JSON object per line.\n\n\
        Exit status: 0, 2 no daemon answers.",
        after_help = "Examples:\n  kaconsole events\n  kaconsole events --follow --json | jq -c 'select(.event.output.state_change)'"
    )]
    Events(ops::EventsArgs),
    /// Write the manual pages: kaconsole(1) and one per command.
    #[command(
        long_about = "Write the manual pages - kaconsole.1 and kaconsole-COMMAND.1 for each \
        command - into DIR (default: the current directory), from the same text as --help.",
        after_help = "Examples:\n  kaconsole man --dir /usr/local/share/man/man1 && mandb\n  kaconsole man --dir /tmp/m && man /tmp/m/kaconsole-daemon.1"
    )]
    Man {
        /// Where to write the pages.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    #[command(
        after_help = "Examples:\n  kaconsole completions bash > /etc/bash_completion.d/kaconsole\n  kaconsole completions zsh > \"${fpath[1]}/_kaconsole\"\n  kaconsole completions fish > ~/.config/fish/completions/kaconsole.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// (internal) Checks a configuration text from standard input for the control socket.
    #[command(name = "__check-text", hide = true)]
    CheckText {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        config_id: String,
    },
    /// The live console: connects to a running daemon's control socket.
    #[command(
        long_about = "The live operations console. It connects to a daemon's control socket \
        and shows, in seven views: every VRRP instance (state, base and effective priority, master, \
        VIPs, time since its last transition) and the sync groups; one instance in detail (why \
        this priority, timers, counters, charts of advert gaps and priority); the trackers; LVS; \
        the daemon's events; and the configuration in an editor that checks as you type and \
        applies through the daemon (diff and confirmation first); and the segment (every VRRP \
        router heard, this node included, and the conflicts). It reconnects by itself when \
        the daemon restarts, and marks data that is not current: STALE when the daemon has \
        not answered for two polls (1 s), greyed with \"last seen\" when it is gone.\n\n\
        On several daemons (--socket repeated, --node), the overview shows each virtual \
        router once, every node's state and priority side by side, and the findings: drift \
        between the nodes (VIPs, authentication, interval, version, unicast peers), equal \
        priorities, trackers whose weight cannot move the VIP, preempt mixes. [ and ] choose \
        the node the other views show.\n\n\
        Without a terminal it exits 2 with one line.\n\n\
        Keys: 1-7 or Tab views, j/k or arrows move, Enter detail, / filter, Esc back, ? help, \
        q quit.",
        after_help = "Examples:\n  kaconsole tui\n  kaconsole tui --socket /run/kaconsole/blue/kaconsole.sock\n  sudo -g kaconsole kaconsole tui      (a reader: state only, no apply or reload)\n  kaconsole tui --node lb1 --node lb2  (ssh lbN kaconsole attach)\n  kaconsole tui --via 'ip netns exec {} kaconsole attach' --node blue --node green\n  kaconsole tui --cluster edge         (~/.config/kaconsole/clusters/edge)"
    )]
    Tui(TuiArgs),
    /// Joins stdin and stdout to the local control socket (for `kaconsole tui --node`).
    #[command(
        long_about = "Joins stdin and stdout to this machine's control socket, for a console \
        elsewhere: `kaconsole tui --node HOST` runs `ssh HOST kaconsole attach`, so that SSH \
        authenticates and the daemon needs no network listener. The daemon grants what it \
        grants the user attach runs as.\n\n\
        Exit status: 0 when either side closes, 1 when the socket cannot be reached (the \
        message says why and what to do)."
    )]
    Attach(AttachArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Daemon(args) => daemon::run(&args),
        Command::Sim(args) => sim::run(&args),
        Command::Lab(args) => crate::lab::run(&args),
        Command::Sniff(args) => sniff::run(&args),
        Command::Genhash(args) => genhash::run(&args),
        Command::Status(args) => ops::status(&args),
        Command::Man { dir } => docs::man(&dir),
        Command::Completions { shell } => docs::completions(shell),
        Command::Reload(args) => ops::reload(&args),
        Command::Events(args) => ops::events(&args),
        Command::CheckText { config, config_id } => {
            crate::control::check_text::child_main(&config, &config_id)
        }
        Command::Attach(args) => attach::run(&args),
        Command::Tui(args) => {
            let targets = match args.targets() {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("kaconsole tui: {e}");
                    return ExitCode::from(2);
                }
            };
            if let Err(e) = crate::tui::require_terminal() {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
            tui(&targets)
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct TuiArgs {
    /// A daemon's control socket; repeat it for several daemons on this machine [default:
    /// $XDG_RUNTIME_DIR/kaconsole/kaconsole.sock if a daemon of yours listens there, else
    /// /run/kaconsole/kaconsole.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Vec<PathBuf>,
    /// A remote node, reached with `ssh -o BatchMode=yes HOST kaconsole attach` (or --via);
    /// repeat it for each node.
    #[arg(long, value_name = "HOST")]
    pub node: Vec<String>,
    /// How to reach each --node: a command whose stdin and stdout reach its daemon, `{}`
    /// standing for the node, e.g. 'ip netns exec {} kaconsole attach' or
    /// 'kubectl exec {} -- kaconsole attach'. Split on blanks, not by a shell.
    #[arg(long, value_name = "'CMD {}'")]
    pub via: Option<String>,
    /// A named cluster: the nodes listed in $XDG_CONFIG_HOME/kaconsole/clusters/NAME (one
    /// `socket PATH`, `node HOST` or `via CMD {}` a line; # starts a comment), with the
    /// --socket and --node given here.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
}

/// Where named clusters are: `$XDG_CONFIG_HOME/kaconsole/clusters/` (~/.config/...).
pub fn clusters_dir() -> Option<PathBuf> {
    Some(
        directories::BaseDirs::new()?
            .config_dir()
            .join("kaconsole")
            .join("clusters"),
    )
}

/// Adds cluster file `path`'s nodes to `args`.
fn read_cluster(path: &std::path::Path, args: &mut TuiArgs) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {e} (a cluster file lists its nodes, one a line: `node HOST`, \
             `socket PATH` or `via CMD {{}}`)",
            path.display()
        )
    })?;
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim().trim_matches('\'').to_string();
        let at = || format!("{}:{}", path.display(), n + 1);
        if rest.is_empty() {
            return Err(format!("{}: '{word}' needs a value", at()));
        }
        match word {
            "node" => args.node.push(rest),
            "socket" => args.socket.push(PathBuf::from(rest)),
            "via" if args.via.is_none() => args.via = Some(rest),
            "via" => {}
            other => {
                return Err(format!("{}: unknown '{other}' (node, socket or via)", at()));
            }
        }
    }
    Ok(())
}

/// `ssh HOST kaconsole attach`, without a password prompt (the console owns the terminal).
pub const SSH_VIA: &str = "ssh -o BatchMode=yes -o ConnectTimeout=5 {} kaconsole attach";

impl TuiArgs {
    /// The daemons to attach to, in the order given: the sockets, then the nodes.
    pub fn targets(&self) -> Result<Vec<crate::tui::Target>, String> {
        use crate::tui::Target;
        if let Some(name) = &self.cluster {
            if name.is_empty() || name.contains('/') || name.starts_with('.') {
                return Err(format!("--cluster '{name}': not a cluster name"));
            }
            let dir = clusters_dir().ok_or("no home directory for the clusters")?;
            let mut args = TuiArgs {
                socket: self.socket.clone(),
                node: self.node.clone(),
                via: self.via.clone(),
                cluster: None,
            };
            read_cluster(&dir.join(name), &mut args)?;
            return args.targets();
        }
        let via = self.via.as_deref().unwrap_or(SSH_VIA);
        if !via.contains("{}") {
            return Err(format!("--via '{via}': no {{}} where the node's name goes"));
        }
        if self.via.is_some() && self.node.is_empty() {
            return Err("--via without --node: name the nodes it reaches".into());
        }
        let mut targets: Vec<Target> = self
            .socket
            .iter()
            .map(|p| Target::Socket(p.display().to_string()))
            .collect();
        for node in &self.node {
            if node.is_empty() || node.starts_with('-') {
                return Err(format!("--node '{node}': not a node name"));
            }
            targets.push(Target::Command {
                label: node.clone(),
                argv: via
                    .split_whitespace()
                    .map(|w| w.replace("{}", node))
                    .collect(),
            });
        }
        if targets.is_empty() {
            targets.push(Target::Socket(default_tui_socket().display().to_string()));
        }
        Ok(targets)
    }
}

fn tui(targets: &[crate::tui::Target]) -> ExitCode {
    match crate::tui::run_cluster(targets) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kaconsole tui: {e}");
            ExitCode::from(1)
        }
    }
}
