//! Helpers shared by the integration tests: a watchdog, an fd counter,
//! port-0 listeners, a byte pattern for checking every byte, and small
//! futures (join, drop flags, poll counters) that make task behaviour visible.
//!
//! Each test binary compiles this module and uses a different subset of it.
#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::{TcpListener, TcpStream};

/// How long any one test body may run. Generous: the suite runs its tests in
/// parallel on a loaded two-core machine, and nothing here is timed — a body
/// that takes this long is stuck (a lost wake, a hang), not slow.
pub const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `body` on its own thread and waits at most `limit` for it.
///
/// A panic in `body` is re-raised here with its own payload, so assertion
/// messages read as usual. If `body` does not finish in time the test fails
/// with a message that says so; the stuck thread is left behind (the test
/// process exits when the harness is done).
pub fn run_with_timeout(limit: Duration, body: impl FnOnce() + Send + 'static) {
    let name = thread::current()
        .name()
        .unwrap_or("edgeloop-test")
        .to_owned();
    let (done_tx, done_rx) = mpsc::channel();
    thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(body));
            // The receiver is gone only if the watchdog already fired.
            let _ = done_tx.send(outcome);
        })
        .expect("spawn the test body's thread");
    match done_rx.recv_timeout(limit) {
        Ok(Ok(())) => {}
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "watchdog: `{name}` did not finish within {limit:?}; it is stuck \
             (a lost wake, a task that never yields, or an I/O wait that never ends)"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            unreachable!("the body's thread always reports before exiting")
        }
    }
}

/// [`run_with_timeout`] with the suite's [`WATCHDOG`].
pub fn watchdog(body: impl FnOnce() + Send + 'static) {
    run_with_timeout(WATCHDOG, body);
}

/// How many file descriptors this process has open (the entries of
/// `/proc/self/fd`, counting the one used to list them, consistently).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .count()
}

/// The loopback address with port 0: the kernel picks a free port.
pub const LOCALHOST_0: &str = "127.0.0.1:0";

/// An edgeloop listener on a free loopback port, with its address.
pub async fn local_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind(LOCALHOST_0)
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("listener address");
    (listener, addr)
}

/// A `std` listener on a free loopback port, with its address.
pub fn std_listener() -> (std::net::TcpListener, SocketAddr) {
    let listener = std::net::TcpListener::bind(LOCALHOST_0).expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("listener address");
    (listener, addr)
}

/// Copies everything `stream` reads back to it until EOF, then shuts down
/// its write side. Returns how many bytes went round.
pub async fn echo(stream: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0; 64 * 1024];
    let mut total = 0;
    let mut stream = stream;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            stream.close().await?;
            return Ok(total);
        }
        stream.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// Binds a listener and spawns an echo server on the current runtime: one
/// task accepting, one task per connection. Returns its address; the server
/// runs until the runtime is dropped.
pub async fn spawn_echo_server() -> SocketAddr {
    let (listener, addr) = local_listener().await;
    edgeloop::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("echo server accept");
            edgeloop::spawn(echo(stream));
        }
    });
    addr
}

/// SplitMix64: a tiny, good 64-bit mixer; the pattern's source.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Fills `buf` with bytes `offset..offset + buf.len()` of the stream named
/// by `seed`. Streams with different seeds differ; every byte depends on its
/// position, so a lost, repeated or reordered chunk shows.
pub fn fill_pattern(seed: u64, offset: u64, buf: &mut [u8]) {
    let seed = splitmix64(seed);
    let mut word = splitmix64(seed ^ (offset / 8)).to_le_bytes();
    for (pos, byte) in (offset..).zip(buf.iter_mut()) {
        if pos % 8 == 0 {
            word = splitmix64(seed ^ (pos / 8)).to_le_bytes();
        }
        *byte = word[(pos % 8) as usize];
    }
}

/// `len` bytes of the stream named by `seed`, from its start.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    fill_pattern(seed, 0, &mut buf);
    buf
}

