//! `edgeloop-net`'s one door to the kernel: socket creation, bind, listen,
//! connect, accept, stream send and receive, plus `sockaddr` conversions.
//!
//! Every socket is born nonblocking and close-on-exec (`SOCK_NONBLOCK |
//! SOCK_CLOEXEC`, `accept4`), so no fd is ever blocking or leaks into a child.

use std::io::{self, IoSlice};
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

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

/// How many unaccepted connections a listener queues (the kernel caps it at
/// `net.core.somaxconn`).
pub(crate) const LISTEN_BACKLOG: libc::c_int = 1024;

/// A nonblocking, close-on-exec stream socket for `addr`'s family.
pub(crate) fn stream_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    socket(addr, libc::SOCK_STREAM)
}

/// A nonblocking, close-on-exec datagram socket for `addr`'s family.
pub(crate) fn datagram_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    socket(addr, libc::SOCK_DGRAM)
}

fn socket(addr: &SocketAddr, ty: libc::c_int) -> io::Result<OwnedFd> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    let ty = ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // Plain integer arguments.
    let fd = syscall!(socket(domain, ty, 0))?;
    // SAFETY: the kernel just returned `fd`; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets `SO_REUSEADDR`, so a restarted server can bind while old
/// connections sit in `TIME_WAIT`.
pub(crate) fn set_reuseaddr(fd: BorrowedFd<'_>) -> io::Result<()> {
    let on: libc::c_int = 1;
    // `on` outlives the call and its size is passed.
    syscall!(setsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_REUSEADDR,
        (&on as *const libc::c_int).cast(),
        size_of::<libc::c_int>() as libc::socklen_t,
    ))
    .map(drop)
}

/// Sets `SO_LINGER` (`None`: off).
pub(crate) fn set_linger(
    fd: BorrowedFd<'_>,
    linger: Option<std::time::Duration>,
) -> io::Result<()> {
    let value = libc::linger {
        l_onoff: linger.is_some() as libc::c_int,
        l_linger: linger.map_or(0, |d| {
            d.as_secs().min(libc::c_int::MAX as u64) as libc::c_int
        }),
    };
    // `value` outlives the call and its size is passed.
    syscall!(setsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_LINGER,
        (&value as *const libc::linger).cast(),
        size_of::<libc::linger>() as libc::socklen_t,
    ))
    .map(drop)
}

/// Reads `SO_LINGER`.
pub(crate) fn linger(fd: BorrowedFd<'_>) -> io::Result<Option<std::time::Duration>> {
    let mut value = libc::linger {
        l_onoff: 0,
        l_linger: 0,
    };
    let mut len = size_of::<libc::linger>() as libc::socklen_t;
    // `value` and `len` outlive the call; `len` says how big `value` is.
    syscall!(getsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_LINGER,
        (&mut value as *mut libc::linger).cast(),
        &mut len,
    ))?;
    Ok((value.l_onoff != 0).then(|| std::time::Duration::from_secs(value.l_linger.max(0) as u64)))
}

pub(crate) fn bind(fd: BorrowedFd<'_>, addr: &SocketAddr) -> io::Result<()> {
    let (raw, len) = to_raw(addr);
    // `raw` holds a valid sockaddr of `len` bytes for the call's duration.
    syscall!(bind(
        fd.as_raw_fd(),
        (&raw as *const libc::sockaddr_storage).cast(),
        len
    ))
    .map(drop)
}

pub(crate) fn listen(fd: BorrowedFd<'_>, backlog: libc::c_int) -> io::Result<()> {
    // Plain integer arguments.
    syscall!(listen(fd.as_raw_fd(), backlog)).map(drop)
}

/// Starts a connect. `Ok(true)`: connected at once (loopback sometimes is);
/// `Ok(false)`: in progress (`EINPROGRESS`), wait for writability.
pub(crate) fn connect(fd: BorrowedFd<'_>, addr: &SocketAddr) -> io::Result<bool> {
    let (raw, len) = to_raw(addr);
    // SAFETY: `raw` holds a valid sockaddr of `len` bytes and outlives the call.
    unsafe { connect_raw(fd, (&raw as *const libc::sockaddr_storage).cast(), len) }
}

