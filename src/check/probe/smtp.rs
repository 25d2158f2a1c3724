//! SMTP_CHECK (check_smtp.c): read the banner (220), send `HELO name`, expect 250, send
//! `QUIT`. Replies may span several lines (`250-...` continues, `250 ...` ends); each line is
//! at most [`MAX_LINE`] bytes, as keepalived's 512-byte buffer.

use tokio::io::{AsyncBufRead, AsyncWriteExt, BufReader};

use super::line::{MAX_LINE, read_line};
use super::{Outcome, Target, connect};

/// The code of one complete reply, reading its continuation lines.
async fn reply<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<u16, String> {
    loop {
        let line = read_line(r, MAX_LINE).await.map_err(|e| e.to_string())?;
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| format!("not an SMTP reply: {line:?}"))?;
        // "250-" continues the reply; "250 " (or a bare "250") ends it.
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(code);
        }
    }
}

pub async fn check(helo: &str, target: &Target) -> Outcome {
    let work = async {
        let stream = connect::tcp(target).await.map_err(|e| e.to_string())?;
        let (rd, mut wr) = stream.into_split();
        let mut rd = BufReader::new(rd);
        match reply(&mut rd).await? {
            220 => {}
            c => return Err(format!("banner {c}, expected 220")),
        }
        wr.write_all(format!("HELO {helo}\r\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        match reply(&mut rd).await? {
            250 => {}
            c => return Err(format!("HELO answered {c}, expected 250")),
        }
        // Polite, as keepalived is; the answer does not matter.
        let _ = wr.write_all(b"QUIT\r\n").await;
        Ok(())
    };
    match connect::within(target, work).await {
        Ok(()) => Outcome::pass("220, 250"),
        Err(e) => Outcome::fail(e),
    }
}
