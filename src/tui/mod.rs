//! `kaconsole tui`: the live console. A connection task talks to the daemon's control socket
//! (status every half second, events as they come, reconnecting when the daemon goes away),
//! the keyboard comes from crossterm's event stream, and both become [`Msg`]s for the model;
//! the screen is redrawn from the model. Nothing here waits on the socket.

pub mod model;
pub mod view;

use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use self::model::{Action, Model, Msg};
use crate::control::protocol::{Answer, EventLine, Reply, ReplyResult, Request, RequestBody};

/// Runs the console until the user quits.
pub fn run(socket: &str) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut terminal = ratatui::init();
        let result = main_loop(&mut terminal, socket).await;
        ratatui::restore();
        result
    })
}

async fn main_loop(terminal: &mut ratatui::DefaultTerminal, socket: &str) -> std::io::Result<()> {
    let mut model = Model::new(socket);
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(connection(socket.to_string(), tx));
    let mut keys = EventStream::new();
    loop {
        terminal.draw(|f| view::draw(f, &model))?;
        let msg = tokio::select! {
            Some(m) = rx.recv() => m,
            Some(Ok(e)) = keys.next() => match e {
                TermEvent::Key(k) if k.kind == KeyEventKind::Press => Msg::Key(k),
                _ => continue,
            },
        };
        if model.update(msg) == Action::Quit {
            return Ok(());
        }
        // Take whatever else arrived before drawing again.
        while let Ok(m) = rx.try_recv() {
            if model.update(m) == Action::Quit {
                return Ok(());
            }
        }
    }
}

/// Keeps a connection to the daemon: hello, subscribe, status every 500 ms; on any error, says
/// so and tries again a second later.
async fn connection(socket: String, tx: mpsc::UnboundedSender<Msg>) {
    loop {
        let why = match session(&socket, &tx).await {
            Ok(()) => "the daemon closed the connection".to_string(),
            Err(e) => e,
        };
        if tx.send(Msg::Disconnected(why)).is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn session(socket: &str, tx: &mpsc::UnboundedSender<Msg>) -> Result<(), String> {
    let stream = UnixStream::connect(socket)
        .await
        .map_err(|e| e.to_string())?;
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r).lines();
    let mut id = 0u64;
    let mut send = async |body: RequestBody, w: &mut tokio::net::unix::OwnedWriteHalf| {
        id += 1;
        let mut l = serde_json::to_string(&Request { id, body }).unwrap_or_default();
        l.push('\n');
        w.write_all(l.as_bytes()).await.map_err(|e| e.to_string())
    };
    send(
        RequestBody::Hello {
            version: crate::control::protocol::VERSION,
        },
        &mut w,
    )
    .await?;
    send(RequestBody::Subscribe, &mut w).await?;
    let _ = tx.send(Msg::Connected);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tick.tick() => send(RequestBody::Status, &mut w).await?,
            line = lines.next_line() => {
                let Some(line) = line.map_err(|e| e.to_string())? else {
                    return Ok(());
                };
                if let Ok(ev) = serde_json::from_str::<EventLine>(&line) {
                    let text = match ev.event {
                        crate::control::protocol::Event::Log { line } => line,
                        crate::control::protocol::Event::Vrrp { source, output } => {
                            format!("{source}: {}", serde_json::to_string(&output).unwrap_or_default())
                        }
                    };
                    let _ = tx.send(Msg::Event(text));
                    continue;
                }
                match serde_json::from_str::<Reply>(&line) {
                    Ok(Reply { result: ReplyResult::Ok(Answer::Status(s)), .. }) => {
                        let _ = tx.send(Msg::Status(s));
                    }
                    Ok(Reply { result: ReplyResult::Error(e), .. }) => {
                        return Err(format!("{}: {}", e.code, e.message));
                    }
                    _ => {}
                }
            }
        }
    }
}
