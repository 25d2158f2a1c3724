//! Checking a configuration text sent over the control socket (`validate`, `apply`) in a child
//! process: kaconsole runs again as `kaconsole __check-text`, the text on its standard input.
//! keepalived reads its configuration in a child process for the same reason: whatever the
//! text does - expand to millions of lines, include a file that never answers (/proc/kmsg, a
//! FIFO) - the child runs into its own limits (lines, bytes, memory, time) or is killed, and
//! the daemon never waits on it.
//!
//! Includes resolve as in the daemon's configuration file: the text is read as that file.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::{self, LoadOptions, Severity, diag};

/// Lines the text may expand to (a configuration file may have a hundred times more).
pub const MAX_LINES: usize = 200_000;
/// Bytes the text may expand to.
pub const MAX_BYTES: usize = 16 << 20;
/// Diagnostics sent back; the counts are of all of them.
pub const MAX_DIAGNOSTICS: usize = 1_000;
/// The text read from the socket is at most a request line; this is a second guard.
const MAX_TEXT: u64 = 16 << 20;
/// The child's address space.
const CHILD_MEMORY: u64 = 1 << 30;
/// The child's time.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The child's answer.
const MAX_ANSWER: u64 = 32 << 20;

/// What the text gets: the first [`MAX_DIAGNOSTICS`] diagnostics as `kaconsole check --json`
/// prints them, and the numbers of errors and warnings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TextCheck {
    pub diagnostics: Vec<serde_json::Value>,
    pub errors: usize,
    pub warnings: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("cannot start the check: {0}")]
    Spawn(std::io::Error),
    #[error("the check took longer than {} s and was stopped", TIMEOUT.as_secs())]
    TimedOut,
    #[error("the check failed ({status}){detail}")]
    Failed { status: String, detail: String },
    #[error("the check's answer cannot be read: {0}")]
    Answer(String),
}

/// Checks `text` as the configuration file `path`, in this process, within the limits above.
pub fn diagnose(path: &Path, config_id: &str, text: &[u8]) -> TextCheck {
    diagnose_within(path, config_id, text, MAX_LINES, MAX_BYTES)
}

fn diagnose_within(
    path: &Path,
    config_id: &str,
    text: &[u8],
    max_lines: usize,
    max_bytes: usize,
) -> TextCheck {
    let opts = LoadOptions {
        config_id: config_id.to_string(),
        max_lines,
        max_bytes,
        ..Default::default()
    };
    let machine = crate::sys::env::Machine::new();
    let loaded = config::load_text(path, text, &opts, Some(&machine));
    let count = |s: Severity| {
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == s)
            .count()
    };
    TextCheck {
        diagnostics: loaded
            .diagnostics
            .iter()
            .take(MAX_DIAGNOSTICS)
            .filter_map(|d| serde_json::to_value(diag::to_json(&loaded.sources, d)).ok())
            .collect(),
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
    }
}

/// The child: reads the text, checks it, writes a [`TextCheck`] as JSON.
pub fn child_main(path: &Path, config_id: &str) -> ExitCode {
    use nix::sys::resource::{Resource, setrlimit};
    // A text that expands to more than the reader's own limits catch still cannot take the
    // machine's memory.
    if let Err(e) = setrlimit(Resource::RLIMIT_AS, CHILD_MEMORY, CHILD_MEMORY) {
        eprintln!("kaconsole __check-text: memory limit: {e}");
        return ExitCode::from(2);
    }
    let mut text = Vec::new();
    if let Err(e) = std::io::stdin().take(MAX_TEXT).read_to_end(&mut text) {
        eprintln!("kaconsole __check-text: {e}");
        return ExitCode::from(2);
    }
    let checked = diagnose(path, config_id, &text);
    let written = serde_json::to_vec(&checked)
        .map_err(std::io::Error::other)
        .and_then(|json| {
            let mut out = std::io::stdout().lock();
            out.write_all(&json)?;
            out.flush()
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kaconsole __check-text: {e}");
            ExitCode::from(2)
        }
    }
}

