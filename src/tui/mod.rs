//! `kaconsole tui`: the live console. A connection task talks to the daemon's control socket
//! (status every half second, events as they come, reconnecting when the daemon goes away),
//! the keyboard comes from crossterm's event stream, and both become [`Msg`]s for the model;
//! the screen is redrawn from the model. Nothing here waits on the socket.

pub mod connect;
pub mod editor;
pub mod findings;
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
    /// Whether a key of the map does something here (the simulated lab cannot pause a
    /// router): keys that do not are left to the console, and out of the help.
    fn handles(&self, _action: A) -> bool {
        true
    }
    /// Does what a key of the map says.
    fn act(&mut self, action: A) -> ExtensionAction;
    /// Lines shown under the console's header.
    fn lines(&mut self) -> Vec<String>;
    /// The node the console shows now (an index in the targets it was started with).
    fn shown(&mut self, _node: usize) {}
    /// The keys for the help: the map's rows that do something here.
    fn section(&self) -> keymap::Section {
        let mut s = self.keymap().section();
        let map = self.keymap();
        s.rows = map
            .rows
            .iter()
            .filter(|r| r.keys.iter().any(|(_, a)| self.handles(*a)))
            .map(|r| (r.label(), r.hint.to_string()))
            .collect();
        s
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtensionAction {
    None,
    /// Attach to another daemon.
    Connect(String),
    /// Show the next (true) or previous node.
    Switch(bool),
    /// End the console.
    Quit,
}

/// The console draws on a terminal and reads keys from it: without one (a pipe, a cron job,
/// `</dev/null`) it says so in one line instead of writing escape codes.
pub fn require_terminal() -> Result<(), String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(
            "kaconsole tui needs a terminal on stdin and stdout; for scripts use \
             `kaconsole status` or the control socket"
                .into(),
        )
    }
}

/// A daemon to attach to: its control socket here, or a command whose stdin and stdout are
/// joined to one (`ssh HOST kaconsole attach`, `ip netns exec NS kaconsole attach`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Socket(String),
    Command { label: String, argv: Vec<String> },
}

impl Target {
    /// How the console names it until the daemon says its name.
    pub fn label(&self) -> String {
        match self {
            Target::Socket(s) => s.clone(),
            Target::Command { label, .. } => label.clone(),
        }
    }
}

/// Runs the console until the user quits.
pub fn run(socket: &str) -> std::io::Result<()> {
    run_with::<()>(&[Target::Socket(socket.to_string())], None)
}

/// Runs the console on several daemons at once until the user quits.
pub fn run_cluster(targets: &[Target]) -> std::io::Result<()> {
    run_with::<()>(targets, None)
}

/// Runs the console with an extension until the user quits.
pub fn run_with<A: Copy + 'static>(
    targets: &[Target],
    ext: Option<&mut dyn Extension<A>>,
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut terminal = ratatui::try_init()?;
        // Clicks select, the wheel scrolls.
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
        let result = main_loop(&mut terminal, targets, ext).await;
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        ratatui::restore();
        result
    })
}

/// The connections to the nodes: one task each, their messages tagged with the node's index.
struct Links {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    requests: Vec<mpsc::UnboundedSender<RequestBody>>,
    rx: mpsc::UnboundedReceiver<Msg>,
}

impl Links {
    fn start(targets: &[Target]) -> Links {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut links = Links {
            tasks: Vec::new(),
            requests: Vec::new(),
            rx,
        };
        for (k, t) in targets.iter().enumerate() {
            let (requests, request_rx) = mpsc::unbounded_channel();
            links.requests.push(requests);
            links.tasks.push(tokio::spawn(connection(
                t.clone(),
                k,
                tx.clone(),
                request_rx,
            )));
        }
        links
    }

