//! `UnixListener`: a listening Unix stream socket whose `accept` waits on
//! the driver.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::task::{ready, Context, Poll};

use edgeloop_runtime::io::AsyncFd;

use super::{expect_runtime, socket_addr, UnixStream};
use crate::exhaustion::FdExhaustion;
use crate::sys;

/// A Unix stream socket server, listening for connections.
///
/// # Addresses
///
/// Every `path` given to the Unix sockets ([`bind`](Self::bind),
/// [`UnixStream::connect`], [`UnixDatagram`](super::UnixDatagram)'s
/// methods) names a socket in one of two ways:
///
/// - a **file system path** (`"/run/app.sock"`): binding creates a socket
///   file there, which **stays after the socket is closed**; binding the
///   path again fails with `AddrInUse` until the file is removed, and
///   connecting to it then fails with `ConnectionRefused`;
/// - an **abstract name** (Linux only): a path whose first byte is NUL
///   (`"\0app-1234"`) names a socket in the kernel's abstract namespace (one
///   per network namespace). No file is made, and the name is free again
///   once the last socket bound to it is closed. The bytes after the NUL
///   are the name; std's [`SocketAddr`] shows it with
///   `std::os::linux::net::SocketAddrExt::as_abstract_name`.
///
/// An address must fit `sockaddr_un`: up to 107 bytes of path, or of name
/// after the NUL; a longer one, or a path with a NUL inside, is
/// `InvalidInput`. Addresses come back as std's [`SocketAddr`], which may be
/// unnamed (a socket that never bound, as a connecting client's usually is).
///
/// ```
/// use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
/// use edgeloop::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("edgeloop-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("listener.sock");
/// # let _ = std::fs::remove_file(&path);
/// edgeloop::block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let client = edgeloop::spawn({
///         let path = path.clone();
///         async move {
///             let mut stream = UnixStream::connect(&path).await?;
///             stream.write_all(b"hello").await?;
///             Ok::<_, std::io::Error>(())
///         }
///     });
///     let (mut stream, _peer) = listener.accept().await?;
///     let mut got = Vec::new();
///     stream.read_to_end(&mut got).await?;
///     assert_eq!(got, b"hello");
///     client.await??;
///     Ok::<_, std::io::Error>(())
/// })?;
/// // The listener is gone, its socket file is not.
/// assert!(path.exists());
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    io: AsyncFd<net::UnixListener>,
    /// Out-of-fds episodes: the error once, then a wait (see `accept`).
    exhaustion: FdExhaustion,
}

impl UnixListener {
    /// Creates a listener bound to `path` (a file system path, or an
    /// abstract name if its first byte is NUL; see
    /// [Addresses](Self#addresses)). Synchronous, as in std: binding and
    /// listening never wait.
    ///
    /// Binding a path where a file already exists gives the OS's
    /// `AddrInUse`, whether or not a listener still holds it. A listener
    /// **leaves its socket file behind when dropped**, so a restarted
    /// server must remove the stale file first (and should make sure no
    /// other server is still listening there: connecting to a stale file
    /// gives `ConnectionRefused`). Other errors are the OS's too:
    /// `NotFound` for a missing directory, `PermissionDenied`, …
    ///
    /// # Panics
    /// Outside an edgeloop runtime (checked before anything is created).
    #[track_caller]
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        expect_runtime("UnixListener::bind");
        let addr = socket_addr(path.as_ref())?;
        let fd = sys::unix_stream_socket()?;
        sys::unix_bind(fd.as_fd(), &addr)?;
        sys::listen(fd.as_fd(), sys::LISTEN_BACKLOG)?;
        UnixListener::from_registered(AsyncFd::new(net::UnixListener::from(fd))?)
    }

    fn from_registered(io: AsyncFd<net::UnixListener>) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io,
            exhaustion: FdExhaustion::default(),
        })
    }

    /// Wraps a listener made by `std`; it is switched to nonblocking mode.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn from_std(listener: net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_registered(AsyncFd::new(listener)?)
    }

    /// Deregisters the listener and hands it back, still nonblocking.
    pub fn into_std(self) -> io::Result<net::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// Waits for a connection and returns it with the peer's address
    /// (usually unnamed: a connecting client seldom binds).
    ///
    /// Cancel-safe: if the future is dropped, no connection is lost — it
    /// stays in the kernel's accept queue. Several tasks may accept on one
    /// listener at once; each waits in its own place, released when its
    /// future ends.
    ///
    /// Out of file descriptors (`EMFILE`, `ENFILE`) it behaves as
    /// [`TcpListener::accept`](crate::TcpListener::accept) does: the error
    /// is returned once, then `accept` waits until this runtime closes an
    /// fd (or 100 ms have passed) before trying again, without repeating
    /// the error until a connection is accepted. A plain accept loop that
    /// prints its errors prints one line and idles at the limit.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (fd, peer) = self
            .exhaustion
            .accept(&self.io, |l| sys::unix_accept(l.as_fd()))
            .await?;
        Ok((UnixStream::from_connected(fd)?, peer))
    }

    /// Polls for a connection; on `Pending` the task is woken when one
    /// arrives. Like every `poll_*` method it keeps only the most recent
    /// caller's waker: for several tasks accepting at once, use
    /// [`accept`](Self::accept). Out of fds it behaves as `accept` does.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let accepted = ready!(self
            .exhaustion
            .poll_accept(cx, &self.io, |l| sys::unix_accept(l.as_fd())));
        Poll::Ready(accepted.and_then(|(fd, peer)| Ok((UnixStream::from_connected(fd)?, peer))))
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
