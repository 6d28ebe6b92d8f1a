//! Pipes and standard I/O: `pipe()` carries every byte, gives EOF when the
//! writer goes and `EPIPE` (not `SIGPIPE`) when the reader goes; the
//! `stdin_watch` example reads stdin as a pipe, a regular file and
//! `/dev/null` without touching the descriptor's flags; and `stdout()`
//! writing into a pipe that is read late stalls only its own task.

mod util;

use std::cell::Cell;
use std::io::{BufRead, ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::thread;
use std::time::{Duration, Instant};

use edgeloop::io::{pipe, stdout, AsyncReadExt, AsyncWriteExt};
use util::{assert_pattern, example_path, pattern, watchdog};

/// Four times a pipe's default capacity (64 KiB), so the writer has to
/// wait for the reader to make room.
const PIPE_LEN: usize = 4 * 64 * 1024;

#[test]
fn a_pipe_carries_every_byte_in_order() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut reader, mut writer) = pipe().unwrap();
            let writing = edgeloop::spawn(async move {
                let data = pattern(7, PIPE_LEN);
                // Uneven pieces, so reads and writes do not line up.
                for piece in data.chunks(10_007) {
                    writer.write_all(piece).await.unwrap();
                }
                writer.flush().await.unwrap();
            });
            let mut got = Vec::new();
            reader.read_to_end(&mut got).await.unwrap();
            writing.await.unwrap();
            assert_eq!(got.len(), PIPE_LEN);
            assert_pattern(7, 0, &got, "pipe");
        });
    });
}

#[test]
fn a_pipe_reader_gets_eof_once_the_writer_is_dropped() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut reader, mut writer) = pipe().unwrap();
            writer.write_all(b"last words").await.unwrap();
            drop(writer);
            let mut got = Vec::new();
            reader.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"last words");
            let mut buf = [0; 8];
            assert_eq!(reader.read(&mut buf).await.unwrap(), 0, "EOF again");
        });
    });
}

#[test]
fn writing_to_a_pipe_without_a_reader_is_epipe_not_a_signal() {
    // What makes it an error: std ignores SIGPIPE before `main`, in test
    // harnesses too (the docs of `PipeWriter` say so; check it).
    assert!(sigpipe_is_ignored(), "std left SIGPIPE ignored at startup");
    watchdog(|| {
        edgeloop::block_on(async {
            let (reader, mut writer) = pipe().unwrap();
            drop(reader);
            for _ in 0..2 {
                let err = writer.write(b"anyone there?").await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err}");
                assert_eq!(err.raw_os_error(), Some(libc::EPIPE), "{err}");
            }
        });
    });
}

#[test]
fn pipe_ends_are_nonblocking_and_close_on_exec() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (reader, writer) = pipe().unwrap();
            for fd in [reader.as_raw_fd(), writer.as_raw_fd()] {
                assert_ne!(fcntl(fd, libc::F_GETFL) & libc::O_NONBLOCK, 0, "fd {fd}");
                assert_ne!(fcntl(fd, libc::F_GETFD) & libc::FD_CLOEXEC, 0, "fd {fd}");
            }
            assert_eq!(reader.as_fd().as_raw_fd(), reader.as_raw_fd());
        });
    });
}

#[test]
fn stdin_watch_echoes_a_pipe_ticks_and_leaves_the_pipe_blocking() {
    watchdog(|| {
        let (read_end, write_end) = blocking_pipe();
        // A second descriptor for the child's stdin's open file description:
        // `O_NONBLOCK` set on the child's fd 0 would show here.
        let kept = read_end.try_clone().unwrap();
        let mut watch = Watch::start(Stdio::from(read_end));
        let mut input = std::fs::File::from(write_end);
        input.write_all(b"hello\nworld\n").unwrap();
        assert_eq!(watch.next_line_skipping_ticks(), "line: hello");
        assert_eq!(watch.next_line(), "line: world");
        // A second with no input: a tick (this read waits for it).
        let tick = watch.next_line();
        assert!(tick.starts_with("tick "), "{tick:?}");
        assert!(
            !is_nonblocking(&kept),
            "the child made its stdin nonblocking"
        );
        drop(input);
        assert_eq!(watch.next_line_skipping_ticks(), "eof");
        let status = watch.child.wait().unwrap();
        assert!(status.success(), "{status}");
        assert!(!is_nonblocking(&kept), "stdin left nonblocking after exit");
    });
}

#[test]
fn stdin_watch_reads_a_regular_file() {
    watchdog(|| {
        let path = std::env::temp_dir().join(format!("edgeloop-stdin-{}", std::process::id()));
        std::fs::write(&path, "first\nsecond\n\nlast, without a newline").unwrap();
        let file = std::fs::File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let lines = run_to_end(Stdio::from(file));
        assert_eq!(
            lines,
            [
                "line: first",
                "line: second",
                "line: ",
                "line: last, without a newline",
                "eof"
            ]
        );
    });
}

#[test]
fn stdin_watch_reads_dev_null() {
    watchdog(|| assert_eq!(run_to_end(Stdio::null()), ["eof"]));
}

/// The child test of [`stdout_into_a_lagging_pipe_stalls_only_its_writer`].
const LAGGING_TEST: &str = "stdout_into_a_lagging_pipe_stalls_only_its_writer";
/// How long the parent leaves the child's stdout unread.
const LAG: Duration = Duration::from_millis(500);
/// The child's timer period while it writes.
const TICK: Duration = Duration::from_millis(10);
/// Lines the child writes: about 1 MiB, far beyond the pipe and the queue.
const LINES: usize = 64 * 1024;
const BEGIN: &str = "<<stdout begins>>";
const END: &str = "<<stdout ends>>";

