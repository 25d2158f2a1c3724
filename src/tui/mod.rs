//! `kaconsole tui`: the live console. A connection task talks to the daemon's control socket
//! (status every half second, events as they come, reconnecting when the daemon goes away),
//! the keyboard comes from crossterm's event stream, and both become [`Msg`]s for the model;
//! the screen is redrawn from the model. Nothing here waits on the socket.

pub mod editor;
pub mod highlight;
pub mod history;
pub mod keymap;
pub mod keys;
pub mod model;
pub mod sniff_live;
pub mod view;

use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use self::keymap::KeyMap;
use self::model::{Action, Model, Msg};
use crate::control::protocol::vrrp::{Notify, Output, Reason};
use crate::control::protocol::{
    Answer, Event, EventLine, Reply, ReplyResult, Request, RequestBody,
};

/// What a program built around the console adds to it (`kaconsole lab`: a router switcher
/// and keys that break things). Its keys are a map like the console's: looked up before the
/// console's own on the screens that leave keys alone (not while typing a filter, editing,
/// or with the help open), and shown in `?`.
pub trait Extension<A: Copy + 'static> {
    /// The extension's keys.
    fn keymap(&self) -> &'static KeyMap<A>;
    /// Does what a key of the map says.
    fn act(&mut self, action: A) -> ExtensionAction;
    /// Lines shown under the console's header.
    fn lines(&mut self) -> Vec<String>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtensionAction {
    None,
    /// Attach to another daemon.
    Connect(String),
    /// End the console.
    Quit,
}

/// Runs the console until the user quits.
pub fn run(socket: &str) -> std::io::Result<()> {
    run_with::<()>(socket, None)
}

/// Runs the console with an extension until the user quits.
pub fn run_with<A: Copy + 'static>(
    socket: &str,
    ext: Option<&mut dyn Extension<A>>,
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut terminal = ratatui::init();
        let result = main_loop(&mut terminal, socket, ext).await;
        ratatui::restore();
        result
    })
}

async fn main_loop<A: Copy + 'static>(
    terminal: &mut ratatui::DefaultTerminal,
    socket: &str,
    mut ext: Option<&mut dyn Extension<A>>,
) -> std::io::Result<()> {
    let mut model = Model::new(socket);
    if let Some(e) = ext.as_deref() {
        model.extension_keys = vec![e.keymap().section()];
    }
    let (mut tx, mut rx) = mpsc::unbounded_channel();
    let (mut requests, request_rx) = mpsc::unbounded_channel();
    let mut conn = tokio::spawn(connection(socket.to_string(), tx.clone(), request_rx));
    let mut keys = EventStream::new();
    // The extension's lines are refreshed at least this often (its state changes by itself).
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    // A closed terminal (SIGHUP) or a kill (SIGTERM, SIGINT) ends the console like q does, so
    // that the terminal is restored and whatever runs it (the lab) cleans up.
    use tokio::signal::unix::{SignalKind, signal};
    let (mut hup, mut term, mut int) = (
        signal(SignalKind::hangup())?,
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    );
    // The second half of a key the terminal sent as Esc and a key (see keymap::split_escape).
    let mut queued: Option<crossterm::event::KeyEvent> = None;
    loop {
        if let Some(e) = ext.as_deref_mut() {
            model.extension = e.lines();
        }
        terminal.draw(|f| view::draw(f, &model))?;
        let msg = if let Some(k) = queued.take() {
            Msg::Key(k)
        } else {
            tokio::select! {
            Some(m) = rx.recv() => m,
            Some(Ok(e)) = keys.next() => match e {
                TermEvent::Key(k) if k.kind == KeyEventKind::Press => {
                    let (first, then) = keymap::split_escape(k);
                    queued = then;
                    Msg::Key(first)
                }
                _ => continue,
            },
            _ = tick.tick() => continue,
            _ = hup.recv() => {
                detach_from_terminal();
                Msg::Quit
            }
            _ = term.recv() => Msg::Quit,
            _ = int.recv() => Msg::Quit,
            }
        };
        if let (Msg::Key(k), Some(e)) = (&msg, ext.as_deref_mut())
            && !model.captures_keys()
            && let Some(action) = e.keymap().lookup(k)
        {
            match e.act(action) {
                ExtensionAction::Connect(socket) => {
                    // A new connection, with new channels: nothing of the old one arrives late.
                    conn.abort();
                    (tx, rx) = mpsc::unbounded_channel();
                    let request_rx;
                    (requests, request_rx) = mpsc::unbounded_channel();
                    conn = tokio::spawn(connection(socket.clone(), tx.clone(), request_rx));
                    model.attach(&socket);
                }
                ExtensionAction::Quit => {
                    conn.abort();
                    return Ok(());
                }
                ExtensionAction::None => {}
            }
            continue;
        }
        // Take whatever else arrived before drawing again.
        let mut next = Some(msg);
        while let Some(m) = next.take().or_else(|| rx.try_recv().ok()) {
            match model.update(m) {
                Action::Quit => {
                    conn.abort();
                    return Ok(());
                }
                Action::Send(r) => {
                    let _ = requests.send(r);
                }
                Action::None => {}
            }
        }
    }
}

