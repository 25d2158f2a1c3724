//! Writing files the way a root daemon must (threat-model rules 3 and 4). A file is never
//! written in place and never through a link someone else planted:
//!
//! - the new contents go to a fresh file next to the target, created with O_EXCL and
//!   O_NOFOLLOW under a random name (nothing at that name can be reused, not even a
//!   symlink), with the target's mode and owner (a 0600 keepalived.conf holds auth_pass and
//!   AH keys: it stays 0600), fsynced, then renamed over the target, and the directory
//!   fsynced: the target is the old file or the new one, whole, even after a crash;
//! - a rename replaces whatever is at the target's name - a symlink planted in /tmp
//!   included - without following it;
//! - a write that fails (a full disk) leaves no partial temp file behind.
//!
//! The files the daemon creates get the mode asked for less the process umask (`-u`).

use std::ffi::OsString;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A file created here: O_EXCL (nothing there before, not even a symlink) and O_NOFOLLOW,
/// with `mode` (less the umask).
pub fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(path)
}

/// [`create_new`], written and closed.
pub fn write_new(path: &Path, mode: u32, contents: &[u8]) -> io::Result<()> {
    let mut f = create_new(path, mode)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// 12 random characters from [a-zA-Z0-9].
fn random_suffix() -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = [0u8; 12];
    let random = File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if random.is_err() {
        // No /dev/urandom: the time and our pid; O_EXCL still refuses any name in use.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let seed = t ^ (u128::from(std::process::id()) << 64);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8;
        }
    }
    bytes
        .iter()
        .map(|b| CHARS[usize::from(*b) % CHARS.len()] as char)
        .collect()
}

/// A temp file next to `target`, created as [`create_new`] does; retried on the (unlikely)
/// name already taken.
fn create_temp(target: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
    let dir = parent(target);
    let base = target
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!(".{base}.{}", random_suffix()));
        match create_new(&tmp, mode) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no temp name")))
}

fn parent(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// fsync of a directory: a rename in it is on disk.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Removes the temp file on an error.
struct Temp(Option<PathBuf>);

impl Temp {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Writes `contents` into a fresh temp file next to `target` with `meta`'s mode and owner
/// (else `mode`), fsynced. Returns its path; the caller renames it.
fn fresh_copy(
    target: &Path,
    contents: &[u8],
    meta: Option<&Metadata>,
    mode: u32,
) -> io::Result<PathBuf> {
    let (tmp, mut f) = create_temp(target, meta.map_or(mode, |m| m.mode() & 0o777))?;
    let guard = Temp(Some(tmp.clone()));
    if let Some(m) = meta {
        std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()))?;
        f.set_permissions(std::fs::Permissions::from_mode(m.mode() & 0o7777))?;
    }
    f.write_all(contents)?;
    f.sync_all()?;
    guard.keep();
    Ok(tmp)
}

