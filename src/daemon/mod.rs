//! `kaconsole daemon`: the VRRP engine on real interfaces, in one tokio current-thread
//! runtime (keepalived forks a process per subsystem; here `-P` and `-C` only choose what
//! runs).

pub mod dumps;
pub mod log;
pub mod lvs;
pub mod notify;
pub mod pidfile;
pub mod scripts;
pub mod sd_notify;
pub mod smtp;
pub mod track_files;
pub mod track_processes;
pub mod vrrp;

use std::path::PathBuf;
use std::time::Duration as StdDuration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use self::log::Log;
use self::vrrp::Vrrp;
use crate::config::{self, LoadOptions, Severity};
use crate::control::server::Call;
use crate::sys::env::Machine;
use crate::sys::links::NetEvent;
use crate::time::Instant;
use crate::vrrp::event::Input;

/// What `kaconsole daemon` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    pub config: PathBuf,
    pub config_id: String,
    pub log_detail: bool,
    /// `-V`: leave the VIPs in place when stopping.
    pub dont_release_vrrp: bool,
    /// `-I`: leave the IPVS table as it is when stopping.
    pub dont_release_ipvs: bool,
    /// `-p`: where to write our process id.
    pub pid_file: PathBuf,
    /// The control socket (`--socket`).
    pub socket: PathBuf,
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Setup(String),
}

/// Loads and checks the configuration: errors refuse it (with their diagnostics).
fn load(opts: &Options) -> Result<config::blocks::Config, String> {
    let lo = LoadOptions {
        config_id: opts.config_id.clone(),
        ..Default::default()
    };
    let loaded = config::load(&opts.config, &lo, Some(&Machine::new()));
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            crate::config::diag::render_human(&loaded.sources, d, crate::config::diag::Color::Never)
        })
        .collect();
    if errors.is_empty() {
        Ok(loaded.config)
    } else {
        Err(format!(
            "{}: {} error(s); `kaconsole check -f {}` shows them all\n{}",
            opts.config.display(),
            errors.len(),
            opts.config.display(),
            errors.join("\n")
        ))
    }
}

/// The tracker tasks (scripts, files, processes), where they report, and the scripts' last
/// runs for the console.
struct Trackers {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    tx: mpsc::UnboundedSender<scripts::TrackerReport>,
    board: scripts::ScriptBoard,
}

impl Trackers {
    /// Stops the running tasks and starts those of `model`.
    fn restart(&mut self, model: &config::blocks::Config, log: &Log) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        self.tasks = scripts::start_trackers(model, self.tx.clone(), log, &self.board);
        self.tasks
            .extend(track_files::start(model, self.tx.clone(), log));
        self.tasks
            .extend(track_processes::start(model, self.tx.clone()));
    }
}

/// SIGHUP or a console's reload: the new configuration replaces the running one unless it
/// has errors; trackers restart.
async fn reload(
    vrrp: &mut Vrrp,
    opts: &Options,
    now: Instant,
    log: &Log,
    trackers: &mut Trackers,
    lvs: &mut lvs::Lvs,
) -> Result<(), String> {
    log.info("Reloading");
    sd_notify::send("RELOADING=1");
    let result = match load(opts) {
        Ok(model) => {
            let checked = model.clone();
            let r = vrrp.reload(model, now, log).await;
            if r.is_ok() {
                lvs.load(&checked, log);
                lvs.start(now, log);
                lvs.follow_vrrp(&vrrp.engine, log);
            }
            r
        }
        Err(e) => Err(e),
    };
    match &result {
        // The trackers of the new configuration report afresh; the engine keeps the statuses
        // it has until they do.
        Ok(()) => trackers.restart(&vrrp.model_config(), log),
        Err(e) => log.warn(&format!(
            "reload refused, the running configuration stays: {e}"
        )),
    }
    sd_notify::send("READY=1");
    result
}

/// The control socket's `stats`: the daemon's own figures.
fn daemon_stats(
    engine: &crate::vrrp::engine::Engine,
    now: Instant,
    reloads: u64,
) -> crate::control::protocol::DaemonStats {
    // /proc/self/statm: size and resident set, in pages.
    let page_kb = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4, |p| p as u64 / 1024);
    let rss_kb = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * page_kb);
    let instances = engine.instances();
    crate::control::protocol::DaemonStats {
        uptime_s: now.0 as f64 / 1e6,
        rss_kb,
        instances: instances.len(),
        reloads,
        adverts_sent: instances.iter().map(|i| i.stats().advert_sent).sum(),
        adverts_rcvd: instances.iter().map(|i| i.stats().advert_rcvd).sum(),
        ..Default::default()
    }
}

