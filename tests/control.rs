//! The control socket of a real daemon (in a network namespace): the handshake, every request,
//! refusals, garbage, oversized lines and many clients at once. Needs root.

mod common;

use std::io::{BufRead, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

use common::control::Client;
use common::segment::{Segment, wait_for};
use serde_json::{Value, json};

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
";

/// A daemon on CONF alone on a segment, once its control socket exists; `None` when the test
/// is skipped (no root, no CI).
fn daemon(test: &str) -> Option<(Segment, common::segment::Daemon)> {
    if !common::require_root(test) {
        return None;
    }
    let seg = Segment::new(1);
    let d = common::start_kaconsole(&seg.hosts[0], CONF, &[], &[]);
    let sock = seg.hosts[0].socket();
    let up = wait_for(Duration::from_secs(5), || sock.exists());
    assert!(up.is_some(), "{}", d.log_text());
    Some((seg, d))
}

#[test]
fn the_control_socket_answers_every_request() {
    let Some((seg, d)) = daemon("the_control_socket_answers_every_request") else {
        return;
    };
    let sock = seg.hosts[0].socket();
    let conf = seg.hosts[0].dir.join("kaconsole.conf");
    let mode = std::fs::metadata(&sock)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777);
    assert!(
        matches!(mode, Ok(0o600) | Ok(0o660)),
        "socket mode {mode:?}"
    );

    // The handshake comes first, with the right version.
    let mut c = Client::connect(&sock);
    let r = c.call(json!({"req": "status"}));
    assert_eq!(r["error"]["code"], "hello_first", "{r}");
    let r = c.call(json!({"req": "hello", "version": 99}));
    assert_eq!(r["error"]["code"], "version", "{r}");
    let r = c.call(json!({"req": "hello", "version": 1}));
    assert_eq!(r["ok"]["hello"]["admin"], true, "root is admin: {r}");

    // Garbage gets an error and the connection stays usable.
    c.send_raw("this is not json");
    assert_eq!(c.reply()["error"]["code"], "bad_request");
    c.send_raw(r#"{"id":5,"req":"no_such_request"}"#);
    assert_eq!(c.reply()["error"]["code"], "bad_request");

    // Status: the instance, MASTER once elected.
    let master = wait_for(Duration::from_secs(8), || {
        let r = c.call(json!({"req": "status"}));
        r["ok"]["status"]["instances"][0]["state"] == "MASTER"
    });
    assert!(master.is_some(), "{}", d.log_text());
    let r = c.call(json!({"req": "status"}));
    let i = &r["ok"]["status"]["instances"][0];
    assert_eq!(
        (i["name"].as_str(), i["vrid"].as_u64()),
        (Some("VI_1"), Some(51)),
        "{r}"
    );
    assert_eq!(i["effective_priority"], 150);
    assert_eq!(i["vips"], json!(["10.77.0.100/24"]));
    assert!(i["stats"]["advert_sent"].as_u64().unwrap() >= 1);
    assert!(i["next_advert_s"].as_f64().unwrap() <= 1.0);

    // The configuration, and validation with check's diagnostics.
    let r = c.call(json!({"req": "get_config"}));
    assert_eq!(r["ok"]["config"]["text"], CONF);
    let broken = CONF.replace("priority 150", "priority 500");
    let r = c.call(json!({"req": "validate", "text": broken}));
    assert_eq!(r["ok"]["diagnostics"]["errors"], 1, "{r}");
    assert_eq!(r["ok"]["diagnostics"]["diagnostics"][0]["line"], 5, "{r}");

    // Events: a subscriber sees the reload's log line.
    let mut sub = Client::hello(&sock);
    let r = sub.call(json!({"req": "subscribe"}));
    assert_eq!(r["ok"], "subscribed", "{r}");

    // Apply: refused with its diagnostics when broken (nothing written)...
    let r = c.call(json!({"req": "apply", "text": broken}));
    assert_eq!(r["error"]["code"], "invalid_config", "{r}");
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), CONF);
    // ...else written with a backup and reloaded: the new priority shows.
    let changed = CONF.replace("priority 150", "priority 160");
    let r = c.call(json!({"req": "apply", "text": changed}));
    assert!(r["ok"]["applied"]["backup"].as_str().is_some(), "{r}");
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), changed);
    let backup = r["ok"]["applied"]["backup"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read_to_string(backup).unwrap(), CONF);
    let r = c.call(json!({"req": "status"}));
    assert_eq!(
        r["ok"]["status"]["instances"][0]["base_priority"], 160,
        "{r}"
    );
    assert_eq!(
        r["ok"]["status"]["instances"][0]["state"], "MASTER",
        "a reload keeps the MASTER"
    );
    let mut saw_reload = false;
    for _ in 0..50 {
        let mut l = String::new();
        if sub.r.read_line(&mut l).unwrap_or(0) == 0 {
            break;
        }
        if l.contains("\"event\"") && l.contains("Reloading") {
            saw_reload = true;
            break;
        }
    }
    assert!(saw_reload, "the subscriber saw the reload");

    // 200 clients at once all get their status.
    let clients: Vec<Client> = (0..200).map(|_| Client::connect(&sock)).collect();
    for mut cl in clients {
        let r = cl.call(json!({"req": "hello", "version": 1}));
        assert_eq!(r["ok"]["hello"]["version"], 1);
        let r = cl.call(json!({"req": "status"}));
        assert_eq!(r["ok"]["status"]["instances"][0]["name"], "VI_1");
    }

    // An oversized line closes that client only.
    let mut big = Client::hello(&sock);
    let huge = format!(
        "{{\"id\":1,\"req\":\"validate\",\"text\":\"{}\"}}",
        "x".repeat(2 << 20)
    );
    let _ = big.w.write_all(huge.as_bytes());
    let r = big.reply();
    assert_eq!(r["error"]["code"], "bad_request", "{r}");
    let r = c.call(json!({"req": "status"}));
    assert_eq!(
        r["ok"]["status"]["instances"][0]["state"], "MASTER",
        "others are still served"
    );
    // A reload request works for the admin.
    let r = c.call(json!({"req": "reload"}));
    assert_eq!(r["ok"], "reloaded", "{r}");

    // A console attached now still gets the recent events: the reload above among them.
    let mut late = Client::hello(&sock);
    late.send_raw(r#"{"id":70,"req":"subscribe"}"#);
    let mut backlog = Vec::new();
    loop {
        let mut l = String::new();
        late.r.read_line(&mut l).unwrap();
        if l.contains("\"id\":70") {
            break;
        }
        backlog.push(l);
    }
    assert!(
        backlog.iter().any(|l| l.contains("Reloading")),
        "backlog: {backlog:?}"
    );
    assert!(
        backlog.iter().any(|l| l.contains("Entering MASTER STATE")),
        "the election is in the backlog too: {backlog:?}"
    );

    // The daemon's own figures: the apply and the reload above, this client and the
    // subscriber, adverts sent as MASTER, a resident size.
    let r = c.call(json!({"req": "stats"}));
    let st = &r["ok"]["stats"];
    assert_eq!(st["reloads"], 2, "{r}");
    assert_eq!(st["instances"], 1, "{r}");
    assert!(st["clients"].as_u64().unwrap() >= 2, "{r}");
    assert!(st["adverts_sent"].as_u64().unwrap() >= 1, "{r}");
    let rss = st["rss_kb"].as_u64().unwrap();
    assert!((1_000..200_000).contains(&rss), "rss {rss} kB: {r}");
}

