//! Reading and writing the small files keepalived's trackers use (track_file, FILE_CHECK)
//! without ever blocking the daemon's one thread: a FIFO, a device or a socket put where the
//! file should be is refused, not opened for a read that waits for a writer. The open itself
//! is O_NONBLOCK (a FIFO swapped in after the check still cannot block it), and at most
//! `max` bytes are read. keepalived opens its track files O_NONBLOCK too and reads 127 bytes
//! (track_file.c `process_track_file`).

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("is a {0}, not a regular file")]
    NotRegular(&'static str),
}

/// What `m` is, when it is not a regular file.
fn not_regular(m: &Metadata) -> Option<&'static str> {
    let t = m.file_type();
    Some(match () {
        _ if t.is_file() => return None,
        _ if t.is_fifo() => "FIFO",
        _ if t.is_dir() => "directory",
        _ if t.is_char_device() => "character device",
        _ if t.is_block_device() => "block device",
        _ if t.is_socket() => "socket",
        _ => "special file",
    })
}

fn check(m: &Metadata) -> Result<(), FileError> {
    not_regular(m).map_or(Ok(()), |kind| Err(FileError::NotRegular(kind)))
}

/// Opens `path` with `options` if it is a regular file (or missing, when `create`).
fn open(path: &Path, options: &mut OpenOptions, create: bool) -> Result<File, FileError> {
    // stat first: opening a device may do something (a tape rewinds); then the open's own
    // file is checked, in case it was replaced in between.
    match std::fs::metadata(path) {
        Ok(m) => check(&m)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound && create => {}
        Err(e) => return Err(e.into()),
    }
    let f = options
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)?;
    check(&f.metadata()?)?;
    Ok(f)
}

/// The first `max` bytes of the regular file at `path` (lossily as text); `None` when it does
/// not exist.
pub fn read(path: &Path, max: usize) -> Result<Option<String>, FileError> {
    let f = match open(path, OpenOptions::new().read(true), false) {
        Err(FileError::Io(e)) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        r => r?,
    };
    let mut buf = Vec::with_capacity(max.min(4096));
    f.take(max as u64).read_to_end(&mut buf)?;
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Writes `text` to the file at `path`, creating it, if it is missing or a regular file.
pub fn write(path: &Path, text: &str) -> Result<(), FileError> {
    let mut f = open(
        path,
        OpenOptions::new().write(true).create(true).truncate(true),
        true,
    )?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_and_anything_else_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("value");
        assert_eq!(read(&file, 128).unwrap(), None, "missing");
        write(&file, "42\n").unwrap();
        assert_eq!(read(&file, 128).unwrap().as_deref(), Some("42\n"));
        assert_eq!(
            read(&file, 1).unwrap().as_deref(),
            Some("4"),
            "at most max bytes"
        );
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // Neither would return if it opened the FIFO the ordinary way: no writer, no reader.
        let e = read(&fifo, 128).unwrap_err();
        assert_eq!(e.to_string(), "is a FIFO, not a regular file");
        assert!(matches!(
            write(&fifo, "1\n"),
            Err(FileError::NotRegular("FIFO"))
        ));
        assert!(matches!(
            read(Path::new("/dev/zero"), 128),
            Err(FileError::NotRegular("character device"))
        ));
        assert!(matches!(
            read(dir.path(), 128),
            Err(FileError::NotRegular("directory"))
        ));
    }
}
