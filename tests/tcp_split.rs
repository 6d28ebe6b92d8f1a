//! `TcpStream`'s halves (borrowed and owned), `peek` and `SO_LINGER`.

mod util;

use std::io::{Read, Write};
use std::time::Duration;

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::{TcpListener, TcpStream};
use util::{watchdog, LOCALHOST_0};

/// A connected pair: (edgeloop client, edgeloop server end).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(LOCALHOST_0).await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Owned halves in two tasks: one reads everything the peer sends while
/// the other writes; dropping the write half sends FIN.
#[test]
fn owned_halves_read_and_write_from_two_tasks() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, server) = pair().await;
            let (mut read, mut write) = server.into_split();
            let reader = edgeloop::spawn(async move {
                let mut got = Vec::new();
                read.read_to_end(&mut got).await.unwrap();
                got
            });
            let writer = edgeloop::spawn(async move {
                for i in 0..100u8 {
                    write.write_all(&[i; 100]).await.unwrap();
                }
                // Dropping the half shuts the write side down.
            });
            let mut from_server = Vec::new();
            let sent: Vec<u8> = (0..100u8).flat_map(|i| [i; 50]).collect();
            client.write_all(&sent).await.unwrap();
            client.shutdown(std::net::Shutdown::Write).unwrap();
            client.read_to_end(&mut from_server).await.unwrap();
            writer.await.unwrap();
            assert_eq!(reader.await.unwrap(), sent);
            let expected: Vec<u8> = (0..100u8).flat_map(|i| [i; 100]).collect();
            assert_eq!(from_server, expected, "everything, then EOF from the drop");
        });
    });
}

#[test]
fn owned_halves_reunite_only_with_their_own_stream() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (_c1, s1) = pair().await;
            let (_c2, s2) = pair().await;
            let (r1, w1) = s1.into_split();
            let (r2, w2) = s2.into_split();
            let err = r1.reunite(w2).unwrap_err();
            assert!(err.to_string().contains("different"));
            let (r1, w2) = (err.0, err.1);
            let s1 = r1.reunite(w1).expect("same stream");
            let s2 = w2.reunite(r2).expect("same stream");
            assert_ne!(s1.local_addr().unwrap(), s2.local_addr().unwrap());
        });
    });
}

/// A reunited stream is whole: reuniting sends no FIN.
#[test]
fn reuniting_does_not_shut_the_write_side() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, server) = pair().await;
            let (read, write) = server.into_split();
            let mut server = read.reunite(write).unwrap();
            server.write_all(b"still open").await.unwrap();
            let mut buf = [0; 10];
            client.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"still open");
        });
    });
}

/// Borrowed halves: an echo of one's own, reading and writing at once.
#[test]
fn borrowed_halves_copy_between_each_other() {
    watchdog(|| {
        let (listener, addr) = util::std_listener();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"ping pong").unwrap();
            let mut back = [0; 9];
            s.read_exact(&mut back).unwrap();
            back
        });
        edgeloop::block_on(async {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let (mut read, mut write) = stream.split();
            let mut buf = [0; 9];
            read.read_exact(&mut buf).await.unwrap();
            write.write_all(&buf).await.unwrap();
        });
        assert_eq!(&peer.join().unwrap(), b"ping pong");
    });
}

#[test]
fn peek_leaves_the_bytes_for_the_next_read() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, mut server) = pair().await;
            client.write_all(b"look").await.unwrap();
            let mut buf = [0; 4];
            assert_eq!(server.peek(&mut buf).await.unwrap(), 4);
            assert_eq!(&buf, b"look");
            let mut again = [0; 4];
            server.read_exact(&mut again).await.unwrap();
            assert_eq!(&again, b"look");
        });
    });
}

#[test]
fn linger_round_trips() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (client, _server) = pair().await;
            assert_eq!(client.linger().unwrap(), None);
            client.set_linger(Some(Duration::from_secs(3))).unwrap();
            assert_eq!(client.linger().unwrap(), Some(Duration::from_secs(3)));
            client.set_linger(None).unwrap();
            assert_eq!(client.linger().unwrap(), None);
        });
    });
}