/// The environment variable that makes a test the client half of itself, run as another
/// user: the socket to ask (see [`as_nobody`]).
const CLIENT_SOCKET_ENV: &str = "KACONSOLE_TEST_CONTROL_CLIENT";
/// The secret file the reader tries to read, for its half of the test.
const SECRET_ENV: &str = "KACONSOLE_TEST_SECRET";
/// A shadow-style line, in a root file of mode 0600.
const SECRET: &str = "root:$6$kaconsoletestsalt$notarealhash:19000:0:99999:7:::";

/// Lets user nobody reach `sock` (as the kaconsole group would) and its directories.
fn open_to_nobody(sock: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let mut dir = sock.parent();
    while let Some(p) = dir {
        let mode = std::fs::metadata(p).unwrap().permissions().mode();
        if mode & 0o001 == 0 {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode | 0o011)).unwrap();
        }
        dir = p.parent();
    }
}

/// Runs `test` of this binary again as user nobody, its client half, with the socket (and
/// `env`) in the environment; its stdin and stdout are pipes.
fn as_nobody(test: &str, sock: &Path, env: &[(&str, &str)]) -> std::process::Child {
    open_to_nobody(sock);
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture"])
        .env(CLIENT_SOCKET_ENV, sock)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .uid(65534)
        .gid(65534)
        .spawn()
        .unwrap()
}