    fn stop(&self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

async fn main_loop<A: Copy + 'static>(
    terminal: &mut ratatui::DefaultTerminal,
    targets: &[Target],
    mut ext: Option<&mut dyn Extension<A>>,
) -> std::io::Result<()> {
    let labels: Vec<String> = targets.iter().map(Target::label).collect();
    let mut model = Model::cluster(&labels);
    if let Some(e) = ext.as_deref() {
        model.extension_keys = vec![e.section()];
    }
    let mut links = Links::start(targets);
    let mut keys = EventStream::new();
    // The screen is redrawn at least this often: data ages, the clock, the extension's lines.
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
            e.shown(model.current);
            model.extension = e.lines();
        }
        model.now = std::time::Instant::now();
        model.clock = model::wall_clock(std::time::SystemTime::now());
        if terminal.draw(|f| view::draw(f, &model)).is_err() {
            // The terminal is gone (a closed window) before its SIGHUP was taken: end as on
            // a hangup, so that whatever runs the console (the lab) still cleans up.
            detach_from_terminal();
            links.stop();
            return Ok(());
        }
        let msg = if let Some(k) = queued.take() {
            Msg::Key(k)
        } else {
            tokio::select! {
            Some(m) = links.rx.recv() => m,
            Some(Ok(e)) = keys.next() => match e {
                TermEvent::Key(k) if k.kind == KeyEventKind::Press => {
                    let (first, then) = keymap::split_escape(k);
                    queued = then;
                    Msg::Key(first)
                }
                TermEvent::Mouse(me) => {
                    let size = terminal.size()?;
                    let size = ratatui::layout::Rect::new(0, 0, size.width, size.height);
                    match mouse(&model, size, me) {
                        Some(m) => m,
                        None => continue,
                    }
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
            && let Some(action) = e.keymap().lookup(k).filter(|a| e.handles(*a))
        {
            e.shown(model.current);
            match e.act(action) {
                ExtensionAction::Switch(forward) => {
                    let n = model.nodes.len();
                    let k = if forward {
                        (model.current + 1) % n
                    } else {
                        (model.current + n - 1) % n
                    };
                    if let Action::Send(r) = model.switch_node(k)
                        && let Some(requests) = links.requests.get(k)
                    {
                        let _ = requests.send(r);
                    }
                    e.shown(model.current);
                }
                ExtensionAction::Connect(socket) => {
                    // A new connection, with new channels: nothing of the old one arrives late.
                    links.stop();
                    links = Links::start(&[Target::Socket(socket.clone())]);
                    model.attach(&socket);
                }
                ExtensionAction::Quit => {
                    links.stop();
                    return Ok(());
                }
                ExtensionAction::None => {}
            }
            continue;
        }
        // Take whatever else arrived before drawing again.
        let mut next = Some(msg);
        while let Some(m) = next.take().or_else(|| links.rx.try_recv().ok()) {
            model.now = std::time::Instant::now();
            match model.update(m) {
                Action::Quit => {
                    links.stop();
                    return Ok(());
                }
                Action::Send(r) => {
                    if let Some(requests) = links.requests.get(model.current) {
                        let _ = requests.send(r);
                    }
                }
                Action::None => {}
            }
        }
    }
}

/// What a mouse event means: a left click on a row of the overview selects it, the wheel
/// scrolls like the arrow keys (in every view).
fn mouse(
    model: &Model,
    size: ratatui::layout::Rect,
    me: crossterm::event::MouseEvent,
) -> Option<Msg> {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEventKind};
    let key = |c| Some(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    match me.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            view::clicked_row(model, size, me.row).map(Msg::Click)
        }
        MouseEventKind::ScrollDown => key(KeyCode::Down),
        MouseEventKind::ScrollUp => key(KeyCode::Up),
        _ => None,
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

/// Keeps a connection to node `k`: hello, subscribe, the configuration, then status every
/// 500 ms and the console's requests; on any error, says so and tries again a second later.
async fn connection(
    target: Target,
    k: usize,
    tx: mpsc::UnboundedSender<Msg>,
    mut requests: mpsc::UnboundedReceiver<RequestBody>,
) {
    let (node_tx, mut node_rx) = mpsc::unbounded_channel::<Msg>();
    // The node's messages, tagged.
    let forward = {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(m) = node_rx.recv().await {
                if tx.send(Msg::From(k, Box::new(m))).is_err() {
                    return;
                }
            }
        })
    };
    loop {
        let why = match session(&target, &node_tx, &mut requests).await {
            Ok(()) => "the daemon closed the connection".to_string(),
            Err(e) => e,
        };
        if node_tx.send(Msg::Disconnected(why)).is_err() || tx.is_closed() {
            forward.abort();
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

type Reader = Box<dyn tokio::io::AsyncRead + Unpin + Send>;
type Writer = Box<dyn tokio::io::AsyncWrite + Unpin + Send>;

/// The two ends of a connection to a daemon, and the command behind it (killed on drop).
async fn open(target: &Target) -> Result<(Reader, Writer, Option<tokio::process::Child>), String> {
    match target {
        Target::Socket(socket) => {
            let stream = UnixStream::connect(socket)
                .await
                .map_err(|e| connect::explain(socket, &e))?;
            let (r, w) = stream.into_split();
            Ok((Box::new(r), Box::new(w), None))
        }
        Target::Command { label, argv } => {
            let (program, args) = argv.split_first().ok_or("an empty command")?;
            let mut child = tokio::process::Command::new(program)
                .args(args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("{label}: cannot run {program}: {e}"))?;
            let (Some(w), Some(r)) = (child.stdin.take(), child.stdout.take()) else {
                return Err(format!("{label}: no pipes"));
            };
            Ok((Box::new(r), Box::new(w), Some(child)))
        }
    }
}

/// Why a command's connection ended: its last line on stderr (ssh's "Permission denied",
/// attach's own message), else its exit status.
async fn command_end(child: Option<tokio::process::Child>, why: String) -> String {
    let Some(mut child) = child else {
        return why;
    };
    let status = tokio::time::timeout(Duration::from_millis(500), child.wait()).await;
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 4096];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(200), e.read(&mut buf)).await
        {
            err = String::from_utf8_lossy(&buf[..n]).trim().to_string();
        }
    }
    let _ = child.start_kill();
    match (err.lines().last(), status) {
        (Some(l), _) if !l.is_empty() => l.to_string(),
        (_, Ok(Ok(s))) => format!("{why} (the command {s})"),
        _ => why,
    }
}

async fn session(
    target: &Target,
    tx: &mpsc::UnboundedSender<Msg>,
    requests: &mut mpsc::UnboundedReceiver<RequestBody>,
) -> Result<(), String> {
    let (r, mut w, child) = open(target).await?;
    let result = exchange(r, &mut w, tx, requests).await;
    if child.is_none() {
        return result;
    }
    drop(w);
    let why = match result {
        Ok(()) => "the connection closed".to_string(),
        Err(e) => e,
    };
    Err(command_end(child, why).await)
}

async fn exchange(
    r: Reader,
    w: &mut Writer,
    tx: &mpsc::UnboundedSender<Msg>,
    requests: &mut mpsc::UnboundedReceiver<RequestBody>,
) -> Result<(), String> {
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

/// An event in words, or None for the copies of a transition: the daemon reports one as a
/// state change (with its reason), a notify and a log line; the console shows it once.
fn event_text(event: Event) -> Option<String> {
    match event {
        Event::Vrrp {
            output: Output::Notify(Notify::State { .. }),
            ..
        } => None,
        Event::Vrrp { source, output } => Some(format!("{source}: {}", describe(&output))),
        Event::Log { line } => {
            let line = strip_timestamp(&line);
            // "(VI_1) Entering MASTER STATE", "(VI_1) Entering BACKUP STATE (init)".
            let transition =
                line.starts_with('(') && line.contains(") Entering ") && line.contains(" STATE");
            (!transition).then(|| line.to_string())
        }
    }
}

/// A log line without the daemon's `2026-11-22 07:00:00.123: ` (the console shows the time).
fn strip_timestamp(line: &str) -> &str {
    let b = line.as_bytes();
    let stamp = b.len() > 21
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && b[..4].iter().all(u8::is_ascii_digit);
    match line.find(": ") {
        Some(end) if stamp && end <= 26 => &line[end + 2..],
        _ => line,
    }
}

/// What a line from the daemon means for the console; an error ends the session when it is
/// about the session itself (version, hello).
fn message(line: &str) -> Result<Option<Msg>, String> {
    if let Ok(ev) = serde_json::from_str::<EventLine>(line) {
        let at = match ev.at_ms {
            Some(ms) => std::time::UNIX_EPOCH + Duration::from_millis(ms),
            None => std::time::SystemTime::now(),
        };
        return Ok(
            event_text(ev.event).map(|t| Msg::Event(format!("{} {t}", model::wall_clock(at))))
        );
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
            &text[8..],
            " VI_1: BACKUP -> MASTER (no advert within Master_Down_Interval)",
            "with the time it arrived: {text}"
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
        // With the daemon's time; the transition's copies (notify, log line) are not shown.
        let at = r#"{"event":{"kind":"log","line":"2026-12-07 10:11:12.345: (VI_1) Entering MASTER STATE"},"at_ms":1796638272345}"#;
        assert!(matches!(message(at), Ok(None)), "{:?}", message(at));
        let init = r#"{"event":{"kind":"log","line":"(VI_1) Entering BACKUP STATE (init)"}}"#;
        assert!(matches!(message(init), Ok(None)), "{:?}", message(init));
        let at = r#"{"event":{"kind":"log","line":"2026-12-07 10:11:12.345: Reloading"},"at_ms":1796638272345}"#;
        let Ok(Some(Msg::Event(text))) = message(at) else {
            panic!("not an event")
        };
        assert_eq!(text, "10:11:12 Reloading");
        let notify = r#"{"event":{"kind":"vrrp","source":"VI_1","output":{"notify":{"state":{"state":"MASTER","priority":100}}}}}"#;
        assert!(matches!(message(notify), Ok(None)), "{:?}", message(notify));
        let refused = r#"{"id":4,"error":{"code":"permission","message":"apply needs admin"}}"#;
        assert!(matches!(message(refused), Ok(Some(Msg::Applied(Err(_))))));
        let version = r#"{"id":1,"error":{"code":"version","message":"speaks 2"}}"#;
        assert!(
            message(version).is_err(),
            "a version mismatch ends the session"
        );
    }
}
