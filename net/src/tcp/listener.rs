//! `TcpListener`: a listening socket whose `accept` waits on the driver.

use std::fmt;
use std::io;
use std::net::{self, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use edgeloop_runtime::io::{AsyncFd, Interest};
use futures_core::Stream;

use super::{each_addr, TcpStream};
use crate::sys;

/// A TCP socket server, listening for connections.
///
/// ```no_run
/// use edgeloop_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use edgeloop_net::TcpListener;
///
/// async fn serve() -> std::io::Result<()> {
///     let listener = TcpListener::bind("127.0.0.1:8080").await?;
///     loop {
///         let (mut stream, _peer) = listener.accept().await?;
///         edgeloop_runtime::spawn(async move {
///             let mut buf = [0; 1024];
///             while let Ok(n @ 1..) = stream.read(&mut buf).await {
///                 if stream.write_all(&buf[..n]).await.is_err() {
///                     break;
///                 }
///             }
///         });
///     }
/// }
/// edgeloop_runtime::block_on(serve())?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    io: AsyncFd<net::TcpListener>,
}

impl TcpListener {
    /// Creates a listener bound to `addr`.
    ///
    /// Each address `addr` resolves to is tried in turn; the first that binds
    /// is used, otherwise the last error is returned (`AddrInUse`,
    /// `PermissionDenied`, …). `SO_REUSEADDR` is set. Bind to port 0 to let
    /// the OS pick a free port, then ask [`local_addr`](Self::local_addr).
    ///
    /// # Panics
    /// When polled outside an edgeloop runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(addr, |addr| async move { TcpListener::bind_addr(addr) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<TcpListener> {
        let fd = sys::stream_socket(&addr)?;
        sys::set_reuseaddr(fd.as_fd())?;
        sys::bind(fd.as_fd(), &addr)?;
        sys::listen(fd.as_fd(), sys::LISTEN_BACKLOG)?;
        Ok(TcpListener {
            io: AsyncFd::new(net::TcpListener::from(fd))?,
        })
    }

    /// Wraps a listener made by `std`; it is switched to nonblocking mode.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: AsyncFd::new(listener)?,
        })
    }

    /// Deregisters the listener and hands it back, still nonblocking.
    pub fn into_std(self) -> io::Result<net::TcpListener> {
        Ok(self.io.into_inner())
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Cancel-safe: if the future is dropped, no connection is lost — it
    /// stays in the kernel's accept queue. Several tasks may accept on one
    /// listener at once; each waits in its own place, released when its
    /// future ends.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (fd, peer) = self
            .io
            .async_io(Interest::READABLE, |l| sys::accept(l.as_fd()))
            .await?;
        TcpStream::from_connected(fd).map(|s| (s, peer))
    }

    /// Polls for a connection; on `Pending` the task is woken when one
    /// arrives. Like every `poll_*` method it keeps only the most recent
    /// caller's waker: for several tasks accepting at once, use
    /// [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (fd, peer) = ready!(self
            .io
            .poll_io(cx, Interest::READABLE, |l| sys::accept(l.as_fd())))?;
        Poll::Ready(TcpStream::from_connected(fd).map(|s| (s, peer)))
    }

    /// The connections, as a `Stream` that never ends (each item may be an
    /// error, which is not fatal to the listener).
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of accepted connections' packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

/// The stream of [`TcpListener::incoming`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let accepted = ready!(self.listener.poll_accept(cx));
        Poll::Ready(Some(accepted.map(|(stream, _)| stream)))
    }
}
