//! One GET of HTTP_GET / SSL_GET (and genhash): connect with the target's bind options, the
//! TLS handshake for SSL_GET, the request, and the response read until it is complete, the
//! connection ends or a limit is passed (check::http::response). Memory stays bounded
//! whatever the server sends: a read buffer, the header, and the body's first bytes if a
//! regex wants them.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::tls::{self, Tls};
use super::{Target, connect};
use crate::check::http::response::Progress;
use crate::check::http::{HttpError, Request, Response, ResponseReader, request_bytes};

/// Sends the GET and reads the response. A TLS peer that closes without close_notify ends
/// the response too (many servers do).
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    req: &Request,
    server: SocketAddr,
) -> Result<Response, HttpError> {
    stream
        .write_all(&request_bytes(req, server))
        .await
        .map_err(|e| HttpError::Io(e.to_string()))?;
    let mut reader = ResponseReader::new(req.keep_body);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(HttpError::Io(e.to_string())),
        };
        if n == 0 || reader.feed(&chunk[..n])? == Progress::Complete {
            break;
        }
    }
    reader.finish()
}

/// Connects (with the target's bind options), does the TLS handshake with `tls`, sends the
/// GET, reads the response; all within the target's timeout (keepalived's connect_timeout
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
