//! A client of a daemon's control socket, for the tests.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

/// A connected client.
pub struct Client {
    pub r: BufReader<UnixStream>,
    pub w: UnixStream,
    next: u64,
}

impl Client {
    pub fn connect(path: &Path) -> Client {
        let s = UnixStream::connect(path).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
            next: 1,
        }
    }

    pub fn send_raw(&mut self, line: &str) {
        self.w.write_all(line.as_bytes()).unwrap();
        self.w.write_all(b"\n").unwrap();
    }

    /// The next line that is not an event.
    pub fn reply(&mut self) -> Value {
        loop {
            let mut l = String::new();
            assert!(
                self.r.read_line(&mut l).unwrap() > 0,
                "the daemon closed the socket"
            );
            let v: Value = serde_json::from_str(&l).unwrap();
            if v.get("event").is_none() {
                return v;
            }
        }
    }

    pub fn call(&mut self, req: Value) -> Value {
        let id = self.next;
        self.next += 1;
        let mut req = req;
        req["id"] = json!(id);
        self.send_raw(&req.to_string());
        let r = self.reply();
        assert_eq!(r["id"], json!(id), "{r}");
        r
    }

    pub fn hello(path: &Path) -> Client {
        let mut c = Client::connect(path);
        let r = c.call(json!({"req": "hello", "version": 1}));
        assert_eq!(r["ok"]["hello"]["version"], 1, "{r}");
        c
    }

    /// The `status` of the daemon at `path`; `None` while it cannot be reached or answer.
    pub fn status(path: &Path) -> Option<Value> {
        let mut s = UnixStream::connect(path).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(b"{\"id\":1,\"req\":\"hello\",\"version\":1}\n{\"id\":2,\"req\":\"status\"}\n")
            .ok()?;
        let mut r = BufReader::new(s);
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let v: Value = serde_json::from_str(&line).ok()?;
            if v["id"] == 2 {
                return Some(v["ok"]["status"].clone());
            }
        }
    }
}
