//! The suite's one door to the kernel: CPU pinning, file-descriptor limits,
//! another process's CPU clock, and the few socket and epoll calls the load
//! generator and the hand-written server make.
//!
//! Callers see `io::Result` and `OwnedFd`; a `-1` return becomes the OS's
//! error through [`syscall!`]. Every socket is born nonblocking and
//! close-on-exec.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Calls a libc function and turns a `-1` return into `io::Error::last_os_error()`.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: each call site passes arguments that satisfy the named libc
        // function's contract; the comment at the call site says which.
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}

/// How many connections a listener queues before accepting (the kernel caps
/// it at `net.core.somaxconn`); the same as edgeloop's and tokio's.
pub const LISTEN_BACKLOG: libc::c_int = 1024;

/// Pins the calling thread (and the children it forks later) to one CPU.
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: all-zero is an empty `cpu_set_t`.
    let mut set: libc::cpu_set_t = unsafe { zeroed() };
    if cpu >= 8 * size_of::<libc::cpu_set_t>() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: `cpu` is within the set's bits (checked above).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // `set` outlives the call and its size is passed; pid 0 is this thread.
    syscall!(sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set)).map(drop)
}

/// The CPUs this thread may run on, in order.
pub fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: all-zero is an empty `cpu_set_t`.
    let mut set: libc::cpu_set_t = unsafe { zeroed() };
    // `set` outlives the call and its size is passed; pid 0 is this thread.
    syscall!(sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set))?;
    let bits = 8 * size_of::<libc::cpu_set_t>();
    // SAFETY: every `cpu` tested is below the set's bit count.
    Ok((0..bits)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect())
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the new limit.
pub fn raise_fd_limit() -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // `lim` outlives the call.
    syscall!(getrlimit(libc::RLIMIT_NOFILE, &mut lim))?;
    lim.rlim_cur = lim.rlim_max;
    // `lim` outlives the call.
    syscall!(setrlimit(libc::RLIMIT_NOFILE, &lim))?;
    Ok(lim.rlim_cur)
}

/// Asks the kernel to SIGKILL this process when its parent thread exits, so
/// a server never outlives a suite that was killed. Async-signal-safe: it is
/// called between `fork` and `exec`.
pub fn die_with_parent() -> io::Result<()> {
    // Plain integer arguments.
    syscall!(prctl(
        libc::PR_SET_PDEATHSIG,
        libc::SIGKILL as libc::c_ulong
    ))
    .map(drop)
}

/// Sends `signal` to process `pid`.
pub fn kill(pid: u32, signal: libc::c_int) -> io::Result<()> {
    // Plain integer arguments.
    syscall!(kill(pid as libc::pid_t, signal)).map(drop)
}

/// CPU time (user + system, all threads) that process `pid` has used, to the
/// nanosecond: the same sum as `utime + stime` in `/proc/<pid>/stat`, which
/// counts only in 10 ms ticks.
pub fn process_cpu_time(pid: u32) -> io::Result<Duration> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `clock` outlives the call. It returns an error number, not -1.
    let err = unsafe { libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) };
    if err != 0 {
        return Err(io::Error::from_raw_os_error(err));
    }
    clock_time(clock)
}

