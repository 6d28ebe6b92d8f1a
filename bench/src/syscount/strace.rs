//! `strace -c -f`, attached only for the measured window (it slows the
//! server many times over, so these runs give counts, never speeds).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::SyscallCounts;
use crate::child::{lines_of, ChildGuard};

/// How long strace may take to attach, or to write its summary once told to stop.
const STRACE_LIMIT: Duration = Duration::from_secs(10);

/// An `strace -c -f -p PID` attached to a running process.
pub struct Strace {
    child: ChildGuard,
    output: PathBuf,
    /// strace's stderr, drained by a thread until strace exits: a closed
    /// pipe would kill strace (SIGPIPE) before it writes its summary.
    _stderr: mpsc::Receiver<String>,
}

impl Strace {
    /// Attaches to `pid` (all its threads) and returns once strace says so.
    pub fn attach(pid: u32, output: &Path) -> io::Result<Strace> {
        let _ = fs::remove_file(output);
        let mut cmd = Command::new("strace");
        cmd.args(["-c", "-f", "-o"])
            .arg(output)
            .arg("-p")
            .arg(pid.to_string());
        cmd.stderr(Stdio::piped()).stdout(Stdio::null());
        let mut cmd_child = ChildGuard::spawn(cmd, None)?;
        let stderr = cmd_child
            .take_stderr()
            .ok_or_else(|| io::Error::other("strace stderr not piped"))?;
        let lines = lines_of(stderr);
        loop {
            match lines.recv_timeout(STRACE_LIMIT) {
                Ok(line) if line.contains("attached") => break,
                Ok(line)
                    if line.contains("Operation not permitted") || line.contains("No such") =>
                {
                    return Err(io::Error::other(format!("strace: {line}")));
                }
                Ok(_) => {}
                Err(_) => return Err(io::Error::other("strace did not attach")),
            }
        }
        Ok(Strace {
            child: cmd_child,
            output: output.to_path_buf(),
            _stderr: lines,
        })
    }

    /// Detaches (SIGINT) and reads the counts strace wrote.
    pub fn finish(mut self) -> io::Result<SyscallCounts> {
        if !self.child.stop(libc::SIGINT, STRACE_LIMIT)? {
            return Err(io::Error::other("strace did not stop on SIGINT"));
        }
        let text = fs::read_to_string(&self.output);
        let _ = fs::remove_file(&self.output);
        Ok(parse_summary(&text?))
    }
}

/// Parses `strace -c`'s table: `% time  seconds  usecs/call  calls  [errors]  syscall`.
pub fn parse_summary(text: &str) -> SyscallCounts {
    let mut by_name = BTreeMap::new();
    let mut failed = 0;
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if !(5..=6).contains(&cols.len()) || cols[0].parse::<f64>().is_err() {
            continue;
        }
        let name = cols[cols.len() - 1];
        if name == "total" {
            continue;
        }
        if let Ok(calls) = cols[3].parse::<u64>() {
            *by_name.entry(name.to_string()).or_insert(0) += calls;
        }
        if cols.len() == 6 {
            failed += cols[4].parse::<u64>().unwrap_or(0);
        }
    }
    SyscallCounts {
        total: by_name.values().sum(),
        by_name,
        failed,
        context_switches: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_summary_table() {
        let text = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 45.10    0.100000          10     10000           recvfrom
 40.00    0.090000           9     10000           sendto
 14.90    0.030000          30      1000       100 epoll_wait
------ ----------- ----------- --------- --------- ----------------
100.00    0.220000          10     21000       100 total
";
        let c = parse_summary(text);
        assert_eq!(c.total, 21000);
        assert_eq!(c.failed, 100);
        assert_eq!(c.groups(), [10000, 10000, 1000, 0]);
    }
}
