//! SMTP alerts (`smtp_alert`): keepalived's plain SMTP dialogue (core/smtp.c) - HELO, MAIL
//! FROM, RCPT TO for each address, DATA with its headers, QUIT - to `smtp_server`, no TLS.
//! Each reply line is at most [`MAX_LINE`] bytes (keepalived: 1,024, and a longer reply fails
//! the alert too).

use std::time::Duration as StdDuration;

use tokio::io::{AsyncBufRead, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::check::probe::line::{LineError, MAX_LINE, read_line};
use crate::check::probe::shorten::{MAX_DETAIL, shorten};
use crate::config::blocks::Config;

/// One mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub helo: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// RFC 5322 date, e.g. `Sun, 22 Nov 2026 07:00:00 +0000`.
    pub date: String,
}

impl Mail {
    /// keepalived's DATA section (include/smtp.h SMTP_HEADERS_CMD, SMTP_BODY_CMD,
    /// SMTP_SEND_CMD).
    pub fn data(&self) -> String {
        format!(
            "Date: {}\r\nFrom: {}\r\nSubject: {}\r\nX-Mailer: Keepalived\r\nTo: {}\r\n\r\n{}\r\n\r\n.\r\n",
            self.date,
            self.from,
            self.subject,
            self.to.join(", "),
            self.body
        )
    }

    /// The commands in order, each with the reply code it needs.
    pub fn dialogue(&self) -> Vec<(String, u16)> {
        let mut d = vec![(format!("HELO {}\r\n", self.helo), 250)];
        d.push((format!("MAIL FROM:<{}>\r\n", self.from), 250));
        for t in &self.to {
            d.push((format!("RCPT TO:<{t}>\r\n"), 250));
        }
        d.push(("DATA\r\n".into(), 354));
        d.push((self.data(), 250));
        d.push(("QUIT\r\n".into(), 221));
        d
    }
}

/// The VRRP mail for an instance (`group`: a sync group) entering `state`
/// (vrrp_notify.c `vrrp_smtp_notifier`), or `None` when the configuration sends none.
pub fn vrrp_mail(cfg: &Config, group: bool, name: &str, state: &str) -> Option<Mail> {
    let g = &cfg.global_defs;
    g.smtp_server.as_ref()?;
    if g.notification_email.is_empty() {
        return None;
    }
    let (subject, body) = match state {
        "MASTER" => (
            "Entering MASTER state",
            "=> VRRP Instance is now owning VRRP VIPs <=",
        ),
        "BACKUP" => (
            "Entering BACKUP state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        "FAULT" => (
            "Entering FAULT state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        "STOP" => ("Stopping", "=> VRRP Instance stopping <="),
        _ => return None,
    };
    let kind = if group { "VRRP Group" } else { "VRRP Instance" };
    let router = g
        .router_id
        .clone()
        .unwrap_or_else(crate::sys::host::short_hostname);
    Some(Mail {
        helo: g
            .smtp_helo_name
            .clone()
            .unwrap_or_else(|| "localhost".into()),
        from: g.notification_email_from.clone().unwrap_or_default(),
        to: g.notification_email.clone(),
        subject: format!("[{router}] {kind} {name} - {subject}"),
        body: body.to_string(),
        date: rfc5322_now(),
    })
}

/// Why an alert was not delivered: which step of the dialogue failed.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("write: {0}")]
    Write(std::io::Error),
    #[error("{step}: {source}")]
    Read {
        step: String,
        source: std::io::Error,
    },
    #[error("{step}: the server closed the connection")]
    Closed { step: String },
    #[error("{step}: a reply line longer than {max} bytes")]
    TooLong { step: String, max: usize },
    #[error("{step}: expected {code}, got '{line}'")]
    Refused {
        step: String,
        code: u16,
        line: String,
    },
    #[error("timed out")]
    TimedOut,
}

/// Sends `mail` to `host:port`; the error says which step failed.
pub async fn send(
    host: &str,
    port: u16,
    timeout: StdDuration,
    mail: &Mail,
) -> Result<(), SmtpError> {
    let run = async {
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(SmtpError::Connect)?;
        let (r, mut w) = stream.into_split();
        let mut lines = BufReader::new(r);
        expect(&mut lines, 220, "greeting").await?;
        for (cmd, code) in mail.dialogue() {
            w.write_all(cmd.as_bytes())
                .await
                .map_err(SmtpError::Write)?;
            let step = cmd.split_whitespace().next().unwrap_or("DATA").to_string();
            expect(&mut lines, code, &step).await?;
        }
        Ok(())
    };
    tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| SmtpError::TimedOut)?
}

