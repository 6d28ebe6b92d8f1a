//! `UdpSocket`: echo, connected sockets, truncation as the OS does it, an
//! ICMP error that surfaces once and leaves the socket working, peeking,
//! non-waiting calls, and the std conversions.

mod util;

use std::io::ErrorKind;
use std::time::Duration;

use edgeloop::net::UdpSocket;
use edgeloop::time::timeout;
use util::{watchdog, LOCALHOST_0};

#[test]
fn datagrams_echo_between_two_sockets() {
    watchdog(|| {
        edgeloop::block_on(async {
            let server = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            let server_addr = server.local_addr().unwrap();
            let echo = edgeloop::spawn(async move {
                let mut buf = [0; 1500];
                for _ in 0..3 {
                    let (n, from) = server.recv_from(&mut buf).await.unwrap();
                    server.send_to(&buf[..n], from).await.unwrap();
                }
            });
            let client = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            let mut buf = [0; 1500];
            for msg in [&b"one"[..], b"two", b"three"] {
                client.send_to(msg, server_addr).await.unwrap();
                let (n, from) = client.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], msg);
                assert_eq!(from, server_addr);
            }
            echo.await.unwrap();
        });
    });
}

#[test]
fn a_connected_socket_sends_and_receives_with_its_peer_only() {
    watchdog(|| {
        edgeloop::block_on(async {
            let a = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            let b = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            let stranger = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            a.connect(b.local_addr().unwrap()).await.unwrap();
            b.connect(a.local_addr().unwrap()).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
            // The kernel drops a stranger's datagram to a connected socket.
            stranger
                .send_to(b"not for you", a.local_addr().unwrap())
                .await
                .unwrap();
            b.send(b"hello").await.unwrap();
            let mut buf = [0; 64];
            let n = a.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"hello");
        });
    });
}

/// A datagram longer than the buffer is cut to the buffer, as the OS does
/// (no panic, no error); the rest of it is gone, and the next datagram is
/// whole.
#[test]
fn a_datagram_larger_than_the_buffer_is_truncated() {
    watchdog(|| {
        edgeloop::block_on(async {
            let rx = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            let tx = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            let to = rx.local_addr().unwrap();
            tx.send_to(&[7; 100], to).await.unwrap();
            tx.send_to(b"next", to).await.unwrap();
            let mut small = [0; 10];
            let (n, _) = rx.recv_from(&mut small).await.unwrap();
            assert_eq!((n, small), (10, [7; 10]));
            let mut buf = [0; 64];
            let (n, _) = rx.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"next");
        });
    });
}

/// Sending to a port nobody listens on brings back an ICMP error: the next
/// call on the (connected) socket gets `ConnectionRefused`; after that the
/// socket waits as usual (a receive times out rather than spinning or
/// failing again), and still works with a live peer.
#[test]
fn an_icmp_error_surfaces_once_and_the_socket_goes_on() {
    watchdog(|| {
        edgeloop::block_on(async {
            let closed = std::net::UdpSocket::bind(LOCALHOST_0).unwrap();
            let closed_addr = closed.local_addr().unwrap();
            drop(closed);
            let socket = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            socket.connect(closed_addr).await.unwrap();
            socket.send(b"anyone?").await.unwrap();
            // The recv waits for the ICMP error's EPOLLERR if it is not in yet.
            let mut buf = [0; 64];
            let err = socket.recv(&mut buf).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
            let quiet = timeout(Duration::from_millis(50), socket.recv(&mut buf)).await;
            assert!(quiet.is_err(), "nothing more arrives: {quiet:?}");
            let live = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            socket.connect(live.local_addr().unwrap()).await.unwrap();
            live.connect(socket.local_addr().unwrap()).await.unwrap();
            live.send(b"here").await.unwrap();
            let n = socket.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"here");
        });
    });
}

#[test]
fn peeking_leaves_the_datagram_and_try_calls_do_not_wait() {
    watchdog(|| {
        edgeloop::block_on(async {
            let rx = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            let tx = UdpSocket::bind(LOCALHOST_0).await.unwrap();
            let mut buf = [0; 64];
            let empty = rx.try_recv_from(&mut buf).unwrap_err();
            assert_eq!(empty.kind(), ErrorKind::WouldBlock);
            tx.try_send_to(b"peek me", rx.local_addr().unwrap())
                .unwrap();
            let (n, from) = rx.peek_from(&mut buf).await.unwrap();
            assert_eq!(
                (&buf[..n], from),
                (&b"peek me"[..], tx.local_addr().unwrap())
            );
            let (n, _) = rx.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"peek me");
        });
    });
}

#[test]
fn a_socket_converts_to_and_from_std() {
    watchdog(|| {
        edgeloop::block_on(async {
            let std_socket = std::net::UdpSocket::bind(LOCALHOST_0).unwrap();
            let addr = std_socket.local_addr().unwrap();
            let socket = UdpSocket::from_std(std_socket).unwrap();
            assert_eq!(socket.local_addr().unwrap(), addr);
            socket.set_ttl(9).unwrap();
            assert_eq!(socket.ttl().unwrap(), 9);
            socket.set_broadcast(true).unwrap();
            assert!(socket.broadcast().unwrap());
            assert!(socket.take_error().unwrap().is_none());
            let back = socket.into_std().unwrap();
            assert_eq!(back.local_addr().unwrap(), addr);
        });
    });
}
