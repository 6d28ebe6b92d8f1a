//! The runtime's one door to the kernel.
//!
//! Every `libc` call the runtime makes is in this file. Callers see
//! `io::Result` and `OwnedFd`; a `-1` return becomes the `io::Error` the OS
//! gave, through [`syscall!`].

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Calls a libc function and turns a `-1` return into `io::Error::last_os_error()`.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: each call site passes arguments that satisfy the named libc
        // function's contract; the comment at the call site says which.
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}

/// Creates an epoll instance (close-on-exec).
pub(crate) fn epoll_create() -> io::Result<OwnedFd> {
    // flags only; no pointers.
    let fd = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
    Ok(owned(fd))
}

/// `epoll_ctl` with an event built from `events` and `token`.
pub(crate) fn epoll_ctl(
    epoll: BorrowedFd<'_>,
    op: libc::c_int,
    fd: RawFd,
    events: u32,
    token: u64,
) -> io::Result<()> {
    let mut event = libc::epoll_event { events, u64: token };
    // `event` lives across the call; the kernel ignores it for EPOLL_CTL_DEL.
    syscall!(epoll_ctl(epoll.as_raw_fd(), op, fd, &mut event)).map(drop)
}

/// Whether `epoll_pwait2` is unusable, learned on first use: the kernel
/// lacks it (Linux < 5.11: `ENOSYS`), or a seccomp filter that predates it
/// refuses it (older container runtimes answer unknown syscalls with
/// `EPERM`, which `epoll_pwait2` itself never returns).
static NO_PWAIT2: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Waits for events, filling `events` (its length is set to what the kernel wrote).
///
/// `timeout` of `None` blocks; otherwise it is honoured to the nanosecond with
/// `epoll_pwait2`, or rounded *up* to whole milliseconds with `epoll_wait` on
/// kernels that lack it, so a timer is never woken early. `EINTR` returns zero
/// events: the caller's loop re-checks its timers and queues anyway.
pub(crate) fn epoll_wait(
    epoll: BorrowedFd<'_>,
    events: &mut Vec<libc::epoll_event>,
    timeout: Option<Duration>,
) -> io::Result<()> {
    use std::sync::atomic::Ordering::Relaxed;
    events.clear();
    let cap = events.capacity().min(libc::c_int::MAX as usize) as libc::c_int;
    let mut n = -1;
    if !NO_PWAIT2.load(Relaxed) {
        let ts = timeout.map(|d| libc::timespec {
            tv_sec: d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
            tv_nsec: d.subsec_nanos() as libc::c_long,
        });
        let ts_ptr = ts.as_ref().map_or(std::ptr::null(), |t| t as *const _);
        // SAFETY: `events` has room for `cap` entries; `ts_ptr` is null or
        // points at `ts`, alive across the call; a null sigmask is allowed.
        n = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                epoll.as_raw_fd(),
                events.as_mut_ptr(),
                cap,
                ts_ptr,
                std::ptr::null::<libc::sigset_t>(),
                0usize,
            )
        } as libc::c_int;
        if n == -1
            && matches!(
                io::Error::last_os_error().raw_os_error(),
                Some(libc::ENOSYS | libc::EPERM)
            )
        {
            NO_PWAIT2.store(true, Relaxed);
        }
    }
    if NO_PWAIT2.load(Relaxed) {
        let ms = match timeout {
            None => -1,
            // The runtime's peek between batches: no 128-bit division for it.
            Some(d) if d.is_zero() => 0,
            Some(d) => {
                let ms = d.as_nanos().div_ceil(1_000_000);
                ms.min(libc::c_int::MAX as u128) as libc::c_int
            }
        };
        // SAFETY: `events` has room for `cap` entries.
        n = unsafe { libc::epoll_wait(epoll.as_raw_fd(), events.as_mut_ptr(), cap, ms) };
    }
    if n == -1 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted {
            Ok(())
        } else {
            Err(err)
        };
    }
    // SAFETY: the kernel initialised the first `n` entries (n <= cap).
    unsafe { events.set_len(n as usize) };
    Ok(())
}

/// Creates a nonblocking, close-on-exec eventfd with a zero counter.
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    let fd = syscall!(eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK))?;
    Ok(owned(fd))
}