/// Reads one reply (multi-line replies end with `NNN `) and checks its code.
async fn expect<R: AsyncBufRead + Unpin>(
    lines: &mut R,
    code: u16,
    step: &str,
) -> Result<(), SmtpError> {
    loop {
        let step = || step.to_string();
        let line = read_line(lines, MAX_LINE).await.map_err(|e| match e {
            LineError::Io(source) => SmtpError::Read {
                step: step(),
                source,
            },
            LineError::Closed => SmtpError::Closed { step: step() },
            LineError::TooLong(max) => SmtpError::TooLong { step: step(), max },
        })?;
        let got: u16 = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        if line.as_bytes().get(3) == Some(&b'-') {
            continue;
        }
        return if got == code {
            Ok(())
        } else {
            Err(SmtpError::Refused {
                step: step(),
                code,
                // For the log line: what the server said, cut.
                line: shorten(line, MAX_DETAIL),
            })
        };
    }
}

/// The date header, in UTC.
fn rfc5322_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let (y, m, d) = super::log::civil_from_days(days);
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_s_dialogue_and_headers() {
        let m = Mail {
            helo: "lb1".into(),
            from: "kac@example.com".into(),
            to: vec!["a@example.com".into(), "b@example.com".into()],
            subject: "[lb1] VRRP Instance VI_1 - Entering MASTER state".into(),
            body: "=> VRRP Instance is now owning VRRP VIPs <=".into(),
            date: "Sun, 22 Nov 2026 07:00:00 +0000".into(),
        };
        let d: Vec<String> = m.dialogue().into_iter().map(|(c, _)| c).collect();
        assert_eq!(d[0], "HELO lb1\r\n");
        assert_eq!(d[1], "MAIL FROM:<kac@example.com>\r\n");
        assert_eq!(d[2], "RCPT TO:<a@example.com>\r\n");
        assert_eq!(d[3], "RCPT TO:<b@example.com>\r\n");
        assert_eq!(d[4], "DATA\r\n");
        assert!(d[5].starts_with("Date: Sun, 22 Nov 2026 07:00:00 +0000\r\nFrom: kac@example.com\r\nSubject: [lb1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\nTo: a@example.com, b@example.com\r\n\r\n"));
        assert!(d[5].ends_with("\r\n.\r\n"));
        assert_eq!(d[6], "QUIT\r\n");
        assert!(rfc5322_now().ends_with(" +0000"));
    }

    /// A one-shot SMTP server on loopback that sends `script` (one reply per line it reads,
    /// after the greeting), then closes.
    async fn server(greeting: &'static str, replies: &'static [&'static str]) -> u16 {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let (r, mut w) = s.into_split();
            w.write_all(greeting.as_bytes()).await.unwrap();
            let mut lines = BufReader::new(r).lines();
            for reply in replies {
                if lines.next_line().await.ok().flatten().is_none() {
                    return;
                }
                let _ = w.write_all(reply.as_bytes()).await;
            }
        });
        port
    }

    fn mail() -> Mail {
        Mail {
            helo: "lb1".into(),
            from: "kac@example.com".into(),
            to: vec!["a@example.com".into()],
            subject: "s".into(),
            body: "b".into(),
            date: "Sun, 22 Nov 2026 07:00:00 +0000".into(),
        }
    }

    #[tokio::test]
    async fn a_failed_alert_says_which_step_failed() {
        let t = StdDuration::from_secs(5);
        let port = server("220 hi\r\n", &["550 go away\r\n"]).await;
        match send("127.0.0.1", port, t, &mail()).await {
            Err(SmtpError::Refused { step, code, line }) => {
                assert_eq!(
                    (step.as_str(), code, line.as_str()),
                    ("HELO", 250, "550 go away")
                );
            }
            other => panic!("{other:?}"),
        }
        let port = server("220 hi\r\n", &["250 ok\r\n"]).await;
        match send("127.0.0.1", port, t, &mail()).await {
            Err(SmtpError::Closed { step }) => assert_eq!(step, "MAIL"),
            other => panic!("{other:?}"),
        }
        // A reply that never ends its line fails at MAX_LINE bytes, not at the timeout.
        let port = server(Box::leak("2".repeat(1 << 20).into_boxed_str()), &[]).await;
        let started = std::time::Instant::now();
        match send("127.0.0.1", port, t, &mail()).await {
            Err(e @ SmtpError::TooLong { .. }) => {
                assert_eq!(
                    e.to_string(),
                    "greeting: a reply line longer than 512 bytes"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < t);
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let e = send("127.0.0.1", port, t, &mail()).await.unwrap_err();
        assert!(matches!(e, SmtpError::Connect(_)), "{e:?}");
        assert!(e.to_string().starts_with("connect: "), "{e}");
    }
}
