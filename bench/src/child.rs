//! Child processes the suite starts: itself in another role (a server, a
//! micro-benchmark), and `strace`. Each is killed and reaped when its guard
//! drops — also while a panic unwinds — and dies with the suite if the suite
//! is killed (`PR_SET_PDEATHSIG`).

use std::io::{self, BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::sys;

/// How long a server may take to print its port.
const STARTUP_LIMIT: Duration = Duration::from_secs(20);

/// A child process, killed and reaped on drop.
pub struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    /// Starts `cmd` (stdin closed), pinned to `cpu` if given, dying with us.
    pub fn spawn(mut cmd: Command, cpu: Option<usize>) -> io::Result<ChildGuard> {
        cmd.stdin(Stdio::null());
        // SAFETY: the closure runs between fork and exec and makes only
        // async-signal-safe system calls (prctl, sched_setaffinity); it
        // allocates nothing and takes no lock.
        unsafe {
            cmd.pre_exec(move || {
                sys::die_with_parent()?;
                if let Some(cpu) = cpu {
                    sys::pin_to_cpu(cpu)?;
                }
                Ok(())
            });
        }
        Ok(ChildGuard {
            child: cmd.spawn()?,
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its piped standard output, if `Stdio::piped()` was asked for.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Its piped standard error, if `Stdio::piped()` was asked for.
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// Whether the child has not exited yet.
    pub fn is_running(&mut self) -> io::Result<bool> {
        Ok(self.child.try_wait()?.is_none())
    }

    /// Sends `signal` and waits up to `limit` for the child to exit (then
    /// kills it). Returns whether it exited by itself.
    pub fn stop(&mut self, signal: libc::c_int, limit: Duration) -> io::Result<bool> {
        sys::kill(self.pid(), signal)?;
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(true);
            }
            thread::sleep(Duration::from_millis(5));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(false)
    }

    /// Waits for the child to exit, up to `limit`, collecting its stdout
    /// (which must be piped). Kills it and fails after `limit`.
    pub fn wait_output(mut self, limit: Duration) -> io::Result<String> {
        let stdout = self
            .take_stdout()
            .ok_or_else(|| io::Error::other("stdout not piped"))?;
        let lines = lines_of(stdout);
        let deadline = Instant::now() + limit;
        let mut out = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    out.push_str(&line);
                    out.push('\n');
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("child ran past {limit:?}"),
                    ))
                }
            }
        }
        let status = self.child.wait()?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "child failed: {status}; output: {out}"
            )));
        }
        Ok(out)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A server child: its guard and the loopback address it listens on.
pub struct ServerProcess {
    /// The process (killed on drop).
    pub child: ChildGuard,
    /// Where it listens.
    pub addr: SocketAddrV4,
}

impl ServerProcess {
    /// Starts this executable with `args`, pinned to `cpu`, and reads the
    /// `port N` line a server prints once it listens on 127.0.0.1.
    pub fn start(args: &[&str], cpu: Option<usize>) -> io::Result<ServerProcess> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.args(args).stdout(Stdio::piped());
        let mut child = ChildGuard::spawn(cmd, cpu)?;
        let stdout = child.take_stdout().expect("stdout is piped");
        let lines = lines_of(stdout);
        let line = lines.recv_timeout(STARTUP_LIMIT).map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("server {args:?} printed no port"),
            )
        })?;
        let port = line
            .strip_prefix("port ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| {
                io::Error::other(format!("server {args:?} printed {line:?}, not `port N`"))
            })?;
        Ok(ServerProcess {
            child,
            addr: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }
}

/// Lines read from `r` on a thread of their own (so a reader can time out);
/// the channel disconnects at EOF.
pub fn lines_of<R: io::Read + Send + 'static>(r: R) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
