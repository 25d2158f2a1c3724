//! One client's connection: lines of at most `MAX_LINE` bytes; the hello within
//! [`HELLO_TIMEOUT`]; then requests, and a client that has not subscribed and sends nothing for
//! [`IDLE_TIMEOUT`] is closed. Replies and events go out through the client's [`Outbox`],
//! bounded in bytes: a client that lets it fill is not reading, and is dropped - nobody else
//! waits for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, watch};

use super::Shared;
use super::admission::{Peer, Ticket};
use super::requests;
use crate::control::protocol::{MAX_LINE, Reply, Request};

/// The time a new client has to say hello.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// The time a client that has not subscribed may stay silent.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Bytes queued for one client before it counts as not reading - or twice its longest line,
/// if more (a status of a thousand instances is about 650 KB): what a client can make the
/// daemon hold is bounded by the daemon's own configuration, never by the client.
pub const OUTBOX_BYTES: usize = 256 << 10;
/// Lines queued for one client before it counts as not reading.
pub const OUTBOX_LINES: usize = 1024;

/// A reply as a line.
pub fn line(r: &Reply) -> String {
    let mut s = serde_json::to_string(r).unwrap_or_default();
    s.push('\n');
    s
}

/// A client's outgoing lines, bounded in lines and in bytes.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<String>,
    queued: Arc<Queued>,
    /// Set when the outbox overflows: the connection is closed.
    overflow: watch::Sender<bool>,
}

impl Outbox {
    /// Queues a line; `false` when the client's queue is full (the client is then dropped).
    pub fn push(&self, line: String) -> bool {
        if !self.queued.take(line.len()) {
            let _ = self.overflow.send(true);
            return false;
        }
        self.tx.send(line).is_ok()
    }

    /// The client fell too far behind (its events lagged): it is dropped.
    pub fn overflowed(&self) {
        let _ = self.overflow.send(true);
    }
}

/// What a client's outbox holds, and the longest line it was given.
#[derive(Default)]
struct Queued {
    lines: AtomicUsize,
    bytes: AtomicUsize,
    longest: AtomicUsize,
}

impl Queued {
    /// Counts a line of `n` bytes in, if it fits.
    fn take(&self, n: usize) -> bool {
        let longest = self.longest.fetch_max(n, Ordering::Relaxed).max(n);
        let cap = OUTBOX_BYTES.max(2 * longest);
        let bytes = self.bytes.fetch_add(n, Ordering::Relaxed) + n;
        let lines = self.lines.fetch_add(1, Ordering::Relaxed) + 1;
        if bytes > cap || lines > OUTBOX_LINES {
            self.give_back(n);
            return false;
        }
        true
    }

