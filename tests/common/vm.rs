//! Running part of a test inside Debian's kernel under qemu, for IPVS, which the host kernel
//! lacks (../shared/reference/ipvs-vm.md). The kernel package is downloaded once and cached
//! in the target directory; each run packs a small initramfs (busybox, the IPVS modules,
//! ipvsadm, ip, the test binary and the kaconsole binary) and boots it with TCG. The guest's
//! /init runs the command and prints `TEST-EXIT=<status>`.
//!
//! The binaries that were built go to fixed paths in the guest, [`GUEST_BIN`]/<file name>
//! ([`in_guest`]), whatever the checkout's path: the guest mounts tmpfs over /tmp and /run,
//! which would hide a checkout there, and the kernel command line that names the binary
//! cannot hold spaces. Programs installed on the host (`/usr/sbin/ipvsadm`) keep their paths.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Modules to load, in order (their dependencies first; libcrc32c wants crc32c first).
const MODULES: &[&str] = &[
    "nf_defrag_ipv4",
    "nf_defrag_ipv6",
    "crc32c_generic",
    "libcrc32c",
    "nf_conntrack",
    "ip_vs",
    "nf_conntrack_sip",
    "ip_vs_pe_sip",
    "ip_vs_rr",
    "ip_vs_wrr",
    "ip_vs_lc",
    "ip_vs_wlc",
    "ip_vs_lblc",
    "ip_vs_lblcr",
    "ip_vs_dh",
    "ip_vs_sh",
    "ip_vs_sed",
    "ip_vs_nq",
    "ip_vs_fo",
    "ip_vs_ovf",
    "ip_vs_mh",
    "ip_vs_twos",
    "dummy",
];

/// Where the guest finds the binaries that were built.
pub const GUEST_BIN: &str = "/host-bin";

/// Whether `path` is a program installed on the host, in a bin directory, rather than a build
/// output: the guest finds it at the same path.
fn installed(path: &Path) -> bool {
    let bin_dirs = [
        "/bin",
        "/sbin",
        "/usr/bin",
        "/usr/sbin",
        "/usr/local/bin",
        "/usr/local/sbin",
    ];
    path.parent()
        .is_some_and(|d| bin_dirs.iter().any(|b| d == Path::new(b)))
}

/// The path in the guest of the executable `host` given to [`run_in_vm`]: its own for a
/// program installed on the host, else [`GUEST_BIN`]/<file name> (the guest may also pass the
/// file name alone).
pub fn in_guest(host: &Path) -> PathBuf {
    if installed(host) {
        return host.to_path_buf();
    }
    Path::new(GUEST_BIN).join(
        host.file_name()
            .expect("an executable's path has a file name"),
    )
}

