//! `TcpStream`: a connected socket whose reads and writes wait on the driver.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::net::{self, Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use edgeloop_runtime::io::{AsyncFd, AsyncRead, AsyncWrite, Interest, Ready};

use super::each_addr;
use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::sys;

/// A TCP connection.
///
/// Reads and writes wait in separate directions, so one task may read while
/// another writes: `&TcpStream` implements `AsyncRead` and `AsyncWrite` too.
///
/// ```
/// use std::io::{Read, Write};
/// use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
/// use edgeloop::net::TcpStream;
///
/// // The other end is a plain std socket; its blocking calls return at
/// // once here, since the bytes they wait for are already sent.
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
/// edgeloop::block_on(async {
///     let mut stream = TcpStream::connect(server.local_addr()?).await?;
///     let (mut peer, _) = server.accept()?;
///     stream.write_all(b"hello").await?;
///     let mut got = [0; 5];
///     peer.read_exact(&mut got)?;
///     peer.write_all(b"world")?;
///     let mut reply = [0; 5];
///     stream.read_exact(&mut reply).await?;
///     assert_eq!((&got, &reply), (b"hello", b"world"));
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpStream {
    io: AsyncFd<net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to until one
    /// accepts; otherwise returns the last error (`ConnectionRefused`,
    /// `TimedOut`, …).
    ///
    /// The connect is nonblocking: `EINPROGRESS`, then a wait for
    /// writability, then `SO_ERROR` says how it ended.
    ///
    /// # Panics
    /// When polled outside an edgeloop runtime.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let fd = sys::stream_socket(&addr)?;
        let connected = sys::connect(fd.as_fd(), &addr)?;
        let stream = TcpStream::from_connected(fd)?;
        if !connected {
            stream.wait_connected().await?;
        }
        Ok(stream)
    }

    /// Waits until an in-progress connect has finished, one way or the other.
    async fn wait_connected(&self) -> io::Result<()> {
        loop {
            let mut guard = self.io.writable().await?;
            if let Some(err) = self.io.get_ref().take_error()? {
                return Err(err);
            }
            // Writable and no error: connected, unless the readiness was the
            // optimistic one a new registration starts with.
            match self.io.get_ref().peer_addr() {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => guard.clear_ready(),
                Err(e) => return Err(e),
            }
        }
    }

    /// Wraps a connected, nonblocking socket fd.
    pub(crate) fn from_connected(fd: OwnedFd) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: AsyncFd::new(net::TcpStream::from(fd))?,
        })
    }

    /// Wraps a stream made by `std`; it is switched to nonblocking mode.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            io: AsyncFd::new(stream)?,
        })
    }

    /// Deregisters the socket and hands it back, still nonblocking.
    pub fn into_std(self) -> io::Result<net::TcpStream> {
        Ok(self.io.into_inner())
    }

    /// Waits until a read may make progress (data, EOF or an error). The
    /// readiness can be stale; follow with [`try_read`](Self::try_read), and
    /// wait again on `WouldBlock`.
    ///
    /// Cancel-safe; each caller waits in its own place, released when the
    /// future ends, so several tasks may wait at once.
    ///
    /// ```
    /// use std::io::{ErrorKind, Write};
    /// use edgeloop::net::TcpListener;
    ///
    /// edgeloop::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    ///     let (stream, _) = listener.accept().await?;
    ///     peer.write_all(b"ping")?;
    ///     let mut buf = [0; 16];
    ///     let n = loop {
    ///         stream.readable().await?;
    ///         match stream.try_read(&mut buf) {
    ///             Ok(n) => break n,
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             Err(e) => return Err(e),
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"ping");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
    /// use edgeloop::net::{TcpListener, TcpStream};
    ///
    /// edgeloop::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     let ready = stream.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(ready.is_writable(), "a fresh connection can be written");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await.map(|guard| guard.ready())
    }

    /// Polls for read readiness.
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
    /// use edgeloop::net::TcpListener;
    ///
    /// edgeloop::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    ///     let (stream, _) = listener.accept().await?;
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
        let asked = buf.len();
        let res = self
            .io
            .try_io(Interest::READABLE, |s| sys::recv(s.as_fd(), buf));
        self.note_transfer(Interest::READABLE, res, asked)
    }

    /// Writes without waiting: `WouldBlock` if the send buffer is full.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let res = self
            .io
            .try_io(Interest::WRITABLE, |s| sys::send(s.as_fd(), buf));
        self.note_transfer(Interest::WRITABLE, res, buf.len())
    }

    /// Borrowed halves: read through one while writing through the other
    /// (say, in two branches of one task's `join`). No cost: each is a
    /// reference to this stream.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Owned halves, to move into two tasks (a reader and a writer). Dropping
    /// the write half shuts the write side down; [`OwnedReadHalf::reunite`]
    /// puts them back together.
    ///
    /// ```
    /// use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
    /// use edgeloop::net::{TcpListener, TcpStream};
    ///
    /// edgeloop::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let (mut read, mut write) = server.into_split();
    ///     let echo = edgeloop::spawn(async move {
    ///         let mut buf = [0; 5];
    ///         read.read_exact(&mut buf).await?;
    ///         Ok::<_, std::io::Error>(buf)
    ///     });
    ///     (&client).write_all(b"hello").await?;
    ///     assert_eq!(&echo.await??, b"hello");
    ///     write.write_all(b"bye").await?;
    ///     drop(write); // FIN: the client reads "bye", then EOF
    ///     let mut rest = Vec::new();
    ///     (&client).read_to_end(&mut rest).await?;
    ///     assert_eq!(rest, b"bye");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }

    /// Reads into `buf` without taking the data out of the socket
    /// (`MSG_PEEK`): the next read gets the same bytes.
    ///
    /// Cancel-safe. A peek never proves the socket drained, so it leaves
    /// the readiness as it is.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.peek(buf)).await
    }

    /// Sets `SO_LINGER`: `Some(d)` makes closing wait up to `d` for unsent
    /// data (`Some(0)` resets the connection instead of a FIN); `None`, the
    /// default, closes in the background.
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        sys::set_linger(self.io.get_ref().as_fd(), linger)
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<std::time::Duration>> {
        sys::linger(self.io.get_ref().as_fd())
    }

    /// Shuts down the read side, the write side, or both. Shutting down the
    /// write side sends FIN: the peer reads EOF once it has read the rest.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// A short transfer on a stream socket leaves that direction drained:
    /// a read that got less than it asked for emptied the receive queue, a
    /// write that put less than it offered filled the send buffer. Either
    /// way the next call could only get `EAGAIN`, and anything that changes
    /// that (new data, freed space) raises a new edge. So the readiness is
    /// forgotten now and the `EAGAIN` round trip is saved (see
    /// `AsyncFd::clear_readiness`). EOF (`Ok(0)`) keeps it: a read there
    /// returns at once.
    #[inline]
    fn note_transfer(
        &self,
        interest: Interest,
        res: io::Result<usize>,
        asked: usize,
    ) -> io::Result<usize> {
        if let Ok(n) = res {
            if n > 0 && n < asked {
                self.io.clear_readiness(interest);
            }
        }
        res
    }

    #[inline]
    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let asked = buf.len();
        let res = ready!(self
            .io
            .poll_io(cx, Interest::READABLE, |s| sys::recv(s.as_fd(), buf)));
        Poll::Ready(self.note_transfer(Interest::READABLE, res, asked))
    }

    fn poll_read_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        // std's `readv` takes at most `IOV_MAX` slices, as `sendmsg` does:
        // a read that fills those is full, not short.
        let asked = bufs.iter().take(sys::IOV_MAX).map(|b| b.len()).sum();
        let res = ready!(self
            .io
            .poll_io(cx, Interest::READABLE, |s| (&*s).read_vectored(bufs)));
        Poll::Ready(self.note_transfer(Interest::READABLE, res, asked))
    }

    #[inline]
    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let res = ready!(self
            .io
            .poll_io(cx, Interest::WRITABLE, |s| sys::send(s.as_fd(), buf)));
        Poll::Ready(self.note_transfer(Interest::WRITABLE, res, buf.len()))
    }

    fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let asked = bufs.iter().take(sys::IOV_MAX).map(|b| b.len()).sum();
        let res = ready!(self.io.poll_io(cx, Interest::WRITABLE, |s| {
            sys::send_vectored(s.as_fd(), bufs)
        }));
        Poll::Ready(self.note_transfer(Interest::WRITABLE, res, asked))
    }

    fn poll_close_priv(&self) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

/// Delegates to `&TcpStream`: reading needs only a shared reference.
impl AsyncRead for TcpStream {
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }

    #[inline]
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read_vectored(cx, bufs)
    }
}

impl AsyncRead for &TcpStream {
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }

    #[inline]
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_priv(cx, bufs)
    }
}

/// Delegates to `&TcpStream`. `poll_flush` is a no-op (nothing is
/// buffered); `poll_close` shuts down the write side.
impl AsyncWrite for TcpStream {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write(cx, buf)
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_flush(cx)
    }

    #[inline]
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_close(cx)
    }
}

/// One task may write through `&TcpStream` while another reads.
/// `poll_flush` is a no-op (nothing is buffered); `poll_close` shuts down
/// the write side.
impl AsyncWrite for &TcpStream {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_close_priv()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