/// After a hangup the terminal is gone: what is still written to it (the terminal restore,
/// the lab's last words) goes to /dev/null instead of failing, since a failed write to stderr
/// panics, and a panic in the terminal-restoring panic hook aborts before anything is cleaned.
fn detach_from_terminal() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
}

/// Keeps a connection to the daemon: hello, subscribe, the configuration, then status every
/// 500 ms and the console's requests; on any error, says so and tries again a second later.
async fn connection(
    socket: String,
    tx: mpsc::UnboundedSender<Msg>,
    mut requests: mpsc::UnboundedReceiver<RequestBody>,
) {
    loop {
        let why = match session(&socket, &tx, &mut requests).await {
            Ok(()) => "the daemon closed the connection".to_string(),
            Err(e) => e,
        };
        if tx.send(Msg::Disconnected(why)).is_err() {
            return;
        }
        // Requests made while disconnected are dropped: an apply is never sent late.
        tokio::time::sleep(Duration::from_secs(1)).await;
        while requests.try_recv().is_ok() {}
    }
}

/// One request line.
fn request_line(id: u64, body: RequestBody) -> String {
    let mut l = serde_json::to_string(&Request { id, body }).unwrap_or_default();
    l.push('\n');
    l
}

async fn session(
    socket: &str,
    tx: &mpsc::UnboundedSender<Msg>,
    requests: &mut mpsc::UnboundedReceiver<RequestBody>,
) -> Result<(), String> {
    let stream = UnixStream::connect(socket)
        .await
        .map_err(|e| e.to_string())?;
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r).lines();
    let mut id = 0u64;
    // The configuration (it holds passwords) only comes to root and the daemon's user: it
    // is asked for once the hello's answer says so.
    for body in [
        RequestBody::Hello {
            version: crate::control::protocol::VERSION,
        },
        RequestBody::Subscribe,
    ] {
        id += 1;
        w.write_all(request_line(id, body).as_bytes())
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        let body = tokio::select! {
            _ = tick.tick() => {
                // The segment table with every status (it changes as often).
                id += 1;
                w.write_all(request_line(id, RequestBody::Segment).as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                RequestBody::Status
            }
            Some(body) = requests.recv() => body,
            line = lines.next_line() => {
                let Some(line) = line.map_err(|e| e.to_string())? else {
                    return Ok(());
                };
                let msg = message(&line)?;
                if let Some(Msg::Connected { admin: true }) = msg {
                    id += 1;
                    w.write_all(request_line(id, RequestBody::GetConfig).as_bytes())
                        .await
                        .map_err(|e| e.to_string())?;
                }
                if let Some(msg) = msg {
                    let _ = tx.send(msg);
                }
                continue;
            }
        };
        id += 1;
        w.write_all(request_line(id, body).as_bytes())
            .await
            .map_err(|e| e.to_string())?;
    }
}

