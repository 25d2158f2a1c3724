//! One handler per kind of input. Each is short: it hands the input to the engine it is for
//! and carries out what comes back.

use std::sync::Arc;

use super::inputs::{Input, Signal};
use super::lvs::ProbeDone;
use super::requests::{Request, View};
use super::vrrp::{Packet, packet_input};
use super::{Daemon, ReloadError, configuration, dumps, sd_notify};
use crate::sys::script::ScriptUsers;
use crate::time::Instant;
use crate::vrrp::event::Input as VrrpInput;

/// The capacity of the engine's output buffer kept between steps (an advert, a state change
/// and its notifies fit).
const OUTPUTS_KEPT: usize = 64;

/// Whether the loop goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

impl Daemon {
    /// The engines' next timeouts: VRRP's, then the checkers'.
    pub fn deadlines(&self) -> (Option<Instant>, Option<Instant>) {
        (self.vrrp.engine.poll_timeout(), self.lvs.poll_timeout())
    }

    pub async fn handle(&mut self, input: Input) -> Flow {
        match input {
            Input::VrrpTimer => self.step_vrrp(VrrpInput::Timeout).await,
            Input::LvsTimer => self.on_lvs_timer(),
            Input::Probes(done) => self.on_probes(done),
            Input::Packet(p) => self.on_packet(p).await,
            Input::Tracker(t) => {
                let input = VrrpInput::Track {
                    id: t.id,
                    status: t.status,
                };
                self.step_vrrp(input).await;
            }
            Input::Net(event) => self.on_net(event).await,
            Input::Signal(s) => return self.on_signal(s).await,
            Input::Request(r) => self.on_request(r).await,
            Input::TaskEnded(ended) => return self.restart_or_stop(ended).await,
        }
        Flow::Continue
    }

    /// The VRRP engine takes `input`; its outputs are carried out, then the sync daemons
    /// follow their instance.
    pub(super) async fn step_vrrp(&mut self, input: VrrpInput) {
        self.engine_step(input).await;
        self.lvs.follow_vrrp(&self.vrrp.engine, &self.log);
    }

    /// The VRRP engine takes `input` and its outputs are carried out.
    pub(super) async fn engine_step(&mut self, input: VrrpInput) {
        let mut out = std::mem::take(&mut self.out);
        self.vrrp.engine.handle(input, self.clock.now(), &mut out);
        self.vrrp.apply(out.drain(..), &[], None, &self.log).await;
        // A start or a reload of a thousand instances emits thousands of outputs at once; the
        // buffer kept between steps stays small.
        out.shrink_to(OUTPUTS_KEPT);
        self.out = out;
    }

    fn on_lvs_timer(&mut self) {
        self.lvs.timeout(self.clock.now(), &self.log);
        self.lvs.sync_if_dirty(&self.log);
    }

    /// Probe results that arrived together: the IPVS table is synced once for all of them.
    fn on_probes(&mut self, done: Vec<ProbeDone>) {
        for d in done {
            self.lvs.probe_done(d, self.clock.now(), &self.log);
        }
        self.lvs.sync_if_dirty(&self.log);
    }

    /// Every advert heard, ours or not, goes into the segment's table, then to the engine.
    async fn on_packet(&mut self, p: Packet) {
        let wall_us = self.clock.wall_us(self.clock.now());
        self.segment
            .add(&crate::sniff::observe::from_received(wall_us, &p.rx));
        self.step_vrrp(packet_input(p)).await;
    }

    async fn on_signal(&mut self, s: Signal) -> Flow {
        let written = match s {
            Signal::Stop => return Flow::Stop,
            Signal::Reload => {
                // A refused reload is logged; the running configuration stays.
                let _ = self.reload().await;
                return Flow::Continue;
            }
            Signal::DumpStats => dumps::write_stats(&mut self.vrrp.engine, false),
            Signal::ClearStats => dumps::write_stats(&mut self.vrrp.engine, true),
            Signal::DumpData => dumps::write_data(
                &self.vrrp.engine,
                self.vrrp.config(),
                self.clock.wall_start_s(),
            ),
            Signal::DumpJson => dumps::write_json(
                &self.vrrp.engine,
                self.vrrp.config(),
                self.clock.wall_start_s(),
            ),
        };
        if let Err(e) = written {
            let what = match s {
                Signal::DumpData => "data dump",
                Signal::DumpJson => "JSON dump",
                _ => "stats",
            };
            self.log.warn(&format!("{what}: {e}"));
        }
        Flow::Continue
    }

    async fn on_request(&mut self, r: Request) {
        match r {
            Request::Inspect(look) => look(&self.view()),
            Request::Reload(reply) => {
                let _ = reply.send(self.reload().await);
            }
        }
    }

    /// The daemon's state for a control request.
    fn view(&self) -> View<'_> {
        View {
            now: self.clock.now(),
            config: self.vrrp.config(),
            config_path: &self.opts.config,
            config_id: &self.opts.config_id,
            vrrp: &self.vrrp.engine,
            lvs: &self.lvs,
            scripts: &self.trackers.board,
            segment: &self.segment,
            reloads: self.reloads,
        }
    }

    /// SIGHUP or a console's reload: the new configuration replaces the running one unless
    /// it has errors; the checkers take it, the trackers restart.
    async fn reload(&mut self) -> Result<(), ReloadError> {
        self.log.info("Reloading");
        sd_notify::send("RELOADING=1");
        let result = self.replace_configuration().await;
        match &result {
            Ok(()) => self.reloads += 1,
            Err(e) => self.log.warn(&format!(
                "reload refused, the running configuration stays: {e}"
            )),
        }
        crate::sys::memory::release_what_loading_used();
        sd_notify::send("READY=1");
        result
    }

    async fn replace_configuration(&mut self) -> Result<(), ReloadError> {
        let accepted = configuration::load(&self.opts.config, &self.opts.config_id)?;
        accepted.report(&self.log);
        let config = accepted.config;
        // Everything the new configuration needs, before anything changes: a failure here
        // leaves the running configuration exactly as it was.
        let users = Arc::new(ScriptUsers::resolve(&config));
        if let Some(e) = users.failures().into_iter().next() {
            return Err(ReloadError::ScriptUser(e));
        }
        let prepared = self.vrrp.prepare(config, users.clone(), &self.log).await?;
        let now = self.clock.now();
        self.vrrp.commit(prepared, now, &self.log).await?;
        // The trackers of the new configuration report afresh; the engine keeps the
        // statuses it has until they do.
        self.trackers
            .restart(self.vrrp.config(), users.clone(), &self.log);
        self.lvs.load(self.vrrp.config(), &users, &self.log);
        self.lvs.start(now, &self.log);
        self.lvs.follow_vrrp(&self.vrrp.engine, &self.log);
        Ok(())
    }
}
