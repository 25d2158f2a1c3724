//! An HTTP response taken in as it arrives, in bounded memory: the status line (at most
//! [`MAX_STATUS_LINE`] bytes) and the header (at most [`MAX_HEADER`], keepalived's whole
//! read buffer, check_http.h `MAX_BUFFER_LENGTH`) are kept; the body is hashed as it comes
//! (MD5, what `digest` compares) up to [`MAX_BODY`], and only its first `keep` bytes are kept,
//! for a `regex`. Sans-IO: [`ResponseReader::feed`] takes the bytes read.

use md5::{Digest, Md5};

use super::HttpError;

/// The longest status line taken, its CRLF included.
pub const MAX_STATUS_LINE: usize = 512;
/// The longest header taken, status line and the blank line that ends it included.
pub const MAX_HEADER: usize = 4096;
/// The most body a check reads (hashed, not kept): beyond it the check fails.
pub const MAX_BODY: usize = 16 << 20;
/// The body's first bytes a `regex` is matched against.
pub const REGEX_WINDOW: usize = 64 << 10;

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The header lines (without the status line), as sent.
    pub headers: Vec<String>,
    /// The body's length (up to Content-Length when there is one).
    pub length: usize,
    /// The body's first bytes, as many as the reader was asked to keep.
    pub prefix: Vec<u8>,
    /// MD5 of the body.
    pub digest: [u8; 16],
}

impl Response {
    pub fn digest_hex(&self) -> String {
        crate::hex::encode(&self.digest)
    }
}

/// Whether the response is complete before the connection ends (Content-Length reached).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    More,
    Complete,
}

/// The status line and headers, once the header is complete.
struct Head {
    status: u16,
    headers: Vec<String>,
    content_length: Option<usize>,
}

pub struct ResponseReader {
    /// The header's bytes while it is incomplete.
    raw: Vec<u8>,
    head: Option<Head>,
    length: usize,
    prefix: Vec<u8>,
    keep: usize,
    md5: Md5,
}

impl ResponseReader {
    /// A reader that keeps the body's first `keep` bytes.
    pub fn new(keep: usize) -> ResponseReader {
        ResponseReader {
            raw: Vec::new(),
            head: None,
            length: 0,
            prefix: Vec::new(),
            keep,
            md5: Md5::new(),
        }
    }

    /// Takes the next bytes of the response.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Progress, HttpError> {
        if self.head.is_some() {
            return self.body(bytes);
        }
        // The end of the header may straddle two reads: look from 3 bytes before.
        let from = self.raw.len().saturating_sub(3);
        let room = MAX_HEADER - self.raw.len();
        self.raw.extend_from_slice(&bytes[..bytes.len().min(room)]);
        let end = self.raw[from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| from + i);
        let status_too_long = match self.raw.windows(2).position(|w| w == b"\r\n") {
            Some(i) => i + 2 > MAX_STATUS_LINE,
            // Even a CRLF next would end it past the limit.
            None => self.raw.len() >= MAX_STATUS_LINE,
        };
        if status_too_long {
            return Err(HttpError::StatusLineTooLong(MAX_STATUS_LINE));
        }
        let Some(end) = end else {
            if self.raw.len() == MAX_HEADER {
                return Err(HttpError::HeaderTooLong(MAX_HEADER));
            }
            return Ok(Progress::More);
        };
        self.head = Some(parse_head(&self.raw[..end])?);
        // What followed the header in these bytes is the body's start.
        let consumed_before = self.raw.len() - bytes.len().min(room);
        let body_start = end + 4 - consumed_before;
        self.raw = Vec::new();
        self.body(&bytes[body_start..])
    }

    fn body(&mut self, bytes: &[u8]) -> Result<Progress, HttpError> {
        let want = self.head.as_ref().and_then(|h| h.content_length);
        let take = want.map_or(bytes.len(), |w| bytes.len().min(w - self.length));
        if self.length + take > MAX_BODY {
            return Err(HttpError::BodyTooLong(MAX_BODY));
        }
        let bytes = &bytes[..take];
        self.md5.update(bytes);
        let kept = bytes.len().min(self.keep - self.prefix.len());
        self.prefix.extend_from_slice(&bytes[..kept]);
        self.length += take;
        Ok(if want == Some(self.length) {
            Progress::Complete
        } else {
            Progress::More
        })
    }

    /// The response, once the connection ended or Content-Length was reached.
    pub fn finish(self) -> Result<Response, HttpError> {
        let Some(head) = self.head else {
            return Err(if self.raw.is_empty() {
                HttpError::Empty
            } else {
                HttpError::NoHeader
            });
        };
        if let Some(want) = head.content_length
            && self.length < want
        {
            return Err(HttpError::Truncated {
                got: self.length,
                want,
            });
        }
        Ok(Response {
            status: head.status,
            headers: head.headers,
            length: self.length,
            prefix: self.prefix,
            digest: self.md5.finalize().into(),
        })
    }
}

