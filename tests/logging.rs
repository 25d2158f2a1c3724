//! Where the daemon's log goes: syslog (keepalived's identifiers and the facility `-S`
//! chose) and the journal's native protocol under systemd, each received by a socket the test
//! owns, bound over /dev/log or /run/systemd/journal/socket in a mount namespace of the
//! daemon's own (overlays: the machine's /dev and /run are untouched). Needs root.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use common::segment::{Host, Segment};

const CONF: &str = "vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
    }
}
virtual_server 10.77.0.100 80 {
    delay_loop 1
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 81 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
";

/// Runs `kaconsole daemon -n ARGS` in host `h`, in a mount namespace where `over` (a
/// directory: /dev or /run) is an overlay and `file` inside it is `socket` (bind-mounted).
fn daemon_with_socket_at(
    h: &Host,
    over: &str,
    file: &str,
    socket: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> common::segment::Daemon {
    let conf = h.write("kaconsole.conf", CONF).display().to_string();
    let d = h.dir.display().to_string();
    let (upper, work) = (format!("{d}/upper"), format!("{d}/work"));
    let script = format!(
        "set -e; mkdir -p {upper} {work}; \
         mount -t overlay overlay -o lowerdir={over},upperdir={upper},workdir={work} {over}; \
         mkdir -p $(dirname {file}); touch {file}; mount --bind {sock} {file}; \
         exec \"$0\" \"$@\"",
        sock = socket.display()
    );
    let pid = format!("{d}/kaconsole.pid");
    let sock = format!("{d}/kaconsole.sock");
    let mut argv = vec!["-m", "--propagation", "private", "sh", "-c", &script];
    let kaconsole = common::kaconsole().display().to_string();
    argv.extend([
        kaconsole.as_str(),
        "daemon",
        "-n",
        "-f",
        &conf,
        "-p",
        &pid,
        "--socket",
        &sock,
    ]);
    argv.extend_from_slice(args);
    h.spawn_env(Path::new("unshare"), &argv, "daemon.log", env)
}

/// Datagrams received until one contains `what` (all of them), or `None` after 15 s.
fn receive_until(s: &UnixDatagram, what: &str) -> Option<Vec<Vec<u8>>> {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline {
        if let Ok(n) = s.recv(&mut buf) {
            got.push(buf[..n].to_vec());
            if String::from_utf8_lossy(&buf[..n]).contains(what) {
                return Some(got);
            }
        }
    }
    None
}

fn daemon_pid(h: &Host) -> String {
    std::fs::read_to_string(h.dir.join("kaconsole.pid"))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn syslog_gets_keepalived_identifiers_and_the_facility_s_chose() {
    if !common::require_root("syslog_gets_keepalived_identifiers_and_the_facility_s_chose") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("devlog.sock");
    let listener = UnixDatagram::bind(&path).unwrap();
    let d = daemon_with_socket_at(h, "/dev", "/dev/log", &path, &["-S", "3"], &[]);
    let got = receive_until(&listener, "(VI_1) Entering MASTER STATE");
    let lines: Vec<String> = got
        .iter()
        .flatten()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(got.is_some(), "{lines:#?}\n{}", d.log_text());
    let pid = daemon_pid(h);
    // local3 (19) * 8 + info (6) = 158.
    let master = lines.last().unwrap();
    assert!(master.starts_with("<158>"), "{master}");
    assert!(
        master.ends_with(&format!(
            " Keepalived_vrrp[{pid}]: (VI_1) Entering MASTER STATE"
        )),
        "{master}"
    );
    // The start: the parent's identifier, the version and the command line, one datagram
    // per line.
    let start = lines
        .iter()
        .find(|l| l.contains("Starting kaconsole"))
        .unwrap();
    assert!(
        start.starts_with("<158>")
            && start.contains(&format!(
                " Keepalived[{pid}]: Starting kaconsole 0.1.0 (commit "
            )),
        "{start}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Command line: '") && l.contains("'-S' '3'")),
        "{lines:#?}"
    );
    assert!(lines.iter().all(|l| !l.contains('\n')), "{lines:#?}");
    // The checkers under their own identifier: nothing listens on port 81.
    // (It may have come before the transition.)
    let rs = lines
        .iter()
        .find(|l| l.contains("service [127.0.0.1]:tcp:81"))
        .cloned()
        .or_else(|| {
            receive_until(&listener, "service [127.0.0.1]:tcp:81")
                .map(|v| String::from_utf8_lossy(v.last().unwrap()).into_owned())
        });
    assert!(
        rs.as_deref()
            .is_some_and(|l| l.contains(&format!(" Keepalived_healthcheckers[{pid}]: "))),
        "{rs:?}"
    );
    // A stop says what it released.
    let pid_n: i32 = pid.parse().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid_n),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let stop = receive_until(&listener, "Stopped; released");
    let stop = stop.map(|v| String::from_utf8_lossy(v.last().unwrap()).into_owned());
    assert!(
        stop.as_deref()
            .is_some_and(|l| l.ends_with("Stopped; released 1 address(es): 10.77.0.100")),
        "{stop:?}"
    );
    // Without -l nothing goes to the console.
    assert!(
        !d.log_text().contains("Entering MASTER STATE"),
        "{}",
        d.log_text()
    );
}

#[test]
fn under_systemd_the_journal_gets_fields() {
    if !common::require_root("under_systemd_the_journal_gets_fields") {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sock");
    let listener = UnixDatagram::bind(&path).unwrap();
    let notify = dir.path().join("notify.sock");
    let _notify = UnixDatagram::bind(&notify).unwrap();
    let d = daemon_with_socket_at(
        h,
        "/run",
        "/run/systemd/journal/socket",
        &path,
        &["-l"],
        &[("NOTIFY_SOCKET", notify.to_str().unwrap())],
    );
    let got = receive_until(&listener, "MESSAGE=(VI_1) Entering MASTER STATE");
    assert!(got.is_some(), "{got:?}\n{}", d.log_text());
    let entry = String::from_utf8_lossy(got.as_ref().unwrap().last().unwrap()).into_owned();
    for field in [
        "PRIORITY=6\n",
        "SYSLOG_IDENTIFIER=Keepalived_vrrp\n",
        "SYSLOG_FACILITY=3\n",
        "INSTANCE=VI_1\n",
        "VRID=51\n",
        "STATE=MASTER\n",
    ] {
        assert!(entry.contains(field), "{field}: {entry}");
    }
    // -l: the console too, with the timestamp.
    assert!(
        d.log_text().contains(": (VI_1) Entering MASTER STATE"),
        "{}",
        d.log_text()
    );
}

#[test]
fn a_bad_facility_is_refused_with_the_choices() {
    let o = std::process::Command::new(common::kaconsole())
        .args(["daemon", "-S", "9", "-f", "/nonexistent"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    if common::is_root() {
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("invalid log facility '9'") && err.contains("0-7"),
            "{err}"
        );
    }
}