/// The regular file at `path`, if there is one (a symlink is not followed: `None` for a
/// missing file, an error for anything but a regular file).
fn existing(path: &Path) -> io::Result<Option<Metadata>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => Ok(Some(m)),
        Ok(_) => Err(io::Error::other(format!(
            "{}: not a regular file",
            path.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Renames `tmp` over `target` and fsyncs the directory; on an error `tmp` goes.
fn commit(tmp: PathBuf, target: &Path) -> io::Result<()> {
    let guard = Temp(Some(tmp.clone()));
    std::fs::rename(&tmp, target)?;
    guard.keep();
    sync_dir(parent(target))
}

/// Replaces whatever is at `path` (a planted symlink is replaced, never followed) with a
/// new file of `contents`, mode `mode` less the umask: the daemon's dumps in /tmp.
pub fn replace_private(path: &Path, mode: u32, contents: &[u8]) -> io::Result<()> {
    let tmp = fresh_copy(path, contents, None, mode)?;
    commit(tmp, path)
}

/// What [`replace_keeping`] did, for [`restore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replaced {
    /// The file written: the path given, or the target of the symlink at it.
    pub file: PathBuf,
    /// The previous file, kept as `FILE.bak` (none when there was no file before).
    pub backup: Option<PathBuf>,
}

/// `FILE.bak`.
pub fn backup_path(file: &Path) -> PathBuf {
    let mut b: OsString = file.as_os_str().to_owned();
    b.push(".bak");
    PathBuf::from(b)
}

/// Replaces the configuration file at `path` with `contents`, keeping the old file's mode
/// and owner (a new file gets `mode` less the umask) and the old file itself as `FILE.bak`.
/// A symlink at `path` (an administrator's choice: /etc/keepalived/keepalived.conf pointing
/// into a repository) is written through: its target is replaced, the link stays.
pub fn replace_keeping(path: &Path, mode: u32, contents: &[u8]) -> io::Result<Replaced> {
    let file = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let meta = existing(&file)?;
    let tmp = fresh_copy(&file, contents, meta.as_ref(), mode)?;
    let tmp = Temp(Some(tmp));
    let backup = match &meta {
        Some(m) => Some(keep_backup(&file, m)?),
        None => None,
    };
    let t = tmp.0.clone().expect("the temp file");
    tmp.keep();
    commit(t, &file)?;
    Ok(Replaced { file, backup })
}

/// The current `file` kept as `FILE.bak`: a hard link (the same inode, its mode and owner
/// untouched), else a copy made as safely as any other file here.
fn keep_backup(file: &Path, meta: &Metadata) -> io::Result<PathBuf> {
    let bak = backup_path(file);
    let link = parent(file).join(format!(".{}.bak.{}", name(file), random_suffix()));
    let tmp = match std::fs::hard_link(file, &link) {
        Ok(()) => link,
        Err(_) => fresh_copy(&bak, &std::fs::read(file)?, Some(meta), 0o600)?,
    };
    commit(tmp, &bak)?;
    Ok(bak)
}

fn name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned())
}

/// Puts back the file [`replace_keeping`] replaced (its reload failed): `FILE.bak` is the
/// file again (and stays `FILE.bak`); a file that did not exist before is removed.
pub fn restore(r: &Replaced) -> io::Result<()> {
    let Some(bak) = &r.backup else {
        std::fs::remove_file(&r.file)?;
        return sync_dir(parent(&r.file));
    };
    let link = parent(&r.file).join(format!(".{}.{}", name(&r.file), random_suffix()));
    let tmp = match std::fs::hard_link(bak, &link) {
        Ok(()) => link,
        Err(_) => {
            let meta = existing(bak)?.ok_or_else(|| io::Error::other("no backup"))?;
            fresh_copy(&r.file, &std::fs::read(bak)?, Some(&meta), 0o600)?
        }
    };
    commit(tmp, &r.file)
}

/// A new directory `PARENT/PREFIXXXXXXX` (mkdtemp: a random name, created 0700 by us; never
/// one that existed before).
pub fn private_dir(parent: &Path, prefix: &str) -> io::Result<PathBuf> {
    nix::unistd::mkdtemp(&parent.join(format!("{prefix}XXXXXX"))).map_err(io::Error::from)
}