/// An engine output in words, for the events view.
pub fn describe(o: &Output) -> String {
    match o {
        Output::StateChange { from, to, reason } => {
            let why = match reason {
                Reason::Startup => "startup".to_string(),
                Reason::Owner => "address owner".to_string(),
                Reason::MasterDown => "no advert within Master_Down_Interval".to_string(),
                Reason::Preempted { from, priority } => {
                    format!("preempted by {from} with priority {priority}")
                }
                Reason::Fault { cause } => format!("fault: {cause}"),
                Reason::Recovered => "faults cleared".to_string(),
                Reason::SyncGroup { group } => format!("sync group {group}"),
                Reason::AddressRemoved { addr } => format!("{addr} was removed"),
                Reason::Stop => "stopping".to_string(),
            };
            format!("{from} -> {to} ({why})")
        }
        Output::Priority { from, to } => format!("effective priority {from} -> {to}"),
        Output::Rejected { from, error } => format!("rejected an advert from {from}: {error}"),
        Output::Log { message } => message.clone(),
        Output::LearnedInterval { interval } => {
            format!("learned the master's advert interval: {interval:?}")
        }
        Output::Notify(n) => match n {
            Notify::State { state, priority } => {
                format!("notify: {state} (priority {priority})")
            }
            Notify::Priority { state, priority } => {
                format!("notify: priority {priority} as {state}")
            }
            Notify::MasterRxLowerPri { priority } => {
                format!("notify: a lower-priority advert ({priority}) reached the master")
            }
            Notify::Deleted { .. } => "notify: removed by a reload".to_string(),
        },
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// What a line from the daemon means for the console; an error ends the session when it is
/// about the session itself (version, hello).
fn message(line: &str) -> Result<Option<Msg>, String> {
    if let Ok(ev) = serde_json::from_str::<EventLine>(line) {
        let text = match ev.event {
            Event::Log { line } => line,
            Event::Vrrp { source, output } => format!("{source}: {}", describe(&output)),
        };
        return Ok(Some(Msg::Event(text)));
    }
    let Ok(reply) = serde_json::from_str::<Reply>(line) else {
        return Ok(None);
    };
    Ok(match reply.result {
        ReplyResult::Ok(Answer::Hello { admin, .. }) => Some(Msg::Connected { admin }),
        ReplyResult::Ok(Answer::Status(s)) => Some(Msg::Status(s)),
        ReplyResult::Ok(Answer::Config { path, text }) => Some(Msg::Config { path, text }),
        ReplyResult::Ok(Answer::Applied { backup }) => Some(Msg::Applied(Ok(backup))),
        ReplyResult::Ok(Answer::Segment(s)) => Some(Msg::Segment(s)),
        ReplyResult::Ok(_) => None,
        ReplyResult::Error(e)
            if matches!(e.code.as_str(), "version" | "hello_first" | "stopping") =>
        {
            return Err(format!("{}: {}", e.code, e.message));
        }
        // Refusals of an apply (invalid_config, permission, io) go to the editor.
        ReplyResult::Error(e) => Some(Msg::Applied(Err((
            format!("{}: {}", e.code, e.message),
            e.diagnostics,
        )))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::vrrp::State;

    #[test]
    fn events_read_as_sentences() {
        let line = r#"{"event":{"kind":"vrrp","source":"VI_1","output":{"state_change":{"from":"BACKUP","to":"MASTER","reason":"master_down"}}}}"#;
        let Ok(Some(Msg::Event(text))) = message(line) else {
            panic!("not an event")
        };
        assert_eq!(
            text,
            "VI_1: BACKUP -> MASTER (no advert within Master_Down_Interval)"
        );
        let o = Output::StateChange {
            from: State::Master,
            to: State::Backup,
            reason: Reason::Preempted {
                from: "10.0.0.3".parse().unwrap(),
                priority: 200,
            },
        };
        assert_eq!(
            describe(&o),
            "MASTER -> BACKUP (preempted by 10.0.0.3 with priority 200)"
        );
        let refused = r#"{"id":4,"error":{"code":"permission","message":"apply needs admin"}}"#;
        assert!(matches!(message(refused), Ok(Some(Msg::Applied(Err(_))))));
        let version = r#"{"id":1,"error":{"code":"version","message":"speaks 2"}}"#;
        assert!(
            message(version).is_err(),
            "a version mismatch ends the session"
        );
    }
}