/// The status line and the header lines (`raw` without the blank line that ends them).
fn parse_head(raw: &[u8]) -> Result<Head, HttpError> {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let bad = || HttpError::StatusLine(status_line.to_string());
    let status = match (parts.next(), parts.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => {
            code.parse::<u16>().map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    let headers: Vec<String> = lines.map(str::to_string).collect();
    let content_length = headers.iter().find_map(|h| {
        let (k, v) = h.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
    });
    Ok(Head {
        status,
        headers,
        content_length,
    })
}

/// A whole response at once (the tests'; [`ResponseReader`] for a stream).
pub fn parse_response(bytes: &[u8], keep: usize) -> Result<Response, HttpError> {
    let mut r = ResponseReader::new(keep);
    r.feed(bytes)?;
    r.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_give_status_and_body_digest() {
        let r = parse_response(
            b"HTTP/1.0 200 OK\r\nContent-Length: 16\r\n\r\nhello kaconsole\n",
            0,
        )
        .unwrap();
        assert_eq!(r.status, 200);
        // md5sum of "hello kaconsole\n", as keepalived's genhash printed it.
        assert_eq!(r.digest_hex(), "1b7531e59df844856483015ebcec5e79");
        let no_length =
            parse_response(b"HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\nabc", 64).unwrap();
        assert_eq!(
            (no_length.status, no_length.length, no_length.prefix),
            (404, 3, b"abc".to_vec())
        );
        assert_eq!(no_length.headers, ["Server: x"]);
        assert_eq!(
            parse_response(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0),
            Err(HttpError::Truncated { got: 3, want: 10 })
        );
        assert!(matches!(
            parse_response(b"SSH-2.0-OpenSSH\r\n\r\n", 0),
            Err(HttpError::StatusLine(_))
        ));
        assert_eq!(
            parse_response(b"HTTP/1.0 200 OK\r\n", 0),
            Err(HttpError::NoHeader)
        );
        assert_eq!(parse_response(b"", 0), Err(HttpError::Empty));
    }

    /// The same response cut anywhere, one byte at a time included, reads the same.
    #[test]
    fn a_response_in_pieces_is_the_same_response() {
        let whole: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 16\r\n\r\nhello kaconsole\nEXTRA";
        let once = parse_response(whole, 8).unwrap();
        assert_eq!((once.length, &once.prefix[..]), (16, &b"hello ka"[..]));
        for size in 1..whole.len() {
            let mut r = ResponseReader::new(8);
            let mut done = false;
            for piece in whole.chunks(size) {
                if r.feed(piece).unwrap() == Progress::Complete {
                    done = true;
                    break;
                }
            }
            assert!(done, "Content-Length reached with pieces of {size}");
            assert_eq!(r.finish().unwrap(), once, "pieces of {size}");
        }
    }

    #[test]
    fn lines_and_bodies_past_their_limits_fail() {
        let mut r = ResponseReader::new(0);
        let long = vec![b'x'; MAX_STATUS_LINE];
        assert_eq!(
            r.feed(&long),
            Err(HttpError::StatusLineTooLong(MAX_STATUS_LINE))
        );
        let mut r = ResponseReader::new(0);
        r.feed(b"HTTP/1.0 200 OK\r\n").unwrap();
        let mut fed = Ok(Progress::More);
        for _ in 0..1000 {
            fed = r.feed(b"X-A: b\r\n");
            if fed.is_err() {
                break;
            }
        }
        assert_eq!(fed, Err(HttpError::HeaderTooLong(MAX_HEADER)));
        let mut r = ResponseReader::new(0);
        r.feed(b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
        let mb = vec![b'x'; 1 << 20];
        for _ in 0..16 {
            assert_eq!(r.feed(&mb), Ok(Progress::More));
        }
        assert_eq!(r.feed(b"x"), Err(HttpError::BodyTooLong(MAX_BODY)));
    }
}