/// Panics, naming the first wrong byte, unless `got` is bytes
/// `offset..offset + got.len()` of the stream named by `seed`.
pub fn assert_pattern(seed: u64, offset: u64, got: &[u8], what: &str) {
    let mut want = vec![0; got.len()];
    fill_pattern(seed, offset, &mut want);
    if got != want.as_slice() {
        let i = got.iter().zip(&want).position(|(a, b)| a != b).unwrap();
        panic!(
            "{what}: byte {} of the stream (seed {seed}) is {:#04x}, expected {:#04x}",
            offset + i as u64,
            got[i],
            want[i]
        );
    }
}

/// Runs two futures on the current task until both finish.
pub async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut a_out, mut b_out) = (None, None);
    std::future::poll_fn(|cx| {
        if a_out.is_none() {
            if let Poll::Ready(out) = a.as_mut().poll(cx) {
                a_out = Some(out);
            }
        }
        if b_out.is_none() {
            if let Poll::Ready(out) = b.as_mut().poll(cx) {
                b_out = Some(out);
            }
        }
        if a_out.is_some() && b_out.is_some() {
            Poll::Ready((a_out.take().unwrap(), b_out.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// A flag that a [`DropProbe`] sets when it is dropped.
#[derive(Clone, Default)]
pub struct DropFlag(Arc<AtomicBool>);

impl DropFlag {
    pub fn new() -> DropFlag {
        DropFlag::default()
    }

    /// A value to move into a future: dropping the future sets the flag.
    pub fn probe(&self) -> DropProbe {
        DropProbe(self.0.clone())
    }

    pub fn is_dropped(&self) -> bool {
        self.0.load(SeqCst)
    }
}

/// Sets its [`DropFlag`] when dropped.
pub struct DropProbe(Arc<AtomicBool>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// Wraps a future and counts how often it is polled.
pub struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: Future> CountPolls<F> {
    pub fn new(inner: F) -> (CountPolls<F>, Arc<AtomicUsize>) {
        let polls = Arc::new(AtomicUsize::new(0));
        (
            CountPolls {
                inner: Box::pin(inner),
                polls: polls.clone(),
            },
            polls,
        )
    }
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

/// A waker that does nothing (the MSRV predates `Waker::noop`).
pub fn noop_waker() -> Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    Waker::from(Arc::new(Noop))
}

/// Polls `future` once with a no-op waker, outside any runtime.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    let waker = noop_waker();
    future.poll(&mut Context::from_waker(&waker))
}

/// The message of a caught panic (`&str` or `String` payloads).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// Runs `f`, expecting it to panic; returns the panic's message.
pub fn expect_panic<R>(what: &str, f: impl FnOnce() -> R) -> String {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("{what}: expected a panic, but it returned normally"),
        Err(payload) => panic_message(&*payload),
    }
}

/// Sets `SO_LINGER` to zero seconds, so closing `fd` sends RST instead of FIN.
pub fn set_linger_zero(fd: &impl std::os::fd::AsRawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    set_socket_option(fd, libc::SO_LINGER, &linger, "SO_LINGER");
}

/// `setsockopt(fd, SOL_SOCKET, name, value)`, panicking with the OS error.
fn set_socket_option<T>(fd: &impl std::os::fd::AsRawFd, name: libc::c_int, value: &T, what: &str) {
    // SAFETY: `value` points at a live `T` for the call's duration and its
    // exact size is passed; the caller picks the `T` the option expects and
    // `fd` is an open socket it owns.
    let res = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    assert_eq!(res, 0, "setsockopt({what}): {}", io::Error::last_os_error());
}

/// A nonblocking, close-on-exec pipe: `(read end, write end)`.
pub fn pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two fds `pipe2` writes.
    let res = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    assert_eq!(res, 0, "pipe2: {}", io::Error::last_os_error());
    // SAFETY: `pipe2` succeeded, so both fds are open and owned by no one else.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

/// Shuffles `items` deterministically (Fisher–Yates driven by `seed`).
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        state = splitmix64(state);
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

/// A deterministic pseudo-random sequence (SplitMix64) for sizes, points and
/// choices that vary but repeat from run to run.
#[derive(Clone, Debug)]
pub struct Prng(u64);

impl Prng {
    pub fn new(seed: u64) -> Prng {
        Prng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        let out = splitmix64(self.0);
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        out
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A number in `range` (inclusive, non-empty).
    pub fn in_range(&mut self, range: std::ops::RangeInclusive<usize>) -> usize {
        let span = (range.end() - range.start()) as u64 + 1;
        range.start() + self.below(span) as usize
    }
}

/// Sets `SO_RCVBUF`, which also turns off the kernel's receive-buffer
/// autotuning for `fd`: it bounds how much a peer can have in flight to it.
pub fn set_recv_buffer(fd: &impl std::os::fd::AsRawFd, bytes: usize) {
    let size = bytes as libc::c_int;
    set_socket_option(fd, libc::SO_RCVBUF, &size, "SO_RCVBUF");
}

/// How often [`wait_until`] looks again.
const WAIT_UNTIL_INTERVAL: Duration = Duration::from_millis(2);

/// How long [`wait_until`] waits before it gives up: half the watchdog, so
/// the failure names what never happened.
const WAIT_UNTIL_LIMIT: Duration = Duration::from_secs(30);

/// Checks `done` every couple of milliseconds until it holds. Only for
/// state that another process changes with no event to wait on (its fd
/// count in `/proc`, say). Panics, saying it waited for `what`, if that
/// takes as long as a stuck test would.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < WAIT_UNTIL_LIMIT,
            "waited {WAIT_UNTIL_LIMIT:?} for {what}; it never happened"
        );
        thread::sleep(WAIT_UNTIL_INTERVAL);
    }
}

/// `target/<profile>/examples/<name>`, from `target/<profile>/deps/<this test>`.
pub fn example_path(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.is_file(),
        "example binary {} not found: `cargo test` builds the examples \
         (with `--test <name>` alone, run `cargo build --examples` first)",
        path.display()
    );
    path
}

/// An example server running as a child process; killed when dropped, even
/// by a panic.
pub struct ChildServer {
    pub child: std::process::Child,
    pub addr: SocketAddr,
    /// Kept open so the child never writes to a closed pipe.
    _stdout: io::BufReader<std::process::ChildStdout>,
}

impl ChildServer {
    /// Spawns `command` with stdout piped and waits for its first line,
    /// which names the loopback address it serves (as `echo_server` prints).
    /// The child is killed if this thread ends without dropping it (the
    /// watchdog gave up and the test process exited).
    pub fn start(mut command: std::process::Command) -> ChildServer {
        use std::io::BufRead;
        use std::os::unix::process::CommandExt;
        let die_with_parent = || {
            // SAFETY: runs in the forked child before `exec`: `prctl` is a
            // plain system call (async-signal-safe) and the error path only
            // reads `errno`.
            match unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } {
                0 => Ok(()),
                _ => Err(io::Error::last_os_error()),
            }
        };
        // SAFETY: the hook makes only async-signal-safe calls (see above).
        unsafe { command.pre_exec(die_with_parent) };
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the child server");
        let mut stdout = io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let addr = line
            .split_whitespace()
            .find_map(|word| word.parse::<SocketAddr>().ok());
        let addr = match (read, addr) {
            (Ok(_), Some(addr)) => addr,
            (read, _) => {
                let _ = child.kill();
                let status = child.wait();
                panic!("no address in the server's first line {line:?} ({read:?}, {status:?})")
            }
        };
        assert!(addr.ip().is_loopback() && addr.port() != 0, "{line:?}");
        ChildServer {
            child,
            addr,
            _stdout: stdout,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Panics unless the child is still running.
    pub fn assert_running(&mut self) {
        let status = self.child.try_wait().expect("query the child server");
        assert!(status.is_none(), "the child server exited: {status:?}");
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many file descriptors process `pid` has open (`/proc/<pid>/fd`;
/// listing another process's table opens no fd in it).
pub fn fd_count_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("list /proc/<pid>/fd")
        .count()
}

/// The resident set size of process `pid` in KiB (`VmRSS` in
/// `/proc/<pid>/status`).
pub fn rss_kib_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS line in /proc/{pid}/status"))
}

/// The resident set size of this process in KiB.
pub fn rss_kib() -> u64 {
    rss_kib_of(std::process::id())
}

/// CPU time process `pid` has used, user plus system, in clock ticks
/// (`utime` + `stime`, fields 14 and 15 of `/proc/<pid>/stat`).
pub fn cpu_ticks_of(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read stat");
    // The command name (field 2) is in parentheses and may hold spaces;
    // the fields after the last `)` start with field 3.
    let after_name = &stat[stat.rfind(')').expect("`)` in stat") + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| -> u64 { fields[n - 3].parse().expect("a numeric stat field") };
    field(14) + field(15)
}

/// Clock ticks per second, the unit of [`cpu_ticks_of`].
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: `sysconf` has no preconditions; it only reads a constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    assert!(ticks > 0, "sysconf(_SC_CLK_TCK) = {ticks}");
    ticks as u64
}

/// Sets `SO_OOBINLINE`: TCP urgent data then stays in the byte stream
/// instead of being held out of band.
pub fn set_oob_inline(fd: &impl std::os::fd::AsRawFd) {
    let on: libc::c_int = 1;
    set_socket_option(fd, libc::SO_OOBINLINE, &on, "SO_OOBINLINE");
}

/// Starts the message of a panic a test provokes on purpose; see
/// [`silence_expected_panics`].
pub const EXPECTED_PANIC: &str = "[expected panic]";

/// Keeps panics whose message starts with [`EXPECTED_PANIC`] out of the
/// test output, so a failure reads clearly; every other panic (a failed
/// assertion that quotes an expected panic's message too) is reported as
/// usual. Installs the hook once per test binary.
pub fn silence_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let report = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !panic_message(info.payload()).starts_with(EXPECTED_PANIC) {
                report(info);
            }
        }));
    });
}

