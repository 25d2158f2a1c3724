//! `-p FILE`: the daemon's process id, for `kill $(cat FILE)`, and the lock that makes it one
//! daemon per pid file (keepalived: "daemon is already running").
//!
//! The file is locked with flock(2) for as long as the daemon runs; a second daemon finds it
//! locked and stops before it touches anything. It is written in place, not replaced by a
//! rename as other files are (threat-model rule 4): the lock belongs to the inode, and a
//! rename would leave a fresh, unlocked one at the path for the next daemon to take.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Why the pid file could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    /// Another daemon holds the lock; its pid as the file says, if it says one yet.
    #[error("daemon is already running ({})", pid.map_or("pid unknown".to_string(), |p| format!("pid {p}")))]
    AlreadyRunning { pid: Option<u32> },
    /// Not a plain file of ours: a symlink, a FIFO, a file with other links or owner.
    #[error("{0}: refused, not a regular file owned by us with one link")]
    NotOurs(&'static str),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The pid file, locked: the lock goes with the process (also when it is killed); the file
/// is removed at exit if it is still the one we locked.
pub struct PidFile {
    path: PathBuf,
    file: Flock<File>,
}

impl PidFile {
    /// Opens `path` without following a symlink, locks it, and writes our pid and a newline.
    pub fn lock(path: &Path) -> Result<PidFile, PidFileError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(0o644)
            // A symlink planted at the path is refused (ELOOP), and a FIFO does not block.
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(nix::libc::ELOOP) => PidFileError::NotOurs("a symlink"),
                _ => PidFileError::Io(e),
            })?;
        check_plain(&file)?;
        let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => locked,
            Err((mut file, Errno::EWOULDBLOCK)) => {
                return Err(PidFileError::AlreadyRunning {
                    pid: read_pid(&mut file),
                });
            }
            Err((_, e)) => return Err(PidFileError::Io(e.into())),
        };
        file.set_len(0)?;
        file.write_all(format!("{}\n", std::process::id()).as_bytes())?;
        file.sync_all()?;
        Ok(PidFile {
            path: path.to_path_buf(),
            file,
        })
    }
}

/// A regular file of ours with one name: never write into someone else's file through a
/// hard link or a file they planted.
fn check_plain(file: &File) -> Result<(), PidFileError> {
    let m = file.metadata()?;
    if !m.file_type().is_file() {
        return Err(PidFileError::NotOurs("not a regular file"));
    }
    if m.nlink() != 1 {
        return Err(PidFileError::NotOurs("a file with other links"));
    }
    if m.uid() != nix::unistd::geteuid().as_raw() {
        return Err(PidFileError::NotOurs("a file owned by another user"));
    }
    Ok(())
}

/// The pid the file holds, if it holds one.
fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

impl Drop for PidFile {
    /// Removed while still locked, and only if the path still names the file we locked: a
    /// daemon that replaced it after we lost it keeps its own.
    fn drop(&mut self) {
        let (Ok(ours), Ok(there)) = (self.file.metadata(), std::fs::symlink_metadata(&self.path))
        else {
            return;
        };
        if (ours.dev(), ours.ino()) == (there.dev(), there.ino()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the file holds our pid and a newline, and nothing else.
    fn ours(path: &Path) -> bool {
        std::fs::read_to_string(path).unwrap() == format!("{}\n", std::process::id())
    }

    #[test]
    fn holds_our_pid_and_a_newline_and_goes_at_exit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pid");
        let p = PidFile::lock(&path).unwrap();
        assert!(ours(&path));
        drop(p);
        assert!(!path.exists());
    }

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid_and_leaves_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pid");
        let first = PidFile::lock(&path).unwrap();
        // flock conflicts between two opens, even in one process.
        match PidFile::lock(&path) {
            Err(PidFileError::AlreadyRunning { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{:?}", other.map(|_| ())),
        }
        assert!(ours(&path), "the refused daemon wrote nothing");
        let message = PidFileError::AlreadyRunning { pid: Some(42) }.to_string();
        assert_eq!(message, "daemon is already running (pid 42)");
        drop(first);
        assert!(
            PidFile::lock(&path).is_ok(),
            "free again once the first is gone"
        );
    }

    #[test]
    fn a_stale_file_of_a_dead_daemon_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pid");
        std::fs::write(&path, "999999\nand more text than a pid\n").unwrap();
        let _p = PidFile::lock(&path).unwrap();
        assert!(ours(&path), "truncated and rewritten");
    }

    #[test]
    fn a_planted_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep me\n").unwrap();
        let path = dir.path().join("k.pid");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(matches!(
            PidFile::lock(&path),
            Err(PidFileError::NotOurs(_))
        ));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
        assert!(path.is_symlink(), "left as it was");
    }

    #[test]
    fn a_hard_link_or_a_fifo_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep me\n").unwrap();
        let path = dir.path().join("k.pid");
        std::fs::hard_link(&target, &path).unwrap();
        assert!(matches!(
            PidFile::lock(&path),
            Err(PidFileError::NotOurs(_))
        ));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
        let fifo = dir.path().join("fifo.pid");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(matches!(
            PidFile::lock(&fifo),
            Err(PidFileError::NotOurs(_))
        ));
    }

    #[test]
    fn a_file_replaced_after_we_locked_it_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pid");
        let p = PidFile::lock(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "4242\n").unwrap();
        drop(p);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "4242\n");
    }
}
