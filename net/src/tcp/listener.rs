//! `TcpListener`: a listening socket whose `accept` waits on the driver.

use std::fmt;
use std::io;
use std::net::{self, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use edgeloop_runtime::io::AsyncFd;
use futures_core::Stream;

use super::{each_addr, TcpStream};
use crate::exhaustion::FdExhaustion;
use crate::sys;

/// A TCP socket server, listening for connections.
///
/// ```no_run
/// use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
/// use edgeloop::net::TcpListener;
///
/// async fn serve() -> std::io::Result<()> {
///     let listener = TcpListener::bind("127.0.0.1:8080").await?;
///     loop {
///         let (mut stream, _peer) = listener.accept().await?;
///         edgeloop::spawn(async move {
///             let mut buf = [0; 1024];
///             while let Ok(n @ 1..) = stream.read(&mut buf).await {
///                 if stream.write_all(&buf[..n]).await.is_err() {
///                     break;
///                 }
///             }
///         });
///     }
/// }
/// edgeloop::block_on(serve())?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    io: AsyncFd<net::TcpListener>,
    /// Out-of-fds episodes: the error once, then a wait (see `accept`).
    exhaustion: FdExhaustion,
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
        TcpListener::from_registered(AsyncFd::new(net::TcpListener::from(fd))?)
    }

    fn from_registered(io: AsyncFd<net::TcpListener>) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io,
            exhaustion: FdExhaustion::default(),
        })
    }

    /// Wraps a listener made by `std`; it is switched to nonblocking mode.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_registered(AsyncFd::new(listener)?)
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
    ///
    /// # Out of file descriptors
    ///
    /// When the process (`EMFILE`) or the system (`ENFILE`) is out of file
    /// descriptors, the error is returned **once**; from then on `accept`
    /// waits until this runtime closes one of its fds (or
    /// 100 ms have passed) before trying again, and keeps waiting without
    /// repeating the error until a connection is accepted. So the plain
    /// loop
    ///
    /// ```no_run
    /// # async fn serve(listener: edgeloop::net::TcpListener) {
    /// loop {
    ///     match listener.accept().await {
    ///         Ok((stream, _)) => { /* spawn a task for it */ }
    ///         Err(err) => eprintln!("accept: {err}"),
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// prints one line and idles at the limit instead of spinning on the
    /// error (the connection waits in the kernel's queue meanwhile).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (fd, peer) = self
            .exhaustion
            .accept(&self.io, |l| sys::accept(l.as_fd()))
            .await?;
        Ok((TcpStream::from_connected(fd)?, peer))
    }

    /// Polls for a connection; on `Pending` the task is woken when one
    /// arrives. Like every `poll_*` method it keeps only the most recent
    /// caller's waker: for several tasks accepting at once, use
    /// [`accept`](Self::accept). Out of fds it behaves as `accept` does.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = ready!(self
            .exhaustion
            .poll_accept(cx, &self.io, |l| sys::accept(l.as_fd())));
        Poll::Ready(accepted.and_then(|(fd, peer)| Ok((TcpStream::from_connected(fd)?, peer))))
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

/// The stream of [`TcpListener::incoming`]: each item is what
/// [`poll_accept`](TcpListener::poll_accept) gives, without the peer's
/// address. It never ends, and an error item is not fatal to the listener.
/// It waits as `poll_accept` does, in the listener's one `poll_*` slot: for
/// several tasks accepting at once, use [`accept`](TcpListener::accept).
///
/// `Stream` is the `futures-core` crate's trait, so a caller needs that
/// crate (or `futures`) to name it; edgeloop has no `StreamExt`. Polled by
/// hand:
///
/// ```
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
/// use edgeloop::net::TcpListener;
///
/// edgeloop::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let _clients = [
///         std::net::TcpStream::connect(addr)?,
///         std::net::TcpStream::connect(addr)?,
///     ];
///     let mut incoming = listener.incoming();
///     for _ in 0..2 {
///         let next = poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await;
///         let stream = next.expect("`Incoming` never ends")?;
///         assert_eq!(stream.peer_addr()?.ip(), addr.ip());
///     }
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
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
