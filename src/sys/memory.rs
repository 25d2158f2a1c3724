//! What the daemon does about its own resident memory: it runs for months beside the
//! services it protects, and operators compare its RSS with keepalived's.

use nix::libc;

/// What start-up or a reload used and the running daemon does not need: freed heap and
/// start-up code (both below).
pub fn release_what_loading_used() {
    release_free_heap();
    release_startup_pages();
}

/// Lets go of the code and constant pages that only start-up used. Parsing and checking
/// the configuration, resolving names and opening sockets run a good share of the binary's
/// code once; those pages stay mapped (and counted in RSS) for the daemon's lifetime, though
/// the loop never runs them again. keepalived gets the same effect from its fork: its VRRP
/// child maps only what it touches after the fork. This drops the mappings of the
/// executable's clean pages (`MADV_DONTNEED`); the kernel maps back, from the page cache,
/// whatever the loop then runs. Only mappings of the executable without a private
/// (anonymous) page are touched, so nothing written - relocated data, a debugger's
/// breakpoint - is ever discarded. Called when start-up and each reload are done.
#[allow(unsafe_code)]
pub fn release_startup_pages() {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for (start, end) in clean_mappings_of(&smaps, &exe.to_string_lossy()) {
        // SAFETY: the range is one of this process's own read-only mappings of its
        // executable with no private page (read from /proc/self/smaps): dropping its page
        // table entries loses nothing, the next access maps the file's page again.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
}

/// The address ranges, in `/proc/self/smaps` text, of the read-only mappings of file `path`
/// that hold no anonymous (private, written) page.
fn clean_mappings_of(smaps: &str, path: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        if let Some((start, end)) = first.split_once('-') {
            // A mapping's header: "start-end perms offset dev inode path".
            let perms = words.next().unwrap_or_default();
            let read_only = perms.starts_with('r') && perms.as_bytes().get(1) == Some(&b'-');
            current = (read_only && words.nth(3) == Some(path))
                .then(|| {
                    Some((
                        usize::from_str_radix(start, 16).ok()?,
                        usize::from_str_radix(end, 16).ok()?,
                    ))
                })
                .flatten();
        } else if first == "Anonymous:"
            && let Some(range) = current.take()
            && words.next() == Some("0")
        {
            found.push(range);
        }
    }
    found
}

/// Makes freed memory go back to the kernel for as long as the daemon runs. glibc raises
/// its trim and mmap thresholds each time a large block is freed, so after start-up (a
/// configuration parsed and dropped) it keeps ever more freed memory mapped; fixed
/// thresholds (glibc's initial 128 KiB) stop that drift.
#[allow(unsafe_code)]
pub fn keep_heap_thresholds() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets two of glibc's tunables; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Gives the heap's free pages back to the kernel. Start-up and reloads parse, check and
/// compact the configuration, which frees far more than the running daemon then allocates;
/// glibc keeps such memory mapped (only the top of its main heap is trimmed on its own), so
/// the daemon calls this once each is done.
#[allow(unsafe_code)]
pub fn release_free_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only walks glibc's own arenas, under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_only_mappings_of_the_file_without_private_pages_are_released() {
        let smaps = "\
5600a0000000-5600a0100000 r--p 00000000 fd:01 42 /usr/sbin/kaconsole
Rss:                 772 kB
Anonymous:             0 kB
5600a0100000-5600a0500000 r-xp 00100000 fd:01 42 /usr/sbin/kaconsole
Rss:                3768 kB
Anonymous:             0 kB
5600a0500000-5600a0530000 r--p 00500000 fd:01 42 /usr/sbin/kaconsole
Rss:                 208 kB
Anonymous:           208 kB
5600a0530000-5600a0532000 rw-p 00530000 fd:01 42 /usr/sbin/kaconsole
Anonymous:             8 kB
5600a1000000-5600a1100000 rw-p 00000000 00:00 0 [heap]
Anonymous:          1944 kB
7f0000000000-7f0000100000 r-xp 00000000 fd:01 7 /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
7f0000200000-7f0000300000 r-xp 00000000 fd:01 8 /usr/sbin/kaconsole-old
Anonymous:             0 kB
";
        assert_eq!(
            clean_mappings_of(smaps, "/usr/sbin/kaconsole"),
            vec![
                (0x5600_a000_0000, 0x5600_a010_0000),
                (0x5600_a010_0000, 0x5600_a050_0000)
            ],
            "the relocated constants (private pages) and the writable data stay"
        );
    }

    #[test]
    fn released_code_runs_again_and_this_process_finds_its_own() {
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let ranges = clean_mappings_of(&smaps, &exe.to_string_lossy());
        let here = released_code_runs_again_and_this_process_finds_its_own as *const () as usize;
        assert!(
            ranges.iter().any(|&(s, e)| (s..e).contains(&here)),
            "{here:x} in none of {ranges:x?}"
        );
        release_startup_pages();
        // The code released above is mapped back on use: this test's own code, formatting.
        assert_eq!(format!("{:>4}", 7), "   7");
    }
}