/// `connect(2)` on an encoded address, with the outcome read the same way
/// for every family.
///
/// # Safety
/// `raw` points to a valid socket address of `len` bytes.
unsafe fn connect_raw(
    fd: BorrowedFd<'_>,
    raw: *const libc::sockaddr,
    len: libc::socklen_t,
) -> io::Result<bool> {
    // The caller vouches for `raw` and `len`.
    match syscall!(connect(fd.as_raw_fd(), raw, len)) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        // An interrupted connect goes on in the background, like EINPROGRESS.
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
        Err(e) => Err(e),
    }
}

/// Accepts one connection: nonblocking, close-on-exec, with its peer address.
pub(crate) fn accept(listener: BorrowedFd<'_>) -> io::Result<(OwnedFd, SocketAddr)> {
    // SAFETY: all-zero is a valid `sockaddr_storage`.
    let mut raw: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `raw` outlives the call and `len` says how big it is.
    let fd = unsafe {
        accept_raw(
            listener,
            (&mut raw as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )?
    };
    Ok((fd, from_raw(&raw, len)?))
}

/// `accept4(2)`, nonblocking and close-on-exec, writing the peer's address
/// into `raw` and its length into `len`.
///
/// # Safety
/// `raw` points to writable memory of `*len` bytes.
unsafe fn accept_raw(
    listener: BorrowedFd<'_>,
    raw: *mut libc::sockaddr,
    len: &mut libc::socklen_t,
) -> io::Result<OwnedFd> {
    // The caller vouches for `raw` and `len`.
    let fd = syscall!(accept4(
        listener.as_raw_fd(),
        raw,
        len,
        libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
    ))?;
    // SAFETY: the kernel just returned `fd`; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The most slices one `sendmsg`/`readv` takes (Linux's `UIO_MAXIOV`; more
/// fail with `EMSGSIZE`/`EINVAL`). Like std, the rest wait for the next call.
pub(crate) const IOV_MAX: usize = libc::UIO_MAXIOV as usize;

/// `sendmsg` with `MSG_NOSIGNAL`: a write to a reset connection gives
/// `EPIPE` instead of killing the process with `SIGPIPE`. At most
/// [`IOV_MAX`] slices are sent; the caller sees a short write.
/// One `recv` into `buf` (no flags): what a stream read is.
#[inline]
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // `buf` is valid for writes of `buf.len()` bytes across the call.
    let n = syscall!(recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0))?;
    Ok(n as usize)
}

pub(crate) fn send_vectored(fd: BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: all-zero is a valid `msghdr` (no name, no control data).
    let mut msg: libc::msghdr = unsafe { zeroed() };
    // `IoSlice` is guaranteed ABI-compatible with `iovec` on Unix.
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = bufs.len().min(IOV_MAX) as _;
    // `msg` points at `bufs`, alive and unmodified across the call.
    let n = syscall!(sendmsg(fd.as_raw_fd(), &msg, libc::MSG_NOSIGNAL))?;
    Ok(n as usize)
}

fn to_raw(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid `sockaddr_storage`.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: `sockaddr_storage` is larger than and aligned for every
            // sockaddr type.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

fn from_raw(storage: &libc::sockaddr_storage, len: libc::socklen_t) -> io::Result<SocketAddr> {
    let len = len as usize;
    match storage.ss_family as libc::c_int {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family and length say it holds a `sockaddr_in`;
            // `sockaddr_storage` is aligned for it.
            let sin =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for `sockaddr_in6`.
            let sin6 = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the kernel returned an address that is not IPv4 or IPv6",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses_round_trip() {
        for addr in ["127.0.0.1:8080", "10.1.2.3:1", "[::1]:443", "[fe80::1%2]:9"] {
            let addr: SocketAddr = addr.parse().unwrap();
            let (raw, len) = to_raw(&addr);
            assert_eq!(from_raw(&raw, len).unwrap(), addr);
        }
    }
}

// Unix domain sockets: `AF_UNIX` creation, bind, connect, accept, a plain
// `send`, `SO_PEERCRED`, and `sockaddr_un` conversions to and from std's
// `SocketAddr` (which checks a path's length and NULs when it is built).

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr as UnixSocketAddr;

/// A nonblocking, close-on-exec Unix stream socket.
pub(crate) fn unix_stream_socket() -> io::Result<OwnedFd> {
    unix_socket(libc::SOCK_STREAM)
}

/// A nonblocking, close-on-exec Unix datagram socket.
pub(crate) fn unix_datagram_socket() -> io::Result<OwnedFd> {
    unix_socket(libc::SOCK_DGRAM)
}

fn unix_socket(ty: libc::c_int) -> io::Result<OwnedFd> {
    let ty = ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // Plain integer arguments.
    let fd = syscall!(socket(libc::AF_UNIX, ty, 0))?;
    // SAFETY: the kernel just returned `fd`; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A connected pair of nonblocking, close-on-exec Unix stream sockets.
pub(crate) fn unix_stream_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    unix_pair(libc::SOCK_STREAM)
}

/// A connected pair of nonblocking, close-on-exec Unix datagram sockets.
pub(crate) fn unix_datagram_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    unix_pair(libc::SOCK_DGRAM)
}

