//! `--metrics ADDR:PORT`: /metrics over HTTP/1.x, on the control thread - never on the VRRP
//! loop. Each scrape costs the daemon at most the status and segment snapshots the consoles
//! share, and a rendering less than [`FRESH`] old is served again, so however many scrapers
//! come the loop builds a few snapshots a second. Bounded like the control socket: scrapes
//! at once, the request's size, the time to send it.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use super::Shared;
use super::requests::{daemon_stats, segment_json, status_json};
use crate::control::protocol::Status;
use crate::control::protocol::segment::Snapshot;

/// Scrapes served at once; more wait for a slot (the listen backlog holds them).
const SCRAPES_AT_ONCE: usize = 4;
/// The longest request head read.
const MAX_REQUEST: usize = 8 << 10;
/// The time a scraper has to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// A rendering this recent is served again.
const FRESH: Duration = Duration::from_millis(100);
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// The exposition's content type (text format 0.0.4).
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub struct Metrics {
    shared: Arc<Shared>,
    slots: Semaphore,
    last: Mutex<Option<(Instant, Arc<str>)>>,
}

/// The accept loop serving `listener`.
pub async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>) {
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    let metrics = Arc::new(Metrics {
        shared,
        slots: Semaphore::new(SCRAPES_AT_ONCE),
        last: Mutex::new(None),
    });
    loop {
        let Ok(permit) = metrics.slots.acquire().await else {
            return;
        };
        permit.forget();
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                metrics.slots.add_permits(1);
                tokio::time::sleep(ACCEPT_PAUSE).await;
                continue;
            }
        };
        let m = metrics.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REQUEST_TIMEOUT * 2, m.scrape(stream)).await;
            m.slots.add_permits(1);
        });
    }
}

impl Metrics {
    async fn scrape(&self, mut stream: TcpStream) {
        let head = match tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut stream)).await {
            Ok(Some(h)) => h,
            _ => {
                return respond(
                    &mut stream,
                    "400 Bad Request",
                    "text/plain",
                    "bad request\n",
                )
                .await;
            }
        };
        let mut words = head.split_whitespace();
        let (method, path) = (words.next(), words.next().map(|p| p.split('?').next()));
        match (method, path) {
            (Some("GET"), Some(Some("/metrics"))) => {}
            (Some("GET"), Some(Some("/"))) => {
                let body = "kaconsole: the metrics are at /metrics\n";
                return respond(&mut stream, "200 OK", "text/plain", body).await;
            }
            (Some("GET"), _) => {
                return respond(&mut stream, "404 Not Found", "text/plain", "not found\n").await;
            }
            _ => {
                let body = "only GET\n";
                return respond(&mut stream, "405 Method Not Allowed", "text/plain", body).await;
            }
        }
        match self.text().await {
            Some(body) => respond(&mut stream, "200 OK", CONTENT_TYPE, &body).await,
            None => {
                let body = "the daemon is stopping\n";
                respond(&mut stream, "503 Service Unavailable", "text/plain", body).await
            }
        }
    }

    /// The exposition: the last one if it is fresh, else a new one.
    async fn text(&self) -> Option<Arc<str>> {
        let mut last = self.last.lock().await;
        if let Some((at, text)) = last.as_ref()
            && at.elapsed() < FRESH
        {
            return Some(text.clone());
        }
        let status: Status = serde_json::from_str(&status_json(&self.shared).await?).ok()?;
        let stats = daemon_stats(&self.shared).await?;
        let segment = segment_json(&self.shared).await;
        let segment: Option<Snapshot> = segment.and_then(|j| serde_json::from_str(&j).ok());
        let text: Arc<str> =
            crate::control::metrics::render(&status, &stats, segment.as_ref()).into();
        *last = Some((Instant::now(), text.clone()));
        Some(text)
    }
}

/// The request line and headers, up to the blank line; `None` if too long or cut.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
            return String::from_utf8(buf).ok();
        }
        if buf.len() > MAX_REQUEST {
            return None;
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}
