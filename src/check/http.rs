//! HTTP_GET as keepalived does it (check/check_http.c): one GET on a fresh connection, the
//! request line and headers byte for byte as keepalived writes them, the response read to the
//! end, its status and the MD5 of its body (what `digest` compares, what genhash prints).
//!
//! The request and the response are pure (tested on bytes); [`fetch`] does the I/O, over TLS
//! for SSL_GET.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::probe::tls::{self, Tls};
use super::probe::{Target, connect};

/// keepalived's `http_protocol`: 1.0 (the default), 1.0 with `Connection: close` ("1.0C"),
/// or 1.1 (which always says `Connection: close`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http10,
    Http10Close,
    Http11,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_lowercase().as_str() {
            "1.0" => Some(Protocol::Http10),
            "1.0c" => Some(Protocol::Http10Close),
            "1.1" => Some(Protocol::Http11),
            _ => None,
        }
    }
}

/// One GET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub path: String,
    /// `virtualhost`: the Host header instead of the address.
    pub vhost: Option<String>,
    pub protocol: Protocol,
}

/// The request bytes, as keepalived 2.2 sends them (`http_request` in check_http.c).
pub fn request_bytes(r: &Request, server: SocketAddr) -> Vec<u8> {
    let mut s = String::new();
    let version = if r.protocol == Protocol::Http11 {
        "1.1"
    } else {
        "1.0"
    };
    let _ = write!(s, "GET {} HTTP/{version}\r\n", r.path);
    s.push_str("User-Agent: KeepAliveClient\r\n");
    if r.protocol != Protocol::Http10 {
        s.push_str("Connection: close\r\n");
    }
    match &r.vhost {
        Some(v) => {
            let _ = write!(s, "Host: {v}\r\n");
        }
        // An IPv6 address in brackets, with the port, as in a URL.
        None => {
            let _ = write!(s, "Host: {server}\r\n");
        }
    }
    s.push_str("\r\n");
    s.into_bytes()
}

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The header lines (without the status line), as sent.
    pub headers: Vec<String>,
    pub body: Vec<u8>,
    /// MD5 of the body.
    pub digest: [u8; 16],
}

impl Response {
    pub fn digest_hex(&self) -> String {
        crate::hex::encode(&self.digest)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("timeout after {0:?}")]
    Timeout(Duration),
    #[error("connection error: {0}")]
    Io(String),
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("no data received")]
    Empty,
    #[error("no complete response header")]
    NoHeader,
    #[error("not an HTTP status line: {0:?}")]
    StatusLine(String),
    #[error("the body is shorter than its Content-Length ({got} of {want} bytes)")]
    Truncated { got: usize, want: usize },
}

/// Takes a whole response apart. The body is what follows the header, up to Content-Length
/// when there is one (keepalived reads to the end of the connection).
pub fn parse_response(bytes: &[u8]) -> Result<Response, HttpError> {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(HttpError::NoHeader)?;
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let status = match (parts.next(), parts.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => code
            .parse::<u16>()
            .map_err(|_| HttpError::StatusLine(status_line.to_string()))?,
        _ => return Err(HttpError::StatusLine(status_line.to_string())),
    };
    let headers: Vec<String> = lines.map(str::to_string).collect();
    let mut body = &bytes[end + 4..];
    let length = headers.iter().find_map(|h| {
        let (k, v) = h.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
    });
    if let Some(want) = length {
        if body.len() < want {
            return Err(HttpError::Truncated {
                got: body.len(),
                want,
            });
        }
        body = &body[..want];
    }
    Ok(Response {
        status,
        headers,
        body: body.to_vec(),
        digest: Md5::digest(body).into(),
    })
}

/// The largest response read (a checker has no use for more).
const MAX_RESPONSE: usize = 16 << 20;

/// Sends the GET and reads the response to the end of the connection. A TLS peer that closes
/// without close_notify ends the response too (many servers do).
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    req: &Request,
    server: SocketAddr,
) -> Result<Response, HttpError> {
    stream
        .write_all(&request_bytes(req, server))
        .await
        .map_err(|e| HttpError::Io(e.to_string()))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(HttpError::Io(e.to_string())),
        };
        if n == 0 || buf.len() + n > MAX_RESPONSE {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    if buf.is_empty() {
        return Err(HttpError::Empty);
    }
    parse_response(&buf)
}

/// Connects (with the target's bind options), does the TLS handshake with `tls`, sends the
/// GET, reads to the end; all within the target's timeout (keepalived's connect_timeout
/// covers each step; one deadline is stricter and simpler to reason about).
pub async fn fetch(
    target: &Target,
    req: &Request,
    tls: Option<&Tls>,
) -> Result<Response, HttpError> {
    let work = async {
        let stream = connect::tcp(target)
            .await
            .map_err(|e| HttpError::Connect(e.to_string()))?;
        match tls {
            None => exchange(stream, req, target.addr).await,
            Some(t) => {
                let stream = tls::handshake(stream, target.addr.ip(), t.sni.as_deref())
                    .await
                    .map_err(|e| HttpError::Tls(e.to_string()))?;
                exchange(stream, req, target.addr).await
            }
        }
    };
    tokio::time::timeout(target.timeout, work)
        .await
        .unwrap_or(Err(HttpError::Timeout(target.timeout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> SocketAddr {
        "127.0.0.1:18081".parse().unwrap()
    }

    /// The bytes keepalived 2.2.7's genhash sent to a listener (captured for these tests).
    #[test]
    fn requests_are_keepalived_s_byte_for_byte() {
        let get = |protocol, vhost: Option<&str>| {
            String::from_utf8(request_bytes(
                &Request {
                    path: "/x".into(),
                    vhost: vhost.map(str::to_string),
                    protocol,
                },
                server(),
            ))
            .unwrap()
        };
        assert_eq!(
            get(Protocol::Http10, None),
            "GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:18081\r\n\r\n"
        );
        assert_eq!(
            get(Protocol::Http11, Some("www.example.com")),
            "GET /x HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.com\r\n\r\n"
        );
        assert_eq!(
            get(Protocol::Http10Close, None),
            "GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:18081\r\n\r\n"
        );
        let v6 = request_bytes(
            &Request {
                path: "/".into(),
                vhost: None,
                protocol: Protocol::Http10,
            },
            "[::1]:80".parse().unwrap(),
        );
        assert!(
            String::from_utf8(v6)
                .unwrap()
                .contains("Host: [::1]:80\r\n")
        );
    }

    #[test]
    fn responses_give_status_and_body_digest() {
        let r = parse_response(b"HTTP/1.0 200 OK\r\nContent-Length: 16\r\n\r\nhello kaconsole\n")
            .unwrap();
        assert_eq!(r.status, 200);
        // md5sum of "hello kaconsole\n", as keepalived's genhash printed it.
        assert_eq!(r.digest_hex(), "1b7531e59df844856483015ebcec5e79");
        let no_length = parse_response(b"HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\nabc").unwrap();
        assert_eq!((no_length.status, no_length.body.len()), (404, 3));
        assert_eq!(
            parse_response(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
            Err(HttpError::Truncated { got: 3, want: 10 })
        );
        assert!(matches!(
            parse_response(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(HttpError::StatusLine(_))
        ));
        assert_eq!(
            parse_response(b"HTTP/1.0 200 OK\r\n"),
            Err(HttpError::NoHeader)
        );
    }
}
