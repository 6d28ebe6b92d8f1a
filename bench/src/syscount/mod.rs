//! Counting a server's system calls over one measured window.
//!
//! Two ways, chosen on the command line (`--syscalls perf|strace|off`):
//!
//! - **perf** (the default): `perf stat` counts the kernel's syscall
//!   tracepoints, attached to the server but switched on and off exactly at
//!   the window's edges through its control FIFO. The kernel only increments
//!   counters, so the server runs at nearly full speed and the counts are the
//!   ones the timed runs make.
//! - **strace** `-c -f`: works everywhere, but stops the server twice per
//!   call, which slows it many times over. A slowed server finds its next
//!   message already waiting, so it blocks (and reads `EAGAIN`) far less
//!   often than when it runs at full speed: its counts understate
//!   `epoll_wait` and `EAGAIN` reads.

mod perf;
mod strace;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub use perf::PerfStat;
pub use strace::{parse_summary, Strace};

/// How syscalls are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `perf stat` on syscall tracepoints.
    Perf,
    /// `strace -c -f`.
    Strace,
    /// Not counted.
    Off,
}

impl Method {
    /// Parses `perf`, `strace` or `off`.
    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "perf" => Some(Method::Perf),
            "strace" => Some(Method::Strace),
            "off" => Some(Method::Off),
            _ => None,
        }
    }

    /// The method's name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Perf => "perf",
            Method::Strace => "strace",
            Method::Off => "off",
        }
    }
}

/// Calls counted over a window.
#[derive(Clone, Debug, Default)]
pub struct SyscallCounts {
    /// Every system call.
    pub total: u64,
    /// Calls per system call name (those the method tracks).
    pub by_name: BTreeMap<String, u64>,
    /// Calls that failed with `EAGAIN` (perf), or with any error (strace).
    pub failed: u64,
    /// Context switches (perf only): a blocking wait that slept is one.
    pub context_switches: Option<u64>,
}

/// The names grouped as reads, writes and epoll waits.
pub const READS: [&str; 4] = ["read", "recvfrom", "recvmsg", "readv"];
/// Writes.
pub const WRITES: [&str; 4] = ["write", "sendto", "sendmsg", "writev"];
/// Epoll waits.
pub const WAITS: [&str; 3] = ["epoll_wait", "epoll_pwait", "epoll_pwait2"];

impl SyscallCounts {
    /// Calls of the named system calls.
    pub fn of(&self, names: &[&str]) -> u64 {
        names.iter().filter_map(|n| self.by_name.get(*n)).sum()
    }

    /// Reads / writes / epoll waits / the rest.
    pub fn groups(&self) -> [u64; 4] {
        let (r, w, e) = (self.of(&READS), self.of(&WRITES), self.of(&WAITS));
        [r, w, e, self.total.saturating_sub(r + w + e)]
    }
}

/// A counter for one server's window.
pub enum Counter {
    /// perf stat, attached up front and counting only while enabled.
    Perf(PerfStat),
    /// strace, attached when the window opens (it counts from attach on).
    Strace {
        /// The server.
        pid: u32,
        /// strace's summary file.
        output: PathBuf,
        /// Attached while the window is open.
        attached: Option<Strace>,
    },
}

impl Counter {
    /// Prepares to count `pid`'s calls; `scratch` holds the files.
    pub fn new(method: Method, pid: u32, scratch: &Path) -> io::Result<Counter> {
        match method {
            Method::Perf => PerfStat::attach(pid, scratch).map(Counter::Perf),
            Method::Strace => {
                let output = scratch.join(format!("strace-{}-{pid}.txt", std::process::id()));
                Ok(Counter::Strace {
                    pid,
                    output,
                    attached: None,
                })
            }
            Method::Off => Err(io::Error::other("syscall counting is off")),
        }
    }

    /// Starts counting.
    pub fn start(&mut self) -> io::Result<()> {
        match self {
            Counter::Perf(p) => p.enable(),
            Counter::Strace {
                pid,
                output,
                attached,
            } => {
                *attached = Some(Strace::attach(*pid, output)?);
                Ok(())
            }
        }
    }

    /// Stops counting and returns the counts.
    pub fn finish(self) -> io::Result<SyscallCounts> {
        match self {
            Counter::Perf(p) => p.finish(),
            Counter::Strace {
                attached: Some(s), ..
            } => s.finish(),
            Counter::Strace { attached: None, .. } => {
                Err(io::Error::other("strace was never attached"))
            }
        }
    }
}
