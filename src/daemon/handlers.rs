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
        let before = instance_vips(&self.vrrp.engine);
        let result = self.replace_configuration().await;
        match &result {
            Ok(()) => {
                self.reloads += 1;
                let after = instance_vips(&self.vrrp.engine);
                self.log.info(&reload_summary(&before, &after));
            }
            Err(e) => self.log.warn(&format!(
                "reload refused, the running configuration stays: {e}"
            )),
        }
        crate::sys::memory::release_what_loading_used();
        sd_notify::send("READY=1");
        result
    }

    async fn replace_configuration(&mut self) -> Result<(), ReloadError> {
        let config = configuration::load(&self.opts.config, &self.opts.config_id)?;
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

/// Each instance's name and VIPs.
pub(super) fn instance_vips(
    engine: &crate::vrrp::engine::Engine,
) -> std::collections::BTreeMap<String, Vec<std::net::IpAddr>> {
    engine
        .instances()
        .iter()
        .map(|i| (i.config().name.clone(), i.config().vips.clone()))
        .collect()
}

/// "Reload done: ..." - the instances kept, added and removed, and the addresses.
fn reload_summary(
    before: &std::collections::BTreeMap<String, Vec<std::net::IpAddr>>,
    after: &std::collections::BTreeMap<String, Vec<std::net::IpAddr>>,
) -> String {
    use std::collections::BTreeSet;
    let names = |m: &std::collections::BTreeMap<String, Vec<std::net::IpAddr>>| {
        m.keys().cloned().collect::<BTreeSet<_>>()
    };
    let addrs = |m: &std::collections::BTreeMap<String, Vec<std::net::IpAddr>>| {
        m.values().flatten().copied().collect::<BTreeSet<_>>()
    };
    let (nb, na) = (names(before), names(after));
    let (ab, aa) = (addrs(before), addrs(after));
    let list = |v: Vec<String>| {
        if v.is_empty() {
            String::new()
        } else {
            format!(" ({})", v.join(", "))
        }
    };
    let kept = nb.intersection(&na).count();
    let added: Vec<String> = na.difference(&nb).cloned().collect();
    let removed: Vec<String> = nb.difference(&na).cloned().collect();
    let a_added: Vec<String> = aa.difference(&ab).map(|a| a.to_string()).collect();
    let a_removed: Vec<String> = ab.difference(&aa).map(|a| a.to_string()).collect();
    format!(
        "Reload done: {kept} instance(s) kept, {} added{}, {} removed{}; {} address(es) added{}, {} removed{}",
        added.len(),
        list(added.clone()),
        removed.len(),
        list(removed.clone()),
        a_added.len(),
        list(a_added.clone()),
        a_removed.len(),
        list(a_removed.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_says_what_changed() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let before = [
            ("VI_1".to_string(), vec![ip("10.0.0.1")]),
            ("VI_2".to_string(), vec![ip("10.0.0.2")]),
        ]
        .into_iter()
        .collect();
        let after = [
            ("VI_1".to_string(), vec![ip("10.0.0.1"), ip("10.0.0.3")]),
            ("VI_3".to_string(), vec![ip("10.0.0.4")]),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            reload_summary(&before, &after),
            "Reload done: 1 instance(s) kept, 1 added (VI_3), 1 removed (VI_2); \
             2 address(es) added (10.0.0.3, 10.0.0.4), 1 removed (10.0.0.2)"
        );
    }
}
