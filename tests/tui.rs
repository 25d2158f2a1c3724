//! The real `kaconsole tui` in tmux, attached to a daemon in a namespace: it shows the BACKUP,
//! the master is killed, and the console shows the new MASTER within Master_Down_Interval + 1 s.
//! Needs root and tmux.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::segment::{Segment, wait_for};
use nix::sys::signal::Signal;

const CONF: &str = "vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority PRIO
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
    }
}
";

/// A tmux session, killed when dropped.
struct Tmux(String);

impl Tmux {
    fn capture(&self) -> String {
        let o = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

#[test]
fn the_console_shows_a_failover() {
    let test = "the_console_shows_a_failover";
    if !common::require_root(test) || common::require_program(test, "tmux").is_none() {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let start = |h: &common::segment::Host, prio: &str| {
        common::start_kaconsole(h, &CONF.replace("PRIO", prio), &[], &[])
    };
    let mut d1 = start(h1, "150");
    let d2 = start(h2, "100");
    let master = wait_for(Duration::from_secs(8), || h1.has_address("10.77.0.100"));
    assert!(master.is_some(), "{}", d1.log_text());

    let session = format!("kac-tui-{}", std::process::id());
    let cmd = format!(
        "{} tui --socket {}",
        common::kaconsole().display(),
        h2.socket().display()
    );
    let ok = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "100",
            "-y",
            "30",
            &cmd,
        ])
        .env("TERM", "xterm-256color")
        .status()
        .unwrap()
        .success();
    assert!(ok, "tmux new-session");
    let tmux = Tmux(session);
    let shown = wait_for(Duration::from_secs(5), || {
        let s = tmux.capture();
        s.contains("VI_1") && s.contains("BACKUP") && s.contains("connected to")
    });
    assert!(
        shown.is_some(),
        "the console shows the BACKUP:\n{}",
        tmux.capture()
    );

    d1.stop_with(Signal::SIGKILL);
    let killed = Instant::now();
    let failover = wait_for(Duration::from_secs(8), || tmux.capture().contains("MASTER"));
    assert!(
        failover.is_some(),
        "the console shows the new MASTER:\n{}\n{}",
        tmux.capture(),
        d2.log_text()
    );
    assert!(
        killed.elapsed() < Duration::from_millis(3_805 + 1_000),
        "within Master_Down_Interval + 1 s of the kill: {:?}",
        killed.elapsed()
    );
    // q quits.
    let _ = Command::new("tmux")
        .args(["send-keys", "-t", &tmux.0, "q"])
        .status();
    let gone = wait_for(Duration::from_secs(3), || {
        !Command::new("tmux")
            .args(["has-session", "-t", &tmux.0])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    assert!(gone.is_some(), "q ends the console");
}
