//! IPVS on a real kernel: this test boots Debian's kernel under qemu (tests/common/vm.rs) and
//! runs itself inside, where `kaconsole daemon` programs IPVS for a configuration with every
//! kind of virtual server. After each step - start, checker results flipped, a reload with
//! a changed configuration, stop - the table read with `ipvsadm -Ln` and over generic netlink
//! must equal the expected one.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kaconsole::ipvs::message::{Forward, flags};
use kaconsole::sys::ipvs_socket::IpvsSocket;

const TEST: &str = "ipvs_on_a_real_kernel";

#[test]
fn ipvs_on_a_real_kernel() {
    if std::env::var_os("KACONSOLE_IN_VM").is_some() {
        return in_the_vm();
    }
    for p in [
        "qemu-system-x86_64",
        "busybox",
        "ipvsadm",
        "apt-get",
        "objcopy",
    ] {
        if common::require_program(TEST, p).is_none() {
            return;
        }
    }
    let me = std::env::current_exe().unwrap();
    let daemon = common::kaconsole();
    let started = Instant::now();
    let run = common::vm::run_in_vm(
        &me,
        &["--exact", TEST, "--nocapture", "--test-threads=1"],
        &[&daemon],
        Duration::from_secs(600),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("the VM ran for {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(
        run.exit, 0,
        "the test inside the VM failed:\n{}",
        run.output
    );
    assert!(run.output.contains("ALL STEPS PASSED"), "{}", run.output);
    // KACONSOLE_SAVE_REPLIES=DIR keeps the kernel's replies as test vectors.
    if let Some(dir) = std::env::var_os("KACONSOLE_SAVE_REPLIES") {
        let lines: String = run
            .output
            .lines()
            .filter(|l| l.starts_with("REPLY "))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(Path::new(&dir).join("replies.txt"), lines).unwrap();
    }
}

/// One line per service and per destination, in `ipvsadm -Ln`'s words:
/// `TCP 10.0.0.1:80 rr`, `  -> 10.0.1.1:80 Masq 2`.
type Table = BTreeSet<String>;

fn sh(cmd: &str) -> String {
    let out = Command::new("/bin/sh").args(["-c", cmd]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// `ipvsadm -Ln`, each destination line prefixed with its service so that the set says
/// which service a destination belongs to; the connection counters left out.
fn from_ipvsadm() -> Table {
    let text = sh("/usr/sbin/ipvsadm -Ln");
    let mut t = Table::new();
    let mut service = String::new();
    for line in text.lines().skip(3) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() == Some(&"->") && f.len() >= 4 {
            t.insert(format!("{service} -> {} {} {}", f[1], f[2], f[3]));
        } else if f.len() >= 3 {
            // "FWM  7 lc" and "TCP  10.0.0.1:80 rr persistent 600 mask 255.255.255.0"
            service = f[..3].join(" ");
            let rest = f[3..].join(" ");
            t.insert(if rest.is_empty() {
                service.clone()
            } else {
                format!("{service} {rest}")
            });
        }
    }
    t
}

/// The same over generic netlink, with kaconsole's own socket.
fn from_genl() -> Table {
    let mut sock = IpvsSocket::open().expect("IPVS in the VM");
    let mut t = Table::new();
    for s in sock.table().unwrap() {
        let name = s.service.key.to_string();
        let service = format!("{name} {}", s.service.sched);
        let mut line = service.clone();
        if s.service.flags & flags::PERSISTENT != 0 {
            line += &format!(" persistent {}", s.service.timeout);
            if s.service.netmask != u32::MAX {
                let m = s.service.netmask.to_ne_bytes();
                line += &format!(" mask {}.{}.{}.{}", m[0], m[1], m[2], m[3]);
            }
        }
        if let Some(pe) = &s.service.pe_name {
            line += &format!(" pe {pe}");
        }
        t.insert(line);
        for d in s.dests {
            let fwd = match d.forward {
                Forward::Masq => "Masq",
                Forward::Route => "Route",
                Forward::Tunnel => "Tunnel",
                Forward::Local => "Local",
            };
            let addr = match d.addr {
                std::net::IpAddr::V6(a) => format!("[{a}]"),
                a => a.to_string(),
            };
            t.insert(format!("{service} -> {addr}:{} {fwd} {}", d.port, d.weight));
        }
    }
    t
}

fn table(lines: &[&str]) -> Table {
    lines.iter().map(|l| l.to_string()).collect()
}

fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Waits until both views equal `want`.
fn expect(step: &str, want: &Table, log: &Path) {
    let start = Instant::now();
    loop {
        let (a, g) = (from_ipvsadm(), from_genl());
        if &a == want && &g == want {
            println!(
                "step {step}: ipvsadm and genl agree with the expected table ({} lines)",
                want.len()
            );
            return;
        }
        if start.elapsed() > Duration::from_secs(15) {
            panic!(
                "step {step}:\nexpected {want:#?}\nipvsadm {a:#?}\ngenl {g:#?}\n/proc: {}\ndaemon log:\n{}",
                sh("cat /proc/net/ip_vs"),
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every scheduler of this kernel once (6.1 has no `twos`, added in 6.7), NAT/DR/TUN,
/// TCP and UDP, persistence, a fwmark service, a group with a range and a fwmark.
fn config(reloaded: bool) -> String {
    let scheds = ["wlc", "lblc", "lblcr", "dh", "sed", "nq", "fo", "ovf", "mh"];
    // A VRRP instance alone on a dummy interface becomes MASTER, and the connection sync
    // daemon follows it.
    let mut c = String::from(
        "global_defs {
    lvs_timeouts tcp 900 udp 60
    lvs_sync_daemon d0 VI_1 id 51
}
vrrp_instance VI_1 {
    state BACKUP
    interface d0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        10.9.0.100/32
    }
}
",
    );
    let web_sched = if reloaded { "wrr" } else { "rr" };
    c += &format!(
        "virtual_server 10.0.0.1 80 {{
    protocol TCP
    lvs_sched {web_sched}
    lvs_method NAT
    delay_loop 1
    real_server 10.0.1.1 80 {{
        weight {}
        MISC_CHECK {{
            misc_path \"/bin/test -f /tmp/up1\"
        }}
    }}
    real_server 10.0.1.2 80 {{
        MISC_CHECK {{
            misc_path \"/bin/test -f /tmp/up2\"
        }}
    }}
}}
virtual_server 10.0.0.2 53 {{
    protocol UDP
    lvs_sched wrr
    lvs_method DR
    persistence_timeout 600
    persistence_granularity 255.255.255.0
    real_server 10.0.1.3 53 {{
    }}
}}
virtual_server 10.0.0.3 5060 {{
    protocol UDP
    lvs_sched rr
    persistence_timeout 60
    persistence_engine sip
    real_server 10.0.1.6 5060 {{
    }}
}}
virtual_server_group g {{
    10.0.0.10-11 8080
    fwmark 9
}}
virtual_server group g {{
    protocol TCP
    lvs_sched sh
    lvs_method DR
    real_server 10.0.1.5 8080 {{
        weight 3
    }}
}}
",
        if reloaded { 5 } else { 2 }
    );
    if !reloaded {
        c += "virtual_server fwmark 7 {\n    lvs_sched lc\n    lvs_method TUN\n    real_server 10.0.1.4 0 {\n    }\n}\n";
    }
    for (k, s) in scheds.iter().enumerate() {
        c += &format!(
            "virtual_server 10.0.2.{} 80 {{\n    protocol TCP\n    lvs_sched {s}\n    real_server 10.0.3.1 80 {{\n    }}\n}}\n",
            k + 1
        );
    }
    c
}

fn fixed_lines() -> Vec<String> {
    let scheds = ["wlc", "lblc", "lblcr", "dh", "sed", "nq", "fo", "ovf", "mh"];
    let mut v = vec![
        "UDP 10.0.0.2:53 wrr persistent 600 mask 255.255.255.0".to_string(),
        "UDP 10.0.0.2:53 wrr -> 10.0.1.3:53 Route 1".into(),
        "UDP 10.0.0.3:5060 rr persistent 60 pe sip".into(),
        "UDP 10.0.0.3:5060 rr -> 10.0.1.6:5060 Masq 1".into(),
        "TCP 10.0.0.10:8080 sh".into(),
        "TCP 10.0.0.10:8080 sh -> 10.0.1.5:8080 Route 3".into(),
        "TCP 10.0.0.11:8080 sh".into(),
        "TCP 10.0.0.11:8080 sh -> 10.0.1.5:8080 Route 3".into(),
        "FWM 9 sh".into(),
        "FWM 9 sh -> 10.0.1.5:0 Route 3".into(),
        "TCP 10.99.99.99:1 rr".into(), // not ours: must stay through everything
    ];
    for (k, s) in scheds.iter().enumerate() {
        v.push(format!("TCP 10.0.2.{}:80 {s}", k + 1));
        v.push(format!("TCP 10.0.2.{}:80 {s} -> 10.0.3.1:80 Masq 1", k + 1));
    }
    v
}

/// The kernel's replies to a service dump, the destination dumps, GET_INFO and GET_CONFIG,
/// as hex lines: tests/data/ipvs/replies.txt holds a copy, which tests/ipvs_codec.rs parses.
fn print_replies() {
    let mut sock = IpvsSocket::open().unwrap();
    sock.record = Some(Vec::new());
    let table = sock.table().unwrap();
    sock.info().unwrap();
    sock.timeouts().unwrap();
    for (k, d) in sock.record.take().unwrap().iter().enumerate() {
        println!("REPLY {k} {}", kaconsole::hex::encode(d));
    }
    println!("REPLIES for {} services", table.len());
}

fn in_the_vm() {
    let kaconsole = common::vm::in_guest(&common::kaconsole());
    // Someone else's service, which kaconsole must leave alone.
    sh("/usr/sbin/ipvsadm -A -t 10.99.99.99:1 -s rr");
    sh(
        "/usr/sbin/ip link add d0 type dummy && /usr/sbin/ip link set d0 multicast on up && \
        /usr/sbin/ip addr add 10.9.0.1/24 dev d0",
    );
    std::fs::write("/tmp/up1", "").unwrap();
    std::fs::write("/tmp/k.conf", config(false)).unwrap();
    let log = Path::new("/tmp/k.log");
    let mut daemon = Command::new(&kaconsole)
        .args([
            "daemon",
            "-n",
            "-l",
            "-D",
            "-f",
            "/tmp/k.conf",
            "-p",
            "/tmp/k.pid",
        ])
        .args(["--socket", "/tmp/k.sock"])
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();

    // Start: up1 passes, up2 fails (MISC_CHECK does not retry): 10.0.1.2 leaves.
    let mut want: Vec<String> = fixed_lines();
    want.extend([
        "TCP 10.0.0.1:80 rr".to_string(),
        "TCP 10.0.0.1:80 rr -> 10.0.1.1:80 Masq 2".into(),
        "FWM 7 lc".into(),
        "FWM 7 lc -> 10.0.1.4:0 Tunnel 1".into(),
    ]);
    expect(
        "start",
        &table(&want.iter().map(String::as_str).collect::<Vec<_>>()),
        log,
    );
    print_replies();
    // The sync daemon: backup while VI_1 is BACKUP, then master once it is MASTER.
    let daemons = || sh("/usr/sbin/ipvsadm -L --daemon");
    let master = wait_until(Duration::from_secs(15), || {
        daemons().contains("master sync daemon (mcast=d0, syncid=51")
    });
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let (b, m) = (
        text.find("IPVS: backup sync daemon on d0 (syncid 51)"),
        text.find("IPVS: master sync daemon on d0 (syncid 51)"),
    );
    assert!(b.is_some() && b < m, "backup first, then master:\n{text}");
    assert!(
        master && !daemons().contains("backup"),
        "{}\n{}",
        daemons(),
        std::fs::read_to_string(log).unwrap_or_default()
    );
    let timeouts = sh("/usr/sbin/ipvsadm -L --timeout");
    // lvs_timeouts tcp 900 udp 60; tcpfin keeps the kernel's 120.
    assert!(timeouts.contains("900 120 60"), "{timeouts}");

    // Checker results flip: 10.0.1.2 passes and joins, 10.0.1.1 fails and leaves.
    std::fs::write("/tmp/up2", "").unwrap();
    std::fs::remove_file("/tmp/up1").unwrap();
    let mut want: Vec<String> = fixed_lines();
    want.extend([
        "TCP 10.0.0.1:80 rr".to_string(),
        "TCP 10.0.0.1:80 rr -> 10.0.1.2:80 Masq 1".into(),
        "FWM 7 lc".into(),
        "FWM 7 lc -> 10.0.1.4:0 Tunnel 1".into(),
    ]);
    expect(
        "checkers flipped",
        &table(&want.iter().map(String::as_str).collect::<Vec<_>>()),
        log,
    );

    // Reload: the web service changes scheduler, 10.0.1.1 comes back with weight 5, the
    // fwmark 7 service goes; the others are not touched.
    std::fs::write("/tmp/up1", "").unwrap();
    let before = std::fs::read_to_string(log).unwrap().len();
    std::fs::write("/tmp/k.conf", config(true)).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    let mut want: Vec<String> = fixed_lines();
    want.extend([
        "TCP 10.0.0.1:80 wrr".to_string(),
        "TCP 10.0.0.1:80 wrr -> 10.0.1.1:80 Masq 5".into(),
        "TCP 10.0.0.1:80 wrr -> 10.0.1.2:80 Masq 1".into(),
    ]);
    expect(
        "reload",
        &table(&want.iter().map(String::as_str).collect::<Vec<_>>()),
        log,
    );
    let after = std::fs::read_to_string(log).unwrap()[before..].to_string();
    let ops: Vec<&str> = after.lines().filter(|l| l.contains("IPVS: ")).collect();
    assert!(
        ops.iter()
            .all(|l| l.contains("10.0.0.1:80") || l.contains("FWM 7")),
        "only the changed services were touched: {ops:#?}"
    );
    assert!(
        ops.iter().any(|l| l.contains("removing service FWM 7")),
        "{ops:#?}"
    );

    // Stop: kaconsole's services go, the foreign one stays.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = daemon.wait().unwrap();
    assert!(status.success(), "{status:?}");
    expect("stop", &table(&["TCP 10.99.99.99:1 rr"]), log);
    assert!(!daemons().contains("sync daemon"), "{}", daemons());
    println!("ALL STEPS PASSED");
}