fn unix_pair(ty: libc::c_int) -> io::Result<(OwnedFd, OwnedFd)> {
    let ty = ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let mut fds: [libc::c_int; 2] = [-1, -1];
    // `fds` outlives the call and has room for the two fds it writes.
    syscall!(socketpair(libc::AF_UNIX, ty, 0, fds.as_mut_ptr()))?;
    // SAFETY: the kernel just returned both fds; nothing else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub(crate) fn unix_bind(fd: BorrowedFd<'_>, addr: &UnixSocketAddr) -> io::Result<()> {
    let (raw, len) = unix_to_raw(addr)?;
    // `raw` holds a valid `sockaddr_un` of `len` bytes for the call's duration.
    syscall!(bind(
        fd.as_raw_fd(),
        (&raw as *const libc::sockaddr_un).cast(),
        len
    ))
    .map(drop)
}

/// Starts a connect, as [`connect`] does for IP. On Linux a Unix stream
/// connect finishes at once, or fails; with the listener's queue full a
/// nonblocking one fails with `EAGAIN` (`WouldBlock`) and has not happened.
pub(crate) fn unix_connect(fd: BorrowedFd<'_>, addr: &UnixSocketAddr) -> io::Result<bool> {
    let (raw, len) = unix_to_raw(addr)?;
    // SAFETY: `raw` holds a valid `sockaddr_un` of `len` bytes and outlives the call.
    unsafe { connect_raw(fd, (&raw as *const libc::sockaddr_un).cast(), len) }
}

/// Accepts one Unix connection: nonblocking, close-on-exec, with the
/// peer's address (usually unnamed: a client seldom binds).
pub(crate) fn unix_accept(listener: BorrowedFd<'_>) -> io::Result<(OwnedFd, UnixSocketAddr)> {
    // SAFETY: all-zero is a valid `sockaddr_un`.
    let mut raw: libc::sockaddr_un = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: `raw` outlives the call and `len` says how big it is.
    let fd = unsafe {
        accept_raw(
            listener,
            (&mut raw as *mut libc::sockaddr_un).cast(),
            &mut len,
        )?
    };
    Ok((fd, unix_from_raw(&raw, len)?))
}

/// `send` with `MSG_NOSIGNAL`: a write to a closed peer gives `EPIPE`
/// instead of raising `SIGPIPE` (std's `UnixStream::write` is a plain
/// `write`, which raises it). Every stream write goes through it.
#[inline]
pub(crate) fn send(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // `buf` is valid for reads of `buf.len()` bytes across the call.
    let n = syscall!(send(
        fd.as_raw_fd(),
        buf.as_ptr().cast(),
        buf.len(),
        libc::MSG_NOSIGNAL
    ))?;
    Ok(n as usize)
}

/// The peer's credentials as of its `connect` (or `socketpair`):
/// `SO_PEERCRED`.
pub(crate) fn peer_cred(fd: BorrowedFd<'_>) -> io::Result<libc::ucred> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = size_of::<libc::ucred>() as libc::socklen_t;
    // `cred` and `len` outlive the call; `len` says how big `cred` is.
    syscall!(getsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_PEERCRED,
        (&mut cred as *mut libc::ucred).cast(),
        &mut len,
    ))?;
    Ok(cred)
}

/// Where `sun_path` starts in a `sockaddr_un` (after `sun_family`).
const SUN_PATH_OFFSET: usize = std::mem::offset_of!(libc::sockaddr_un, sun_path);

