//! `perf stat` on the kernel's syscall tracepoints, started disabled and
//! switched on and off through its control FIFO (`--control fifo:CTL,ACK`),
//! each switch confirmed by perf's `ack`.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::{SyscallCounts, READS, WAITS, WRITES};
use crate::child::{lines_of, ChildGuard};
use crate::sys;

/// How long perf may take to acknowledge a command, or to exit.
const PERF_LIMIT: Duration = Duration::from_secs(10);
/// Every syscall entered.
const ALL: &str = "raw_syscalls:sys_enter";
/// Every syscall returned; counted only when it returned `-EAGAIN`.
const EAGAIN_EXITS: &str = "raw_syscalls:sys_exit";
/// The EAGAIN filter on [`EAGAIN_EXITS`].
const EAGAIN_FILTER: &str = "ret == -11";
/// Context switches of the process.
const SWITCHES: &str = "context-switches";

/// A `perf stat -p PID` waiting for commands.
pub struct PerfStat {
    child: ChildGuard,
    ctl: File,
    ack: File,
    output: PathBuf,
    /// perf's stderr ("Events enabled" and any error), kept for error messages.
    stderr: mpsc::Receiver<String>,
}

impl PerfStat {
    /// Starts perf on `pid` with its counters off; files go in `scratch`.
    pub fn attach(pid: u32, scratch: &Path) -> io::Result<PerfStat> {
        let base = scratch.join(format!("perf-{}-{pid}", std::process::id()));
        let (ctl_path, ack_path, output) = (
            base.with_extension("ctl"),
            base.with_extension("ack"),
            base.with_extension("csv"),
        );
        for path in [&ctl_path, &ack_path, &output] {
            let _ = fs::remove_file(path);
        }
        sys::mkfifo(&ctl_path)?;
        sys::mkfifo(&ack_path)?;
        // Both FIFOs are opened read-write, so neither open waits for perf
        // and neither end ever sees EOF.
        let ctl = OpenOptions::new().read(true).write(true).open(&ctl_path)?;
        let ack = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&ack_path)?;
        let mut cmd = Command::new("perf");
        cmd.args(["stat", "-x,", "-D", "-1", "-o"]).arg(&output);
        cmd.arg("--control").arg(format!(
            "fifo:{},{}",
            ctl_path.display(),
            ack_path.display()
        ));
        for event in events() {
            cmd.args(["-e", &event]);
        }
        cmd.args([
            "-e",
            EAGAIN_EXITS,
            "--filter",
            EAGAIN_FILTER,
            "-e",
            SWITCHES,
            "-p",
            &pid.to_string(),
        ]);
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = ChildGuard::spawn(cmd, None)?;
        let stderr = lines_of(child.take_stderr().expect("stderr is piped"));
        Ok(PerfStat {
            child,
            ctl,
            ack,
            output,
            stderr,
        })
    }

    /// Switches the counters on.
    pub fn enable(&mut self) -> io::Result<()> {
        self.command("enable")
    }

    /// Switches the counters off, stops perf and reads what it counted.
    pub fn finish(mut self) -> io::Result<SyscallCounts> {
        self.command("disable")?;
        if !self.child.stop(libc::SIGINT, PERF_LIMIT)? {
            return Err(io::Error::other("perf did not stop on SIGINT"));
        }
        let text = fs::read_to_string(&self.output);
        for path in ["ctl", "ack", "csv"].map(|ext| self.output.with_extension(ext)) {
            let _ = fs::remove_file(path);
        }
        Ok(parse_csv(&text?))
    }

    /// Sends `command` and waits for perf's `ack`.
    fn command(&mut self, command: &str) -> io::Result<()> {
        self.ctl.write_all(format!("{command}\n").as_bytes())?;
        let deadline = Instant::now() + PERF_LIMIT;
        let mut reply = Vec::new();
        while !String::from_utf8_lossy(&reply).contains("ack") {
            if !self.child.is_running()? {
                thread::sleep(Duration::from_millis(50)); // let the stderr reader catch up
                let said: Vec<String> = self
                    .stderr
                    .try_iter()
                    .filter(|l| !l.starts_with("Events "))
                    .collect();
                return Err(io::Error::other(format!(
                    "perf exited before acknowledging `{command}`: {}",
                    said.join(" / ")
                )));
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("perf did not acknowledge `{command}`"),
                ));
            }
            if sys::wait_readable(self.ack.as_fd(), Duration::from_millis(100))? {
                let mut buf = [0u8; 64];
                match self.ack.read(&mut buf) {
                    Ok(n) => reply.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

/// The syscall-entry tracepoints counted: all calls, and each named one.
fn events() -> Vec<String> {
    let named = READS
        .iter()
        .chain(&WRITES)
        .chain(&WAITS)
        .map(|name| format!("syscalls:sys_enter_{name}"));
    std::iter::once(ALL.to_string()).chain(named).collect()
}

/// Parses `perf stat -x,` output: `count,unit,event,...` per line.
pub fn parse_csv(text: &str) -> SyscallCounts {
    let mut counts = SyscallCounts::default();
    let mut by_name = BTreeMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() < 3 {
            continue;
        }
        let value = cols[0].trim().parse::<u64>().unwrap_or(0);
        match cols[2].trim() {
            ALL => counts.total = value,
            EAGAIN_EXITS => counts.failed = value,
            SWITCHES => counts.context_switches = Some(value),
            event => {
                if let Some(name) = event.strip_prefix("syscalls:sys_enter_") {
                    by_name.insert(name.to_string(), value);
                }
            }
        }
    }
    counts.by_name = by_name;
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_perf_csv() {
        let text = "# started on Mon\n\n300,,raw_syscalls:sys_enter,807,100.00,,\n100,,syscalls:sys_enter_recvfrom,807,100.00,,\n\
                    <not counted>,,syscalls:sys_enter_read,0,0.00,,\n20,,raw_syscalls:sys_exit,8,100.00,,\n7,,context-switches,8,100.00,,\nEvents enabled\n";
        let c = parse_csv(text);
        assert_eq!((c.total, c.failed, c.context_switches), (300, 20, Some(7)));
        assert_eq!(c.by_name["recvfrom"], 100);
        assert_eq!(c.by_name["read"], 0);
        assert_eq!(c.groups(), [100, 0, 0, 200]);
    }
}
