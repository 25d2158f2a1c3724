//! The control layer attached to the daemon: `kaconsole daemon` runs [`run_daemon`], which
//! gives the daemon an event sink (the consoles' event lines) and starts the socket server
//! once the daemon is set up; the server's calls become the daemon's requests.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::events::EventHub;
use super::from_daemon;
use super::protocol::{Event, EventLine};
use super::server::{self, Call, ServerConfig};
use crate::daemon::requests::{Attachment, Request, View};
use crate::daemon::{self, DaemonError, Options, events};
use crate::vrrp::event::Output;

/// Lines one subscriber may lag behind before it is dropped.
const SUBSCRIBER_LAG: usize = 4096;
/// Calls from the clients queued for the daemon.
const CALL_QUEUE: usize = 64;

/// Runs the daemon with its control socket until it stops.
pub fn run_daemon(opts: Options) -> Result<(), DaemonError> {
    let hub = EventHub::new(SUBSCRIBER_LAG);
    let server = ServerConfig {
        socket: opts.socket.clone(),
        config: opts.config.clone(),
        config_id: opts.config_id.clone(),
    };
    let serve_hub = hub.clone();
    let attach = Attachment {
        events: Some(Arc::new(Subscribers(hub))),
        serve: Some(Box::new(move |requests, _tasks| {
            let (calls_tx, calls) = mpsc::channel(CALL_QUEUE);
            server::start(server, calls_tx, serve_hub)?;
            tokio::spawn(forward(calls, requests));
            Ok(())
        })),
    };
    daemon::run(opts, attach)
}

/// The subscribed consoles, as the daemon's event sink.
struct Subscribers(EventHub);

impl events::EventSink for Subscribers {
    fn wants(&self, output: &Output) -> bool {
        super::from_engine::interesting(output)
    }

    fn publish(&self, event: events::Event<'_>) {
        let event = match event {
            events::Event::Vrrp { source, output } => Event::Vrrp {
                source: source.to_string(),
                output: output.clone().into(),
            },
            events::Event::Log { line } => Event::Log {
                line: line.to_string(),
            },
        };
        if let Ok(mut line) = serde_json::to_string(&EventLine { event }) {
            line.push('\n');
            self.0.publish(line);
        }
    }
}

/// Turns the server's calls into the daemon's requests until either side is gone.
async fn forward(mut calls: mpsc::Receiver<Call>, requests: mpsc::Sender<Request>) {
    while let Some(call) = calls.recv().await {
        let request = match call {
            Call::Status(reply) => inspect(reply, from_daemon::status),
            Call::Stats(reply) => inspect(reply, from_daemon::stats),
            Call::Segment(reply) => inspect(reply, |v| v.segment.snapshot()),
            Call::Reload(reply) => {
                let (tx, rx) = oneshot::channel::<Result<(), daemon::ReloadError>>();
                tokio::spawn(async move {
                    if let Ok(result) = rx.await {
                        let _ = reply.send(result.map_err(|e| e.to_string()));
                    }
                });
                Request::Reload(tx)
            }
        };
        if requests.send(request).await.is_err() {
            return;
        }
    }
}

/// A request that reads the daemon's view with `read` and replies with what it makes.
fn inspect<T: Send + 'static>(reply: oneshot::Sender<T>, read: fn(&View<'_>) -> T) -> Request {
    Request::Inspect(Box::new(move |view| {
        let _ = reply.send(read(view));
    }))
}