/// How long `sun_path` is (108 bytes on Linux).
const SUN_PATH_LEN: usize = size_of::<libc::sockaddr_un>() - SUN_PATH_OFFSET;

/// The `sockaddr_un` for std's address: a path NUL-terminated, an abstract
/// name after its leading NUL (its length counted, no terminator), an
/// unnamed address as the family alone (`bind` then autobinds).
fn unix_to_raw(addr: &UnixSocketAddr) -> io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: all-zero is a valid `sockaddr_un`.
    let mut raw: libc::sockaddr_un = unsafe { zeroed() };
    raw.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let (start, bytes, terminator) = if let Some(path) = addr.as_pathname() {
        (0, path.as_os_str().as_bytes(), 1)
    } else if let Some(name) = addr.as_abstract_name() {
        (1, name, 0)
    } else {
        (0, &[][..], 0)
    };
    let end = start + bytes.len();
    // std's constructors already refuse these; checked again so the copy
    // below can never be cut short.
    if end + terminator > raw.sun_path.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "Unix socket address too long for sockaddr_un",
        ));
    }
    for (dst, &src) in raw.sun_path[start..end].iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    let len = if bytes.is_empty() && start == 0 {
        SUN_PATH_OFFSET
    } else {
        SUN_PATH_OFFSET + end + terminator
    };
    Ok((raw, len as libc::socklen_t))
}

/// std's address for a `sockaddr_un` of `len` bytes the kernel filled in.
fn unix_from_raw(raw: &libc::sockaddr_un, len: libc::socklen_t) -> io::Result<UnixSocketAddr> {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let len = (len as usize)
        .saturating_sub(SUN_PATH_OFFSET)
        .min(raw.sun_path.len());
    if len > 0 && raw.sun_family != libc::AF_UNIX as libc::sa_family_t {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the kernel returned an address that is not AF_UNIX",
        ));
    }
    let mut bytes = [0u8; SUN_PATH_LEN];
    let bytes = &mut bytes[..len];
    for (dst, &src) in bytes.iter_mut().zip(&raw.sun_path) {
        *dst = src as u8;
    }
    match bytes.split_first() {
        // No path at all: an unnamed socket. std builds that from an empty
        // path (pinned by a unit test below).
        None => UnixSocketAddr::from_pathname(""),
        Some((0, name)) => UnixSocketAddr::from_abstract_name(name),
        Some(_) => {
            // The kernel may count the terminating NUL; the path stops there.
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            UnixSocketAddr::from_pathname(OsStr::from_bytes(&bytes[..end]))
        }
    }
}

#[cfg(test)]
mod unix_tests {
    use super::*;

    #[test]
    fn unix_addresses_round_trip() {
        let path = UnixSocketAddr::from_pathname("/tmp/edgeloop.sock").unwrap();
        let (raw, len) = unix_to_raw(&path).unwrap();
        assert_eq!(
            len as usize,
            SUN_PATH_OFFSET + "/tmp/edgeloop.sock".len() + 1
        );
        let back = unix_from_raw(&raw, len).unwrap();
        assert_eq!(back.as_pathname(), path.as_pathname());

        let name = UnixSocketAddr::from_abstract_name(b"edgeloop\0x").unwrap();
        let (raw, len) = unix_to_raw(&name).unwrap();
        assert_eq!(len as usize, SUN_PATH_OFFSET + 1 + 10);
        let back = unix_from_raw(&raw, len).unwrap();
        assert_eq!(back.as_abstract_name(), Some(&b"edgeloop\0x"[..]));
    }

    #[test]
    fn an_empty_sockaddr_un_is_unnamed() {
        // SAFETY: all-zero is a valid `sockaddr_un`.
        let mut raw: libc::sockaddr_un = unsafe { zeroed() };
        raw.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for len in [0, SUN_PATH_OFFSET] {
            let addr = unix_from_raw(&raw, len as libc::socklen_t).unwrap();
            assert!(addr.is_unnamed(), "{addr:?}");
        }
        let unnamed = UnixSocketAddr::from_pathname("").unwrap();
        assert_eq!(unix_to_raw(&unnamed).unwrap().1 as usize, SUN_PATH_OFFSET);
    }
}
