//! Readiness bits that must not stick: an error a syscall has consumed, the
//! hang-up an unconnected socket reports, and a short read that stops at TCP
//! urgent data while normal data is still queued behind it.

mod util;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use edgeloop::io::{AsyncFd, AsyncReadExt, Interest, Ready};
use edgeloop::time::{sleep, timeout};
use util::{run_with_timeout, send_urgent, watchdog, LOCALHOST_0};

/// A nonblocking, close-on-exec IPv4 TCP socket that is not connected.
fn unconnected_tcp_socket() -> std::net::TcpStream {
    // SAFETY: plain integer arguments.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: the kernel just returned `fd`; nothing else owns it.
    std::net::TcpStream::from(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Starts a nonblocking connect of `socket` to the IPv4 address `addr`.
fn start_connect(socket: &impl AsRawFd, addr: SocketAddr) {
    let SocketAddr::V4(v4) = addr else {
        panic!("{addr} is not IPv4")
    };
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(v4.ip().octets()),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: `sin` is a valid `sockaddr_in` of the size passed, alive
    // across the call.
    let res = unsafe {
        libc::connect(
            socket.as_raw_fd(),
            (&sin as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    let err = std::io::Error::last_os_error();
    assert!(
        res == 0 || err.raw_os_error() == Some(libc::EINPROGRESS),
        "connect: {err}"
    );
}

/// A socket error is consumed by the first syscall that reports it, so the
/// `ERROR` bit epoll raised must leave the readiness cache then. If it stays,
/// every later read finds the fd ready, gets `EAGAIN`, clears only
/// `READABLE` and asks again: `poll_io` loops inside one poll forever and
/// not even a timeout can fire. Fails today by hanging (the watchdog fires).
#[test]
fn a_consumed_socket_error_does_not_leave_the_fd_ready_forever() {
    run_with_timeout(Duration::from_secs(20), || {
        edgeloop::block_on(async {
            // A port nobody listens on: bind one, note it, let it go.
            let dead = std::net::UdpSocket::bind(LOCALHOST_0)
                .and_then(|s| s.local_addr())
                .unwrap();
            let socket = std::net::UdpSocket::bind(LOCALHOST_0).unwrap();
            socket.connect(dead).unwrap();
            socket.set_nonblocking(true).unwrap();
            let fd = AsyncFd::new(socket).unwrap();
            fd.get_ref().send(b"anyone there?").unwrap();
            // Loopback answers with ICMP port unreachable: EPOLLERR. The
            // test needs the driver to have cached it before the first recv
            // (each yield resumes after a driver check; the watchdog bounds
            // the wait).
            while !fd.readiness().is_error() {
                edgeloop::yield_now().await;
            }
            let mut buf = [0; 64];
            let first = timeout(
                Duration::from_secs(5),
                fd.async_io(Interest::READABLE, |s| s.recv(&mut buf)),
            )
            .await
            .expect("no ICMP error arrived for a datagram to a closed port");
            let err = first.expect_err("a datagram arrived from a closed port");
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            // The error is consumed; now the socket is simply empty.
            let second = timeout(
                Duration::from_millis(200),
                fd.async_io(Interest::READABLE, |s| s.recv(&mut buf)),
            )
            .await;
            assert!(
                second.is_err(),
                "nothing more was sent to this socket, yet recv gave {second:?}"
            );
        });
    });
}

/// Waits for `fd`'s connect to finish the way `TcpStream::connect` does:
/// writable, then `peer_addr`; `NotConnected` means the readiness was stale,
/// so clear it and wait again. Returns how many waits it took, or `None` if
/// `limit` waits all found the fd "writable" while it was not connected.
async fn wait_connected(fd: &AsyncFd<std::net::TcpStream>, limit: usize) -> Option<usize> {
    for waits in 1..=limit {
        let mut guard = fd.writable().await.expect("writable");
        match fd.get_ref().peer_addr() {
            Ok(_) => return Some(waits),
            Err(e) if e.kind() == ErrorKind::NotConnected => guard.clear_ready(),
            Err(e) => panic!("peer_addr: {e}"),
        }
    }
    None
}

/// A listener on a free loopback port whose accept queue holds one
/// connection, already filled by `filler`: the kernel drops the next SYN, so
/// a connect to it stays in progress until the client retransmits (after
/// about a second), when a thread has made room by accepting the filler.
fn listener_that_delays_the_next_connect(
) -> (std::net::TcpListener, SocketAddr, std::net::TcpStream) {
    // SAFETY: plain integer arguments.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: the kernel just returned `fd`; nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: `sin` is a valid `sockaddr_in` of the size passed.
    let res = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sin as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(res, 0, "bind: {}", std::io::Error::last_os_error());
    // A backlog of 0: the accept queue is full with one connection.
    // SAFETY: plain integer arguments.
    let res = unsafe { libc::listen(fd.as_raw_fd(), 0) };
    assert_eq!(res, 0, "listen: {}", std::io::Error::last_os_error());
    let listener = std::net::TcpListener::from(fd);
    let addr = listener.local_addr().unwrap();
    let filler = std::net::TcpStream::connect(addr).expect("connect the filler");
    (listener, addr, filler)
}

/// The hang-up an unconnected TCP socket reports (epoll says `EPOLLHUP` for
/// a socket in `CLOSE`) is not final: once the socket connects it is gone.
/// The socket is registered first and the driver turned, so the cache holds
/// the hang-up; then a connect starts that stays in progress for about a
/// second (the listener's queue is full, so the SYN is retransmitted). If the
/// hang-up sticks, `writable()` is ready at once on every wait, so the loop
/// burns through all its waits in a millisecond without ever yielding and
/// never sees the connection. Fails today: `None` waits (all 1,000 spent).
#[test]
fn the_hang_up_of_an_unconnected_socket_is_forgotten_once_it_connects() {
    run_with_timeout(Duration::from_secs(20), || {
        let (listener, addr, _filler) = listener_that_delays_the_next_connect();
        // Makes room for the delayed connect well before its SYN is resent.
        let acceptor = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            let filler = listener.accept().expect("accept the filler");
            let delayed = listener.accept().expect("accept the delayed connect");
            (filler, delayed)
        });
        let (waits, local) = edgeloop::block_on(async {
            let fd = AsyncFd::new(unconnected_tcp_socket()).unwrap();
            // One driver turn: epoll reports the unconnected socket's
            // hang-up, and today's cache keeps it.
            edgeloop::yield_now().await;
            start_connect(fd.get_ref(), addr);
            let waits = wait_connected(&fd, 1000).await;
            (waits, fd.get_ref().local_addr().unwrap())
        });
        let waits = waits.expect(
            "writable() was ready 1,000 times while the connect was still in \
             progress: the unconnected socket's hang-up stuck in the readiness cache",
        );
        assert!(waits < 1000, "{waits} waits");
        let (_filler, (_delayed, peer)) = acceptor.join().expect("the acceptor thread");
        assert_eq!(peer, local, "the listener got this socket's connection");
    });
}

/// Connects a `std` peer to an edgeloop listener; the peer sends `AAAA`, the
/// urgent byte `B`, then `CCCC`, as three segments, and all of it has arrived
/// when this returns. `oob_inline` sets `SO_OOBINLINE` on the server's socket
/// first. Returns the server's end (and the peer, to keep it open).
async fn urgent_data_stream(oob_inline: bool) -> (edgeloop::net::TcpStream, std::net::TcpStream) {
    use std::io::Write;
    let (listener, addr) = util::local_listener().await;
    // Loopback completes the handshake in the kernel; this does not block.
    let mut peer = std::net::TcpStream::connect(addr).unwrap();
    peer.set_nodelay(true).unwrap();
    let (server, _) = listener.accept().await.unwrap();
    if oob_inline {
        util::set_oob_inline(&server);
    }
    // Small pauses keep the three sends in separate segments.
    peer.write_all(b"AAAA").unwrap();
    std::thread::sleep(Duration::from_millis(10));
    send_urgent(&peer, b'B');
    std::thread::sleep(Duration::from_millis(10));
    peer.write_all(b"CCCC").unwrap();
    // Let it all arrive (and the driver see it) before the first read.
    sleep(Duration::from_millis(20)).await;
    (server, peer)
}

/// A read stops at the urgent mark, so it returns fewer bytes than asked
/// while normal data still waits behind the urgent byte. Treating that short
/// read as "drained" clears the read readiness, and since the data is
/// already there no new edge ever comes. Fails today: the second read
/// waits forever (here: its 2 s timeout elapses).
#[test]
fn a_read_that_stops_at_urgent_data_does_not_lose_the_data_behind_it() {
    util::watchdog(|| {
        edgeloop::block_on(async {
            let (mut server, _peer) = urgent_data_stream(false).await;
            let mut buf = [0; 64];
            let n = server.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"AAAA", "the read before the urgent mark");
            let n = timeout(Duration::from_secs(2), server.read(&mut buf))
                .await
                .expect("the read after the urgent mark stalled although CCCC had arrived")
                .unwrap();
            assert_eq!(
                &buf[..n],
                b"CCCC",
                "the urgent byte stays out of band; the normal data follows"
            );
        });
    });
}

/// With `SO_OOBINLINE` the urgent byte stays in the stream, and reads still
/// stop at the mark: every byte must come, in order, and no read may stall.
/// Fails today: the read after `AAAA` waits forever (its 2 s timeout).
#[test]
fn with_oob_inline_urgent_data_reads_in_order_without_a_stall() {
    util::watchdog(|| {
        edgeloop::block_on(async {
            let (mut server, _peer) = urgent_data_stream(true).await;
            let mut got = Vec::new();
            let mut buf = [0; 64];
            // At most one read per byte; each read bounded.
            for _ in 0..9 {
                if got.len() >= 9 {
                    break;
                }
                let n = timeout(Duration::from_secs(2), server.read(&mut buf))
                    .await
                    .unwrap_or_else(|_| {
                        panic!(
                            "a read stalled after {:?} although all 9 bytes had arrived",
                            String::from_utf8_lossy(&got)
                        )
                    })
                    .unwrap();
                assert!(n > 0, "EOF after {:?}", String::from_utf8_lossy(&got));
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(String::from_utf8_lossy(&got), "AAAABCCCC");
        });
    });
}

/// epoll reports urgent data as `EPOLLPRI`; the readiness must keep it
/// apart from plain readability (it is what tells a short read at the
/// urgent mark from a drained socket).
#[test]
fn urgent_data_is_visible_as_priority_readiness() {
    watchdog(|| {
        assert!(Ready::PRIORITY.is_priority());
        assert!(!Ready::READABLE.is_priority());
        edgeloop::block_on(async {
            let (listener, addr) = util::std_listener();
            let peer = std::net::TcpStream::connect(addr).unwrap();
            let (server, _) = listener.accept().unwrap();
            server.set_nonblocking(true).unwrap();
            let fd = AsyncFd::new(server).unwrap();
            assert!(!fd.readiness().is_priority(), "nothing urgent yet");
            send_urgent(&peer, b'!');
            // Bounded: the event is there on the next driver turn or so.
            let mut seen = false;
            for _ in 0..1000 {
                if fd.readiness().is_priority() {
                    seen = true;
                    break;
                }
                sleep(Duration::from_millis(1)).await;
            }
            assert!(
                seen,
                "the urgent byte never showed as priority: {:?}",
                fd.readiness()
            );
        });
    });
}