/// The process's umask (read, not changed: another thread may create files meanwhile).
pub fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        .unwrap_or(0o022)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().mode() & 0o7777
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_configuration_keeps_its_mode_and_the_old_file_is_kept_then_restored() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("keepalived.conf");
        std::fs::write(&conf, "old\n").unwrap();
        std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
        let r = replace_keeping(&conf, 0o644, b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&conf).unwrap(), "new\n");
        assert_eq!(mode(&conf), 0o600, "the mode stays");
        let bak = dir.path().join("keepalived.conf.bak");
        assert_eq!(r.backup.as_deref(), Some(bak.as_path()));
        assert_eq!(std::fs::read_to_string(&bak).unwrap(), "old\n");
        assert_eq!(mode(&bak), 0o600, "the backup too");
        assert_eq!(
            entries(dir.path()),
            ["keepalived.conf", "keepalived.conf.bak"]
        );
        restore(&r).unwrap();
        assert_eq!(std::fs::read_to_string(&conf).unwrap(), "old\n");
        assert_eq!(mode(&conf), 0o600);
        assert_eq!(
            entries(dir.path()),
            ["keepalived.conf", "keepalived.conf.bak"]
        );
    }

    #[test]
    fn a_symlinked_configuration_is_written_through_to_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        let real = repo.join("keepalived.conf");
        std::fs::write(&real, "old\n").unwrap();
        let link = dir.path().join("keepalived.conf");
        symlink(&real, &link).unwrap();
        let r = replace_keeping(&link, 0o600, b"new\n").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new\n");
        assert_eq!(r.file, real.canonicalize().unwrap());
        assert_eq!(
            std::fs::read_to_string(repo.join("keepalived.conf.bak")).unwrap(),
            "old\n"
        );
    }

    #[test]
    fn a_planted_backup_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let conf = dir.path().join("k.conf");
        std::fs::write(&conf, "old\n").unwrap();
        symlink(&victim, dir.path().join("k.conf.bak")).unwrap();
        replace_keeping(&conf, 0o600, b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        let bak = dir.path().join("k.conf.bak");
        assert!(
            std::fs::symlink_metadata(&bak)
                .unwrap()
                .file_type()
                .is_file()
        );
    }

    #[test]
    fn a_dump_replaces_a_planted_symlink_without_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("shadow");
        std::fs::write(&victim, "root:secret\n").unwrap();
        let dump = dir.path().join("keepalived.stats");
        symlink(&victim, &dump).unwrap();
        replace_private(&dump, 0o600, b"stats\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root:secret\n");
        assert_eq!(std::fs::read_to_string(&dump).unwrap(), "stats\n");
        assert!(
            !std::fs::symlink_metadata(&dump)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(mode(&dump) & 0o077, 0, "private");
        assert_eq!(entries(dir.path()), ["keepalived.stats", "shadow"]);
    }

    #[test]
    fn create_new_refuses_anything_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        let link = dir.path().join("l");
        symlink(&target, &link).unwrap();
        assert!(create_new(&link, 0o600).is_err(), "a dangling symlink");
        assert!(!target.exists());
        write_new(&target, 0o600, b"x").unwrap();
        assert!(create_new(&target, 0o600).is_err(), "a file");
    }

    #[test]
    fn a_failed_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: the rename fails.
        let target = dir.path().join("k.conf");
        std::fs::create_dir(&target).unwrap();
        assert!(replace_private(&target, 0o600, b"x").is_err());
        assert_eq!(entries(dir.path()), ["k.conf"]);
    }

    /// A tmpfs of 64 KiB mounted on a temp dir, unmounted when dropped (root only).
    struct TinyFs(tempfile::TempDir);

    impl TinyFs {
        fn mount() -> Option<TinyFs> {
            if !nix::unistd::geteuid().is_root() {
                return None;
            }
            let dir = tempfile::tempdir().ok()?;
            let ok = std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            ok.then_some(TinyFs(dir))
        }
    }

    impl Drop for TinyFs {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg(self.0.path())
                .status();
        }
    }

    #[test]
    fn a_full_disk_leaves_the_file_as_it_was_and_no_temp_file() {
        let Some(fs) = TinyFs::mount() else {
            eprintln!("skipped: needs root and mount");
            return;
        };
        let conf = fs.0.path().join("keepalived.conf");
        std::fs::write(&conf, "old\n").unwrap();
        let big = vec![b'#'; 256 * 1024];
        let e = replace_keeping(&conf, 0o600, &big).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(nix::libc::ENOSPC), "{e}");
        assert_eq!(std::fs::read_to_string(&conf).unwrap(), "old\n");
        assert_eq!(
            entries(fs.0.path()),
            ["keepalived.conf"],
            "no partial temp file"
        );
        assert!(replace_private(&fs.0.path().join("keepalived.stats"), 0o600, &big).is_err());
        assert_eq!(entries(fs.0.path()), ["keepalived.conf"]);
    }

    #[test]
    fn private_dirs_are_new_and_0700() {
        let dir = tempfile::tempdir().unwrap();
        let a = private_dir(dir.path(), "kalab-1-").unwrap();
        let b = private_dir(dir.path(), "kalab-1-").unwrap();
        assert_ne!(a, b);
        assert_eq!(mode(&a), 0o700);
        assert!(
            a.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("kalab-1-")
        );
    }
}
