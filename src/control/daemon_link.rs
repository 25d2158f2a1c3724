//! The control layer attached to the daemon: `kaconsole daemon` runs [`run_daemon`], which
//! gives the daemon an event sink (the consoles' event lines) and, once the daemon is set up,
//! serves the socket on a thread of its own; the server's calls become the daemon's requests.

use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

use super::events::EventHub;
use super::from_daemon;
use super::protocol::{Event, EventLine};
use super::server::{self, Call, ServerConfig};
use crate::daemon::requests::{Attachment, Request, View};
use crate::daemon::supervisor::{Task, Tasks};
use crate::daemon::{self, DaemonError, Options, events};
use crate::vrrp::event::Output;

/// Lines one subscriber may lag behind before it is dropped.
const SUBSCRIBER_LAG: usize = 4096;
/// Calls from the clients queued for the daemon.
const CALL_QUEUE: usize = 64;

/// Runs the daemon with its control socket until it stops; the socket file goes with it.
/// With `metrics`, /metrics is served there too (from the same thread and snapshots).
pub fn run_daemon(opts: Options, metrics: Option<SocketAddr>) -> Result<(), DaemonError> {
    let metrics = match metrics {
        Some(addr) => Some(
            server::bind_metrics(addr).map_err(|source| DaemonError::Metrics { addr, source })?,
        ),
        None => None,
    };
    let hub = EventHub::new(SUBSCRIBER_LAG);
    let server = ServerConfig {
        socket: opts.socket.clone(),
        config: opts.config.clone(),
        config_id: opts.config_id.clone(),
    };
    let socket = opts.socket.clone();
    // The socket file this daemon created (its inode), removed at the end if still there.
    let bound = Arc::new(AtomicU64::new(0));
    let attach = Attachment {
        events: Some(Arc::new(Subscribers(hub.clone()))),
        serve: Some({
            let bound = bound.clone();
            Box::new(move |requests, tasks| {
                let inode = control_thread(server, hub, metrics, requests, tasks)?;
                bound.store(inode, Ordering::Relaxed);
                Ok(())
            })
        }),
    };
    let result = daemon::run(opts, attach);
    let ours = bound.load(Ordering::Relaxed);
    if ours != 0 && std::fs::metadata(&socket).is_ok_and(|m| m.ino() == ours) {
        let _ = std::fs::remove_file(&socket);
    }
    result
}

/// Binds the socket, then serves it on a thread of its own with its own runtime: the
/// clients' work (reading, checking texts, serialising replies) never runs on the VRRP loop,
/// which only answers [`Request`]s. Returns the socket file's inode.
fn control_thread(
    server: ServerConfig,
    hub: EventHub,
    metrics: Option<std::net::TcpListener>,
    requests: mpsc::Sender<Request>,
    tasks: Tasks,
) -> std::io::Result<u64> {
    let listener = server::bind(&server)?;
    let inode = std::fs::metadata(&server.socket)?.ino();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            // Clients' work yields to the VRRP loop on a busy machine (and so do the checks it
            // starts, which inherit this).
            let _ = crate::sys::priority::set_this_thread_nice(crate::sys::priority::CONTROL_NICE);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let runtime = match runtime {
                Ok(r) => r,
                Err(e) => return drop(ready_tx.send(Err(e))),
            };
            runtime.block_on(async move {
                let (calls_tx, calls) = mpsc::channel(CALL_QUEUE);
                let accept = match server::serve(listener, server, calls_tx, hub, metrics) {
                    Ok(a) => a,
                    Err(e) => return drop(ready_tx.send(Err(e))),
                };
                let _ = ready_tx.send(Ok(()));
                // The daemon cannot run without them: their end stops it (the clean way).
                tasks.spawn(Task::Essential("control accept loop"), accept);
                let forwarding = forward(calls, requests);
                tasks.spawn(Task::Essential("control request forwarder"), forwarding);
                std::future::pending::<()>().await;
            });
        })?;
    ready
        .recv()
        .map_err(|_| std::io::Error::other("the control thread ended"))??;
    Ok(inode)
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
        if let Ok(mut line) = serde_json::to_string(&EventLine::now(event)) {
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
