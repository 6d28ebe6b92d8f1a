//! Out of file descriptors: the `echo_server` example, run as a child whose
//! `RLIMIT_NOFILE` is lowered, keeps echoing on the connections it holds
//! while its `accept` fails with `EMFILE`, does not spin meanwhile (its CPU
//! time stays low), and accepts the connection left in the kernel's queue
//! once connections close.
//!
//! The example's accept loop is the naive one (`Err(e) => eprintln!(..)`,
//! then accept again): the listener itself reports `EMFILE` once and then
//! waits for the runtime to close an fd (or a back-off) instead of failing
//! again at once. This test is what shows that works: one line on stderr,
//! not one per retry, and no spinning. The limit is lowered only in the
//! child, never in the test process.

mod util;

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use util::{clock_ticks_per_second, cpu_ticks_of, watchdog, ChildServer};

/// The child's soft `RLIMIT_NOFILE`: room for its stdio, epoll fd, eventfd
/// and listener, and a couple of dozen connections.
const FD_LIMIT: u64 = 32;

/// How long the child's CPU time is watched while it is at the limit.
const CPU_WINDOW: Duration = Duration::from_secs(1);

/// The most CPU the child may use over the window, as a share of it. An
/// accept loop retrying at once uses a whole core (or, on a loaded
/// machine, all it can get); a listener waiting for a closed fd uses well under 1 %.
const MAX_CPU_SHARE: f64 = 0.30;

/// How many held connections are closed to make room again.
const CLOSED_TO_MAKE_ROOM: usize = 3;

/// Lowers the soft `RLIMIT_NOFILE` of the child `command` will start.
fn limit_open_files(command: &mut Command, soft: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid `struct rlimit` for `getrlimit` to fill.
    let res = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(res, 0, "getrlimit: {}", io::Error::last_os_error());
    limit.rlim_cur = soft.min(limit.rlim_max);
    let hook = move || {
        // SAFETY: runs in the forked child before `exec`, where only
        // async-signal-safe calls are allowed: `setrlimit` is a plain system
        // call, `limit` is a copy on this stack, and the error path only
        // reads `errno` (no allocation).
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    // SAFETY: the hook makes only async-signal-safe calls (see above) and
    // touches no state shared with the parent.
    unsafe { command.pre_exec(hook) };
}

/// How many fds process `pid` has open with numbers below [`FD_LIMIT`]: the
/// ones that leave less room for `accept`.
fn fds_below_limit(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("list /proc/<pid>/fd")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .filter(|&fd| fd < FD_LIMIT)
        .count()
}

/// Writes `msg` and reads the same bytes back.
fn round_trip(stream: &mut TcpStream, msg: &[u8], what: &str) {
    stream.write_all(msg).expect(what);
    let mut got = vec![0; msg.len()];
    stream.read_exact(&mut got).expect(what);
    assert_eq!(got, msg, "{what}");
}

fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).expect("connect to echo_server")
}

/// Forwards each line the child writes to stderr, so the test can wait for
/// the line that reports `EMFILE` (and the child never blocks on a full pipe).
fn forward_lines(stderr: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn at_its_fd_limit_the_echo_server_keeps_serving_does_not_spin_and_accepts_again_once_fds_free() {
    watchdog(|| {
        let mut command = Command::new(util::example_path("echo_server"));
        command
            .arg(util::LOCALHOST_0)
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        limit_open_files(&mut command, FD_LIMIT);
        let mut server = ChildServer::start(command);
        let (pid, addr) = (server.pid(), server.addr);
        let stderr = forward_lines(server.child.stderr.take().unwrap());

        // Fill the fd table: each connection that echoes has been accepted.
        // (The child may have inherited fds numbered above the limit; those
        // take no room below it.)
        let room = FD_LIMIT as usize - fds_below_limit(pid);
        let mut held: Vec<TcpStream> = (0..room)
            .map(|i| {
                let mut s = connect(addr);
                round_trip(
                    &mut s,
                    format!("held {i}").as_bytes(),
                    "filling the fd table",
                );
                s
            })
            .collect();
        assert_eq!(
            fds_below_limit(pid),
            FD_LIMIT as usize,
            "the child is at its limit"
        );

        // One more: the kernel completes the handshake and queues it, but
        // the server's accept fails with EMFILE. (Linux reports EMFILE
        // before it looks at the queue, so the server's accept has been
        // failing since the table filled.)
        let mut queued = connect(addr);
        queued.write_all(b"queued").unwrap();
        let first = loop {
            let line = stderr.recv().expect("the server's stderr closed");
            if line.contains("accept:") {
                break line;
            }
        };
        assert!(
            first.contains(&format!("os error {}", libc::EMFILE)),
            "{first:?}"
        );

        // At the limit, the naive loop's accept waits, not retries at once.
        let (start, cpu_start) = (Instant::now(), cpu_ticks_of(pid));
        thread::sleep(CPU_WINDOW);
        let (window, cpu) = (start.elapsed(), cpu_ticks_of(pid) - cpu_start);
        let repeated = stderr.try_iter().filter(|l| l.contains("accept:")).count();
        assert_eq!(
            repeated, 0,
            "the error was reported {repeated} more times while still out of fds \
             (the listener retries at once instead of waiting for an fd)"
        );
        let share = cpu as f64 / clock_ticks_per_second() as f64 / window.as_secs_f64();
        println!(
            "at the fd limit ({FD_LIMIT}, {room} connections held): CPU {cpu} ticks in \
             {window:?} = {:.1} %",
            share * 100.0
        );
        assert!(
            share < MAX_CPU_SHARE,
            "the server used {:.0} % of a core while out of fds (over {window:?}): \
             its accept loop spins",
            share * 100.0
        );

        // The connections it holds are served as before; the queued one is not.
        for (i, s) in held.iter_mut().enumerate() {
            round_trip(
                s,
                format!("still {i}").as_bytes(),
                "a held connection at the limit",
            );
        }
        queued.set_nonblocking(true).unwrap();
        let mut buf = [0; 6];
        let early = queued.read(&mut buf);
        assert!(
            matches!(&early, Err(e) if e.kind() == ErrorKind::WouldBlock),
            "the connection past the limit was served: {early:?}"
        );
        queued.set_nonblocking(false).unwrap();

        // Closing connections frees fds; the next retry takes the queued one.
        held.drain(..CLOSED_TO_MAKE_ROOM);
        queued
            .read_exact(&mut buf)
            .expect("echo on the queued connection");
        assert_eq!(&buf, b"queued");
        round_trip(&mut queued, b"and more", "the queued connection");
        let mut newcomer = connect(addr);
        round_trip(&mut newcomer, b"new", "a new connection after fds freed");
        for (i, s) in held.iter_mut().enumerate() {
            round_trip(
                s,
                format!("after {i}").as_bytes(),
                "a held connection after",
            );
        }
        server.assert_running();
    });
}
