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

/// The instance's row in the overview (after the findings' marker column).
fn row(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.get(2..).is_some_and(|r| r.starts_with("VI_1")))
        .unwrap_or_default()
        .to_string()
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

/// Without a terminal (a pipe, cron, `</dev/null`) the console writes one line to stderr,
/// nothing to stdout (no escape codes), and exits 2.
#[test]
fn without_a_terminal_it_says_so_in_one_line_and_exits_2() {
    let out = std::process::Command::new(common::kaconsole())
        .args(["tui", "--socket", "/nonexistent.sock"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{:?}", out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("needs a terminal"), "{err}");
    // A --via without the place of the node's name is refused the same way, before the screen.
    let out = std::process::Command::new(common::kaconsole())
        .args(["tui", "--via", "ssh", "--node", "a"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no {}"));
}

/// A path that is not a socket: the banner says so whole at 80 columns, with what to do, and
/// that it retries; `kaconsole attach` says the same.
#[test]
fn a_wrong_socket_is_explained_whole() {
    let test = "a_wrong_socket_is_explained_whole";
    if common::require_program(test, "tmux").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir
        .path()
        .join("regular-file-not-a-socket-with-a-long-name-to-wrap.sock");
    std::fs::write(&file, "").unwrap();
    let c = console("wrong", &file);
    c.wait_until(5, |s| {
        s.contains("is not a") && s.contains("retrying every second")
    })
    .unwrap_or_else(|s| panic!("no banner:\n{s}"));
    let s = c.capture().replace('\n', " ");
    let joined: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        joined.contains(
            "is not a socket (a regular file): pass --socket with the daemon's control socket"
        ),
        "{}",
        c.capture()
    );
    let out = std::process::Command::new(common::kaconsole())
        .args(["attach", "--socket"])
        .arg(dir.path().join("none.sock"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no daemon listens here - start `kaconsole daemon`"),
        "{err}"
    );
}

const PAIR: &str = "global_defs {
    router_id NAME
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority PRIO
    advert_int 1
    virtual_ipaddress {
        VIPS
    }
}
";

fn pair_conf(name: &str, prio: &str, vips: &str) -> String {
    PAIR.replace("NAME", name)
        .replace("PRIO", prio)
        .replace("VIPS", vips)
}

/// One console on both daemons of a pair (sockets given with --socket twice, or reached with
/// --via through `ip netns exec` and `kaconsole attach`): the virtual router once, MASTER and
/// BACKUP side by side; a reload that changes one node's VIPs is flagged as drift; a stopped
/// daemon (SIGSTOP) is STALE within two poll intervals; a killed one is greyed with "last
/// seen", its last state marked as not current.
fn cluster_console(test: &str, via: bool) {
    if !common::require_root(test) || common::require_program(test, "tmux").is_none() {
        return;
    }
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let sockets = tempfile::tempdir().unwrap();
    let sock = |h: &common::segment::Host| sockets.path().join(format!("{}.sock", h.ns));
    let (s1, s2) = (sock(h1), sock(h2));
    let (s1s, s2s) = (s1.display().to_string(), s2.display().to_string());
    let mut d1 = common::start_kaconsole(
        h1,
        &pair_conf("lb1", "150", "10.77.0.100/24"),
        &["--socket", &s1s],
        &[],
    );
    let d2 = common::start_kaconsole(
        h2,
        &pair_conf("lb2", "100", "10.77.0.100/24"),
        &["--socket", &s2s],
        &[],
    );
    let master = wait_for(Duration::from_secs(8), || h1.has_address("10.77.0.100"));
    assert!(master.is_some(), "{}", d1.log_text());
    let bin = common::kaconsole().display().to_string();
    let cmd = if via {
        format!(
            "{bin} tui --via 'ip netns exec {{}} {bin} attach --socket {}/{{}}.sock' --node {} --node {}",
            sockets.path().display(),
            h1.ns,
            h2.ns
        )
    } else {
        format!("{bin} tui --socket {s1s} --socket {s2s}")
    };
    let c = Tmux::start(&format!("cluster-{via}"), 120, 40, &cmd);
    c.wait_until(8, |s| {
        let r = row_with(s, "VI_1");
        r.contains("MASTER 150") && r.contains("BACKUP 100")
    })
    .unwrap_or_else(|s| panic!("both nodes side by side:\n{s}\n{}", d2.log_text()));
    let s = c.capture();
    assert!(s.contains("lb1") && s.contains("lb2"), "{s}");
    assert!(!s.contains("drift"), "no drift yet:\n{s}");

    // lb2's configuration gets another VIP; after its reload the drift shows, with the field.
    h2.write(
        "kaconsole.conf",
        &pair_conf("lb2", "100", "10.77.0.100/24\n        10.77.0.101/24"),
    );
    d2.signal(Signal::SIGHUP);
    c.wait_for(8, &["drift in VRID 51: VIPs differ"])
        .unwrap_or_else(|s| panic!("no drift:\n{s}\n{}", d2.log_text()));
    assert!(
        row_with(&c.capture(), "VI_1").starts_with('!'),
        "the row is marked:\n{}",
        c.capture()
    );

    // lb1 hangs: STALE within two poll intervals (1 s), and a redraw (0.5 s).
    d1.signal(Signal::SIGSTOP);
    let stopped = Instant::now();
    c.wait_for(5, &["lb1: STALE: no answer"])
        .unwrap_or_else(|s| panic!("not marked stale:\n{s}"));
    assert!(
        stopped.elapsed() < Duration::from_millis(2_000),
        "stale after {:?}",
        stopped.elapsed()
    );
    d1.signal(Signal::SIGCONT);
    c.wait_until(5, |s| !s.contains("STALE"))
        .unwrap_or_else(|s| panic!("still stale after SIGCONT:\n{s}"));

    // lb1 dies: greyed with "last seen", its last state marked as not current.
    d1.stop_with(Signal::SIGKILL);
    c.wait_for(8, &["lb1: DOWN, last seen"])
        .unwrap_or_else(|s| panic!("no last seen:\n{s}"));
    c.wait_until(8, |s| row_with(s, "VI_1").contains("MASTER 150?"))
        .unwrap_or_else(|s| panic!("lb1's last MASTER is not marked as old:\n{s}"));
    c.keys(&["q"]);
    let gone = wait_for(Duration::from_secs(3), || !c.alive());
    assert!(gone.is_some(), "q ends the console");
}

/// The first line containing `word`.
fn row_with(screen: &str, word: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains(word))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn one_console_on_a_pair_shows_drift_stale_and_lost_nodes() {
    cluster_console(
        "one_console_on_a_pair_shows_drift_stale_and_lost_nodes",
        false,
    );
}

#[test]
fn one_console_on_a_pair_through_via_and_attach() {
    cluster_console("one_console_on_a_pair_through_via_and_attach", true);
}

/// `--node` through a real sshd in a namespace, with key authentication: a console in one
/// namespace shows its local daemon (--socket) and the remote one (ssh + `kaconsole attach`)
/// side by side; a node whose key is refused shows ssh's own reason in its banner.
#[test]
fn a_remote_node_through_a_real_sshd() {
    let test = "a_remote_node_through_a_real_sshd";
    if !common::require_root(test) || common::require_program(test, "tmux").is_none() {
        return;
    }
    let (Some(sshd), Some(_), Some(keygen)) = (
        common::require_program(test, "sshd").or_else(|| {
            let p = std::path::PathBuf::from("/usr/sbin/sshd");
            p.is_file().then_some(p)
        }),
        common::require_program(test, "ssh"),
        common::require_program(test, "ssh-keygen"),
    ) else {
        return;
    };
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    for (key, comment) in [("host", "host"), ("id", "good"), ("other", "refused")] {
        let ok = std::process::Command::new(&keygen)
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                comment,
                "-f",
                &p(key),
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "ssh-keygen");
    }
    std::fs::copy(p("id.pub"), p("authorized_keys")).unwrap();
    std::fs::write(
        p("sshd_config"),
        format!(
            "Port 2222\nListenAddress {}\nHostKey {}\nAuthorizedKeysFile {}\nStrictModes no\n\
             UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nPidFile {}\n",
            h1.addr,
            p("host"),
            p("authorized_keys"),
            p("sshd.pid")
        ),
    )
    .unwrap();
    let common_opts = "HostName ADDR\n  Port 2222\n  User root\n  UserKnownHostsFile /dev/null\n  \
                       StrictHostKeyChecking no\n  BatchMode yes\n  LogLevel ERROR\n"
        .replace("ADDR", &h1.addr);
    std::fs::write(
        p("ssh_config"),
        format!(
            "Host lb1\n  {common_opts}  IdentityFile {}\nHost refused\n  {common_opts}  IdentityFile {}\n",
            p("id"),
            p("other")
        ),
    )
    .unwrap();
    // sshd's privilege separation directory, as its package's service makes it.
    std::fs::create_dir_all("/run/sshd").unwrap();
    let _sshd = h1.spawn(&sshd, &["-D", "-e", "-f", &p("sshd_config")], "sshd.log");
    let (s1, s2) = (h1.socket(), h2.socket());
    let d1 = common::start_kaconsole(h1, &pair_conf("lb1", "150", "10.77.0.100/24"), &[], &[]);
    let _d2 = common::start_kaconsole(h2, &pair_conf("lb2", "100", "10.77.0.100/24"), &[], &[]);
    let master = wait_for(Duration::from_secs(8), || h1.has_address("10.77.0.100"));
    assert!(master.is_some(), "{}", d1.log_text());
    let bin = common::kaconsole().display().to_string();
    let cmd = format!(
        "ip netns exec {} {bin} tui --socket {} --via 'ssh -F {} {{}} {bin} attach --socket {}' \
         --node lb1 --node refused",
        h2.ns,
        s2.display(),
        p("ssh_config"),
        s1.display()
    );
    let c = Tmux::start("ssh", 120, 40, &cmd);
    c.wait_until(10, |s| {
        let r = row_with(s, "VI_1");
        r.contains("BACKUP 100") && r.contains("MASTER 150")
    })
    .unwrap_or_else(|s| {
        panic!(
            "the remote node beside the local one:\n{s}\n{}",
            std::fs::read_to_string(h1.dir.join("sshd.log")).unwrap_or_default()
        )
    });
    assert!(c.capture().contains("lb1"), "{}", c.capture());
    // The refused node: its banner, when it is the node shown, has ssh's reason.
    c.keys(&["["]);
    c.wait_for(10, &["NOT CONNECTED to refused", "Permission denied"])
        .unwrap_or_else(|s| panic!("ssh's reason:\n{s}"));
    c.keys(&["q"]);
    let gone = wait_for(Duration::from_secs(3), || !c.alive());
    assert!(gone.is_some(), "q ends the console");
}

/// An authentication-mismatch split brain with keepalived: kaconsole and keepalived both
/// MASTER of VRID 51 with other passwords. The console of the kaconsole node says so on the
/// overview (the row marked, a finding with the count of rejected adverts) and on the segment
/// view (this node listed, the conflict named).
#[test]
fn an_auth_mismatch_split_brain_with_keepalived_is_a_finding() {
    let test = "an_auth_mismatch_split_brain_with_keepalived_is_a_finding";
    if !common::require_root(test) || common::require_program(test, "tmux").is_none() {
        return;
    }
    let Some(keepalived) = common::require_program(test, "keepalived") else {
        return;
    };
    let seg = Segment::new(2);
    let (h1, h2) = (&seg.hosts[0], &seg.hosts[1]);
    let conf = |prio: &str, pass: &str| {
        pair_conf("lb", prio, "10.77.0.100/24").replace(
            "    advert_int 1\n",
            &format!("    advert_int 1\n    authentication {{\n        auth_type PASS\n        auth_pass {pass}\n    }}\n"),
        )
    };
    let kc = common::start_kaconsole(h1, &conf("150", "secret1"), &[], &[]);
    let _ka = common::start_keepalived(h2, &keepalived, &conf("100", "other22"), &[]);
    let both = wait_for(Duration::from_secs(10), || {
        h1.has_address("10.77.0.100") && h2.has_address("10.77.0.100")
    });
    assert!(both.is_some(), "no split brain: {}", kc.log_text());
    let c = console("split", &h1.socket());
    c.wait_until(8, |s| {
        row(s).starts_with('!')
            && s.contains("auth-mismatch on lb: VRID 51: this node (VI_1) rejected")
            && s.contains("authentication failed")
    })
    .unwrap_or_else(|s| panic!("the overview does not flag it:\n{s}"));
    c.keys(&["7"]);
    c.wait_for(8, &["this node", "auth-mismatch", "conflict(s)"])
        .unwrap_or_else(|s| panic!("the segment view does not flag it:\n{s}"));
    assert!(
        !c.capture().contains("free VRIDs: 1-255"),
        "{}",
        c.capture()
    );
    assert!(
        c.capture().contains("free VRIDs: 1-50, 52-255"),
        "{}",
        c.capture()
    );
}

/// `--cluster NAME` reads the nodes from $XDG_CONFIG_HOME/kaconsole/clusters/NAME; a missing
/// cluster or a line it does not know is a one-line error and exit 2.
#[test]
fn a_named_cluster_is_read_from_the_config_directory() {
    let test = "a_named_cluster_is_read_from_the_config_directory";
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("kaconsole/clusters");
    std::fs::create_dir_all(&dir).unwrap();
    let socks = tempfile::tempdir().unwrap();
    let (a, b) = (socks.path().join("a.sock"), socks.path().join("b.sock"));
    std::fs::write(
        dir.join("edge"),
        format!(
            "# the edge pair\nsocket {}\nsocket {}   # the second\n",
            a.display(),
            b.display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("typo"), "nodes lb1\n").unwrap();
    let run = |name: &str| {
        std::process::Command::new(common::kaconsole())
            .args(["tui", "--cluster", name])
            .env("XDG_CONFIG_HOME", home.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let out = run("typo");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("typo:1: unknown 'nodes' (node, socket or via)"),
        "{err}"
    );
    let out = run("nope");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope") && err.contains("one a line"), "{err}");
    if common::require_program(test, "tmux").is_none() {
        return;
    }
    let cmd = format!(
        "XDG_CONFIG_HOME={} {} tui --cluster edge",
        home.path().display(),
        common::kaconsole().display()
    );
    let t = Tmux::start("cluster-file", 160, 30, &cmd);
    t.wait_for(5, &["on 2 nodes", "a.sock", "b.sock", "DOWN, never seen"])
        .unwrap_or_else(|s| panic!("the cluster's nodes:\n{s}"));
}