/// A waker whose `wake` (by value or by reference) panics with an
/// [`EXPECTED_PANIC`] message.
pub fn panicking_waker() -> Waker {
    struct Bomb;
    impl Wake for Bomb {
        fn wake(self: Arc<Self>) {
            panic!("{EXPECTED_PANIC} a join waker panics");
        }
    }
    Waker::from(Arc::new(Bomb))
}

/// A waker that does nothing when woken and panics when its last clone is
/// dropped.
pub fn waker_panicking_on_drop() -> Waker {
    struct DropBomb;
    impl Wake for DropBomb {
        fn wake(self: Arc<Self>) {}
    }
    impl Drop for DropBomb {
        fn drop(&mut self) {
            panic!("{EXPECTED_PANIC} a waker panics when dropped");
        }
    }
    Waker::from(Arc::new(DropBomb))
}

/// Sends `byte` as TCP urgent data (`MSG_OOB`) on `stream`.
pub fn send_urgent(stream: &std::net::TcpStream, byte: u8) {
    use std::os::fd::AsRawFd;
    // SAFETY: sends one byte from `byte`, which outlives the call.
    let sent = unsafe {
        libc::send(
            stream.as_raw_fd(),
            (&byte as *const u8).cast(),
            1,
            libc::MSG_OOB,
        )
    };
    assert_eq!(sent, 1, "send(MSG_OOB): {}", io::Error::last_os_error());
}

