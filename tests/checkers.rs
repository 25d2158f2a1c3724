//! The probes against real servers that these tests start on loopback: HTTP (good, slow,
//! truncated, wrong status, wrong digest, garbage, reset), TLS with a certificate made here,
//! SMTP, DNS over UDP, MISC scripts, UDP with and without replies, FILE_CHECK, TCP and PING.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kaconsole::check::engine::Dynamic;
use kaconsole::check::http::Protocol;
use kaconsole::check::probe::file::FileCheck;
use kaconsole::check::probe::misc::MiscCheck;
use kaconsole::check::probe::udp::{ReplyPattern, UdpCheck};
use kaconsole::check::probe::web::{UrlCheck, WebCheck};
use kaconsole::check::probe::{Outcome, Probe, Target, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

fn target(addr: SocketAddr) -> Target {
    Target::new(addr, Duration::from_millis(700))
}

/// What a test server does with one connection.
type Handler = Arc<dyn Fn(TcpStream) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>;

async fn tcp_server(handler: Handler) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(handler(s));
        }
    });
    addr
}

/// Reads a request header; returns it.
async fn read_head(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut b).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&b[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// An HTTP server answering every request with `reply` after `delay`; requests are kept.
async fn http_server(
    reply: &'static [u8],
    delay: Duration,
) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = tcp_server(Arc::new(move |mut s: TcpStream| {
        let log = log.clone();
        Box::pin(async move {
            let head = read_head(&mut s).await;
            log.lock().unwrap().push(head);
            tokio::time::sleep(delay).await;
            let _ = s.write_all(reply).await;
        })
    }))
    .await;
    (addr, seen)
}

fn url(path: &str) -> UrlCheck {
    UrlCheck {
        path: path.into(),
        vhost: None,
        digest: None,
        status: Vec::new(),
        regex: None,
        regex_no_match: false,
    }
}

fn web(urls: Vec<UrlCheck>) -> Probe {
    Probe::Web(WebCheck {
        urls,
        protocol: Protocol::Http10,
        tls: false,
        sni: false,
    })
}

const OK: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 16\r\n\r\nhello kaconsole\n";
/// md5sum of "hello kaconsole\n".
const OK_MD5: [u8; 16] = [
    0x1b, 0x75, 0x31, 0xe5, 0x9d, 0xf8, 0x44, 0x85, 0x64, 0x83, 0x01, 0x5e, 0xbc, 0xec, 0x5e, 0x79,
];

async fn http_outcome(reply: &'static [u8], delay: Duration, url: UrlCheck) -> Outcome {
    let (addr, _) = http_server(reply, delay).await;
    run(&web(vec![url]), &target(addr)).await
}