/// Checks `text` in a child process, which is killed if it takes longer than [`TIMEOUT`].
pub async fn in_child(path: &Path, config_id: &str, text: String) -> Result<TextCheck, CheckError> {
    let mut cmd = tokio::process::Command::new("/proc/self/exe");
    // /proc/self/exe still runs after the binary was replaced on disk (an upgrade).
    cmd.arg("__check-text")
        .arg("--config")
        .arg(path)
        .arg("--config-id")
        .arg(config_id);
    let answer = run_child(cmd, text, TIMEOUT).await?;
    serde_json::from_slice(&answer).map_err(|e| CheckError::Answer(e.to_string()))
}

/// Runs `cmd` with `text` on its standard input; its standard output, if it succeeds within
/// `timeout` (it is killed otherwise).
async fn run_child(
    mut cmd: tokio::process::Command,
    text: String,
    timeout: Duration,
) -> Result<Vec<u8>, CheckError> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(CheckError::Spawn)?;
    let (mut stdin, stdout, stderr) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let talk = async {
        if let Some(w) = stdin.as_mut() {
            // The child reads everything before it answers: a failed write shows in its exit.
            let _ = w.write_all(text.as_bytes()).await;
        }
        drop(stdin);
        let mut answer = Vec::new();
        if let Some(r) = stdout {
            let _ = r.take(MAX_ANSWER).read_to_end(&mut answer).await;
        }
        let mut errors = Vec::new();
        if let Some(r) = stderr {
            let _ = r.take(4096).read_to_end(&mut errors).await;
        }
        let status = child.wait().await;
        (answer, errors, status)
    };
    let (answer, errors, status) = tokio::time::timeout(timeout, talk)
        .await
        .map_err(|_| CheckError::TimedOut)?;
    let status = status.map_err(CheckError::Spawn)?;
    if !status.success() {
        let detail = String::from_utf8_lossy(&errors).trim().to_string();
        return Err(CheckError::Failed {
            status: status.to_string(),
            detail: if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            },
        });
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_child_that_takes_too_long_is_killed_and_a_failure_says_why() {
        let mut sleeper = tokio::process::Command::new("sleep");
        sleeper.arg("30");
        let started = std::time::Instant::now();
        let r = run_child(sleeper, String::new(), Duration::from_millis(300)).await;
        assert!(matches!(r, Err(CheckError::TimedOut)), "{r:?}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not waited for"
        );
        let mut failing = tokio::process::Command::new("sh");
        failing.args(["-c", "cat >/dev/null; echo broken >&2; exit 3"]);
        let e = run_child(failing, "text".into(), TIMEOUT)
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "the check failed (exit status: 3): broken");
        let mut echo = tokio::process::Command::new("cat");
        echo.kill_on_drop(true);
        let out = run_child(echo, "{\"errors\":0}".into(), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(out, b"{\"errors\":0}");
    }

    #[test]
    fn a_runaway_text_stops_at_the_limits_and_diagnostics_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keepalived.conf");
        // Two million lines asked for: refused at once.
        let c = diagnose(&path, "h", b"~SEQ(i,1,2000000) x$i\n");
        assert_eq!(c.errors, 1, "{c:?}");
        assert_eq!(c.diagnostics[0]["code"], "too-many-lines");
        // 5,000 unknown keywords: every one counted, the first thousand sent.
        let c = diagnose(&path, "h", b"~SEQ(i,1,5000) x$i\n");
        assert_eq!(c.errors, 5000);
        assert_eq!(c.diagnostics.len(), MAX_DIAGNOSTICS);
        // Long lines repeated: the byte limit (a small one here, for a debug build's speed).
        let long = format!("~SEQ(i,1,1000) {}\n", "y".repeat(1000));
        let c = diagnose_within(&path, "h", long.as_bytes(), MAX_LINES, 100_000);
        let msg = c.diagnostics[0]["message"].as_str().unwrap().to_string();
        assert!(msg.contains("100000 bytes"), "{msg}");
    }
}