/// Runs until SIGTERM / SIGINT.
pub fn run(opts: Options) -> Result<(), DaemonError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DaemonError::Setup(format!("runtime: {e}")))?;
    rt.block_on(main_loop(opts))
}

async fn main_loop(opts: Options) -> Result<(), DaemonError> {
    let events = crate::control::events::EventHub::new(4096);
    let log = Log {
        detail: opts.log_detail,
        events: Some(events.clone()),
    };
    let model = load(&opts).map_err(DaemonError::Config)?;
    let _pid = pidfile::PidFile::write(&opts.pid_file)
        .map_err(|e| DaemonError::Setup(format!("pid file {}: {e}", opts.pid_file.display())))?;
    let start = tokio::time::Instant::now();
    let now = || Instant(start.elapsed().as_micros() as u64);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut vrrp = Vrrp::new(model, tx, &log)
        .await
        .map_err(DaemonError::Setup)?;
    vrrp.dont_release = opts.dont_release_vrrp;
    let sig = |k| signal(k).map_err(|e| DaemonError::Setup(format!("signals: {e}")));
    let (mut term, mut int, mut hup) = (
        sig(SignalKind::terminate())?,
        sig(SignalKind::interrupt())?,
        sig(SignalKind::hangup())?,
    );
    // keepalived's DATA, STATS, STATS_CLEAR and JSON signals (`kaconsole daemon --signum=...`).
    let (mut usr1, mut usr2, mut stats_clear, mut json) = (
        sig(SignalKind::user_defined1())?,
        sig(SignalKind::user_defined2())?,
        sig(SignalKind::from_raw(nix::libc::SIGRTMAX() - 1))?,
        sig(SignalKind::from_raw(nix::libc::SIGRTMIN() + 2))?,
    );
    // The wall-clock time of engine time 0, for the dumps.
    let started_wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    log.info(&format!(
        "Starting VRRP with {} instance(s) from {}",
        vrrp.engine.instances().len(),
        opts.config.display()
    ));
    let no_model = config::blocks::Config::default();
    let mut out = Vec::new();
    // Trackers: scripts report when they have a result, interfaces from netlink.
    let (track_tx, mut track_rx) = mpsc::unbounded_channel();
    let mut trackers = Trackers {
        tasks: Vec::new(),
        tx: track_tx,
        board: scripts::ScriptBoard::default(),
    };
    trackers.restart(&vrrp.model_config(), &log);
    // The checkers, with their probes' results coming back on a channel.
    let (probe_tx, mut probe_rx) = mpsc::unbounded_channel();
    let mut lvs = lvs::Lvs::new(&vrrp.model_config(), probe_tx, &log);
    // The control socket: the console's requests come in as calls.
    let (call_tx, mut call_rx) = mpsc::channel(64);
    let server = crate::control::server::ServerConfig {
        socket: opts.socket.clone(),
        config: opts.config.clone(),
        config_id: opts.config_id.clone(),
    };
    crate::control::server::start(server, call_tx, events).map_err(|e| {
        DaemonError::Setup(format!("control socket {}: {e}", opts.socket.display()))
    })?;
    vrrp.statics(true, &log).await;
    let (link_tx, mut link_rx) = mpsc::unbounded_channel();
    crate::sys::links::watch(link_tx).map_err(|e| DaemonError::Setup(format!("netlink: {e}")))?;
    let mut links: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    for (name, up) in crate::sys::links::current().await.unwrap_or_default() {
        links.insert(name.clone(), up);
        vrrp.engine.handle(
            Input::Link {
                interface: name,
                up,
            },
            now(),
            &mut out,
        );
    }
    if !opts.dont_release_vrrp {
        vrrp.release_stale(&log).await;
    }
    vrrp.engine.handle(Input::Start, now(), &mut out);
    vrrp.apply(std::mem::take(&mut out), &[], &no_model, &log)
        .await;
    lvs.start(now(), &log);
    // lvs_sync_daemon follows its VRRP instance's state: after every VRRP step below.
    lvs.follow_vrrp(&vrrp.engine, &log);
    sd_notify::send("READY=1");
    let mut reloads = 0u64;
    // What the VRRP sockets hear: `kaconsole sniff`'s table, for the console.
    let mut segment = crate::sniff::table::Table::default();
    loop {
        let sleep_until = |deadline: Option<Instant>| async move {
            match deadline {
                Some(t) => tokio::time::sleep_until(start + StdDuration::from_micros(t.0)).await,
                None => std::future::pending().await,
            }
        };
        let input = tokio::select! {
            _ = sleep_until(vrrp.engine.poll_timeout()) => Input::Timeout,
            _ = sleep_until(lvs.poll_timeout()) => {
                lvs.timeout(now(), &log);
                lvs.sync_if_dirty(&log);
                continue;
            }
            Some(done) = probe_rx.recv() => {
                lvs.probe_done(done, now(), &log);
                while let Ok(more) = probe_rx.try_recv() {
                    lvs.probe_done(more, now(), &log);
                }
                lvs.sync_if_dirty(&log);
                continue;
            }
            Some(p) = rx.recv() => {
                // Every advert heard, ours or not, goes into the segment's table.
                let wall = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros() as u64);
                segment.add(&crate::sniff::observe::from_received(wall, &p.rx));
                vrrp::packet_input(p)
            }
            Some(t) = track_rx.recv() => Input::Track { id: t.id, status: t.status },
            Some(event) = link_rx.recv() => {
                let (name, up) = match event {
                    NetEvent::AddressAdded(addr) => {
                        lvs.address(addr, true, &log);
                        lvs.sync_if_dirty(&log);
                        continue;
                    }
                    NetEvent::AddressRemoved(addr) => {
                        lvs.address(addr, false, &log);
                        lvs.sync_if_dirty(&log);
                        vrrp.engine.handle(Input::AddressRemoved { addr }, now(), &mut out);
                        vrrp.apply(std::mem::take(&mut out), &[], &no_model, &log).await;
                        lvs.follow_vrrp(&vrrp.engine, &log);
                        continue;
                    }
                    NetEvent::Link(l) => l,
                };
                // netlink repeats a link's state on every change of any of its attributes.
                if links.insert(name.clone(), up) == Some(up) {
                    continue;
                }
                log.info(&format!("Netlink reports {name} {}", if up { "up" } else { "down" }));
                vrrp.ifaces.forget(&name);
                Input::Link { interface: name, up }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = usr2.recv() => {
                if let Err(e) = dumps::write_stats(&mut vrrp.engine, false) {
                    log.warn(&format!("stats: {e}"));
                }
                continue;
            }
            _ = usr1.recv() => {
                if let Err(e) = dumps::write_data(&vrrp.engine, vrrp.model(), started_wall) {
                    log.warn(&format!("data dump: {e}"));
                }
                continue;
            }
            _ = json.recv() => {
                if let Err(e) = dumps::write_json(&vrrp.engine, vrrp.model(), started_wall) {
                    log.warn(&format!("JSON dump: {e}"));
                }
                continue;
            }
            _ = stats_clear.recv() => {
                if let Err(e) = dumps::write_stats(&mut vrrp.engine, true) {
                    log.warn(&format!("stats: {e}"));
                }
                continue;
            }
            _ = hup.recv() => {
                // A refused reload is logged; the running configuration stays.
                if reload(&mut vrrp, &opts, now(), &log, &mut trackers, &mut lvs).await.is_ok() {
                    reloads += 1;
                }
                continue;
            }
            Some(call) = call_rx.recv() => {
                match call {
                    Call::Status(reply) => {
                        let config = opts.config.display().to_string();
                        let mut status = crate::control::status::snapshot(
                            &vrrp.engine,
                            vrrp.model(),
                            now(),
                            &config,
                        );
                        status.scripts = trackers.board.statuses();
                        status.virtual_servers = lvs.status();
                        status.lvs_mode = lvs.check_only.as_ref().map(|_| "check-only".to_string());
                        status.config_id = opts.config_id.clone();
                        let _ = reply.send(status);
                    }
                    Call::Reload(reply) => {
                        let r = reload(&mut vrrp, &opts, now(), &log, &mut trackers, &mut lvs).await;
                        reloads += u64::from(r.is_ok());
                        let _ = reply.send(r);
                    }
                    Call::Stats(reply) => {
                        let _ = reply.send(daemon_stats(&vrrp.engine, now(), reloads));
                    }
                    Call::Segment(reply) => {
                        let _ = reply.send(segment.snapshot());
                    }
                }
                continue;
            }
        };
        vrrp.engine.handle(input, now(), &mut out);
        vrrp.apply(std::mem::take(&mut out), &[], &no_model, &log)
            .await;
        lvs.follow_vrrp(&vrrp.engine, &log);
    }
    sd_notify::send("STOPPING=1");
    log.info("Stopping");
    lvs.stop(opts.dont_release_ipvs, &log);
    vrrp.engine.handle(Input::Stop, now(), &mut out);
    vrrp.apply(std::mem::take(&mut out), &[], &no_model, &log)
        .await;
    if !opts.dont_release_vrrp {
        vrrp.statics(false, &log).await;
        vrrp.remove_vmacs(&log).await;
    }
    log.info("Stopped");
    Ok(())
}
