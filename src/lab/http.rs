//! The lab's backends: a minimal HTTP/1.0 server (`kaconsole lab --serve-http ADDR --name N`)
//! that answers every request with 200 and its name, one connection at a time.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Serves until killed.
pub fn serve(listen: SocketAddr, name: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen)?;
    eprintln!("backend {name}: serving http://{listen}/");
    for stream in listener.incoming().flatten() {
        // A client that never finishes its request does not hold the others up for long.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = answer(stream, name);
    }
    Ok(())
}

fn answer(stream: TcpStream, name: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    // The request head ends with an empty line.
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
    }
    let body = format!("backend {name}\n");
    let mut w = stream;
    write!(
        w,
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    #[test]
    fn answers_200_with_its_name() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        std::thread::spawn(move || super::serve(addr, "b1"));
        let mut s = (0..50)
            .find_map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(20));
                std::net::TcpStream::connect(addr).ok()
            })
            .expect("the server listens");
        s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.0 200 OK\r\n"), "{reply}");
        assert!(reply.ends_with("\r\n\r\nbackend b1\n"), "{reply}");
    }
}
