//! `UnixDatagram`: Unix datagrams, each operation one `AsyncFd::poll_io`
//! around the syscall.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::task::{Context, Poll};

use edgeloop_runtime::io::{AsyncFd, Interest, Ready};

use super::{expect_runtime, socket_addr};
use crate::sys;

/// A Unix datagram socket: send and receive datagrams, which keep their
/// boundaries and arrive in order.
///
/// Bound ([`bind`](Self::bind)) it has an address others can send to;
/// [`unbound`](Self::unbound) it can still send (replies have nowhere to
/// go). Unconnected it talks to anyone ([`send_to`](Self::send_to),
/// [`recv_from`](Self::recv_from)); after [`connect`](Self::connect) it
/// talks to one peer ([`send`](Self::send), [`recv`](Self::recv)) and
/// receives only that peer's datagrams. Paths are as for
/// [`UnixListener`](super::UnixListener#addresses): a file (left behind
/// when the socket is dropped) or, with a leading NUL, an abstract name.
///
/// A datagram larger than the buffer given to a receive is cut to the
/// buffer's length, as the OS does; the rest of it is lost. A send to a
/// receiver whose queue is full waits: a connected socket is woken when
/// that queue drains; an unconnected one only when its own earlier
/// datagrams are taken from it (Linux tracks no other receiver for it).
///
/// Several tasks may wait on one socket through the `async` methods (each
/// keeps its own place among the waiters); the `poll_*` methods keep only
/// the most recent caller's waker per direction.
///
/// ```
/// use edgeloop::net::UnixDatagram;
///
/// edgeloop::block_on(async {
///     let name = format!("\0edgeloop-doc-dgram-{}", std::process::id());
///     let server = UnixDatagram::bind(&name)?; // abstract: no file
///     let client = UnixDatagram::unbound()?;
///     client.send_to(b"ping", &name).await?;
///     let mut buf = [0; 16];
///     let (n, from) = server.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     assert!(from.is_unnamed(), "the client never bound");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixDatagram {
    io: AsyncFd<net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to `path`. Synchronous, as in std. A path
    /// where a file exists gives the OS's `AddrInUse`; the socket file stays
    /// after the socket is dropped.
    ///
    /// # Panics
    /// Outside an edgeloop runtime (checked before anything is created).
    #[track_caller]
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        expect_runtime("UnixDatagram::bind");
        let addr = socket_addr(path.as_ref())?;
        let fd = sys::unix_datagram_socket()?;
        sys::unix_bind(fd.as_fd(), &addr)?;
        UnixDatagram::from_fd(fd)
    }

    /// Creates a socket bound to no address.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        expect_runtime("UnixDatagram::unbound");
        UnixDatagram::from_fd(sys::unix_datagram_socket()?)
    }

    /// A pair of sockets connected to each other (`socketpair`), both
    /// nonblocking and close-on-exec.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        expect_runtime("UnixDatagram::pair");
        let (a, b) = sys::unix_datagram_pair()?;
        Ok((UnixDatagram::from_fd(a)?, UnixDatagram::from_fd(b)?))
    }

    fn from_fd(fd: OwnedFd) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: AsyncFd::new(net::UnixDatagram::from(fd))?,
        })
    }

    /// Wraps a socket made by `std`; it is switched to nonblocking mode.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn from_std(socket: net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: AsyncFd::new(socket)?,
        })
    }

    /// Deregisters the socket and hands it back, still nonblocking.
    pub fn into_std(self) -> io::Result<net::UnixDatagram> {
        Ok(self.io.into_inner())
    }

    /// Sets the one peer [`send`](Self::send) sends to and
    /// [`recv`](Self::recv) receives from. Synchronous: a Unix datagram
    /// connect exchanges nothing. The OS's error if nothing is bound there
    /// (`NotFound`, `ConnectionRefused`).
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        let addr = socket_addr(path.as_ref())?;
        self.io.get_ref().connect_addr(&addr)
    }

    /// Sends `buf` as one datagram to the connected peer; how many bytes
    /// went (all of them, or an error such as `EMSGSIZE`).
    ///
    /// Cancel-safe: dropped before it completes, nothing was sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .async_io(Interest::WRITABLE, |s| sys::send(s.as_fd(), buf))
            .await
    }

    /// Receives one datagram from the connected peer into `buf`; its length,
    /// cut to `buf`'s.
    ///
    /// Cancel-safe: dropped before it completes, no datagram was taken.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.recv(buf)).await
    }

    /// Sends `buf` as one datagram to the socket at `target`.
    ///
    /// Cancel-safe: dropped before it completes, nothing was sent.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], target: P) -> io::Result<usize> {
        let target = socket_addr(target.as_ref())?;
        self.io
            .async_io(Interest::WRITABLE, |s| s.send_to_addr(buf, &target))
            .await
    }

    /// Receives one datagram into `buf`; how long it was (cut to `buf`) and
    /// who sent it (unnamed if the sender never bound).
    ///
    /// Cancel-safe: dropped before it completes, no datagram was taken.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| s.recv_from(buf))
            .await
    }

    /// Waits until a receive may make progress (a datagram, or an error).
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await.map(drop)
    }

    /// Waits until a send may make progress.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await.map(drop)
    }

    /// Waits until the socket is ready in any direction of `interest`
    /// (which may combine) and says which.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await.map(|guard| guard.ready())
    }

    /// Polls to send `buf` to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Interest::WRITABLE, |s| sys::send(s.as_fd(), buf))
    }

    /// Polls to receive from the connected peer.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::READABLE, |s| s.recv(buf))
    }

    /// Polls to send `buf` to the socket at `target`.
    pub fn poll_send_to<P: AsRef<Path>>(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: P,
    ) -> Poll<io::Result<usize>> {
        let target = socket_addr(target.as_ref())?;
        self.io
            .poll_io(cx, Interest::WRITABLE, |s| s.send_to_addr(buf, &target))
    }

    /// Polls to receive a datagram and its sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io(cx, Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Sends to the connected peer without waiting: `WouldBlock` if the
    /// socket cannot take the datagram now.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |s| sys::send(s.as_fd(), buf))
    }

    /// Receives from the connected peer without waiting: `WouldBlock` if no
    /// datagram is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.recv(buf))
    }

    /// Sends to the socket at `target` without waiting.
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], target: P) -> io::Result<usize> {
        let target = socket_addr(target.as_ref())?;
        self.io
            .try_io(Interest::WRITABLE, |s| s.send_to_addr(buf, &target))
    }

    /// Receives a datagram and its sender without waiting.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// The local address (unnamed if the socket never bound).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address (`NotConnected` before
    /// [`connect`](Self::connect)).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side, or both: later receives
    /// return `Ok(0)` at once, later sends fail with `EPIPE`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
