//! Starting and stopping the daemon, in keepalived's order.

use std::sync::Arc;

use super::clock::Clock;
use super::inputs::Inputs;
use super::log::Log;
use super::lvs::Lvs;
use super::requests::Attachment;
use super::trackers::Trackers;
use super::vrrp::Vrrp;
use super::{Daemon, DaemonError, Options, configuration, pidfile, sd_notify};
use crate::sniff::table::Table;
use crate::sys::script::ScriptUsers;
use crate::vrrp::event::Input as VrrpInput;

impl Daemon {
    /// Reads the configuration, takes the pid file, opens what it needs, starts the trackers, the checkers and
    /// the control layer's server, takes over the links' states and starts the instances.
    pub async fn start(opts: Options, attach: Attachment) -> Result<(Daemon, Inputs), DaemonError> {
        // Reading the configuration only reads files (a broken one exits 2 leaving even the
        // pid file alone). Then, before anything touches the machine, the pid file: a second
        // daemon stops here having touched nothing (no socket, no VIPs released as stale,
        // no pid file removed at its exit).
        let config = configuration::load(&opts.config, &opts.config_id)?;
        let sinks = super::log_sinks::Sinks::open(&opts.log_targets).map_err(DaemonError::Log)?;
        let sinks = std::sync::Arc::new(sinks);
        let log = Log {
            detail: opts.log_detail,
            events: attach.events,
            via_tracing: super::log_sinks::install(sinks.clone()),
            sinks: Some(sinks),
            ident: Default::default(),
        };
        starting_line(&log, &opts, &config);
        let pid_file =
            pidfile::PidFile::lock(&opts.pid_file).map_err(|source| DaemonError::PidFile {
                path: opts.pid_file.clone(),
                source,
            })?;
        let clock = Clock::start();
        let (inputs, senders) = Inputs::new().map_err(DaemonError::Signals)?;
        #[cfg(any(test, feature = "testing"))]
        super::fault::listen().map_err(DaemonError::Signals)?;
        let tasks = senders.tasks;
        // Who the scripts run as, once: one that cannot be resolved does not run (its
        // tracker or checker is failed), never as root instead.
        let users = Arc::new(ScriptUsers::resolve(&config));
        for e in users.failures() {
            log.warn(&format!("{e}: the scripts that run as it will not run"));
        }
        let mut vrrp = Vrrp::new(config, users.clone(), senders.packets, &tasks, &log).await?;
        vrrp.dont_release = opts.dont_release_vrrp;
        log.info(&format!(
            "Starting VRRP with {} instance(s) from {}",
            vrrp.engine.instances().len(),
            opts.config.display()
        ));
        let mut trackers = Trackers::new(senders.trackers, tasks.clone());
        trackers.restart(vrrp.config(), users.clone(), &log);
        let lvs = Lvs::new(vrrp.config(), &users, senders.probes, &log);
        if let Some(serve) = attach.serve {
            serve(senders.requests, tasks.clone()).map_err(|source| DaemonError::Control {
                path: opts.socket.clone(),
                source,
            })?;
        }
        vrrp.statics(true, &log).await;
        let mut daemon = Daemon {
            opts,
            log,
            clock,
            vrrp,
            lvs,
            trackers,
            segment: Table::default(),
            net: Default::default(),
            reloads: 0,
            out: Vec::new(),
            tasks,
            restarts: Default::default(),
            net_tx: senders.net,
            failure: None,
            _pid_file: pid_file,
        };
        daemon.watch_links().map_err(DaemonError::Netlink)?;
        daemon.take_over().await;
        crate::sys::memory::release_what_loading_used();
        sd_notify::send("READY=1");
        Ok((daemon, inputs))
    }

    /// The links as they are now, stale addresses removed, the instances and checkers started.
    async fn take_over(&mut self) {
        let now = self.clock.now();
        for l in crate::sys::links::current().await.unwrap_or_default() {
            self.net.changed(&l.name, l.up);
            let input = VrrpInput::Link {
                interface: l.name.clone(),
                up: l.up,
            };
            self.net.link(&l);
            self.vrrp.engine.handle(input, now, &mut self.out);
        }
        for a in crate::sys::links::current_addresses()
            .await
            .unwrap_or_default()
        {
            self.net.address(a);
        }
        if !self.opts.dont_release_vrrp {
            self.vrrp.release_stale(&self.log).await;
        }
        self.engine_step(VrrpInput::Start).await;
        // What changed between opening the sockets and watching the links.
        let all = self.vrrp.all_interfaces();
        self.sync_interfaces(all).await;
        self.lvs.start(self.clock.now(), &self.log);
        // lvs_sync_daemon follows its VRRP instance's state: after every VRRP step.
        self.lvs.follow_vrrp(&self.vrrp.engine, &self.log);
    }

    /// SIGTERM / SIGINT: masters send priority 0 and release what they hold (kept with
    /// `-V`), the checkers stop (omega), the statics and VMACs go.
    pub async fn stop(&mut self) {
        sd_notify::send("STOPPING=1");
        self.log.info("Stopping");
        let held: Vec<String> = self
            .vrrp
            .engine
            .instances()
            .iter()
            .filter(|i| i.installed())
            .flat_map(|i| i.config().vips.iter().map(|a| a.to_string()))
            .collect();
        self.lvs.stop(self.opts.dont_release_ipvs, &self.log);
        // A tracker's script running now is killed with its process group and reaped.
        self.trackers.stop();
        tokio::task::yield_now().await;
        // Not a full VRRP step: the sync daemons are gone with the table.
        self.engine_step(VrrpInput::Stop).await;
        if !self.opts.dont_release_vrrp {
            self.vrrp.statics(false, &self.log).await;
            self.vrrp.remove_vmacs(&self.log).await;
        }
        if self.opts.dont_release_vrrp {
            self.log
                .info(&format!("Stopped; kept {} address(es) (-V)", held.len()));
        } else {
            self.log.info(&format!(
                "Stopped; released {} address(es){}",
                held.len(),
                if held.is_empty() {
                    String::new()
                } else {
                    format!(": {}", held.join(", "))
                }
            ));
        }
    }
}

/// The first line: the version, the command line, the configuration file and where the log
/// goes (keepalived: "Starting Keepalived v2.2.7 ..., Command line: ...").
fn starting_line(log: &Log, opts: &Options, c: &crate::config::blocks::Config) {
    let args: Vec<String> = std::env::args().collect();
    let to = log.sinks.as_ref().map(|s| s.describe()).unwrap_or_default();
    log.as_ident(super::log_sinks::Ident::Parent).info(&format!(
        "Starting kaconsole {} (keepalived 2.2 compatible)\n\
         Command line: '{}'\n\
         Configuration file {}: no errors; {} VRRP instance(s), {} sync group(s), {} \
         vrrp_script(s), {} virtual server(s); logging to {to}",
        crate::sys::host::VERSION,
        args.join("' '"),
        opts.config.display(),
        c.vrrp_instances.len(),
        c.vrrp_sync_groups.len(),
        c.vrrp_scripts.len(),
        c.virtual_servers.len(),
    ));
}
