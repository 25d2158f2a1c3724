//! A program on a real terminal: a detached tmux session, its screen read back as text, keys
//! sent to it. The session is killed when dropped (its programs get SIGHUP).

use std::process::{Command, Stdio};
use std::time::Duration;

use super::segment::wait_for;

pub struct Tmux(pub String);

/// The first line of `screen` that starts with `prefix` (a table row), or "".
pub fn line_starting(screen: &str, prefix: &str) -> String {
    screen
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_default()
        .to_string()
}

impl Tmux {
    /// Runs shell command `cmd` in a new `w`x`h` session named `name` (made unique).
    pub fn start(name: &str, w: u16, h: u16, cmd: &str) -> Tmux {
        let session = format!("kac-{name}-{}", std::process::id());
        let ok = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session])
            .args(["-x", &w.to_string(), "-y", &h.to_string(), cmd])
            .env("TERM", "xterm-256color")
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session {cmd}");
        Tmux(session)
    }

    /// The screen as text.
    pub fn capture(&self) -> String {
        let o = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Sends tmux key names ("Down", "C-s", "BSpace") or text, one argument each.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux")
                .args(["send-keys", "-t", &self.0, k])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "tmux send-keys {k}");
        }
    }

    /// Waits up to `secs` for the screen to satisfy `cond`; the last screen if it never does.
    pub fn wait_until(&self, secs: u64, cond: impl Fn(&str) -> bool) -> Result<(), String> {
        wait_for(Duration::from_secs(secs), || cond(&self.capture()))
            .map(|_| ())
            .ok_or_else(|| self.capture())
    }

    /// Waits for the screen to contain all of `want`.
    pub fn wait_for(&self, secs: u64, want: &[&str]) -> Result<(), String> {
        self.wait_until(secs, |s| want.iter().all(|w| s.contains(w)))
    }

    /// Whether the session still exists (its program has not ended).
    pub fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.0])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .stderr(Stdio::null())
            .status();
    }
}
