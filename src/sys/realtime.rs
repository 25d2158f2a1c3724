//! `vrrp_rt_priority`, `vrrp_cpu_affinity` and `vrrp_no_swap` / `checker_no_swap` (keepalived's
//! core/process.c `set_process_priorities`): the VRRP loop scheduled SCHED_RR so that a busy
//! machine cannot delay its adverts, and the process locked in memory so that paging cannot.

use std::io;

/// Schedules the calling thread SCHED_RR at `priority` (1..=99); threads it starts afterwards
/// inherit it.
#[allow(unsafe_code)]
pub fn set_round_robin(priority: u32) -> io::Result<()> {
    let param = nix::libc::sched_param {
        sched_priority: priority as i32,
    };
    // SAFETY: sched_setscheduler reads `param` for the duration of the call only; pid 0 is the
    // calling thread.
    let r = unsafe { nix::libc::sched_setscheduler(0, nix::libc::SCHED_RR, &param) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Locks every page of the process, now and to come, in memory (mlockall).
#[allow(unsafe_code)]
pub fn lock_memory() -> io::Result<()> {
    // SAFETY: mlockall takes only flags and touches no memory of ours.
    let r = unsafe { nix::libc::mlockall(nix::libc::MCL_CURRENT | nix::libc::MCL_FUTURE) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Pins the calling thread (and the threads it starts afterwards) to `cpus`.
pub fn set_affinity(cpus: &[u32]) -> io::Result<()> {
    let mut set = nix::sched::CpuSet::new();
    for &c in cpus {
        set.set(c as usize).map_err(io::Error::from)?;
    }
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).map_err(io::Error::from)
}
