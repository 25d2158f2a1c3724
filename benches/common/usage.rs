//! A process's CPU time and memory, from /proc, for the benchmarks.

/// CPU seconds (user, system) and RSS (kB) of process `pid`; zeros once it is gone.
pub fn usage(pid: u32) -> ((f64, f64), u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which may itself hold spaces and parentheses.
    let f: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, r)| r.split_whitespace().collect());
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    // sysconf(_SC_CLK_TCK) is 100 on Linux.
    ((ticks(11) / 100.0, ticks(12) / 100.0), rss)
}