    /// Counts a line of `n` bytes out (written, or refused).
    fn give_back(&self, n: usize) {
        self.bytes.fetch_sub(n, Ordering::Relaxed);
        self.lines.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What the requests of one connection share.
pub struct Conn {
    pub peer: Peer,
    pub said_hello: bool,
    /// Events flow to this client (one subscription per connection), through this task.
    pub subscribed: bool,
    pub forwarder: Option<tokio::task::JoinHandle<()>>,
    pub outbox: Outbox,
}

/// How a connection ended.
enum End {
    /// The client left, or broke the protocol (told why).
    Closed,
    /// It did not read its replies: dropped at once.
    NotReading,
}

pub async fn serve(stream: UnixStream, peer: Peer, ticket: Ticket, shared: Arc<Shared>) {
    let _place = ticket;
    let (r, mut w) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let queued = Arc::new(Queued::default());
    let (overflow, overflowed) = watch::channel(false);
    let writer = {
        let queued = queued.clone();
        tokio::spawn(async move {
            while let Some(l) = rx.recv().await {
                if w.write_all(l.as_bytes()).await.is_err() {
                    return;
                }
                queued.give_back(l.len());
            }
        })
    };
    let outbox = Outbox {
        tx,
        queued,
        overflow,
    };
    let mut conn = Conn {
        peer,
        said_hello: false,
        subscribed: false,
        forwarder: None,
        outbox,
    };
    let end = read_requests(BufReader::new(r), &mut conn, overflowed, &shared).await;
    if let Some(f) = conn.forwarder.take() {
        f.abort();
    }
    drop(conn);
    match end {
        End::NotReading => {
            shared
                .dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // A client that does not read loses what is queued: the connection closes now.
            writer.abort();
        }
        End::Closed => {
            // The last replies (an error for an oversized line, say) still go out, briefly.
            let abort = writer.abort_handle();
            if tokio::time::timeout(Duration::from_secs(1), writer)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

/// Reads and answers requests until the client leaves, breaks the protocol or stops reading.
async fn read_requests(
    mut reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    conn: &mut Conn,
    mut overflowed: watch::Receiver<bool>,
    shared: &Arc<Shared>,
) -> End {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let limit = if !conn.said_hello {
            Some((HELLO_TIMEOUT, "no hello"))
        } else if conn.subscribed {
            None
        } else {
            Some((IDLE_TIMEOUT, "idle"))
        };
        let read = read_line(&mut reader, &mut buf, limit.map(|(t, _)| t));
        let n = tokio::select! {
            r = read => r,
            _ = overflowed.changed() => return End::NotReading,
        };
        let reply = match n {
            Err(ReadError::TimedOut) => {
                let (t, what) = limit.unwrap_or((IDLE_TIMEOUT, "idle"));
                let why = format!("{what} within {} s: closing", t.as_secs());
                conn.outbox.push(line(&Reply::error(0, "timeout", why)));
                return End::Closed;
            }
            Err(ReadError::Gone) | Ok(0) => return End::Closed,
            Ok(n) if n > MAX_LINE => {
                conn.outbox
                    .push(line(&Reply::error(0, "bad_request", "line too long")));
                return End::Closed;
            }
            Ok(_) => match serde_json::from_slice::<Request>(&buf) {
                Err(e) => line(&Reply::error(
                    0,
                    "bad_request",
                    format!("not a request: {e}"),
                )),
                Ok(req) => requests::handle(req, conn, shared).await,
            },
        };
        if !conn.outbox.push(reply) {
            return End::NotReading;
        }
    }
}

enum ReadError {
    TimedOut,
    Gone,
}

/// One line of at most `MAX_LINE` bytes (one more is read to tell that it is longer).
async fn read_line(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    buf: &mut Vec<u8>,
    limit: Option<Duration>,
) -> Result<usize, ReadError> {
    let mut limited = (&mut *reader).take(MAX_LINE as u64 + 1);
    let read = limited.read_until(b'\n', buf);
    let r = match limit {
        Some(t) => tokio::time::timeout(t, read)
            .await
            .map_err(|_| ReadError::TimedOut)?,
        None => read.await,
    };
    r.map_err(|_| ReadError::Gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outbox_holds_a_bounded_number_of_lines_and_bytes() {
        let q = Queued::default();
        let fit = OUTBOX_BYTES / 1000;
        for _ in 0..fit {
            assert!(q.take(1000));
        }
        assert!(!q.take(1000), "the bytes are full");
        for _ in 0..fit {
            q.give_back(1000);
        }
        // A line longer than the bound goes through, and twice its length may be queued.
        assert!(q.take(3 * OUTBOX_BYTES));
        assert!(q.take(2 * OUTBOX_BYTES));
        assert!(!q.take(OUTBOX_BYTES + 1));
        q.give_back(3 * OUTBOX_BYTES);
        q.give_back(2 * OUTBOX_BYTES);
        for _ in 0..OUTBOX_LINES {
            assert!(q.take(1));
        }
        assert!(!q.take(1), "the lines are full");
        assert_eq!(q.bytes.load(Ordering::Relaxed), OUTBOX_LINES);
    }
}