/// CPU time the calling thread has used.
pub fn thread_cpu_time() -> io::Result<Duration> {
    clock_time(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn clock_time(clock: libc::clockid_t) -> io::Result<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // `ts` outlives the call.
    syscall!(clock_gettime(clock, &mut ts))?;
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// A nonblocking, close-on-exec IPv4 stream socket.
pub fn tcp_socket() -> io::Result<OwnedFd> {
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // Plain integer arguments.
    let fd = syscall!(socket(libc::AF_INET, ty, 0))?;
    Ok(owned(fd))
}

/// Sets an integer socket option.
pub fn set_option(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // `value` outlives the call and its size is passed.
    syscall!(setsockopt(
        fd.as_raw_fd(),
        level,
        name,
        (&value as *const libc::c_int).cast(),
        size_of::<libc::c_int>() as libc::socklen_t,
    ))
    .map(drop)
}

/// Binds `fd` to `addr`.
pub fn bind(fd: BorrowedFd<'_>, addr: SocketAddrV4) -> io::Result<()> {
    let raw = to_raw(addr);
    // `raw` is a valid `sockaddr_in` for the call's duration.
    syscall!(bind(
        fd.as_raw_fd(),
        (&raw as *const libc::sockaddr_in).cast(),
        size_of::<libc::sockaddr_in>() as libc::socklen_t
    ))
    .map(drop)
}

/// Starts a nonblocking connect; `EINPROGRESS` is success (wait for writability).
pub fn connect(fd: BorrowedFd<'_>, addr: SocketAddrV4) -> io::Result<()> {
    let raw = to_raw(addr);
    // `raw` is a valid `sockaddr_in` for the call's duration.
    let res = syscall!(connect(
        fd.as_raw_fd(),
        (&raw as *const libc::sockaddr_in).cast(),
        size_of::<libc::sockaddr_in>() as libc::socklen_t
    ));
    match res {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EINTR)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Listens on `fd` with [`LISTEN_BACKLOG`].
pub fn listen(fd: BorrowedFd<'_>) -> io::Result<()> {
    // Plain integer arguments.
    syscall!(listen(fd.as_raw_fd(), LISTEN_BACKLOG)).map(drop)
}

/// The address `fd` is bound to.
pub fn local_addr(fd: BorrowedFd<'_>) -> io::Result<SocketAddrV4> {
    // SAFETY: all-zero is a valid `sockaddr_in`.
    let mut raw: libc::sockaddr_in = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // `raw` and `len` outlive the call; `len` says how big `raw` is.
    syscall!(getsockname(
        fd.as_raw_fd(),
        (&mut raw as *mut libc::sockaddr_in).cast(),
        &mut len
    ))?;
    let ip = Ipv4Addr::from(raw.sin_addr.s_addr.to_ne_bytes());
    Ok(SocketAddrV4::new(ip, u16::from_be(raw.sin_port)))
}

/// Accepts one connection, nonblocking and close-on-exec; `Ok(None)` on `EAGAIN`.
pub fn accept(listener: BorrowedFd<'_>) -> io::Result<Option<OwnedFd>> {
    loop {
        // Null address pointers are allowed: the peer's address is not wanted.
        let res = syscall!(accept4(
            listener.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        ));
        return match res {
            Ok(fd) => Ok(Some(owned(fd))),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
    }
}

/// `read(2)`; `EINTR` is retried, `EAGAIN` is an error of kind `WouldBlock`.
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // `buf` is valid for `buf.len()` writable bytes across the call.
        match syscall!(read(fd, buf.as_mut_ptr().cast(), buf.len())) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            res => return res.map(|n| n as usize),
        }
    }
}

/// `send(2)` with `MSG_NOSIGNAL` (a reset peer gives `EPIPE`, not `SIGPIPE`);
/// `EINTR` is retried.
pub fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    loop {
        // `buf` is valid for `buf.len()` readable bytes across the call.
        match syscall!(send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL)) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            res => return res.map(|n| n as usize),
        }
    }
}

/// Makes a FIFO at `path` (mode 0600).
pub fn mkfifo(path: &std::path::Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // `c_path` is a NUL-terminated string alive across the call.
    syscall!(mkfifo(c_path.as_ptr(), 0o600)).map(drop)
}

/// Waits up to `timeout` for `fd` to be readable; `EINTR` counts as not yet.
pub fn wait_readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // `pfd` is one valid `pollfd`, alive across the call.
    match syscall!(poll(&mut pfd, 1, ms)) {
        Ok(n) => Ok(n > 0),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
        Err(e) => Err(e),
    }
}

/// An epoll instance (close-on-exec).
pub fn epoll_create() -> io::Result<OwnedFd> {
    // Flags only.
    let fd = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
    Ok(owned(fd))
}

/// Adds `fd` to `epoll` for `events`, tagged with `token`.
pub fn epoll_add(epoll: BorrowedFd<'_>, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
    let mut event = libc::epoll_event { events, u64: token };
    // `event` outlives the call.
    syscall!(epoll_ctl(
        epoll.as_raw_fd(),
        libc::EPOLL_CTL_ADD,
        fd,
        &mut event
    ))
    .map(drop)
}

/// Removes `fd` from `epoll`.
pub fn epoll_delete(epoll: BorrowedFd<'_>, fd: RawFd) -> io::Result<()> {
    // The event argument may be null for EPOLL_CTL_DEL (Linux >= 2.6.9).
    syscall!(epoll_ctl(
        epoll.as_raw_fd(),
        libc::EPOLL_CTL_DEL,
        fd,
        std::ptr::null_mut()
    ))
    .map(drop)
}

/// Waits up to `timeout_ms` (-1: forever) and fills `events` with what is
/// ready; `EINTR` gives zero events.
pub fn epoll_wait(
    epoll: BorrowedFd<'_>,
    events: &mut Vec<libc::epoll_event>,
    timeout_ms: i32,
) -> io::Result<()> {
    events.clear();
    let cap = events.capacity().min(libc::c_int::MAX as usize) as libc::c_int;
    // `events` has room for `cap` entries.
    match syscall!(epoll_wait(
        epoll.as_raw_fd(),
        events.as_mut_ptr(),
        cap,
        timeout_ms
    )) {
        Ok(n) => {
            // SAFETY: the kernel initialised the first `n` entries (n <= cap).
            unsafe { events.set_len(n as usize) };
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        Err(e) => Err(e),
    }
}

fn to_raw(addr: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(addr.ip().octets()),
        },
        sin_zero: [0; 8],
    }
}

fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel and is owned by no one else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cpu_clock_advances() {
        let pid = std::process::id();
        let before = process_cpu_time(pid).unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(x);
        assert!(process_cpu_time(pid).unwrap() > before);
    }

    #[test]
    fn listener_reports_its_port() {
        let fd = tcp_socket().unwrap();
        bind(fd.as_fd(), SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        listen(fd.as_fd()).unwrap();
        assert_ne!(local_addr(fd.as_fd()).unwrap().port(), 0);
        assert!(accept(fd.as_fd()).unwrap().is_none());
    }

    use std::os::fd::AsFd;
}