/// Adds one to an eventfd's counter. `EAGAIN` (counter saturated) means a wake
/// is already pending, which is all a caller wants.
pub(crate) fn eventfd_signal(fd: BorrowedFd<'_>) -> io::Result<()> {
    let one: u64 = 1;
    loop {
        // SAFETY: writes 8 bytes from `one`, which outlives the call.
        let res = unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        if res != -1 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        match err.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(()),
            _ => return Err(err),
        }
    }
}

/// Resets an eventfd's counter to zero (ignores `EAGAIN`: already zero).
pub(crate) fn eventfd_drain(fd: BorrowedFd<'_>) {
    let mut value: u64 = 0;
    loop {
        // SAFETY: reads 8 bytes into `value`, which outlives the call.
        let res = unsafe { libc::read(fd.as_raw_fd(), (&mut value as *mut u64).cast(), 8) };
        if res == -1 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        return;
    }
}

fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel and is owned by no one else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The calling thread's timer slack: how late the kernel may end a timed
/// wait (such as `epoll_wait`'s timeout) to batch wake-ups. Linux's default
/// is 50 µs.
pub(crate) fn timer_slack() -> io::Result<Duration> {
    // PR_GET_TIMERSLACK takes no pointers; the slack is the return value.
    let ns = syscall!(prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0))?;
    Ok(Duration::from_nanos(ns as u64))
}

/// Sets the calling thread's timer slack (at least 1 ns: 0 means "reset to
/// the default" to the kernel).
pub(crate) fn set_timer_slack(slack: Duration) -> io::Result<()> {
    let ns = slack.as_nanos().clamp(1, libc::c_ulong::MAX as u128) as libc::c_ulong;
    // PR_SET_TIMERSLACK takes the slack in nanoseconds, no pointers.
    syscall!(prctl(
        libc::PR_SET_TIMERSLACK,
        ns,
        0 as libc::c_ulong,
        0 as libc::c_ulong,
        0 as libc::c_ulong
    ))
    .map(drop)
}

/// Creates a pipe, both ends nonblocking and close-on-exec: `(read, write)`.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1, -1];
    // `fds` has room for the two descriptors the kernel writes into it.
    syscall!(pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC))?;
    Ok((owned(fds[0]), owned(fds[1])))
}

/// Reads into `buf`, blocking the calling thread until there is input, end
/// of file or an error; for the standard-I/O threads, never the runtime's.
///
/// The fd's file status flags are left alone. `EINTR` is retried; `EAGAIN`
/// (another process sharing the open file description made it nonblocking)
/// waits in `poll(2)` and retries, so the read blocks all the same.
pub(crate) fn read_blocking(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // `buf` is writable for `buf.len()` bytes for the whole call.
        match syscall!(read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len())) {
            Ok(n) => return Ok(n as usize),
            Err(e) => retry_blocking(fd, libc::POLLIN, e)?,
        }
    }
}

/// Writes some of `buf`, blocking the calling thread until the fd takes at
/// least one byte; the write-side twin of [`read_blocking`], with the same
/// handling of `EINTR` and `EAGAIN` and the same respect for the flags.
pub(crate) fn write_blocking(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    loop {
        // `buf` is readable for `buf.len()` bytes for the whole call.
        match syscall!(write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len())) {
            Ok(n) => return Ok(n as usize),
            Err(e) => retry_blocking(fd, libc::POLLOUT, e)?,
        }
    }
}

/// What a blocking read or write does with its error `e`: `Ok` to try
/// again (after `EINTR` at once; after `EAGAIN` once `poll(2)` reports the
/// fd ready for `events`), or the error itself.
fn retry_blocking(fd: BorrowedFd<'_>, events: libc::c_short, e: io::Error) -> io::Result<()> {
    match e.kind() {
        io::ErrorKind::Interrupted => Ok(()),
        io::ErrorKind::WouldBlock => {
            let mut pollfd = libc::pollfd {
                fd: fd.as_raw_fd(),
                events,
                revents: 0,
            };
            // One `pollfd`, alive across the call; no timeout. An `EINTR`
            // here is fine: the caller's next attempt finds out.
            match syscall!(poll(&mut pollfd, 1, -1)) {
                Err(e) if e.kind() != io::ErrorKind::Interrupted => Err(e),
                _ => Ok(()),
            }
        }
        _ => Err(e),
    }
}