#[tokio::test]
async fn http_get_passes_on_a_good_page_and_fails_on_each_kind_of_bad_one() {
    let ok = http_outcome(OK, Duration::ZERO, url("/")).await;
    assert!(ok.ok, "{ok:?}");
    assert!(ok.detail.contains("HTTP 200"), "{ok:?}");

    let mut with_digest = url("/");
    with_digest.digest = Some(OK_MD5);
    assert!(
        http_outcome(OK, Duration::ZERO, with_digest.clone())
            .await
            .ok
    );
    with_digest.digest = Some([0; 16]);
    let wrong = http_outcome(OK, Duration::ZERO, with_digest).await;
    assert!(
        !wrong.ok && wrong.detail.contains("MD5 digest"),
        "{wrong:?}"
    );

    let status = http_outcome(b"HTTP/1.0 500 Oops\r\n\r\nx", Duration::ZERO, url("/")).await;
    assert!(!status.ok && status.detail.contains("500"), "{status:?}");
    let mut accept_500 = url("/");
    accept_500.status = vec![(500, 503)];
    assert!(
        http_outcome(b"HTTP/1.0 500 Oops\r\n\r\nx", Duration::ZERO, accept_500)
            .await
            .ok
    );

    let slow = http_outcome(OK, Duration::from_secs(3), url("/")).await;
    assert!(!slow.ok && slow.detail.contains("timeout"), "{slow:?}");
    assert!(
        slow.latency < Duration::from_secs(2),
        "connect_timeout bounds it"
    );

    let truncated = http_outcome(
        b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nshort",
        Duration::ZERO,
        url("/"),
    )
    .await;
    assert!(
        !truncated.ok && truncated.detail.contains("shorter"),
        "{truncated:?}"
    );

    let garbage = http_outcome(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", Duration::ZERO, url("/")).await;
    assert!(
        !garbage.ok && garbage.detail.contains("status line"),
        "{garbage:?}"
    );

    let silent_close = http_outcome(b"", Duration::ZERO, url("/")).await;
    assert!(
        !silent_close.ok && silent_close.detail.contains("no data"),
        "{silent_close:?}"
    );

    let mut re = url("/");
    re.regex = Some(regex::bytes::Regex::new("hello k.*").unwrap());
    assert!(http_outcome(OK, Duration::ZERO, re.clone()).await.ok);
    re.regex_no_match = true;
    assert!(
        !http_outcome(OK, Duration::ZERO, re).await.ok,
        "regex_no_match"
    );
}

#[tokio::test]
async fn a_connection_reset_fails_http_get() {
    let addr = tcp_server(Arc::new(|s: TcpStream| {
        Box::pin(async move {
            // SO_LINGER 0: close sends RST.
            let _ = s.set_zero_linger();
            drop(s);
        })
    }))
    .await;
    let o = run(&web(vec![url("/")]), &target(addr)).await;
    assert!(!o.ok, "{o:?}");
}

#[tokio::test]
async fn every_url_must_pass_and_each_sends_its_own_request() {
    let (addr, seen) = http_server(OK, Duration::ZERO).await;
    let mut b = url("/b");
    b.vhost = Some("www.example.com".into());
    let o = run(&web(vec![url("/a"), b]), &target(addr)).await;
    assert!(o.ok, "{o:?}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(seen[0].starts_with("GET /a HTTP/1.0\r\n"), "{seen:?}");
    assert!(seen[1].contains("Host: www.example.com\r\n"), "{seen:?}");

    let mut bad = url("/b");
    bad.digest = Some([1; 16]);
    let o = run(&web(vec![url("/a"), bad]), &target(addr)).await;
    assert!(
        !o.ok && o.detail.contains("/b"),
        "the failing URL is named: {o:?}"
    );
}

#[tokio::test]
async fn ssl_get_talks_tls_to_a_self_signed_server_and_sends_sni_only_when_asked() {
    let (addr, names) = tls::server(OK).await;
    let mut u = url("/");
    u.vhost = Some("www.example.com".into());
    u.digest = Some(OK_MD5);
    let probe = |sni| {
        Probe::Web(WebCheck {
            urls: vec![u.clone()],
            protocol: Protocol::Http11,
            tls: true,
            sni,
        })
    };
    let o = run(&probe(false), &target(addr)).await;
    assert!(o.ok, "no certificate verification, as keepalived: {o:?}");
    let o = run(&probe(true), &target(addr)).await;
    assert!(o.ok, "{o:?}");
    assert_eq!(
        names.lock().unwrap().clone(),
        [None, Some("www.example.com".to_string())]
    );
    // Plain HTTP to a TLS port fails.
    assert!(!run(&web(vec![url("/")]), &target(addr)).await.ok);
}

mod tls {
    use super::*;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::TlsAcceptor;

    /// A TLS server with a certificate made now; it records the SNI of each connection.
    pub async fn server(reply: &'static [u8]) -> (SocketAddr, Arc<Mutex<Vec<Option<String>>>>) {
        let cert = rcgen::generate_simple_self_signed(vec!["backend.test".into()]).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let names = Arc::new(Mutex::new(Vec::new()));
        let seen = names.clone();
        let addr = tcp_server(Arc::new(move |s: TcpStream| {
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            Box::pin(async move {
                let Ok(mut tls) = acceptor.accept(s).await else {
                    return;
                };
                let sni = tls.get_ref().1.server_name().map(str::to_string);
                seen.lock().unwrap().push(sni);
                let mut buf = vec![0u8; 1024];
                let _ = tls.read(&mut buf).await;
                let _ = tls.write_all(reply).await;
                let _ = tls.shutdown().await;
            })
        }))
        .await;
        (addr, names)
    }
}

/// An SMTP server speaking `banner`, then answering HELO with `helo_reply`; it records what
/// the client said.
async fn smtp_server(
    banner: &'static str,
    helo_reply: &'static str,
) -> (SocketAddr, Arc<Mutex<String>>) {
    let said = Arc::new(Mutex::new(String::new()));
    let log = said.clone();
    let addr = tcp_server(Arc::new(move |mut s: TcpStream| {
        let log = log.clone();
        Box::pin(async move {
            let _ = s.write_all(banner.as_bytes()).await;
            let mut buf = [0u8; 256];
            for reply in [helo_reply, "221 bye\r\n"] {
                let Ok(n) = s.read(&mut buf).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                log.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
                let _ = s.write_all(reply.as_bytes()).await;
            }
        })
    }))
    .await;
    (addr, said)
}

#[tokio::test]
async fn smtp_check_wants_220_then_250() {
    let helo = || Probe::Smtp {
        helo: "smtpchecker.keepalived.org".into(),
    };
    let (addr, said) = smtp_server("220-mx.test ESMTP\r\n220 ready\r\n", "250 mx.test\r\n").await;
    let o = run(&helo(), &target(addr)).await;
    assert!(o.ok, "a multi-line banner is one reply: {o:?}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        said.lock().unwrap().as_str(),
        "HELO smtpchecker.keepalived.org\r\nQUIT\r\n"
    );
    let (addr, _) = smtp_server("554 go away\r\n", "250 x\r\n").await;
    let o = run(&helo(), &target(addr)).await;
    assert!(!o.ok && o.detail.contains("554"), "{o:?}");
    let (addr, _) = smtp_server("220 ready\r\n", "502 no HELO here\r\n").await;
    let o = run(&helo(), &target(addr)).await;
    assert!(!o.ok && o.detail.contains("502"), "{o:?}");
}

/// A server that sends `head`, then `fill` over and over, up to 32 MiB, then holds the
/// connection open: a line, a header or a body that never ends.
async fn endless_server(head: &'static [u8], fill: &'static [u8]) -> SocketAddr {
    tcp_server(Arc::new(move |mut s: TcpStream| {
        Box::pin(async move {
            let chunk: Vec<u8> = fill.iter().copied().cycle().take(64 * 1024).collect();
            let _ = s.write_all(head).await;
            for _ in 0..512 {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
    }))
    .await
}

/// A failure reason fit for the console: short, and saying what was wrong.
fn short_failure(o: &Outcome, why: &str) {
    let seen: String = format!("{o:?}").chars().take(300).collect();
    assert!(!o.ok, "{seen}");
    assert!(o.detail.contains(why), "{seen}");
    assert!(o.detail.len() <= 256, "{} bytes: {seen}", o.detail.len());
}

#[tokio::test]
async fn servers_that_never_end_a_line_fail_the_check_with_a_short_reason() {
    let smtp = Probe::Smtp {
        helo: "smtpchecker.keepalived.org".into(),
    };
    let o = run(&smtp, &target(endless_server(b"220", b"0").await)).await;
    short_failure(&o, "longer than 512 bytes");
    let o = run(&smtp, &target(endless_server(b"220 hi\r\n", b"250").await)).await;
    short_failure(&o, "longer than 512 bytes");

    let get = web(vec![url("/")]);
    let o = run(&get, &target(endless_server(b"HTTP/1.0 200 ", b"OK").await)).await;
    short_failure(&o, "status line longer than 512 bytes");
    let o = run(
        &get,
        &target(endless_server(b"HTTP/1.0 200 OK\r\n", b"X-A: b\r\n").await),
    )
    .await;
    short_failure(&o, "header longer than 4096 bytes");
    // A body is hashed as it comes, up to 16 MiB (the time a debug build takes to hash that
    // much needs a longer timeout than the others).
    let slow = |addr| Target::new(addr, Duration::from_secs(20));
    let o = run(
        &get,
        &slow(endless_server(b"HTTP/1.0 200 OK\r\n\r\n", b"x").await),
    )
    .await;
    short_failure(&o, "body longer than 16 MiB");
    // With a Content-Length the check reads that much and stops.
    let o = run(
        &get,
        &slow(endless_server(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n", b"x").await),
    )
    .await;
    assert!(o.ok, "{o:?}");
}

#[tokio::test]
async fn a_regex_looks_at_the_first_64_kib_of_the_body() {
    fn page(marker_at: usize) -> &'static [u8] {
        let mut p = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
        p.extend(std::iter::repeat_n(b'.', marker_at));
        p.extend_from_slice(b"ALIVE");
        p.extend(std::iter::repeat_n(b'.', 1000));
        p.leak()
    }
    let mut re = url("/");
    re.regex = Some(regex::bytes::Regex::new("ALIVE").unwrap());
    assert!(
        http_outcome(page(1000), Duration::ZERO, re.clone())
            .await
            .ok
    );
    let o = http_outcome(page(100_000), Duration::ZERO, re).await;
    short_failure(&o, "first 64 KiB");
}

/// A long reason (an unknown status line of 500 bytes) is cut for display.
#[tokio::test]
async fn long_failure_reasons_are_cut_with_an_ellipsis() {
    let mut reply = b"SSH-2.0-".to_vec();
    reply.extend(std::iter::repeat_n(b'x', 490));
    reply.extend_from_slice(b"\r\n\r\n");
    let o = http_outcome(reply.leak(), Duration::ZERO, url("/")).await;
    short_failure(&o, "status line");
    assert!(o.detail.ends_with('…'), "{}", o.detail);
}

/// A DNS server on UDP answering each query through `answer` (None: silence).
async fn dns_server(answer: fn(&[u8]) -> Option<Vec<u8>>) -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = s.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = s.recv_from(&mut buf).await {
            if let Some(reply) = answer(&buf[..n]) {
                let _ = s.send_to(&reply, from).await;
            }
        }
    });
    addr
}

fn dns_reply(query: &[u8], rcode: u8) -> Vec<u8> {
    let mut r = query.to_vec();
    r[2] |= 0x80; // QR
    r[3] = (r[3] & 0xf0) | rcode;
    r
}

#[tokio::test]
async fn dns_check_wants_our_id_and_rcode_0() {
    let probe = Probe::Dns {
        qtype: 6,
        name: ".".into(),
    };
    let good = dns_server(|q| Some(dns_reply(q, 0))).await;
    assert!(run(&probe, &target(good)).await.ok);
    let servfail = dns_server(|q| Some(dns_reply(q, 2))).await;
    let o = run(&probe, &target(servfail)).await;
    assert!(!o.ok && o.detail.contains("RCODE 2"), "{o:?}");
    let wrong_id = dns_server(|q| {
        let mut r = dns_reply(q, 0);
        r[0] ^= 0xff;
        Some(r)
    })
    .await;
    let o = run(&probe, &target(wrong_id)).await;
    assert!(
        !o.ok && o.detail.contains("timeout"),
        "another ID is ignored: {o:?}"
    );
    let silent = dns_server(|_| None).await;
    assert!(!run(&probe, &target(silent)).await.ok);
}

fn misc(script: &str, timeout_ms: u64, dynamic: bool) -> Probe {
    Probe::Misc(MiscCheck {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
        run_as: Ok(kaconsole::sys::script::RunAs::Daemon),
        timeout: Duration::from_millis(timeout_ms),
        dynamic,
    })
}

#[tokio::test]
async fn misc_check_reads_exit_statuses_and_kills_a_script_that_overruns() {
    let any = target("127.0.0.1:1".parse().unwrap());
    assert!(run(&misc("exit 0", 2000, false), &any).await.ok);
    assert!(!run(&misc("exit 1", 2000, false), &any).await.ok);
    let dynamic = run(&misc("exit 12", 2000, true), &any).await;
    assert!(dynamic.ok);
    assert_eq!(dynamic.dynamic, Some(Dynamic::Set(10)));
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("survived");
    let script = format!("sleep 2; touch {}", marker.display());
    let slow = run(&misc(&script, 300, false), &any).await;
    assert!(!slow.ok && slow.detail.contains("timed out"), "{slow:?}");
    assert!(slow.latency < Duration::from_millis(1500), "{slow:?}");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert!(!marker.exists(), "the whole process group was killed");
}

#[tokio::test]
async fn a_misc_check_whose_user_cannot_be_resolved_fails_without_running() {
    use kaconsole::sys::script::UserError;
    let any = target("127.0.0.1:1".parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let Probe::Misc(mut m) = misc(&format!("touch {}", marker.display()), 2000, false) else {
        unreachable!()
    };
    m.run_as = Err(UserError::NoUser("gone".into()));
    let o = run(&Probe::Misc(m), &any).await;
    assert!(!o.ok, "{o:?}");
    assert!(o.detail.contains("not run: script user gone"), "{o:?}");
    assert!(!marker.exists(), "never run, not as root instead");
}

fn udp(payload: &[u8], reply: Option<&str>) -> Probe {
    Probe::Udp(UdpCheck {
        payload: Some(payload.to_vec()),
        require_reply: reply.map(|r| ReplyPattern::parse(r).unwrap()),
        min_reply_length: 0,
        max_reply_length: 255,
    })
}

#[tokio::test]
async fn udp_check_with_and_without_replies() {
    // An echo server, a silent one, and a closed port (ICMP port unreachable).
    let echo = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = echo.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = echo.recv_from(&mut buf).await {
            let _ = echo.send_to(&buf[..n], from).await;
        }
    });
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let closed = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    assert!(run(&udp(b"ping", None), &target(echo_addr)).await.ok);
    assert!(
        run(&udp(b"ping", Some("70 69 6xxx")), &target(echo_addr))
            .await
            .ok
    );
    let o = run(&udp(b"ping", Some("706f")), &target(echo_addr)).await;
    assert!(!o.ok && o.detail.contains("mismatch"), "{o:?}");
    assert!(
        run(&udp(b"ping", None), &target(silent_addr)).await.ok,
        "no reply and no ICMP error passes without require_reply"
    );
    assert!(
        !run(&udp(b"ping", Some("70")), &target(silent_addr))
            .await
            .ok
    );
    let o = run(&udp(b"ping", None), &target(closed)).await;
    assert!(
        !o.ok && o.detail.to_lowercase().contains("refused"),
        "{o:?}"
    );
    drop(silent);
}

#[tokio::test]
async fn file_check_follows_the_number_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weight");
    let probe = |weight| {
        Probe::File(FileCheck {
            path: path.clone(),
            weight,
            reverse: false,
        })
    };
    let any = target("127.0.0.1:1".parse().unwrap());
    assert!(run(&probe(0), &any).await.ok, "a missing file reads 0");
    std::fs::write(&path, "1\n").unwrap();
    assert!(!run(&probe(0), &any).await.ok);
    std::fs::write(&path, "3\n").unwrap();
    assert_eq!(
        run(&probe(5), &any).await.dynamic,
        Some(Dynamic::Offset(15))
    );
    // A FIFO in its place (no writer: an ordinary read would wait for ever) fails the check.
    std::fs::remove_file(&path).unwrap();
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let o = run(&probe(0), &any).await;
    assert!(
        !o.ok && o.detail.ends_with("is a FIFO, not a regular file"),
        "{o:?}"
    );
}

#[tokio::test]
async fn tcp_check_connects_from_the_bindto_address() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let mut t = target(addr);
    t.bind = Some("127.0.0.2".parse().unwrap());
    let accept = tokio::spawn(async move { l.accept().await.unwrap().1 });
    let o = run(&Probe::Tcp, &t).await;
    assert!(o.ok, "{o:?}");
    assert_eq!(accept.await.unwrap().ip().to_string(), "127.0.0.2");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let o = run(&Probe::Tcp, &target(closed)).await;
    assert!(
        !o.ok && o.detail.to_lowercase().contains("refused"),
        "{o:?}"
    );
}

