//! What the kernel says of a process: CPU time from `/proc/PID/stat` (user + system, every
//! thread) and memory from `/proc/PID/status` (resident now, and its high-water mark).

use std::io;
use std::sync::OnceLock;

/// Clock ticks per second of `/proc` times (`getconf CLK_TCK`; 100 on Linux unless told).
fn ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU seconds (user + system) the process has used so far.
pub(crate) fn cpu_seconds(pid: u32) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces: count fields after its closing ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| io::Error::other("unreadable /proc/PID/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime); `rest` starts at field 3.
    let ticks = |i: usize| -> io::Result<f64> {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .map(|v| v as f64)
            .ok_or_else(|| io::Error::other("unreadable /proc/PID/stat"))
    };
    Ok((ticks(14)? + ticks(15)?) / ticks_per_second())
}

/// CPU time of each live thread of a process, in nanoseconds (the first field of
/// `/proc/PID/task/TID/schedstat`), by thread id: finer than the 10 ms ticks of
/// `/proc/PID/stat`, but the time of a thread that ended is gone with it.
pub(crate) fn thread_cpu_ns(pid: u32) -> io::Result<Vec<(u32, u64)>> {
    let mut threads = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let entry = entry?;
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        // A thread may end between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        if let Some(ns) = stat.split_whitespace().next().and_then(|v| v.parse().ok()) {
            threads.push((tid, ns));
        }
    }
    Ok(threads)
}

/// CPU seconds used between two readings of [`thread_cpu_ns`] (a thread new in the second
/// counts whole); None if a thread of the first is gone from the second, whose time since
/// the first is then unknown.
pub(crate) fn thread_cpu_between(before: &[(u32, u64)], after: &[(u32, u64)]) -> Option<f64> {
    let mut ns = 0;
    for &(tid, was) in before {
        let &(_, is) = after.iter().find(|(t, _)| *t == tid)?;
        ns += is.saturating_sub(was);
    }
    for &(tid, is) in after {
        if !before.iter().any(|(t, _)| *t == tid) {
            ns += is;
        }
    }
    Some(ns as f64 / 1e9)
}

/// Memory of a process, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Memory {
    /// Resident now (`VmRSS`).
    pub(crate) rss_kib: u64,
    /// The most ever resident (`VmHWM`).
    pub(crate) peak_kib: u64,
}

pub(crate) fn memory(pid: u32) -> io::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Ok(Memory {
        rss_kib: field("VmRSS:"),
        peak_kib: field("VmHWM:"),
    })
}

/// The machine, for the report: cores, memory, processor model.
pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown processor".to_owned());
    format!("{cores} cores, {mem_gib:.0} GiB, {model}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_times_add_up_unless_a_thread_ended() {
        let before = [(10, 1_000_000_000), (11, 500)];
        let after = [(11, 1_500), (10, 1_250_000_000), (12, 2_000)];
        let s = thread_cpu_between(&before, &after).unwrap();
        assert!((s - (0.25 + 1e-6 + 2e-6)).abs() < 1e-12, "{s}");
        assert_eq!(thread_cpu_between(&before, &after[..2]), Some(0.250_001));
        assert_eq!(thread_cpu_between(&before, &[(10, 2)]), None);
    }

    #[test]
    fn reads_this_process_threads() {
        let threads = thread_cpu_ns(std::process::id()).unwrap();
        assert!(threads.iter().any(|(tid, _)| *tid == std::process::id()));
    }
}
