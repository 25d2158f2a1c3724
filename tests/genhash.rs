//! `kaconsole genhash` against real HTTP servers on loopback: the digest of a page (the same
//! as keepalived's genhash prints), and each way a server can fail - refused, silent, a
//! truncated body, garbage, a connection closed at once - exits 1 with the reason.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::Duration;

/// A server on loopback that answers each connection with `reply` after reading the
/// request (`None`: never answers); returns its port.
fn serve(reply: Option<&'static [u8]>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = c.read(&mut buf);
            match reply {
                Some(r) => {
                    let _ = c.write_all(r);
                }
                None => std::thread::sleep(Duration::from_secs(10)),
            }
        }
    });
    port
}

fn genhash(port: u16, extra: &[&str]) -> Output {
    Command::new(common::kaconsole())
        .args([
            "genhash",
            "-s",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-u",
            "/index.html",
        ])
        .args(extra)
        .output()
        .unwrap()
}

const PAGE: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 16\r\n\r\nhello kaconsole\n";

#[test]
fn genhash_prints_the_digest_keepalived_prints() {
    let port = serve(Some(PAGE));
    let out = genhash(port, &[]);
    assert!(out.status.success());
    let ours = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // md5sum of "hello kaconsole\n".
    assert_eq!(ours, "1b7531e59df844856483015ebcec5e79");
    if let Some(keepalived) = common::require_program("genhash_prints_the_digest", "keepalived") {
        let theirs = Command::new(keepalived)
            .args([
                "--genhash",
                "-s",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-u",
                "/index.html",
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&theirs.stdout).trim(), ours);
    }
    // A 500 has a body and a digest too; --json says the status.
    let port = serve(Some(b"HTTP/1.1 500 Internal Server Error\r\n\r\noops"));
    let out = genhash(port, &["--json", "-P", "1.1"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["status"].as_u64(), v["length"].as_u64()),
        (Some(500), Some(4))
    );
}

#[test]
fn every_failure_exits_1_with_its_reason() {
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cases: [(u16, &[&str], &str); 5] = [
        (refused, &[], "connection failed"),
        (serve(None), &["-t", "0.5"], "timeout"),
        (
            serve(Some(b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nabc")),
            &[],
            "shorter than its Content-Length",
        ),
        (
            serve(Some(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")),
            &[],
            "not an HTTP status line",
        ),
        (serve(Some(b"")), &[], "no data received"),
    ];
    for (port, extra, why) in cases {
        let out = genhash(port, extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{why}: {err}");
        assert!(err.contains(why), "{why}: {err}");
        assert!(out.stdout.is_empty());
    }
}