/// Whether /proc/net/tcp holds a TIME_WAIT socket from `local` to `remote` (IPv4).
fn time_wait(local: SocketAddr, remote: SocketAddr) -> bool {
    let hex = |a: SocketAddr| match a {
        SocketAddr::V4(v4) => format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(v4.ip().octets()),
            v4.port()
        ),
        SocketAddr::V6(_) => unreachable!("IPv4 only"),
    };
    let (l, r) = (hex(local), hex(remote));
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .any(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            f.len() > 3 && f[1] == l && f[2] == r && f[3] == "06"
        })
}

/// As HAProxy's health checks: the connection is closed with a reset (SO_LINGER 0), so the
/// checker's end leaves no TIME_WAIT behind (60 s each: 300,000 of them at 5,000 checks a
/// second).
#[tokio::test]
async fn tcp_check_closes_with_a_reset_and_leaves_no_time_wait() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let accept = tokio::spawn(async move { l.accept().await.unwrap() });
    let o = run(&Probe::Tcp, &target(addr)).await;
    assert!(o.ok, "{o:?}");
    let (mut s, probe_end) = accept.await.unwrap();
    let read = s.read(&mut [0u8; 16]).await;
    assert!(
        read.as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "the server sees a reset, not an orderly close: {read:?}"
    );
    drop(s);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!time_wait(probe_end, addr), "TIME_WAIT left at {probe_end}");
}

#[tokio::test]
async fn ping_check_gets_an_echo_reply_from_loopback() {
    let o = run(&Probe::Ping, &target("127.0.0.1:0".parse().unwrap())).await;
    // Without root and outside ping_group_range there is no way to ping; the error says so.
    if !o.ok && std::env::var_os("CI").is_none() && !nix::unistd::geteuid().is_root() {
        assert!(o.detail.contains("ping_group_range"), "{o:?}");
        return;
    }
    assert!(o.ok, "{o:?}");
}

#[tokio::test]
async fn genhash_s_prints_the_digest_of_a_page_served_over_tls() {
    let (addr, names) = tls::server(OK).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kaconsole"))
        .args([
            "genhash",
            "-S",
            "-s",
            "127.0.0.1",
            "-u",
            "/",
            "-V",
            "www.example.com",
        ])
        .args(["-p", &addr.port().to_string()])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1b7531e59df844856483015ebcec5e79"
    );
    assert_eq!(
        names.lock().unwrap().clone(),
        [Some("www.example.com".to_string())],
        "-V goes in SNI"
    );
}
