//! The real `kaconsole tui` in tmux, one console per daemon of a pair in namespaces: they show
//! the MASTER and the BACKUP; the master is killed and the other console shows the new MASTER
//! within Master_Down_Interval + 1 s while the first shows its banner; a priority edited in the
//! config editor is applied and becomes the effective one; the killed daemon comes back and its
//! console reconnects. Needs root and tmux.

mod common;

use std::time::{Duration, Instant};

use common::segment::{Segment, wait_for};
use common::tmux::Tmux;
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

/// `kaconsole tui` on `socket` in a new 100x30 terminal.
fn console(name: &str, socket: &std::path::Path) -> Tmux {
    let cmd = format!(
        "{} tui --socket {}",
        common::kaconsole().display(),
        socket.display()
    );
    Tmux::start(&format!("tui-{name}"), 100, 30, &cmd)
}

/// The instance's row in the overview.
fn row(screen: &str) -> String {
    common::tmux::line_starting(screen, "VI_1")
}

#[test]
fn the_console_shows_a_failover_and_applies_an_edit() {
    let test = "the_console_shows_a_failover_and_applies_an_edit";
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

    // One console per daemon: one MASTER, one BACKUP.
    let c1 = console("one", &h1.socket());
    let c2 = console("two", &h2.socket());
    c1.wait_for(5, &["VI_1", "(admin)"])
        .unwrap_or_else(|s| panic!("console 1:\n{s}"));
    c2.wait_for(5, &["VI_1", "(admin)"])
        .unwrap_or_else(|s| panic!("console 2:\n{s}"));
    assert!(row(&c1.capture()).contains("MASTER"), "{}", c1.capture());
    assert!(row(&c2.capture()).contains("BACKUP"), "{}", c2.capture());

    d1.stop_with(Signal::SIGKILL);
    let killed = Instant::now();
    let failover = wait_for(Duration::from_secs(8), || {
        row(&c2.capture()).contains("MASTER")
    });
    assert!(
        failover.is_some(),
        "the console shows the new MASTER:\n{}\n{}",
        c2.capture(),
        d2.log_text()
    );
    assert!(
        killed.elapsed() < Duration::from_millis(3_805 + 1_000),
        "within Master_Down_Interval + 1 s of the kill: {:?}",
        killed.elapsed()
    );
    // The console of the dead daemon says so.
    c1.wait_for(3, &["NOT CONNECTED"])
        .unwrap_or_else(|s| panic!("no banner:\n{s}"));

    // Edit the priority in the config editor (line 5, "    priority 100"), apply, confirm.
    c2.keys(&["6"]);
    c2.wait_for(3, &["priority 100", "no problems"])
        .unwrap_or_else(|s| panic!("editor:\n{s}"));
    c2.keys(&[
        "e", "Down", "Down", "Down", "Down", "End", "BSpace", "BSpace",
    ]);
    c2.keys(&["2", "0", "C-s"]);
    c2.wait_for(
        3,
        &[
            "apply this change?",
            "-    priority 100",
            "+    priority 120",
        ],
    )
    .unwrap_or_else(|s| panic!("the diff:\n{s}"));
    c2.keys(&["y"]);
    c2.wait_for(5, &["applied"])
        .unwrap_or_else(|s| panic!("apply:\n{s}\n{}", d2.log_text()));
    let conf = std::fs::read_to_string(h2.dir.join("kaconsole.conf")).unwrap();
    assert!(conf.contains("priority 120"), "{conf}");
    // Back in the overview, the new priority is the effective one.
    c2.keys(&["Escape", "1"]);
    let prio = wait_for(Duration::from_secs(3), || {
        row(&c2.capture()).contains("120")
    });
    assert!(prio.is_some(), "{}", c2.capture());

    // The first daemon comes back (it preempts); its console reconnects by itself.
    let _d1 = start(h1, "150");
    c1.wait_for(8, &["(admin)"])
        .unwrap_or_else(|s| panic!("no reconnection:\n{s}"));
    let back = wait_for(Duration::from_secs(8), || {
        row(&c1.capture()).contains("MASTER")
    });
    assert!(back.is_some(), "{}", c1.capture());

    // q quits.
    c2.keys(&["q"]);
    let gone = wait_for(Duration::from_secs(3), || !c2.alive());
    assert!(gone.is_some(), "q ends the console");
}
