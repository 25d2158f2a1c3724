//! What the benchmarks share: a process's CPU time and memory from /proc, and the checkers
//! benches' configuration.

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

/// The checkers benches' configuration: one virtual server with `n` real servers
/// 127.1.x.y:9000 (all local addresses, so one listener on 0.0.0.0:9000 answers them all),
/// each with a TCP_CHECK every second; alpha, so that each is in the table once it passed.
pub fn tcp_check_config(n: usize) -> String {
    let servers: String = (0..n)
        .map(|i| {
            format!(
                "    real_server 127.1.{}.{} 9000 {{\n        TCP_CHECK {{\n            connect_timeout 1\n        }}\n    }}\n",
                i / 250,
                i % 250 + 1
            )
        })
        .collect();
    format!(
        "virtual_server 10.0.0.100 80 {{\n    protocol TCP\n    lvs_sched rr\n    lvs_method NAT\n    delay_loop 1\n    alpha\n{servers}}}\n"
    )
}
