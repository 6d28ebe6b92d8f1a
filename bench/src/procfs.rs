//! Readings from `/proc`: a process's memory, and what machine this is.

use std::fs;
use std::io;

/// Resident memory of a process, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// `VmRSS`: resident now.
    pub rss: u64,
    /// `VmHWM`: the peak resident size so far.
    pub peak_rss: u64,
}

/// Reads `VmRSS` and `VmHWM` of process `pid` from `/proc/<pid>/status`.
pub fn memory(pid: u32) -> io::Result<Memory> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(parse_status(&status))
}

fn parse_status(status: &str) -> Memory {
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |k| k * 1024)
    };
    Memory {
        rss: kib("VmRSS:"),
        peak_rss: kib("VmHWM:"),
    }
}

/// Busy time of each CPU since boot, in seconds, from `/proc/stat`
/// (user, nice, system, irq, softirq and steal: everything but idle and
/// I/O wait), indexed by CPU number.
pub fn cpu_busy() -> io::Result<Vec<f64>> {
    let stat = fs::read_to_string("/proc/stat")?;
    Ok(parse_cpu_busy(&stat, clock_ticks_per_second()))
}

fn parse_cpu_busy(stat: &str, ticks_per_second: f64) -> Vec<f64> {
    let mut busy = Vec::new();
    for line in stat.lines() {
        // "cpu0 ..." lines only, not the "cpu  ..." total.
        let Some(rest) = line
            .strip_prefix("cpu")
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let Some(Ok(cpu)) = fields.next().map(str::parse::<usize>) else {
            continue;
        };
        let t: Vec<u64> = fields.map(|f| f.parse().unwrap_or(0)).collect();
        // user nice system idle iowait irq softirq steal ...
        let ticks: u64 = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| t.get(i)).sum();
        if busy.len() <= cpu {
            busy.resize(cpu + 1, 0.0);
        }
        busy[cpu] = ticks as f64 / ticks_per_second;
    }
    busy
}

/// `USER_HZ`, the unit of `/proc/stat`.
fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// What the numbers were measured on.
#[derive(Clone, Debug)]
pub struct Machine {
    /// Online CPUs (`nproc`).
    pub cpus: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The running kernel's release.
    pub kernel: String,
}

impl Machine {
    /// Reads the machine's description; unknown parts say "unknown".
    pub fn detect() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map_or("unknown".to_string(), |(_, m)| m.trim().to_string());
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or("unknown".to_string(), |k| k.trim().to_string());
        Machine {
            cpus: online_cpus(),
            cpu_model,
            kernel,
        }
    }
}

/// CPUs this process may run on.
pub fn online_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_parse_to_bytes() {
        let m = parse_status("Name:\tx\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\n");
        assert_eq!(
            m,
            Memory {
                rss: 1024 * 1024,
                peak_rss: 2048 * 1024
            }
        );
    }

    #[test]
    fn busy_time_per_cpu() {
        let stat = "cpu  9 9 9 9 9 9 9 9 0 0\ncpu0 100 0 50 1000 7 3 2 5 0 0\ncpu1 1 2 3 4 5 6 7 8 0 0\nintr 1\n";
        let busy = parse_cpu_busy(stat, 100.0);
        assert_eq!(busy, vec![1.6, 0.27]);
        assert!(!cpu_busy().unwrap().is_empty());
    }

    #[test]
    fn own_memory_is_nonzero() {
        let m = memory(std::process::id()).unwrap();
        assert!(m.rss > 0 && m.peak_rss >= m.rss);
    }
}