#[test]
fn stdout_into_a_lagging_pipe_stalls_only_its_writer() {
    if util::is_child_for(LAGGING_TEST) {
        return watchdog(write_while_ticking);
    }
    watchdog(|| {
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", LAGGING_TEST, "--nocapture", "--test-threads=1"])
            .env(util::CHILD_TEST_VAR, LAGGING_TEST)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        thread::sleep(LAG);
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {}\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let body = &text[text.find(BEGIN).expect("begin marker") + BEGIN.len() + 1..];
        let mut lines = body.lines();
        for i in 0..LINES {
            assert_eq!(lines.next(), Some(payload_line(i).trim_end()), "line {i}");
        }
        let summary = lines.next().unwrap();
        let numbers: Vec<u128> = summary
            .strip_prefix(END)
            .unwrap_or_else(|| panic!("{summary:?}"))
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        let (ticks, waited_ms) = (numbers[0], numbers[1]);
        // The writes had to wait for the parent, and the timer went on.
        assert!(waited_ms >= LAG.as_millis() / 2, "{summary}");
        let floor = (waited_ms / TICK.as_millis() / 4).max(5);
        assert!(ticks >= floor, "{ticks} ticks in {waited_ms} ms: {summary}");
    });
}

/// The child's part: writes [`LINES`] lines through `stdout()` while a
/// timer task counts ticks, then reports the ticks and how long it took.
fn write_while_ticking() {
    edgeloop::block_on(async {
        let ticks = Rc::new(Cell::new(0u128));
        edgeloop::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    edgeloop::time::sleep(TICK).await;
                    ticks.set(ticks.get() + 1);
                }
            }
        });
        let mut out = stdout();
        out.write_all(format!("\n{BEGIN}\n").as_bytes())
            .await
            .unwrap();
        let start = Instant::now();
        for i in 0..LINES {
            out.write_all(payload_line(i).as_bytes()).await.unwrap();
        }
        out.flush().await.unwrap();
        let waited = start.elapsed().as_millis();
        let summary = format!("{END} {} {waited}\n", ticks.get());
        out.write_all(summary.as_bytes()).await.unwrap();
        out.flush().await.unwrap();
    });
}

fn payload_line(i: usize) -> String {
    format!("{i:07} stdout payload\n")
}

/// The `stdin_watch` example as a child, killed if the test fails first.
struct Watch {
    child: Child,
    out: std::io::BufReader<std::process::ChildStdout>,
}

impl Watch {
    fn start(stdin: Stdio) -> Watch {
        let mut child = Command::new(example_path("stdin_watch"))
            .stdin(stdin)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start stdin_watch");
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        Watch { child, out }
    }

    fn next_line(&mut self) -> String {
        let mut line = String::new();
        self.out.read_line(&mut line).expect("read stdin_watch");
        assert!(line.ends_with('\n'), "stdin_watch ended early: {line:?}");
        line.trim_end_matches('\n').to_owned()
    }

    /// The next line that is not a tick (a loaded machine may be slow).
    fn next_line_skipping_ticks(&mut self) -> String {
        loop {
            let line = self.next_line();
            if !line.starts_with("tick ") {
                return line;
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `stdin_watch` to its end; its lines, ticks left out.
fn run_to_end(stdin: Stdio) -> Vec<String> {
    let mut watch = Watch::start(stdin);
    let mut text = String::new();
    watch.out.read_to_string(&mut text).unwrap();
    let status = watch.child.wait().unwrap();
    assert!(status.success(), "{status}\n{text}");
    text.lines()
        .filter(|line| !line.starts_with("tick "))
        .map(str::to_owned)
        .collect()
}

/// A plain (blocking) close-on-exec pipe: `(read, write)`.
fn blocking_pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just created and are owned by no one else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

fn is_nonblocking(fd: &OwnedFd) -> bool {
    fcntl(fd.as_raw_fd(), libc::F_GETFL) & libc::O_NONBLOCK != 0
}

/// `fcntl(fd, cmd)` for a query that takes no argument.
fn fcntl(fd: libc::c_int, cmd: libc::c_int) -> libc::c_int {
    // SAFETY: F_GETFL and F_GETFD take no argument and touch no memory.
    let flags = unsafe { libc::fcntl(fd, cmd) };
    assert!(flags >= 0, "fcntl: {}", std::io::Error::last_os_error());
    flags
}

fn sigpipe_is_ignored() -> bool {
    // SAFETY: `sigaction` is plain old data, for which all zeroes is valid.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only queries; `current` outlives the call.
    let rc = unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut current) };
    assert_eq!(rc, 0, "sigaction: {}", std::io::Error::last_os_error());
    current.sa_sigaction == libc::SIG_IGN
}

/// epoll refuses a regular file (it is always ready): `AsyncFd::new` gives
/// the OS's own error, kind `PermissionDenied` with `EPERM` intact, not a
/// panic; `/dev/null` likewise.
#[test]
fn an_async_fd_of_a_regular_file_is_the_os_eperm() {
    util::watchdog(|| {
        edgeloop::block_on(async {
            let path = std::env::temp_dir().join(format!("edgeloop-eperm-{}", std::process::id()));
            std::fs::write(&path, b"plain file").unwrap();
            for file in [
                std::fs::File::open(&path).unwrap(),
                std::fs::File::open("/dev/null").unwrap(),
            ] {
                let err = edgeloop::io::AsyncFd::new(file).unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
                assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
            }
            std::fs::remove_file(&path).unwrap();
        });
    });
}
