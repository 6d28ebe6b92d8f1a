//! What the suite reads from `/proc`, through the `procfs` crate: what
//! machine this is, a server's memory, and each CPU's busy time.

use std::fs;
use std::io;

use procfs::process::Process;
use procfs::{CpuInfo, CpuTime, Current, CurrentSI, KernelStats, ProcError};

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
    let pid = i32::try_from(pid).map_err(io::Error::other)?;
    let status = Process::new(pid)
        .and_then(|p| p.status())
        .map_err(io_error)?;
    // The kernel counts in KiB; a field it omits (a kernel thread) is zero.
    let bytes = |kib: Option<u64>| kib.unwrap_or(0) * 1024;
    Ok(Memory {
        rss: bytes(status.vmrss),
        peak_rss: bytes(status.vmhwm),
    })
}

/// Busy time of each CPU since boot, in seconds, from `/proc/stat`
/// (user, nice, system, irq, softirq and steal: everything but idle and
/// I/O wait).
///
/// Indexed by position among the `cpuN` lines, which is the CPU number while
/// no CPU is offline: the kernel lists online CPUs only, and `procfs` keeps
/// their order but not their numbers.
pub fn cpu_busy() -> io::Result<Vec<f64>> {
    let stats = KernelStats::current().map_err(io_error)?;
    let ticks_per_second = procfs::ticks_per_second() as f64;
    Ok(stats
        .cpu_time
        .iter()
        .map(|t| busy_ticks(t) as f64 / ticks_per_second)
        .collect())
}

fn busy_ticks(t: &CpuTime) -> u64 {
    let optional = [t.irq, t.softirq, t.steal];
    t.user + t.nice + t.system + optional.iter().flatten().sum::<u64>()
}

/// What the numbers were measured on.
#[derive(Clone, Debug)]
pub struct Machine {
    /// Online CPUs: the processors `/proc/cpuinfo` lists.
    pub cpus: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The running kernel's release, whole (`procfs`'s `KernelVersion`
    /// keeps only the numbers, not the distribution's suffix).
    pub kernel: String,
}

impl Machine {
    /// Reads the machine's description; unknown parts say "unknown".
    pub fn detect() -> Machine {
        let cpuinfo = CpuInfo::current().ok();
        let cpu_model = cpuinfo
            .as_ref()
            .and_then(|c| c.model_name(0))
            .unwrap_or("unknown")
            .to_string();
        let cpus = cpuinfo.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |c| c.num_cores(),
        );
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or("unknown".to_string(), |k| k.trim().to_string());
        Machine {
            cpus,
            cpu_model,
            kernel,
        }
    }
}

/// `procfs`'s error as the `io::Error` the suite passes around.
fn io_error(e: ProcError) -> io::Error {
    match e {
        ProcError::Io(e, _) => e,
        e => io::Error::other(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cpu_has_been_busy() {
        let busy = cpu_busy().unwrap();
        assert!(
            !busy.is_empty() && busy.iter().all(|&s| s > 0.0),
            "{busy:?}"
        );
    }

    #[test]
    fn own_memory_is_nonzero() {
        let m = memory(std::process::id()).unwrap();
        assert!(m.rss > 0 && m.peak_rss >= m.rss);
    }

    #[test]
    fn this_machine_is_described() {
        let m = Machine::detect();
        assert!(m.cpus >= 1 && !m.kernel.is_empty(), "{m:?}");
    }
}
