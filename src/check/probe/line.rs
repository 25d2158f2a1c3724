//! Lines read from a server, bounded: a line longer than [`MAX_LINE`] bytes ends the exchange
//! instead of growing a buffer for as long as the server keeps sending (threat model rule 2).
//! keepalived reads SMTP_CHECK's replies into 512 bytes (check_smtp.h `SMTP_BUFF_MAX`) and
//! its alert client's into 1,024 (smtp.c `SMTP_BUFFER_MAX`, where a longer reply fails).

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The longest line taken from a server, its line end included.
pub const MAX_LINE: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("read: {0}")]
    Io(#[from] std::io::Error),
    #[error("connection closed")]
    Closed,
    #[error("a line longer than {0} bytes")]
    TooLong(usize),
}

/// The next line, without its `\n` or `\r\n`, if it ends within `max` bytes. A partial line
/// at the end of the stream is [`LineError::Closed`]: a reply is a whole line.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<String, LineError> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Err(LineError::Closed);
        }
        let end = buf.iter().position(|&b| b == b'\n');
        let take = end.map_or(buf.len(), |i| i + 1);
        if line.len() + take > max {
            return Err(LineError::TooLong(max));
        }
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        if end.is_some() {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(String::from_utf8_lossy(&line).into_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Result<String, String>> {
        let mut r = tokio::io::BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        loop {
            match read_line(&mut r, max).await {
                Ok(l) => out.push(Ok(l)),
                Err(LineError::Closed) => return out,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }

    #[tokio::test]
    async fn lines_end_at_lf_or_crlf_and_stop_at_the_limit() {
        assert_eq!(
            lines(b"220 hi\r\n250-a\n250 b\r\n", 16).await,
            [Ok("220 hi".into()), Ok("250-a".into()), Ok("250 b".into())]
        );
        // 8 bytes with its CRLF is within 8; 9 is not.
        assert_eq!(lines(b"123456\r\n", 8).await, [Ok("123456".into())]);
        assert_eq!(
            lines(b"1234567\r\n", 8).await,
            [Err("a line longer than 8 bytes".into())]
        );
        assert_eq!(
            lines(&[b'x'; 100], 8).await,
            [Err("a line longer than 8 bytes".into())],
            "no newline at all"
        );
        assert_eq!(
            lines(b"250 no end", 64).await,
            [],
            "a partial line is no reply"
        );
    }
}
