//! `kaconsole lab`: the real lab (root): it elects as designed, fails over when the master is
//! killed (seen through the control sockets), its backends serve the client, and it leaves
//! nothing behind - on SIGINT, on a panic, and through `--clean` after being killed. Then the
//! lab's console under tmux: the kill key, and the new master on the next router. The same
//! for `--sim`, the lab in the simulator (no root needed).

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::control::Client;
use common::segment::wait_for;
use common::tmux::Tmux;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

/// A headless lab: the process and what it printed.
struct Lab {
    child: Child,
    routers: Vec<Value>,
    prefix: String,
    client_ns: String,
}

impl Lab {
    fn start(extra_env: &[(&str, &str)]) -> Lab {
        Lab::start_with(&["--routers", "3"], extra_env)
    }

    fn start_with(args: &[&str], extra_env: &[(&str, &str)]) -> Lab {
        let mut child = Command::new(common::kaconsole())
            .args(["lab", "--headless"])
            .args(args)
            .envs(extra_env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let mut routers = Vec::new();
        for line in BufReader::new(out).lines() {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            if v.get("router").is_some() {
                routers.push(v);
            } else if v["ready"] == true {
                return Lab {
                    child,
                    routers,
                    prefix: v["prefix"].as_str().unwrap().to_string(),
                    client_ns: v["client"].as_str().unwrap().to_string(),
                };
            }
        }
        panic!("the lab ended before it was ready: {:?}", child.wait());
    }

    fn socket(&self, i: usize) -> PathBuf {
        PathBuf::from(self.routers[i]["socket"].as_str().unwrap())
    }

    fn pid(&self, i: usize) -> i32 {
        self.routers[i]["pid"].as_i64().unwrap() as i32
    }

    /// Router `i`'s state of `instance`.
    fn state(&self, i: usize, instance: &str) -> Option<String> {
        let s = Client::status(&self.socket(i))?;
        s["instances"]
            .as_array()?
            .iter()
            .find(|x| x["name"] == instance)
            .map(|x| x["state"].as_str().unwrap_or("").to_string())
    }
}

/// The namespaces whose names start with `prefix`.
fn namespaces(prefix: &str) -> Vec<String> {
    let o = Command::new("ip").args(["netns", "list"]).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

fn alive(pid: i32) -> bool {
    // Signal 0 tests existence; a zombie child is reaped by the lab, so gone means gone.
    kill(Pid::from_raw(pid), None).is_ok()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// The lab's directory (its routers' configurations, logs and sockets).
fn lab_dir(lab: &Lab) -> PathBuf {
    lab.socket(0)
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Nothing of the lab is left: namespaces, daemons, its directory.
fn assert_gone(lab: &Lab) {
    let left = namespaces(&lab.prefix);
    assert!(left.is_empty(), "namespaces left: {left:?}");
    for i in 0..lab.routers.len() {
        assert!(!alive(lab.pid(i)), "router {i} still runs");
    }
    assert!(!lab_dir(lab).exists(), "{} left", lab_dir(lab).display());
}

#[test]
fn the_lab_elects_fails_over_and_leaves_nothing() {
    let test = "the_lab_elects_fails_over_and_leaves_nothing";
    if !common::require_root(test) {
        return;
    }
    let mut lab = Lab::start(&[]);
    // VI_1 prefers r1, VI_2 the last router.
    let elected = wait_for(Duration::from_secs(10), || {
        lab.state(0, "VI_1").as_deref() == Some("MASTER")
            && lab.state(2, "VI_2").as_deref() == Some("MASTER")
            && lab.state(1, "VI_1").as_deref() == Some("BACKUP")
            && lab.state(1, "VI_2").as_deref() == Some("BACKUP")
    });
    assert!(
        elected.is_some(),
        "r1 {:?} r2 {:?} r3 {:?}",
        lab.state(0, "VI_1"),
        lab.state(1, "VI_1"),
        lab.state(2, "VI_2")
    );
    // The backends answer the client.
    for addr in ["10.88.0.21", "10.88.0.22"] {
        let o = Command::new("ip")
            .args(["netns", "exec", &lab.client_ns, "bash", "-c"])
            .arg(format!(
                "exec 3<>/dev/tcp/{addr}/80; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"
            ))
            .output()
            .unwrap();
        let reply = String::from_utf8_lossy(&o.stdout);
        assert!(reply.starts_with("HTTP/1.0 200 OK"), "{addr}: {reply}");
    }
    // Kill r1: r2 (next priority) takes VI_1 over, as its status says.
    kill(Pid::from_raw(lab.pid(0)), Signal::SIGKILL).unwrap();
    let killed = Instant::now();
    let over = wait_for(Duration::from_secs(8), || {
        lab.state(1, "VI_1").as_deref() == Some("MASTER")
    });
    assert!(over.is_some(), "r2 did not take VI_1 over");
    assert!(killed.elapsed() < Duration::from_millis(3_700 + 1_000));
    // SIGINT: the lab stops and removes everything.
    kill(Pid::from_raw(lab.child.id() as i32), Signal::SIGINT).unwrap();
    let status = lab.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_gone(&lab);
}

#[test]
fn with_keepalived_the_lab_elects_across_both_programs() {
    let test = "with_keepalived_the_lab_elects_across_both_programs";
    if !common::require_root(test) || common::require_program(test, "keepalived").is_none() {
        return;
    }
    let mut lab = Lab::start_with(&["--routers", "2", "--keepalived"], &[]);
    assert_eq!(lab.routers.len(), 3);
    assert_eq!(lab.routers[2]["router"], "ka");
    assert!(
        lab.routers[2]["socket"].is_null(),
        "keepalived has no control socket"
    );
    // keepalived (router 3 of 3) has VI_2's highest priority; the kaconsole routers hear it.
    let master = |i: usize| {
        Client::status(&lab.socket(i)).and_then(|s| {
            let vi2 = s["instances"]
                .as_array()?
                .iter()
                .find(|x| x["name"] == "VI_2")?
                .clone();
            Some((
                vi2["state"].as_str()?.to_string(),
                vi2["master"].as_str()?.to_string(),
            ))
        })
    };
    let heard = wait_for(Duration::from_secs(10), || {
        (0..2).all(|i| master(i) == Some(("BACKUP".into(), "10.88.0.13".into())))
    });
    assert!(heard.is_some(), "r1 {:?} r2 {:?}", master(0), master(1));
    assert_eq!(lab.state(0, "VI_1").as_deref(), Some("MASTER"));
    kill(Pid::from_raw(lab.child.id() as i32), Signal::SIGINT).unwrap();
    assert!(lab.child.wait().unwrap().success());
    assert_gone(&lab);
}

#[test]
fn a_panic_in_the_lab_still_removes_everything() {
    let test = "a_panic_in_the_lab_still_removes_everything";
    if !common::require_root(test) {
        return;
    }
    let mut lab = Lab::start(&[("KACONSOLE_LAB_PANIC", "1")]);
    let status = lab.child.wait().unwrap();
    assert_eq!(status.code(), Some(101), "a panic exits with 101");
    assert_gone(&lab);
}

#[test]
fn clean_removes_what_a_killed_lab_left() {
    let test = "clean_removes_what_a_killed_lab_left";
    if !common::require_root(test) {
        return;
    }
    let mut lab = Lab::start(&[]);
    // SIGKILL: no chance to clean up.
    lab.child.kill().unwrap();
    lab.child.wait().unwrap();
    assert_eq!(
        namespaces(&lab.prefix).len(),
        7,
        "3 routers, 2 backends, client, bridge"
    );
    assert!(alive(lab.pid(0)), "the daemons outlive a killed lab");
    let out = Command::new(common::kaconsole())
        .args(["lab", "--clean"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("removed {}r1", lab.prefix)),
        "{text}"
    );
    assert!(namespaces(&lab.prefix).is_empty());
    let gone = wait_for(Duration::from_secs(3), || !alive(lab.pid(0)));
    assert!(
        gone.is_some(),
        "the daemons are killed with their namespaces"
    );
    assert!(!lab_dir(&lab).exists(), "{} left", lab_dir(&lab).display());
}

/// The VI_1 row of the overview (the console shows every router: one row per virtual
/// router, a column per router).
fn vi_1(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("VI_1") || l.contains(" VI_1 "))
        .unwrap_or_default()
        .to_string()
}

/// Router `node`'s cell of the VI_1 row: what is under its name in the table's header.
fn cell(screen: &str, node: &str) -> String {
    let Some(header) = screen
        .lines()
        .find(|l| l.contains("VRID") && l.contains("NAME") && l.contains(node))
    else {
        return String::new();
    };
    let Some(at) = header.find(&format!(" {node} ")).map(|a| a + 1) else {
        return String::new();
    };
    vi_1(screen).chars().skip(at).take(14).collect::<String>()
}

/// The lab line names its namespaces: "lab kalab-<pid>-*: [r1 up] r2 up ..."; their prefix.
fn lab_prefix(screen: &str) -> String {
    screen
        .lines()
        .find_map(|l| {
            l.strip_prefix("lab ")?
                .split_once("*:")
                .map(|(p, _)| p.to_string())
        })
        .unwrap_or_else(|| panic!("no lab line:\n{screen}"))
}

#[test]
fn the_lab_console_kills_a_router_and_shows_the_new_master() {
    let test = "the_lab_console_kills_a_router_and_shows_the_new_master";
    if !common::require_root(test) || common::require_program(test, "tmux").is_none() {
        return;
    }
    // The pane stays a while after the lab, to show its last line.
    let cmd = format!(
        "{} lab --routers 3; sleep 20",
        common::kaconsole().display()
    );
    let t = Tmux::start("lab", 120, 40, &cmd);
    // The console on every router, r1 shown: VI_1 MASTER on r1, BACKUP on the others.
    t.wait_until(15, |s| {
        s.contains("[r1 up]")
            && cell(s, "r1").starts_with("MASTER")
            && cell(s, "r2").starts_with("BACKUP")
    })
    .unwrap_or_else(|s| panic!("r1 is not shown as VI_1's master:\n{s}"));
    let prefix = lab_prefix(&t.capture());
    assert_eq!(namespaces(&prefix).len(), 7, "{prefix}");
    // K kills r1; > shows r2, which takes VI_1 over.
    t.keys(&["K"]);
    t.wait_until(3, |s| s.contains("[r1 DEAD]"))
        .unwrap_or_else(|s| panic!("no DEAD:\n{s}"));
    t.wait_until(8, |s| {
        cell(s, "r2").starts_with("MASTER") && s.contains("r1: DOWN, last seen")
    })
    .unwrap_or_else(|s| panic!("r2 is not VI_1's master, r1 not down:\n{s}"));
    // > shows r2 in the other views (and the lab's keys act on it).
    t.keys(&[">"]);
    t.wait_until(3, |s| s.contains("[r2 up]"))
        .unwrap_or_else(|s| panic!("r2 is not shown:\n{s}"));
    // The segment view: r2 hears r3, the master of VI_2 (VRID 52).
    t.keys(&["7"]);
    t.wait_until(5, |s| {
        s.lines()
            .any(|l| l.starts_with("52 ") && l.contains("10.88.0.13") && l.contains("MASTER"))
    })
    .unwrap_or_else(|s| panic!("no segment table:\n{s}"));
    // The LVS view: r2's HTTP_GET checkers find both backends; B stops b1, which goes DOWN
    // after its retry.
    let backend = |s: &str, addr: &str| {
        s.lines()
            .find(|l| {
                l.trim_start()
                    .trim_start_matches('→')
                    .trim_start()
                    .starts_with(addr)
            })
            .unwrap_or("")
            .to_string()
    };
    t.keys(&["4"]);
    t.wait_until(10, |s| {
        backend(s, "10.88.0.21:80").contains("UP") && backend(s, "10.88.0.22:80").contains("UP")
    })
    .unwrap_or_else(|s| panic!("the backends are not UP:\n{s}"));
    t.keys(&["B"]);
    t.wait_until(15, |s| backend(s, "10.88.0.21:80").contains("DOWN"))
        .unwrap_or_else(|s| panic!("b1 is not DOWN:\n{s}"));
    // q ends the lab and removes it (as closing the terminal does: see below).
    t.keys(&["q"]);
    let gone = wait_for(Duration::from_secs(10), || namespaces(&prefix).is_empty());
    assert!(gone.is_some(), "the lab's namespaces are removed on q");
    // And it says so.
    t.wait_for(
        5,
        &["lab: removed 3 router(s), 2 backend(s), the network namespaces"],
    )
    .unwrap_or_else(|s| panic!("no last line:\n{s}"));
}

#[test]
fn closing_the_terminal_removes_the_lab() {
    let test = "closing_the_terminal_removes_the_lab";
    if !common::require_root(test) || common::require_program(test, "tmux").is_none() {
        return;
    }
    let cmd = format!("{} lab --routers 2", common::kaconsole().display());
    let t = Tmux::start("lab-hup", 100, 30, &cmd);
    t.wait_until(15, |s| s.contains("[r1 up]"))
        .unwrap_or_else(|s| panic!("no lab line:\n{s}"));
    let prefix = lab_prefix(&t.capture());
    let pids: Vec<i32> = namespaces(&prefix)
        .iter()
        .flat_map(|ns| common::segment::netns_pids(ns))
        .collect();
    assert!(pids.len() >= 4, "2 daemons and 2 backends: {pids:?}");
    // The window closes: tmux sends SIGHUP.
    drop(t);
    let gone = wait_for(Duration::from_secs(10), || namespaces(&prefix).is_empty());
    assert!(
        gone.is_some(),
        "namespaces left after SIGHUP: {:?}",
        namespaces(&prefix)
    );
    assert!(pids.iter().all(|p| !alive(*p)), "processes left: {pids:?}");
}

/// `kaconsole lab --sim` (no root needed): the routers in the simulator, each with its
/// control socket; r1 wins VI_1, and SIGTERM ends the lab and removes its directory.
#[test]
fn the_simulated_lab_serves_each_router_on_a_socket() {
    let mut child = Command::new(common::kaconsole())
        .args(["lab", "--sim", "--headless", "--routers", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut sockets = Vec::new();
    for line in BufReader::new(out).lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if let Some(s) = v["socket"].as_str() {
            sockets.push(PathBuf::from(s));
        }
        if v["ready"] == true {
            break;
        }
    }
    assert_eq!(sockets.len(), 2);
    let state = |k: usize| {
        Client::status(&sockets[k])
            .and_then(|s| s["instances"][0]["state"].as_str().map(str::to_string))
    };
    let elected = wait_for(Duration::from_secs(8), || {
        state(0).as_deref() == Some("MASTER") && state(1).as_deref() == Some("BACKUP")
    });
    assert!(elected.is_some(), "r1 {:?} r2 {:?}", state(0), state(1));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    assert!(child.wait().unwrap().success());
    let dir = sockets[0].parent().unwrap().parent().unwrap();
    assert!(!dir.exists(), "{} left", dir.display());
}

#[test]
fn the_simulated_lab_console_kills_a_router() {
    let test = "the_simulated_lab_console_kills_a_router";
    if common::require_program(test, "tmux").is_none() {
        return;
    }
    let cmd = format!(
        "{} lab --sim --routers 3; sleep 20",
        common::kaconsole().display()
    );
    let t = Tmux::start("simlab", 120, 40, &cmd);
    t.wait_until(10, |s| {
        s.contains("lab simulated: [r1 up]") && cell(s, "r1").starts_with("MASTER")
    })
    .unwrap_or_else(|s| panic!("r1 is not shown as VI_1's master:\n{s}"));
    // Only what the simulator can do is offered.
    let s = t.capture();
    assert!(
        s.contains("K kill") && !s.contains("P pause") && !s.contains("B/N"),
        "{s}"
    );
    t.keys(&["K"]);
    t.wait_until(8, |s| cell(s, "r2").starts_with("MASTER"))
        .unwrap_or_else(|s| panic!("r2 is not VI_1's master:\n{s}"));
    t.keys(&[">"]);
    t.wait_until(3, |s| s.contains("[r2 up]"))
        .unwrap_or_else(|s| panic!("r2 is not shown:\n{s}"));
    // The events view tells what happened.
    t.keys(&["5"]);
    t.wait_until(3, |s| s.contains("lab: r1 crashed"))
        .unwrap_or_else(|s| panic!("no crash event:\n{s}"));
    t.keys(&["q"]);
    t.wait_for(5, &["lab: stopped 3 simulated router(s) and removed"])
        .unwrap_or_else(|s| panic!("no last line:\n{s}"));
}

/// A local user who makes /tmp/kalab-N (with an r1/keepalived.conf of theirs) for the pids the
/// next lab may get cannot feed the lab's root daemons a configuration: the lab makes its own
/// directory (mkdtemp, 0700), writes nothing into theirs, and leaves nothing behind.
#[test]
fn the_lab_makes_its_own_directory_and_ignores_planted_ones() {
    let test = "the_lab_makes_its_own_directory_and_ignores_planted_ones";
    if !common::require_root(test) {
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    /// Removed at the end, also when the test fails.
    struct Planted(Vec<PathBuf>);
    impl Drop for Planted {
        fn drop(&mut self) {
            for d in &self.0 {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
    let tmp = std::env::temp_dir();
    let mut planted = Planted(Vec::new());
    for n in last + 1..last + 400 {
        let d = tmp.join(format!("kalab-{n}"));
        if std::fs::create_dir(&d).is_err() {
            continue;
        }
        std::fs::create_dir(d.join("r1")).unwrap();
        std::fs::write(d.join("r1/keepalived.conf"), "planted\n").unwrap();
        for p in [d.join("r1/keepalived.conf"), d.join("r1"), d.clone()] {
            nix::unistd::chown(&p, Some(65534.into()), Some(65534.into())).unwrap();
        }
        planted.0.push(d);
    }
    let mut lab = Lab::start(&[]);
    let dir = lab_dir(&lab);
    let m = std::fs::metadata(&dir).unwrap();
    let pid = lab.child.id();
    assert!(
        !planted.0.contains(&dir),
        "{} is a planted directory",
        dir.display()
    );
    assert!(
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(&format!("kalab-{pid}-")),
        "{}",
        dir.display()
    );
    assert_eq!(
        (m.mode() & 0o7777, m.uid()),
        (0o700, 0),
        "{}",
        dir.display()
    );
    kill(Pid::from_raw(pid as i32), Signal::SIGTERM).unwrap();
    assert!(lab.child.wait().unwrap().success());
    assert_gone(&lab);
    for d in &planted.0 {
        let text = std::fs::read_to_string(d.join("r1/keepalived.conf")).unwrap_or_default();
        let entries = std::fs::read_dir(d.join("r1")).map_or(0, |e| e.count());
        assert_eq!(
            (text.as_str(), entries),
            ("planted\n", 1),
            "{} was used",
            d.display()
        );
    }
}