/// What a guest run printed and how its command ended.
pub struct VmRun {
    /// The command's exit status (from the `TEST-EXIT=` line).
    pub exit: i32,
    /// The serial console, without carriage returns.
    pub output: String,
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The kernel: `(vmlinux, the unpacked package root, the module version)`, from the cache or
/// downloaded and unpacked now.
fn kernel(cache: &Path) -> Result<(PathBuf, PathBuf, String), String> {
    // linux-image-amd64 depends on the current linux-image-<version>-amd64.
    let deps = run(Command::new("apt-cache").args(["depends", "linux-image-amd64"]))?;
    let package = deps
        .lines()
        .find_map(|l| l.trim().strip_prefix("Depends: "))
        .filter(|p| p.starts_with("linux-image-"))
        .ok_or_else(|| format!("apt-cache depends linux-image-amd64 gave no kernel:\n{deps}"))?
        .trim()
        .to_string();
    let version = package.trim_start_matches("linux-image-").to_string();
    let dir = cache.join(&package);
    let vmlinux = dir.join("vmlinux");
    let root = dir.join("root");
    if vmlinux.exists()
        && root
            .join("lib/modules")
            .join(&version)
            .join("modules.dep")
            .exists()
    {
        return Ok((vmlinux, root, version));
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    run(Command::new("apt-get")
        .args(["download", &package])
        .current_dir(&dir))
    .map_err(|e| format!("downloading the kernel (needs the network and apt-get update): {e}"))?;
    let deb = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or("apt-get download left no .deb")?;
    let _ = std::fs::remove_dir_all(&root);
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
    // The package has no modules.dep (its postinst makes it).
    run(Command::new("busybox")
        .arg("depmod")
        .arg("-b")
        .arg(&root)
        .arg(&version))?;
    extract_vmlinux(
        &root.join("boot").join(format!("vmlinuz-{version}")),
        &vmlinux,
    )?;
    let _ = std::fs::remove_file(&deb);
    Ok((vmlinux, root, version))
}

/// The uncompressed ELF kernel inside a bzImage, found as scripts/extract-vmlinux finds it:
/// the first compressed stream that decompresses to an ELF file. qemu boots it through the
/// PVH entry, which saves the guest's slow decompression.
fn extract_vmlinux(bzimage: &Path, out: &Path) -> Result<(), String> {
    let image = std::fs::read(bzimage).map_err(|e| format!("{}: {e}", bzimage.display()))?;
    let formats: [(&[u8], &[&str]); 3] = [
        (
            &[0xfd, b'7', b'z', b'X', b'Z', 0],
            &["xz", "-dc", "--single-stream"],
        ),
        (&[0x28, 0xb5, 0x2f, 0xfd], &["zstd", "-dc"]),
        (&[0x1f, 0x8b, 0x08], &["gzip", "-dc"]),
    ];
    for (magic, tool) in formats {
        let mut at = 0;
        while let Some(i) = image[at..].windows(magic.len()).position(|w| w == magic) {
            let start = at + i;
            at = start + 1;
            let Ok(mut child) = Command::new(tool[0])
                .args(&tool[1..])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
            else {
                break;
            };
            let mut stdin = child.stdin.take().expect("piped");
            let data = image[start..].to_vec();
            let feeder = std::thread::spawn(move || {
                let _ = stdin.write_all(&data);
            });
            let output = child.wait_with_output().map_err(|e| e.to_string())?;
            let _ = feeder.join();
            if output.stdout.starts_with(b"\x7fELF") {
                return std::fs::write(out, &output.stdout).map_err(|e| e.to_string());
            }
        }
    }
    Err(format!("no ELF kernel found in {}", bzimage.display()))
}

/// The shared libraries a dynamic executable needs (ldd), the loader included.
fn libraries(exe: &Path) -> Vec<PathBuf> {
    let Ok(out) = run(Command::new("ldd").arg(exe)) else {
        return Vec::new();
    };
    out.lines()
        .filter_map(|l| {
            let path = match l.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// An uncompressed newc cpio archive (the format the kernel unpacks into its rootfs).
#[derive(Default)]
struct Cpio {
    buf: Vec<u8>,
    ino: u32,
    dirs: std::collections::BTreeSet<PathBuf>,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, data: &[u8], rdev: (u32, u32)) {
        self.ino += 1;
        let name = name.trim_start_matches('/');
        let header = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() + 1,
            0
        );
        self.buf.extend_from_slice(header.as_bytes());
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
        self.buf.extend_from_slice(data);
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    fn dir(&mut self, path: &Path) {
        for a in path.ancestors().collect::<Vec<_>>().into_iter().rev() {
            if a.as_os_str().is_empty() || a == Path::new("/") || !self.dirs.insert(a.to_path_buf())
            {
                continue;
            }
            self.entry(&a.to_string_lossy(), 0o040755, &[], (0, 0));
        }
    }

    fn file(&mut self, path: &Path, data: &[u8], exec: bool) {
        if let Some(parent) = path.parent() {
            self.dir(parent);
        }
        let mode = if exec { 0o100755 } else { 0o100644 };
        self.entry(&path.to_string_lossy(), mode, data, (0, 0));
    }

    /// A host file at the same path in the guest (symlinks followed).
    fn copy(&mut self, path: &Path) -> Result<(), String> {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let exec = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
        self.file(path, &data, exec);
        Ok(())
    }

    fn symlink(&mut self, path: &Path, target: &str) {
        if let Some(parent) = path.parent() {
            self.dir(parent);
        }
        self.entry(&path.to_string_lossy(), 0o120777, target.as_bytes(), (0, 0));
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[], (0, 0));
        self.buf
    }
}

/// A copy of an executable without its debug information (a debug test binary is hundreds of
/// megabytes; the guest's memory holds the whole initramfs).
fn stripped(exe: &Path, scratch: &Path) -> Result<Vec<u8>, String> {
    let out = scratch.join(format!(
        "{}.stripped",
        exe.file_name().unwrap_or_default().to_string_lossy()
    ));
    run(Command::new("objcopy")
        .arg("--strip-debug")
        .arg(exe)
        .arg(&out))?;
    std::fs::read(&out).map_err(|e| e.to_string())
}

const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
ip link set lo up
for m in $(cat /modules.load); do insmod "$m" || echo "insmod $m failed"; done
cd /tmp
"$@" < /dev/null
echo "TEST-EXIT=$?"
poweroff -f
"#;

/// Runs `binary args...` in a fresh VM and returns its exit status and console output.
/// `binary` and the `extra` executables are copied in at [`in_guest`] paths, with their
/// libraries.
pub fn run_in_vm(
    binary: &Path,
    args: &[&str],
    extra: &[&Path],
    timeout: Duration,
) -> Result<VmRun, String> {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm");
    std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
    // One download at a time, across test processes too.
    let lock = std::fs::File::create(cache.join("lock")).map_err(|e| e.to_string())?;
    let lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e.to_string())?;
    let (vmlinux, root, version) = kernel(&cache)?;
    drop(lock);

    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut cpio = Cpio::default();
    cpio.entry("dev", 0o040755, &[], (0, 0));
    cpio.entry("dev/console", 0o020600, &[], (5, 1));
    cpio.file(Path::new("/init"), INIT.as_bytes(), true);
    cpio.file(
        Path::new("/bin/busybox"),
        &std::fs::read("/bin/busybox").map_err(|e| format!("/bin/busybox: {e}"))?,
        true,
    );
    // The modules, in load order.
    let dep = std::fs::read_to_string(root.join("lib/modules").join(&version).join("modules.dep"))
        .map_err(|e| e.to_string())?;
    let mut load = String::new();
    for m in MODULES {
        let file = format!("/{m}.ko");
        let Some(rel) = dep
            .lines()
            .filter_map(|l| l.split(':').next())
            .find(|p| p.ends_with(&file) || p.ends_with(&format!("/{}.ko", m.replace('_', "-"))))
        else {
            continue;
        };
        let guest = Path::new("/lib/modules").join(&version).join(rel);
        let host = root.join("lib/modules").join(&version).join(rel);
        let data = std::fs::read(&host).map_err(|e| format!("{}: {e}", host.display()))?;
        cpio.file(&guest, &data, false);
        load.push_str(&format!("{}\n", guest.display()));
    }
    cpio.file(Path::new("/modules.load"), load.as_bytes(), false);
    // ipvsadm and iproute2's ip to cross-check, the test binary and the extras.
    let mut exes: Vec<PathBuf> = vec![
        "/usr/sbin/ipvsadm".into(),
        "/usr/sbin/ip".into(),
        binary.to_path_buf(),
    ];
    exes.extend(extra.iter().map(|p| p.to_path_buf()));
    let mut libs = std::collections::BTreeSet::new();
    let mut packed = std::collections::BTreeSet::new();
    for exe in &exes {
        let data = if installed(exe) {
            std::fs::read(exe).map_err(|e| format!("{}: {e}", exe.display()))?
        } else {
            stripped(exe, scratch.path())?
        };
        let guest = in_guest(exe);
        if !packed.insert(guest.clone()) {
            return Err(format!("two executables would be {}", guest.display()));
        }
        cpio.file(&guest, &data, true);
        libs.extend(libraries(exe));
    }
    libs.insert("/lib/x86_64-linux-gnu/libgcc_s.so.1".into());
    for lib in libs {
        cpio.copy(&lib)?;
        // The loader is asked for by its /lib64 name.
        if lib.to_string_lossy().contains("ld-linux-x86-64")
            && lib != Path::new("/lib64/ld-linux-x86-64.so.2")
        {
            cpio.symlink(
                Path::new("/lib64/ld-linux-x86-64.so.2"),
                &lib.to_string_lossy(),
            );
        }
    }
    let initrd = scratch.path().join("initrd.cpio");
    std::fs::write(&initrd, cpio.finish()).map_err(|e| e.to_string())?;

    let mut cmdline = String::from(
        "console=ttyS0 quiet panic=-1 cryptomgr.notests apparmor=0 audit=0 mitigations=off \
         no_timer_check tsc=reliable KACONSOLE_IN_VM=1 RUST_BACKTRACE=1 --",
    );
    cmdline.push(' ');
    cmdline.push_str(&in_guest(binary).to_string_lossy());
    for a in args {
        assert!(
            !a.contains(' '),
            "guest arguments cannot hold spaces: {a:?}"
        );
        cmdline.push(' ');
        cmdline.push_str(a);
    }
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-accel", "tcg", "-cpu", "max", "-m", "1024M", "-smp", "1"])
        .args(["-nodefaults", "-no-user-config", "-display", "none"])
        .args(["-serial", "stdio", "-no-reboot"])
        .arg("-kernel")
        .arg(&vmlinux)
        .arg("-initrd")
        .arg(&initrd)
        .arg("-append")
        .arg(&cmdline)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("qemu-system-x86_64: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut s);
        s
    });
    let start = Instant::now();
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            let out = String::from_utf8_lossy(&reader.join().unwrap_or_default()).replace('\r', "");
            return Err(format!(
                "the VM did not finish within {timeout:?}:\n{}",
                tail(&out)
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = String::from_utf8_lossy(&reader.join().unwrap_or_default()).replace('\r', "");
    let exit = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("TEST-EXIT="))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "the guest ended without a TEST-EXIT line:\n{}",
                tail(&output)
            )
        })?;
    Ok(VmRun { exit, output })
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