/// The environment variable that puts a re-executed test binary in child
/// mode; its value names the test that is to do the child's part.
pub const CHILD_TEST_VAR: &str = "EDGELOOP_TEST_CHILD";

/// True in the child process [`run_test_in_child`] started for `test`.
pub fn is_child_for(test: &str) -> bool {
    std::env::var(CHILD_TEST_VAR).as_deref() == Ok(test)
}

/// Runs test `test` of this test binary alone in a child process (for a
/// failure that aborts the process, or a process-wide change such as a
/// seccomp filter), with [`CHILD_TEST_VAR`] set to `test`. Waits at most
/// `limit`, killing the child if it takes longer. Panics unless the child
/// exited successfully having run exactly that one test; the message holds
/// the child's output.
pub fn run_test_in_child(test: &str, limit: Duration) {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().expect("the test's own path");
    let mut child = Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_TEST_VAR, test)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child test process");
    // Read both pipes on threads so a chatty child cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut out = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut out);
            }
            out
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("query the child test process") {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    match status {
        None => panic!(
            "child `{test}` did not finish within {limit:?} and was killed\n\
             --- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
        Some(status) if !status.success() => panic!(
            "child `{test}` failed: {status}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
        Some(_) => assert!(
            stdout.contains("1 passed"),
            "child `{test}` did not run exactly one test (is the name right?)\n{stdout}"
        ),
    }
}
