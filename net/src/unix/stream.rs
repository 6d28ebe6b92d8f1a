//! `UnixStream`: a connected Unix stream socket whose reads and writes wait
//! on the driver.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use edgeloop_runtime::io::{AsyncFd, AsyncRead, AsyncWrite, Interest, Ready};

use super::split::{self, UnixOwnedReadHalf, UnixOwnedWriteHalf, UnixReadHalf, UnixWriteHalf};
use super::{expect_runtime, socket_addr, UCred};
use crate::sys;

/// A connected Unix stream socket: from [`connect`](Self::connect),
/// [`UnixListener::accept`](super::UnixListener::accept) or
/// [`pair`](Self::pair).
///
/// Reads and writes wait in separate directions, so one task may read while
/// another writes: `&UnixStream` implements `AsyncRead` and `AsyncWrite`
/// too. Writes never raise `SIGPIPE`: writing to a closed peer is an
/// `EPIPE` error (`BrokenPipe`).
///
/// ```
/// use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
/// use edgeloop::net::UnixStream;
///
/// edgeloop::block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    io: AsyncFd<net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path` (a file system path, or an abstract
    /// name if its first byte is NUL; see
    /// [Addresses](super::UnixListener#addresses)).
    ///
    /// The OS's error if nobody listens there: `NotFound` for a path with no
    /// file, `ConnectionRefused` for a socket file no listener holds (a
    /// stale one) or an abstract name nobody bound, `PermissionDenied`
    /// without write permission on the file. On Linux a Unix connect
    /// completes at once; if the listener's queue is full it fails with
    /// `WouldBlock` (the connect did not happen; try again later).
    ///
    /// # Panics
    /// When polled outside an edgeloop runtime.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        expect_runtime("UnixStream::connect");
        let addr = socket_addr(path.as_ref())?;
        let fd = sys::unix_stream_socket()?;
        let connected = sys::unix_connect(fd.as_fd(), &addr)?;
        let stream = UnixStream::from_connected(fd)?;
        if !connected {
            stream.wait_connected().await?;
        }
        Ok(stream)
    }

    /// Waits until an in-progress connect has finished, one way or the
    /// other (Linux does not leave a Unix connect in progress; kept for the
    /// `EINTR` and `EINPROGRESS` cases the contract allows).
    async fn wait_connected(&self) -> io::Result<()> {
        loop {
            let mut guard = self.io.writable().await?;
            if let Some(err) = self.io.get_ref().take_error()? {
                return Err(err);
            }
            match self.io.get_ref().peer_addr() {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => guard.clear_ready(),
                Err(e) => return Err(e),
            }
        }
    }

    /// A connected pair of streams (`socketpair`), both nonblocking and
    /// close-on-exec: for talking to yourself, or to a child process that
    /// inherits one end (after clearing its close-on-exec flag).
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        expect_runtime("UnixStream::pair");
        let (a, b) = sys::unix_stream_pair()?;
        Ok((
            UnixStream::from_connected(a)?,
            UnixStream::from_connected(b)?,
        ))
    }

    /// Wraps a connected, nonblocking socket fd.
    pub(crate) fn from_connected(fd: OwnedFd) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: AsyncFd::new(net::UnixStream::from(fd))?,
        })
    }

    /// Wraps a stream made by `std`; it is switched to nonblocking mode.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn from_std(stream: net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            io: AsyncFd::new(stream)?,
        })
    }

    /// Deregisters the socket and hands it back, still nonblocking.
    pub fn into_std(self) -> io::Result<net::UnixStream> {
        Ok(self.io.into_inner())
    }

    /// Waits until a read may make progress (data, EOF or an error). The
    /// readiness can be stale; follow with [`try_read`](Self::try_read), and
    /// wait again on `WouldBlock`.
    ///
    /// Cancel-safe; each caller waits in its own place, released when the
    /// future ends, so several tasks may wait at once.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await.map(drop)
    }

    /// Waits until a write may make progress.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await.map(drop)
    }

    /// Waits until the stream is ready in any direction of `interest`
    /// (which may combine: `Interest::READABLE | Interest::WRITABLE`) and
    /// says which: follow with `try_read`/`try_write` for the ready ones.
    ///
    /// ```
    /// use edgeloop::io::Interest;
    /// use edgeloop::net::UnixStream;
    ///
    /// edgeloop::block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(ready.is_writable(), "a fresh stream can be written");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await.map(|guard| guard.ready())
    }

    /// Polls for read readiness (only the most recent `poll_*` caller per
    /// direction is woken).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_read_ready(cx).map_ok(drop)
    }

    /// Polls for write readiness.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_write_ready(cx).map_ok(drop)
    }

    /// Reads without waiting: `WouldBlock` if no data is ready (and then the
    /// next [`readable`](Self::readable) waits for a new edge). `Ok(0)` is
    /// end of stream, or an empty `buf`.
    ///
    /// ```
    /// use std::io::{ErrorKind, Write};
    /// use edgeloop::net::UnixStream;
    ///
    /// edgeloop::block_on(async {
    ///     let (stream, peer) = UnixStream::pair()?;
    ///     let mut peer = peer.into_std()?; // a plain std socket
    ///     let mut buf = [0; 16];
    ///     let err = stream.try_read(&mut buf).unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::WouldBlock, "nothing sent yet");
    ///     peer.write_all(b"ping")?;
    ///     stream.readable().await?; // the new data's edge
    ///     assert_eq!(stream.try_read(&mut buf)?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_io(Interest::READABLE, |s| sys::recv(s.as_fd(), buf))
    }

    /// Writes without waiting: `WouldBlock` if the send buffer is full.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let res = self
            .io
            .try_io(Interest::WRITABLE, |s| sys::send(s.as_fd(), buf));
        self.note_write(res, buf.len())
    }

    /// Borrowed halves: read through one while writing through the other
    /// (say, in two branches of one task's `join`). No cost: each is a
    /// reference to this stream.
    pub fn split(&mut self) -> (UnixReadHalf<'_>, UnixWriteHalf<'_>) {
        split::split(self)
    }

    /// Owned halves, to move into two tasks (a reader and a writer).
    /// Dropping the write half shuts the write side down;
    /// [`UnixOwnedReadHalf::reunite`] puts them back together.
    ///
    /// ```
    /// use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
    /// use edgeloop::net::UnixStream;
    ///
    /// edgeloop::block_on(async {
    ///     let (client, server) = UnixStream::pair()?;
    ///     let (mut read, mut write) = server.into_split();
    ///     let echo = edgeloop::spawn(async move {
    ///         let mut buf = [0; 5];
    ///         read.read_exact(&mut buf).await?;
    ///         Ok::<_, std::io::Error>(buf)
    ///     });
    ///     (&client).write_all(b"hello").await?;
    ///     assert_eq!(&echo.await??, b"hello");
    ///     write.write_all(b"bye").await?;
    ///     drop(write); // the client reads "bye", then EOF
    ///     let mut rest = Vec::new();
    ///     (&client).read_to_end(&mut rest).await?;
    ///     assert_eq!(rest, b"bye");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_split(self) -> (UnixOwnedReadHalf, UnixOwnedWriteHalf) {
        split::into_split(self)
    }

    /// The credentials of the peer process, as of its `connect` (or
    /// `socketpair`): `SO_PEERCRED`.
    ///
    /// ```
    /// use edgeloop::net::UnixStream;
    ///
    /// edgeloop::block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     assert_eq!(a.peer_cred()?.pid as u32, std::process::id());
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peer_cred(&self) -> io::Result<UCred> {
        sys::peer_cred(self.io.get_ref().as_fd()).map(UCred::from_raw)
    }

    /// Shuts down the read side, the write side, or both. Shutting down the
    /// write side makes the peer read EOF once it has read the rest.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// The peer's address (unnamed unless the peer bound one: a connecting
    /// client usually has not).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address (unnamed for a connecting client and for
    /// [`pair`](Self::pair)).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// A short write on a stream socket leaves the send buffer full: the
    /// kernel's `unix_stream_sendmsg` stops early only when it cannot
    /// allocate more of the socket's send memory, and that memory is freed
    /// (raising a new `EPOLLOUT` edge) as the peer reads what was queued.
    /// So the write readiness is forgotten now, saving the `EAGAIN` round
    /// trip, as `TcpStream` does (see `AsyncFd::clear_readiness`).
    ///
    /// Reads get no such shortcut: a Unix stream read also stops short
    /// with data still queued — after a message that carried file
    /// descriptors (any peer may send `SCM_RIGHTS`), or between writers
    /// with different credentials once `SO_PASSCRED` is on — and the bytes
    /// left behind would raise no new edge. A read returns until `EAGAIN`.
    fn note_write(&self, res: io::Result<usize>, offered: usize) -> io::Result<usize> {
        if let Ok(n) = res {
            if n > 0 && n < offered {
                self.io.clear_readiness(Interest::WRITABLE);
            }
        }
        res
    }

    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Interest::READABLE, |s| sys::recv(s.as_fd(), buf))
    }

    fn poll_read_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Interest::READABLE, |s| (&*s).read_vectored(bufs))
    }

    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let res = ready!(self
            .io
            .poll_io(cx, Interest::WRITABLE, |s| sys::send(s.as_fd(), buf)));
        Poll::Ready(self.note_write(res, buf.len()))
    }

    fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // `sendmsg` takes at most `IOV_MAX` slices: writing all of those is
        // a full write, not a short one.
        let offered = bufs.iter().take(sys::IOV_MAX).map(|b| b.len()).sum();
        let res = ready!(self.io.poll_io(cx, Interest::WRITABLE, |s| {
            sys::send_vectored(s.as_fd(), bufs)
        }));
        Poll::Ready(self.note_write(res, offered))
    }

    fn poll_close_priv(&self) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

/// Delegates to `&UnixStream`: reading needs only a shared reference.
impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read_vectored(cx, bufs)
    }
}

impl AsyncRead for &UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_priv(cx, bufs)
    }
}

/// Delegates to `&UnixStream`. `poll_flush` is a no-op (nothing is
/// buffered); `poll_close` shuts down the write side.
impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_close(cx)
    }
}

/// One task may write through `&UnixStream` while another reads. Writes
/// are `send`/`sendmsg` with `MSG_NOSIGNAL` (vectored writes take at most
/// `IOV_MAX` slices per call). `poll_flush` is a no-op; `poll_close` shuts
/// down the write side.
impl AsyncWrite for &UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_close_priv()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
