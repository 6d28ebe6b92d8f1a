//! TCP errors come back as the OS's `io::Error`s, and one failed connection
//! does not disturb the others: peer reset, refused connect, address in use,
//! unparsable addresses.

mod util;

use std::io::{self, ErrorKind};
use std::net::SocketAddr;

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::{TcpListener, TcpStream};
use util::watchdog;

/// Writes `msg` and reads the same bytes back.
async fn assert_echoes(stream: &mut TcpStream, msg: &[u8], what: &str) {
    stream.write_all(msg).await.expect(what);
    let mut got = vec![0; msg.len()];
    stream.read_exact(&mut got).await.expect(what);
    assert_eq!(got, msg, "{what}");
}

/// Echoes until the first error, then tries one more write and returns the
/// read error and that write's result. A clean EOF is an error of the test.
async fn echo_until_error(mut stream: TcpStream) -> (io::Error, io::Result<usize>) {
    let mut buf = [0; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => panic!("the server read a clean EOF where the peer had reset"),
            Ok(n) => stream.write_all(&buf[..n]).await.expect("echo write"),
            Err(err) => {
                let write = stream.write(b"after the reset").await;
                return (err, write);
            }
        }
    }
}

#[test]
fn peer_reset_fails_the_next_read_and_write_while_other_connections_go_on() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let mut bystander = TcpStream::connect(addr).await.expect("connect bystander");
            let (conn, _) = listener.accept().await.expect("accept bystander");
            edgeloop::spawn(util::echo(conn));

            let mut victim = TcpStream::connect(addr).await.expect("connect victim");
            let (conn, _) = listener.accept().await.expect("accept victim");
            let victim_server = edgeloop::spawn(echo_until_error(conn));
            // One round trip: the server is now parked in `read` with nothing
            // left unread, so the next thing it learns is the reset.
            assert_echoes(&mut victim, b"ping", "victim before reset").await;
            util::set_linger_zero(&victim);
            drop(victim); // RST, not FIN

            let (read_err, write) = victim_server.await.expect("victim server task");
            assert_eq!(
                read_err.kind(),
                ErrorKind::ConnectionReset,
                "read after RST: {read_err}"
            );
            match write {
                Err(e) => assert!(
                    matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
                    "write after RST: {e}"
                ),
                Ok(n) => panic!("write after RST succeeded ({n} bytes)"),
            }

            // The server goes on: an old connection and a new one still echo.
            assert_echoes(&mut bystander, b"still here", "bystander after reset").await;
            edgeloop::spawn(async move {
                loop {
                    let (conn, _) = listener.accept().await.expect("accept");
                    edgeloop::spawn(util::echo(conn));
                }
            });
            let mut newcomer = TcpStream::connect(addr).await.expect("connect newcomer");
            assert_echoes(&mut newcomer, b"hello", "new connection after reset").await;
        });
    });
}

#[test]
fn peer_reset_wakes_a_writer_blocked_on_a_full_socket_with_an_error() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let client = TcpStream::connect(addr).await.expect("connect");
            let (server, _) = listener.accept().await.expect("accept");
            // Fill the send path until the kernel says EAGAIN: the client
            // never reads, so the next write has to wait for writability.
            let chunk = vec![0x5a; 64 * 1024];
            loop {
                match server.try_write(&chunk) {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("try_write: {e}"),
                }
            }
            let writer = edgeloop::spawn(async move {
                let mut server = server;
                loop {
                    if let Err(e) = server.write_all(&chunk).await {
                        return e;
                    }
                }
            });
            edgeloop::yield_now().await; // the writer is now parked (or soon will be)
            util::set_linger_zero(&client);
            drop(client);
            let err = writer.await.expect("writer task");
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                ),
                "blocked write after RST: {err}"
            );
        });
    });
}

#[test]
fn connecting_to_a_port_nobody_listens_on_is_refused() {
    watchdog(|| {
        let (listener, addr) = util::std_listener();
        drop(listener);
        let err = edgeloop::block_on(TcpStream::connect(addr))
            .expect_err("connect to a closed port succeeded");
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn binding_a_port_another_listener_holds_is_addr_in_use() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (held, addr) = util::local_listener().await;
            let err = TcpListener::bind(addr)
                .await
                .expect_err("second bind to a held port succeeded");
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "held by edgeloop: {err}");
            drop(held);

            let (std_held, addr) = util::std_listener();
            let err = TcpListener::bind(addr)
                .await
                .expect_err("bind to a port std holds succeeded");
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "held by std: {err}");
            drop(std_held);
        });
    });
}

#[test]
fn unparsable_or_empty_addresses_are_invalid_input() {
    watchdog(|| {
        edgeloop::block_on(async {
            for bad in ["127.0.0.1", "not an address", "127.0.0.1:99999", ":80x"] {
                let err = TcpListener::bind(bad).await.expect_err(bad);
                assert_eq!(err.kind(), ErrorKind::InvalidInput, "bind {bad:?}: {err}");
                let err = TcpStream::connect(bad).await.expect_err(bad);
                assert_eq!(
                    err.kind(),
                    ErrorKind::InvalidInput,
                    "connect {bad:?}: {err}"
                );
            }
            let none: &[SocketAddr] = &[];
            let err = TcpListener::bind(none)
                .await
                .expect_err("bind to no address");
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "bind to []: {err}");
            let err = TcpStream::connect(none)
                .await
                .expect_err("connect to no address");
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "connect to []: {err}");
        });
    });
}

#[test]
fn a_failed_address_is_skipped_for_the_next_one() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (closed, refused) = util::std_listener();
            drop(closed);
            let (listener, good) = util::local_listener().await;
            let server = edgeloop::spawn(async move { listener.accept().await.map(drop) });
            let stream = TcpStream::connect(&[refused, good][..])
                .await
                .expect("the second address accepts");
            assert_eq!(stream.peer_addr().unwrap(), good);
            server.await.unwrap().expect("accept");
        });
    });
}
