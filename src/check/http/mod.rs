//! HTTP_GET as keepalived does it (check/check_http.c): one GET on a fresh connection, the
//! request line and headers byte for byte as keepalived writes them, the response taken in as
//! it arrives (response.rs): its status, and the MD5 of its body (what `digest` compares,
//! what genhash prints).
//!
//! Both are pure (tested on bytes); the probe's fetch.rs does the I/O, over TLS for SSL_GET.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

pub mod response;

pub use response::{Response, ResponseReader};

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
    /// How many of the body's first bytes to keep, for a `regex` (0: the body is only hashed).
    pub keep_body: usize,
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
    #[error("a status line longer than {0} bytes")]
    StatusLineTooLong(usize),
    #[error("a response header longer than {0} bytes")]
    HeaderTooLong(usize),
    #[error("a body longer than {} MiB", .0 >> 20)]
    BodyTooLong(usize),
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
                    keep_body: 0,
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
                keep_body: 0,
            },
            "[::1]:80".parse().unwrap(),
        );
        assert!(
            String::from_utf8(v6)
                .unwrap()
                .contains("Host: [::1]:80\r\n")
        );
    }
}
