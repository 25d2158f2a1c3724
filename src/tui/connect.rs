//! Reaching a daemon, and saying what to do when it cannot be reached: the raw error of a
//! failed connect ("Connection refused") does not say whether the path is wrong, the daemon is
//! down or the user lacks a permission.

use std::io::ErrorKind;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// Why connecting to `socket` failed, in words that say what to do.
pub fn explain(socket: &str, e: &std::io::Error) -> String {
    let path = Path::new(socket);
    match e.kind() {
        ErrorKind::PermissionDenied => format!(
            "permission denied on {socket}: run as root, or join group kaconsole (the \
             socket's group)"
        ),
        ErrorKind::NotFound => format!(
            "no socket at {socket}: no daemon listens here - start `kaconsole daemon`, or \
             pass --socket with its control socket"
        ),
        _ => match std::fs::metadata(path) {
            Ok(meta) if !meta.file_type().is_socket() => format!(
                "{socket} is not a socket ({}): pass --socket with the daemon's control \
                 socket",
                kind_of(&meta)
            ),
            Ok(_) if e.kind() == ErrorKind::ConnectionRefused => format!(
                "nothing listens on {socket} (a daemon that stopped left it): start \
                 `kaconsole daemon`, or pass --socket"
            ),
            _ => format!("{socket}: {e}"),
        },
    }
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else if t.is_fifo() {
        "a FIFO"
    } else {
        "not a socket"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(path: &Path) -> String {
        let e = std::os::unix::net::UnixStream::connect(path).unwrap_err();
        explain(&path.display().to_string(), &e)
    }

    #[test]
    fn each_failure_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.sock");
        let m = connect(&missing);
        assert!(
            m.contains("no daemon listens here") && m.contains("kaconsole daemon"),
            "{m}"
        );
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let m = connect(&file);
        assert!(m.contains("is not a socket (a regular file)"), "{m}");
        let m = connect(dir.path());
        assert!(m.contains("is not a socket (a directory)"), "{m}");
        // A socket nobody listens on: bound, then the listener dropped.
        let stale = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let m = connect(&stale);
        assert!(m.contains("nothing listens on"), "{m}");
        let denied = std::io::Error::from(ErrorKind::PermissionDenied);
        let m = explain("/run/kaconsole/kaconsole.sock", &denied);
        assert!(m.contains("run as root, or join group kaconsole"), "{m}");
    }
}
