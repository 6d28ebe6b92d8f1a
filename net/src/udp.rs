//! `UdpSocket`: datagrams, each operation one `AsyncFd::poll_io` around the
//! syscall.

use std::fmt;
use std::io;
use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use edgeloop_runtime::io::{AsyncFd, Interest, Ready};

use crate::sys;
use crate::tcp::each_addr;

/// A UDP socket: send and receive datagrams.
///
/// Unconnected, it talks to anyone ([`send_to`](Self::send_to),
/// [`recv_from`](Self::recv_from)); after [`connect`](Self::connect) it
/// talks to one peer ([`send`](Self::send), [`recv`](Self::recv)) and
/// receives only that peer's datagrams.
///
/// A datagram larger than the buffer given to a receive is cut to the
/// buffer's length, as the OS does; the rest of it is lost. An ICMP error
/// for an earlier send (say "port unreachable" on a connected socket) shows
/// up as the OS's error on the next call, after which the socket goes on
/// working.
///
/// Several tasks may wait on one socket through the `async` methods (each
/// keeps its own place among the waiters); the `poll_*` methods keep only
/// the most recent caller's waker per direction.
///
/// ```
/// use edgeloop::net::UdpSocket;
///
/// edgeloop::block_on(async {
///     let server = UdpSocket::bind("127.0.0.1:0").await?;
///     let client = UdpSocket::bind("127.0.0.1:0").await?;
///     client.send_to(b"ping", server.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = server.recv_from(&mut buf).await?;
///     server.send_to(&buf[..n], from).await?;
///     let (n, _) = client.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    io: AsyncFd<net::UdpSocket>,
}

impl UdpSocket {
    /// Creates a socket bound to `addr` (each address it resolves to is
    /// tried in turn; the last error is returned if none binds). Bind to
    /// port 0 to let the OS pick one, then ask [`local_addr`](Self::local_addr).
    ///
    /// # Panics
    /// When polled outside an edgeloop runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        each_addr(addr, |addr| async move { UdpSocket::bind_addr(addr) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<UdpSocket> {
        let fd = sys::datagram_socket(&addr)?;
        sys::bind(fd.as_fd(), &addr)?;
        Ok(UdpSocket {
            io: AsyncFd::new(net::UdpSocket::from(fd))?,
        })
    }

    /// Wraps a socket made by `std`; it is switched to nonblocking mode.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn from_std(socket: net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: AsyncFd::new(socket)?,
        })
    }

    /// Deregisters the socket and hands it back, still nonblocking.
    pub fn into_std(self) -> io::Result<net::UdpSocket> {
        Ok(self.io.into_inner())
    }

    /// Sets the one peer [`send`](Self::send) sends to and
    /// [`recv`](Self::recv) receives from (the first address `addr`
    /// resolves to that the OS accepts). For UDP this exchanges no packet.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        each_addr(addr, |addr| async move { self.io.get_ref().connect(addr) }).await
    }

    /// Sends `buf` as one datagram to the connected peer; how many bytes
    /// went (all of them, or an error such as `EMSGSIZE`).
    ///
    /// Cancel-safe: dropped before it completes, nothing was sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Interest::WRITABLE, |s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer into `buf`.
    ///
    /// Cancel-safe: dropped before it completes, no datagram was taken.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.recv(buf)).await
    }

    /// Sends `buf` as one datagram to `target` (its first address).
    ///
    /// Cancel-safe: dropped before it completes, nothing was sent.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = first_addr(target)?;
        self.io
            .async_io(Interest::WRITABLE, |s| s.send_to(buf, target))
            .await
    }

    /// Receives one datagram into `buf`; how long it was (cut to `buf`) and
    /// who sent it.
    ///
    /// Cancel-safe: dropped before it completes, no datagram was taken.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| s.recv_from(buf))
            .await
    }

    /// Like [`recv_from`](Self::recv_from), but leaves the datagram queued:
    /// the next receive gets it again.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| s.peek_from(buf))
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
        self.io.poll_io(cx, Interest::WRITABLE, |s| s.send(buf))
    }

    /// Polls to receive from the connected peer.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::READABLE, |s| s.recv(buf))
    }

    /// Polls to send `buf` to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Interest::WRITABLE, |s| s.send_to(buf, target))
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

    /// Polls to peek at the next datagram and its sender.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io(cx, Interest::READABLE, |s| s.peek_from(buf))
    }

    /// Sends to the connected peer without waiting: `WouldBlock` if the
    /// socket cannot take the datagram now.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| s.send(buf))
    }

    /// Receives from the connected peer without waiting: `WouldBlock` if no
    /// datagram is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.recv(buf))
    }

    /// Sends to `target` without waiting.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |s| s.send_to(buf, target))
    }

    /// Receives a datagram and its sender without waiting.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Peeks at the next datagram without waiting.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.peek_from(buf))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address (`NotConnected` before [`connect`](Self::connect)).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `SO_BROADCAST` (allows sending to a broadcast address).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets the IP time-to-live of outgoing datagrams.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Joins the IPv4 multicast group `group` on the interface `interface`
    /// (`Ipv4Addr::UNSPECIFIED`: the OS picks).
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&group, &interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&group, &interface)
    }

    /// Joins the IPv6 multicast group `group` on interface number `interface`
    /// (0: the OS picks).
    pub fn join_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(group, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(group, interface)
    }

    /// Sets whether this socket's own IPv4 multicast datagrams loop back to it.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// Sets the time-to-live of outgoing IPv4 multicast datagrams.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any: an ICMP error
    /// for an earlier send, say.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// The first address `addr` resolves to.
fn first_addr<A: ToSocketAddrs>(addr: A) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    })
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
