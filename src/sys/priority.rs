//! Scheduling priority of the daemon's helper threads: on a busy machine the VRRP loop must
//! win the CPU over the work that serves clients (keepalived puts its VRRP process above the
//! rest for the same reason, `vrrp_priority` / `vrrp_rt_priority`).

/// The nice value of the control socket's thread and the children it starts (checks of
/// configuration texts): below the VRRP loop's.
pub const CONTROL_NICE: i32 = 10;

/// Sets the calling thread's nice value (Linux keeps one per thread; children started from
/// this thread inherit it).
#[allow(unsafe_code)]
pub fn set_this_thread_nice(nice: i32) -> std::io::Result<()> {
    let tid = nix::unistd::gettid().as_raw();
    // SAFETY: setpriority only reads its three integer arguments; `tid` is this thread's id,
    // as PRIO_PROCESS takes it on Linux.
    let r =
        unsafe { nix::libc::setpriority(nix::libc::PRIO_PROCESS, tid as nix::libc::id_t, nice) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The calling thread's nice value.
pub fn this_thread_nice() -> std::io::Result<i32> {
    let tid = nix::unistd::gettid().as_raw();
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))?;
    // The 19th field (nice), counted after the command name in parentheses.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(16)?.parse().ok())
        .ok_or_else(|| std::io::Error::other("unreadable /proc stat"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_lowers_its_own_priority_and_no_other() {
        let main = this_thread_nice().unwrap();
        let lowered = std::thread::spawn(|| {
            set_this_thread_nice(CONTROL_NICE).unwrap();
            this_thread_nice().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(lowered, CONTROL_NICE);
        assert_eq!(
            this_thread_nice().unwrap(),
            main,
            "the other threads keep theirs"
        );
    }
}
