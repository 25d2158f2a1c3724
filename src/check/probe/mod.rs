//! The probes: what a checker does once, each time the engine says
//! [`Output::Probe`](super::engine::Output::Probe). One file per kind, as keepalived has one
//! check_*.c per kind; [`run`] picks the right one and times it.

pub mod connect;
pub mod dns;
pub mod fetch;
pub mod file;
pub mod from_config;
pub mod line;
pub mod misc;
pub mod ping;
pub mod shorten;
pub mod smtp;
pub mod tls;
pub mod udp;
pub mod web;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::engine::Dynamic;

/// Where a probe goes and how it connects (the generic connection options of every checker).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `connect_ip`:`connect_port`, else the real server's address and port.
    pub addr: SocketAddr,
    /// `bindto` / `bind_port`: the source of the connection.
    pub bind: Option<IpAddr>,
    pub bind_port: Option<u16>,
    /// `bind_if`: SO_BINDTODEVICE.
    pub bind_if: Option<String>,
    /// `fwmark`: SO_MARK on every packet of the probe.
    pub fwmark: Option<u32>,
    /// `connect_timeout`: the whole probe has this long.
    pub timeout: Duration,
}

impl Target {
    pub fn new(addr: SocketAddr, timeout: Duration) -> Target {
        Target {
            addr,
            bind: None,
            bind_port: None,
            bind_if: None,
            fwmark: None,
            timeout,
        }
    }
}

/// One checker's probe, with every option resolved.
#[derive(Clone, Debug)]
pub enum Probe {
    /// TCP_CHECK: the connection completes (and is closed with a reset).
    Tcp,
    /// HTTP_GET / SSL_GET.
    Web(web::WebCheck),
    /// SMTP_CHECK: 220, HELO, 250, QUIT.
    Smtp { helo: String },
    /// DNS_CHECK: an answer with our ID and RCODE 0.
    Dns { qtype: u16, name: String },
    /// MISC_CHECK: a program's exit status.
    Misc(misc::MiscCheck),
    /// UDP_CHECK.
    Udp(udp::UdpCheck),
    /// PING_CHECK: an echo reply.
    Ping,
    /// FILE_CHECK: a number in a file.
    File(file::FileCheck),
}

impl Probe {
    /// keepalived's name for it.
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Tcp => "TCP_CHECK",
            Probe::Web(w) if w.tls => "SSL_GET",
            Probe::Web(_) => "HTTP_GET",
            Probe::Smtp { .. } => "SMTP_CHECK",
            Probe::Dns { .. } => "DNS_CHECK",
            Probe::Misc(_) => "MISC_CHECK",
            Probe::Udp(_) => "UDP_CHECK",
            Probe::Ping => "PING_CHECK",
            Probe::File(_) => "FILE_CHECK",
        }
    }
}

/// What one probe found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    /// MISC_CHECK's misc_dynamic and FILE_CHECK's weight.
    pub dynamic: Option<Dynamic>,
    /// Why it failed, or what it saw ("HTTP 200", "exit 3"), for the log and the console; at
    /// most [`shorten::MAX_DETAIL`] bytes and an ellipsis.
    pub detail: String,
    pub latency: Duration,
}

impl Outcome {
    fn pass(detail: impl Into<String>) -> Outcome {
        Outcome {
            ok: true,
            dynamic: None,
            detail: shorten::shorten(detail.into(), shorten::MAX_DETAIL),
            latency: Duration::ZERO,
        }
    }

    fn fail(detail: impl Into<String>) -> Outcome {
        Outcome {
            ok: false,
            ..Outcome::pass(detail)
        }
    }
}

/// A number nobody can predict (std's per-process random hash keys, mixed with a counter):
/// DNS query IDs, UDP payloads, echo tokens.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// Runs `probe` against `target` once.
pub async fn run(probe: &Probe, target: &Target) -> Outcome {
    let start = Instant::now();
    let mut outcome = match probe {
        Probe::Tcp => match connect::tcp(target).await {
            Ok(stream) => {
                connect::reset(stream);
                Outcome::pass("connected")
            }
            Err(e) => Outcome::fail(e.to_string()),
        },
        // Boxed: each probe is a task of its own, and a TCP_CHECK's task should not carry the
        // size of an HTTP exchange's buffers.
        Probe::Web(w) => Box::pin(web::check(w, target)).await,
        Probe::Smtp { helo } => Box::pin(smtp::check(helo, target)).await,
        Probe::Dns { qtype, name } => Box::pin(dns::check(*qtype, name, target)).await,
        Probe::Misc(m) => Box::pin(misc::check(m)).await,
        Probe::Udp(u) => Box::pin(udp::check(u, target)).await,
        Probe::Ping => Box::pin(ping::check(target)).await,
        Probe::File(f) => file::check(f),
    };
    outcome.latency = start.elapsed();
    outcome
}