/// The line the client half printed after `tag`, as JSON.
fn client_says(out: std::process::Output, tag: &str) -> Value {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(tag))
        .unwrap_or_else(|| panic!("{text}{}", String::from_utf8_lossy(&out.stderr)));
    serde_json::from_str(line).unwrap()
}

/// The client half of `a_reader_may_read_the_state_but_no_file`, run as user nobody: every
/// request, the file-reading ones aimed at the secret.
fn reader_client(sock: &Path, secret: &str) {
    let mut c = Client::hello(sock);
    let include = format!("include {secret}\n");
    let replies = json!({
        "status": c.call(json!({"req": "status"})),
        "stats": c.call(json!({"req": "stats"})),
        "segment": c.call(json!({"req": "segment"})),
        "get_config": c.call(json!({"req": "get_config"})),
        "validate": c.call(json!({"req": "validate", "text": include})),
        "apply": c.call(json!({"req": "apply", "text": include})),
        "reload": c.call(json!({"req": "reload"})),
    });
    println!("REPLIES {replies}");
}

/// A client of another user may read the daemon's state but nothing read from a file: not
/// the configuration (it holds passwords), not a check of a text that includes a root file
/// (its diagnostics would quote the file), and it may neither apply nor reload.
#[test]
fn a_reader_may_read_the_state_but_no_file() {
    let test = "a_reader_may_read_the_state_but_no_file";
    if let Some(sock) = std::env::var_os(CLIENT_SOCKET_ENV) {
        let secret = std::env::var(SECRET_ENV).unwrap();
        return reader_client(Path::new(&sock), &secret);
    }
    let Some((seg, _d)) = daemon(test) else {
        return;
    };
    let sock = seg.hosts[0].socket();
    // The daemon has set the socket's mode once it answers.
    let _ = Client::hello(&sock);
    let secret = seg.hosts[0].write("secret", &format!("{SECRET}\n"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let env = [(SECRET_ENV, secret.to_str().unwrap())];
    let r = client_says(
        as_nobody(test, &sock, &env).wait_with_output().unwrap(),
        "REPLIES ",
    );
    assert_eq!(
        r["status"]["ok"]["status"]["instances"][0]["name"], "VI_1",
        "reading the state is allowed: {r}"
    );
    assert!(
        r["stats"]["ok"]["stats"]["rss_kb"].as_u64().is_some(),
        "{r}"
    );
    assert!(r["segment"]["ok"]["segment"].is_object(), "{r}");
    for req in ["get_config", "validate", "apply", "reload"] {
        assert_eq!(r[req]["error"]["code"], "permission", "{req}: {r}");
    }
    // Nothing of the file in any reply (the shadow line's first word was quoted before).
    let all = r.to_string();
    assert!(!all.contains("kaconsoletestsalt"), "{all}");
    // Root may check the same text: the include is read, its content is an unknown keyword.
    let mut c = Client::hello(&sock);
    let checked =
        c.call(json!({"req": "validate", "text": format!("include {}\n", secret.display())}));
    assert_eq!(checked["ok"]["diagnostics"]["errors"], 1, "{checked}");
}

#[test]
fn a_client_that_never_reads_does_not_hold_up_the_daemon() {
    let Some((seg, d)) = daemon("a_client_that_never_reads_does_not_hold_up_the_daemon") else {
        return;
    };
    let sock = seg.hosts[0].socket();
    let mut c = Client::hello(&sock);
    let master = wait_for(Duration::from_secs(8), || {
        c.call(json!({"req": "status"}))["ok"]["status"]["instances"][0]["state"] == "MASTER"
    });
    assert!(master.is_some(), "{}", d.log_text());
    // A subscriber that never reads a byte.
    let mut slow = Client::hello(&sock);
    slow.send_raw(r#"{"id":9,"req":"subscribe"}"#);
    let sent = |c: &mut Client| {
        c.call(json!({"req": "status"}))["ok"]["status"]["instances"][0]["stats"]["advert_sent"]
            .as_u64()
            .unwrap()
    };
    let before = sent(&mut c);
    let start = std::time::Instant::now();
    // Thousands of events (each reload logs), far more than a socket buffer and the queue.
    for _ in 0..3000 {
        let r = c.call(json!({"req": "reload"}));
        assert_eq!(r["ok"], "reloaded", "{r}");
    }
    std::thread::sleep(Duration::from_millis(1500));
    let elapsed = start.elapsed().as_secs_f64();
    let after = sent(&mut c);
    assert!(
        (after - before) as f64 >= elapsed.floor() - 1.0,
        "the master kept advertising every second: {} adverts in {elapsed:.1} s",
        after - before
    );
    // The slow client was dropped: once its socket buffer is drained, it ends.
    slow.w
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut n = 0usize;
    let mut buf = String::new();
    let end = loop {
        match slow.r.read_line(&mut buf) {
            Ok(0) => break "eof",
            Ok(_) => n += 1,
            Err(_) => break "timeout",
        }
        buf.clear();
    };
    assert_eq!(end, "eof", "the daemon closed the slow client's connection");
    let r = c.call(json!({"req": "stats"}));
    assert_eq!(r["ok"]["stats"]["clients_dropped"], 1, "{r}");
    // Each reload logged at least one line; the slow client got far fewer.
    assert!(
        n < 3000,
        "the slow client got {n} lines before being dropped"
    );
}

#[test]
fn status_shows_script_runs_and_the_advert_gap() {
    let test = "status_shows_script_runs_and_the_advert_gap";
    if !common::require_root(test) {
        return;
    }
    let seg = Segment::new(2);
    // A script whose exit status is the content of a file: 0, then 3.
    let (h0, h1) = (&seg.hosts[0], &seg.hosts[1]);
    let code = h1.write("code", "0");
    let script = h1.write(
        "chk.sh",
        &format!("#!/bin/sh\nexit $(cat {})\n", code.display()),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let backup_conf = format!(
        "vrrp_script chk {{\n    script \"{}\"\n    interval 1\n    fall 2\n    rise 1\n}}\n{}",
        script.display(),
        CONF.replace("priority 150", "priority 100").replace(
            "advert_int 1",
            "advert_int 1\n    track_script {\n        chk\n    }"
        )
    );
    let _master = common::start_kaconsole(h0, CONF, &[], &[]);
    let d = common::start_kaconsole(h1, &backup_conf, &[], &[]);
    let sock = h1.socket();
    assert!(
        wait_for(Duration::from_secs(5), || sock.exists()).is_some(),
        "{}",
        d.log_text()
    );
    let mut c = Client::hello(&sock);
    let status = |c: &mut Client| c.call(json!({"req": "status"}))["ok"]["status"].clone();
    // The BACKUP hears the master's adverts every second.
    let gap = wait_for(Duration::from_secs(10), || {
        status(&mut c)["instances"][0]["last_advert_gap_s"]
            .as_f64()
            .is_some()
    });
    assert!(gap.is_some(), "{}", d.log_text());
    let s = status(&mut c);
    assert_eq!(s["instances"][0]["state"], "BACKUP", "{s}");
    let gap = s["instances"][0]["last_advert_gap_s"].as_f64().unwrap();
    assert!(
        (0.8..1.2).contains(&gap),
        "advert gap {gap} s with advert_int 1"
    );
    // The script ran and succeeded.
    let sc = &s["scripts"][0];
    assert_eq!(sc["name"], "chk", "{s}");
    assert!(sc["runs"].as_u64().unwrap() >= 1, "{sc}");
    assert_eq!(
        (&sc["status"], &sc["last_exit"]),
        (&json!("up"), &json!(0)),
        "{sc}"
    );
    assert_eq!((&sc["rise"], &sc["fall"]), (&json!(1), &json!(2)), "{sc}");
    // Failing: exit 3 counts towards fall, and after two the script is down.
    std::fs::write(&code, "3").unwrap();
    let down = wait_for(Duration::from_secs(6), || {
        status(&mut c)["scripts"][0]["status"] == "down"
    });
    assert!(down.is_some(), "{}", d.log_text());
    let sc = &status(&mut c)["scripts"][0];
    assert_eq!(sc["last_exit"], 3, "{sc}");
    assert!(sc["failures"].as_u64().unwrap() >= 2, "{sc}");
    assert_eq!(sc["successes"], 0, "{sc}");
    assert!(sc["last_runtime_ms"].as_f64().unwrap() < 1000.0, "{sc}");

    // The segment as the BACKUP hears it: the master of VRID 51 is the other daemon.
    let r = c.call(json!({"req": "segment"}));
    let seg = &r["ok"]["segment"];
    assert_eq!(seg["groups"][0]["key"]["vrid"], 51, "{r}");
    assert_eq!(seg["groups"][0]["master"], "10.77.0.1", "{r}");
    assert_eq!(seg["findings"], json!([]), "{r}");
}

/// The client half of `a_readers_connections_do_not_keep_root_out`, run as user nobody: holds
/// as many connections as it is given (never saying hello) and prints how many it got, until
/// its standard input closes.
fn hoarder_client(sock: &Path) {
    let conns: Vec<_> = (0..300)
        .filter_map(|_| std::os::unix::net::UnixStream::connect(sock).ok())
        .collect();
    // A refused connection is told "busy" and closed at once; a held one hears nothing.
    std::thread::sleep(Duration::from_millis(500));
    let mut held = Vec::new();
    let mut refused = 300 - conns.len();
    for s in conns {
        s.set_nonblocking(true).unwrap();
        let mut line = String::new();
        match std::io::BufReader::new(&s).read_line(&mut line) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => held.push(s),
            _ => refused += 1,
        }
    }
    println!("HELD {}", json!({"held": held.len(), "refused": refused}));
    let mut wait = String::new();
    let _ = std::io::stdin().read_line(&mut wait);
}

/// 300 idle connections of a reader: it gets its share, root still gets in, and a
/// connection that never says hello is closed after a few seconds.
#[test]
fn a_readers_connections_do_not_keep_root_out() {
    let test = "a_readers_connections_do_not_keep_root_out";
    if let Some(sock) = std::env::var_os(CLIENT_SOCKET_ENV) {
        return hoarder_client(Path::new(&sock));
    }
    let Some((seg, _d)) = daemon(test) else {
        return;
    };
    let sock = seg.hosts[0].socket();
    let _ = Client::hello(&sock);
    let mut hoarder = as_nobody(test, &sock, &[]);
    let out = std::io::BufReader::new(hoarder.stdout.take().unwrap());
    let said: Value = out
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("HELD ")
                .map(|j| serde_json::from_str(j).unwrap())
        })
        .expect("the reader's count");
    assert_eq!(said["held"], 32, "one user's share: {said}");
    assert_eq!(said["refused"], 268, "{said}");
    // Root, while they are held.
    let mut c = Client::hello(&sock);
    let r = c.call(json!({"req": "stats"}));
    assert_eq!(r["ok"]["stats"]["clients"], 33, "{r}");
    // The reader's silent connections are closed once the hello is overdue.
    let start = std::time::Instant::now();
    let gone = wait_for(Duration::from_secs(10), || {
        c.call(json!({"req": "stats"}))["ok"]["stats"]["clients"] == 1
    });
    assert!(gone.is_some(), "{}", c.call(json!({"req": "stats"})));
    assert!(
        start.elapsed() >= Duration::from_secs(3),
        "not before the hello time"
    );
    let _ = hoarder.kill();
    let _ = hoarder.wait();
    // Such a client is told why.
    let mut silent = Client::connect(&sock);
    let r = silent.reply();
    assert_eq!(r["error"]["code"], "timeout", "{r}");
}

/// `subscribe` twice on one connection: each event arrives once.
#[test]
fn a_second_subscribe_changes_nothing() {
    let Some((seg, _d)) = daemon("a_second_subscribe_changes_nothing") else {
        return;
    };
    let sock = seg.hosts[0].socket();
    let mut c = Client::hello(&sock);
    for _ in 0..2 {
        let r = c.call(json!({"req": "subscribe"}));
        assert_eq!(r["ok"], "subscribed", "{r}");
    }
    let mut admin = Client::hello(&sock);
    assert_eq!(admin.call(json!({"req": "reload"}))["ok"], "reloaded");
    c.w.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut reloading = 0;
    let mut l = String::new();
    while c.r.read_line(&mut l).is_ok_and(|n| n > 0) {
        if l.contains(": Reloading\"") {
            reloading += 1;
        }
        l.clear();
    }
    // The backlog had it once, or the live stream did: never both, never twice.
    assert_eq!(reloading, 1, "each event once");
}

/// Texts that would take the daemon's memory or time, checked through a MASTER's socket: each
/// is refused with a reason, the MASTER's adverts keep their rhythm as its BACKUP sees them
/// (no takeover), and its memory stays small.
#[test]
fn a_heavy_check_does_not_stop_the_adverts() {
    let test = "a_heavy_check_does_not_stop_the_adverts";
    if !common::require_root(test) {
        return;
    }
    let seg = Segment::new(2);
    let (h0, h1) = (&seg.hosts[0], &seg.hosts[1]);
    let master =
        common::start_kaconsole(h0, &CONF.replace("priority 150", "priority 200"), &[], &[]);
    let _backup = common::start_kaconsole(h1, CONF, &[], &[]);
    let (s0, s1) = (h0.socket(), h1.socket());
    let state = |s: &Path| {
        Client::status(s).map(|st| {
            st["instances"][0]["state"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
    };
    let up = wait_for(Duration::from_secs(10), || {
        state(&s0).as_deref() == Some("MASTER") && state(&s1).as_deref() == Some("BACKUP")
    });
    assert!(up.is_some(), "{}", master.log_text());
    // The BACKUP's view of the MASTER's adverts, sampled while the checks run.
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (watching, s1) = (watching.clone(), s1.clone());
        std::thread::spawn(move || {
            let (mut worst_gap, mut states) = (0.0f64, Vec::new());
            while watching.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(st) = Client::status(&s1) {
                    let i = &st["instances"][0];
                    worst_gap = worst_gap.max(i["last_advert_gap_s"].as_f64().unwrap_or(0.0));
                    states.push(i["state"].as_str().unwrap_or("").to_string());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            (worst_gap, states)
        })
    };
    let fifo = h0.dir.join("never.conf");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut c = Client::hello(&s0);
    c.w.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let long = "y".repeat(1000);
    let heavy = [
        ("~SEQ(i,1,2000000) x$i\n".to_string(), "too-many-lines"),
        (format!("~SEQ(i,1,199000) {long}\n"), "bytes"),
        // keepalived skips what is not a regular file: a FIFO never holds the check.
        (format!("include {}\n", fifo.display()), "not a regular"),
    ];
    for (text, why) in &heavy {
        let r = c.call(json!({"req": "validate", "text": text}));
        // Each is refused by its bound; on a loaded machine the check (at the control
        // thread's lower priority) may meet the time bound first, which is a refusal too.
        let refused = r.to_string().contains(why) || r.to_string().contains("took longer than");
        assert!(refused, "{why}: {r}");
        let n = r.to_string().len();
        assert!(
            n < 1 << 20,
            "a short answer: {n} bytes: {}",
            &r.to_string()[..2000]
        );
    }
    let rss = std::fs::read_to_string(format!("/proc/{}/status", master.pid()))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().to_string()))
        .unwrap();
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    let (worst_gap, states) = watcher.join().unwrap();
    assert!(states.iter().all(|s| s == "BACKUP"), "takeover: {states:?}");
    assert!(
        worst_gap < 1.5,
        "an advert gap of {worst_gap} s (interval 1 s)"
    );
    let kb: u64 = rss.trim_end_matches(" kB").parse().unwrap();
    assert!(kb < 256 * 1024, "the daemon's peak memory: {rss}");
}

/// Out of file descriptors, a failed accept is tried again after a pause rather than at once:
/// the server does not spin (it did, at 100 % of a core), and serves again once descriptors
/// are free.
#[test]
fn out_of_descriptors_the_server_waits_instead_of_spinning() {
    let test = "out_of_descriptors_the_server_waits_instead_of_spinning";
    if !common::require_root(test) {
        return;
    }
    let seg = Segment::new(1);
    let h = &seg.hosts[0];
    let conf = h.write("kaconsole.conf", CONF);
    let (pid_file, sock) = (h.dir.join("kaconsole.pid"), h.socket());
    let kaconsole = common::kaconsole();
    let d = h.spawn(
        Path::new("prlimit"),
        &[
            "--nofile=64:64",
            kaconsole.to_str().unwrap(),
            "daemon",
            "-n",
            "-l",
            "-G",
            "-f",
            conf.to_str().unwrap(),
            "-p",
            pid_file.to_str().unwrap(),
            "--socket",
            sock.to_str().unwrap(),
        ],
        "kaconsole.log",
    );
    let up = wait_for(Duration::from_secs(5), || Client::status(&sock).is_some());
    assert!(up.is_some(), "{}", d.log_text());
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // More connections than it has descriptors left: the rest wait in the backlog, and every
    // accept fails with EMFILE until the silent ones are closed (after 5 s without hello).
    let held: Vec<_> = (0..100)
        .filter_map(|_| std::os::unix::net::UnixStream::connect(&sock).ok())
        .collect();
    assert!(held.len() > 64, "{} connections", held.len());
    std::thread::sleep(Duration::from_millis(500));
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let f: Vec<u64> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        // utime and stime, in ticks of 10 ms.
        (f[10] + f[11]) as f64 / 100.0
    };
    let before = cpu();
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu() - before;
    assert!(
        used < 0.5,
        "{used:.2} s of CPU in 3 s: the accept loop spins"
    );
    drop(held);
    let back = wait_for(Duration::from_secs(10), || Client::status(&sock).is_some());
    assert!(back.is_some(), "serves again: {}", d.log_text());
}
