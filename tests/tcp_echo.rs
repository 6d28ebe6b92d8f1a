//! Echo over TCP: many clients at once, large transfers both ways on one
//! connection, half-close, one stream shared by a reader and a writer task,
//! and several tasks accepting on one listener. Every byte is checked.

mod util;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::{TcpListener, TcpStream};
use edgeloop::JoinError;
use util::{assert_pattern, fill_pattern, join, pattern, watchdog};

/// The output of a task, or its panic re-raised here with its own message.
fn joined<T>(res: Result<T, JoinError>) -> T {
    match res {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("task did not finish: {e}"),
    }
}

/// Lets `n` tasks wait until all of them have arrived.
struct Latch {
    remaining: Cell<usize>,
    waiters: RefCell<Vec<Waker>>,
}

impl Latch {
    fn new(n: usize) -> Rc<Latch> {
        Rc::new(Latch {
            remaining: Cell::new(n),
            waiters: RefCell::new(Vec::new()),
        })
    }

    async fn arrive_and_wait(&self) {
        self.remaining.set(self.remaining.get() - 1);
        if self.remaining.get() == 0 {
            let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
            waiters.into_iter().for_each(Waker::wake);
        }
        poll_fn(|cx| {
            if self.remaining.get() == 0 {
                Poll::Ready(())
            } else {
                self.waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
}

/// Writes `data` and then shuts down the write side, while reading the echo
/// until EOF at the same time; returns what was read.
async fn round_trip(stream: &TcpStream, data: &[u8]) -> Vec<u8> {
    let send = async {
        let mut w = stream;
        w.write_all(data).await.expect("client write");
        stream
            .shutdown(Shutdown::Write)
            .expect("client shutdown(Write)");
    };
    let receive = async {
        let mut r = stream;
        let mut got = Vec::with_capacity(data.len());
        r.read_to_end(&mut got).await.expect("client read");
        got
    };
    join(send, receive).await.1
}

#[test]
fn a_thousand_concurrent_clients_each_get_their_own_bytes_back() {
    const CLIENTS: u64 = 1000;
    watchdog(|| {
        edgeloop::block_on(async {
            let addr = util::spawn_echo_server().await;
            let all_connected = Latch::new(CLIENTS as usize);
            let clients: Vec<_> = (0..CLIENTS)
                .map(|id| {
                    let all_connected = all_connected.clone();
                    edgeloop::spawn(async move {
                        let stream = TcpStream::connect(addr).await.expect("connect");
                        // Every client holds its connection open until all
                        // 1,000 are connected: they really are concurrent.
                        all_connected.arrive_and_wait().await;
                        let len = 1 + (id as usize * 7919) % 20_000;
                        let got = round_trip(&stream, &pattern(id, len)).await;
                        assert_eq!(got.len(), len, "client {id}: echo length");
                        assert_pattern(id, 0, &got, &format!("client {id}"));
                    })
                })
                .collect();
            for client in clients {
                joined(client.await);
            }
        });
    });
}

#[test]
fn sixty_four_mib_each_way_on_one_connection_at_the_same_time() {
    const TOTAL: u64 = 64 << 20;
    const CHUNK: usize = 256 << 10;
    const SEED: u64 = 0x64;
    watchdog(|| {
        edgeloop::block_on(async {
            let addr = util::spawn_echo_server().await;
            let stream = Rc::new(TcpStream::connect(addr).await.expect("connect"));
            let writer = edgeloop::spawn({
                let stream = stream.clone();
                async move {
                    let mut chunk = vec![0; CHUNK];
                    let mut offset = 0;
                    while offset < TOTAL {
                        fill_pattern(SEED, offset, &mut chunk);
                        (&*stream).write_all(&chunk).await.expect("write");
                        offset += CHUNK as u64;
                    }
                    stream.shutdown(Shutdown::Write).expect("shutdown(Write)");
                }
            });
            let reader = edgeloop::spawn(async move {
                let mut buf = vec![0; CHUNK];
                let mut offset = 0;
                loop {
                    let n = (&*stream).read(&mut buf).await.expect("read");
                    if n == 0 {
                        return offset;
                    }
                    assert_pattern(SEED, offset, &buf[..n], "echo");
                    offset += n as u64;
                }
            });
            joined(writer.await);
            assert_eq!(joined(reader.await), TOTAL, "bytes echoed before EOF");
        });
    });
}

#[test]
fn after_shutting_down_its_write_side_a_client_still_reads_the_whole_echo_then_eof() {
    const LEN: usize = 32 * 1024;
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let server = edgeloop::spawn(async move {
                let (stream, _) = listener.accept().await?;
                util::echo(stream).await
            });
            let mut client = TcpStream::connect(addr).await.expect("connect");
            let data = pattern(3, LEN);
            client.write_all(&data).await.expect("write");
            client.shutdown(Shutdown::Write).expect("shutdown(Write)");
            let mut got = Vec::new();
            client
                .read_to_end(&mut got)
                .await
                .expect("read after shutdown");
            assert_eq!(got.len(), LEN, "echo length");
            assert_pattern(3, 0, &got, "echo after half-close");
            let mut more = [0; 16];
            assert_eq!(
                client.read(&mut more).await.expect("read at EOF"),
                0,
                "EOF stays EOF"
            );
            let echoed = joined(server.await).expect("server");
            assert_eq!(echoed, LEN as u64, "server saw EOF only after all data");
        });
    });
}

#[test]
fn a_server_whose_peer_half_closed_can_still_write_to_it() {
    const REPLY: usize = 512 * 1024;
    watchdog(|| {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<SocketAddr>();
        let peer = std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr_rx.recv().unwrap()).unwrap();
            s.write_all(b"request").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let mut reply = Vec::new();
            s.read_to_end(&mut reply).unwrap();
            reply
        });
        let request = edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            addr_tx.send(addr).unwrap();
            let (mut conn, _) = listener.accept().await.expect("accept");
            let mut request = Vec::new();
            conn.read_to_end(&mut request).await.expect("read request");
            // The peer's FIN is final for reading, not for writing.
            conn.write_all(&pattern(9, REPLY))
                .await
                .expect("write after peer's FIN");
            conn.close().await.expect("close");
            request
        });
        assert_eq!(request, b"request");
        let reply = peer.join().unwrap();
        assert_eq!(reply.len(), REPLY);
        assert_pattern(9, 0, &reply, "reply after half-close");
    });
}

#[test]
fn one_task_reads_while_another_writes_the_same_stream() {
    const TOTAL: u64 = 8 << 20;
    const SEED: u64 = 77;
    watchdog(|| {
        let (listener, addr) = util::std_listener();
        // A plain blocking echo peer, so only the edgeloop side is under test.
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = vec![0; 64 * 1024];
            loop {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).unwrap();
            }
        });
        edgeloop::block_on(async {
            let stream = Rc::new(TcpStream::connect(addr).await.expect("connect"));
            let reader = edgeloop::spawn({
                let stream = stream.clone();
                async move {
                    let mut buf = vec![0; 100_000];
                    let mut offset = 0;
                    while offset < TOTAL {
                        let n = (&*stream).read(&mut buf).await.expect("read");
                        assert_ne!(n, 0, "EOF after {offset} bytes");
                        assert_pattern(SEED, offset, &buf[..n], "echo");
                        offset += n as u64;
                    }
                }
            });
            // Started second, so the reader is already parked in `read`
            // when the writer begins.
            let writer = edgeloop::spawn({
                let stream = stream.clone();
                async move {
                    let mut chunk = vec![0; 70_000];
                    let mut offset = 0;
                    while offset < TOTAL {
                        let len = chunk.len().min((TOTAL - offset) as usize);
                        fill_pattern(SEED, offset, &mut chunk[..len]);
                        (&*stream).write_all(&chunk[..len]).await.expect("write");
                        offset += len as u64;
                    }
                }
            });
            joined(writer.await);
            joined(reader.await);
            stream.shutdown(Shutdown::Write).expect("shutdown");
        });
        peer.join().unwrap();
    });
}

#[test]
fn eight_tasks_accepting_on_one_listener_each_take_one_connection() {
    const ACCEPTORS: u8 = 8;
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let listener = Rc::new(listener);
            let acceptors: Vec<_> = (0..ACCEPTORS)
                .map(|id| {
                    let listener = listener.clone();
                    edgeloop::spawn(async move {
                        let (mut conn, _) = listener.accept().await.expect("accept");
                        conn.write_all(&[id]).await.expect("write id");
                    })
                })
                .collect();
            edgeloop::yield_now().await; // every acceptor is now parked
            let mut ids = Vec::new();
            // One connection at a time: each must wake a task still waiting.
            for _ in 0..ACCEPTORS {
                let mut client = TcpStream::connect(addr).await.expect("connect");
                let mut id = [0];
                client.read_exact(&mut id).await.expect("read id");
                ids.push(id[0]);
            }
            for acceptor in acceptors {
                joined(acceptor.await);
            }
            ids.sort_unstable();
            assert_eq!(ids, (0..ACCEPTORS).collect::<Vec<_>>(), "acceptor ids");
        });
    });
}

#[test]
fn eight_tasks_accepting_on_one_listener_serve_a_burst_of_connections() {
    const ACCEPTORS: usize = 8;
    const CONNECTIONS: usize = 64;
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let listener = Rc::new(listener);
            let accepted = Rc::new(RefCell::new(vec![0usize; ACCEPTORS]));
            let acceptors: Vec<_> = (0..ACCEPTORS)
                .map(|id| {
                    let (listener, accepted) = (listener.clone(), accepted.clone());
                    edgeloop::spawn(async move {
                        loop {
                            let (mut conn, _) = listener.accept().await.expect("accept");
                            accepted.borrow_mut()[id] += 1;
                            let mut byte = [0];
                            conn.read_exact(&mut byte).await.expect("read");
                            conn.write_all(&byte).await.expect("write");
                        }
                    })
                })
                .collect();
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|i| {
                    edgeloop::spawn(async move {
                        let mut client = TcpStream::connect(addr).await.expect("connect");
                        client.write_all(&[i as u8]).await.expect("write");
                        let mut byte = [0];
                        client.read_exact(&mut byte).await.expect("read");
                        assert_eq!(byte[0], i as u8, "client {i}: echo");
                    })
                })
                .collect();
            for client in clients {
                joined(client.await);
            }
            let per_task = accepted.borrow().clone();
            assert_eq!(
                per_task.iter().sum::<usize>(),
                CONNECTIONS,
                "connections accepted, per task: {per_task:?}"
            );
            for acceptor in &acceptors {
                acceptor.abort();
            }
        });
    });
}

#[test]
fn incoming_yields_each_connection() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let server = edgeloop::spawn(async move {
                let mut incoming = listener.incoming();
                for i in 0..3u8 {
                    let next =
                        poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut incoming), cx))
                            .await;
                    let mut conn = next.expect("incoming never ends").expect("accept");
                    conn.write_all(&[i]).await.expect("write");
                }
            });
            for i in 0..3u8 {
                let mut client = TcpStream::connect(addr).await.expect("connect");
                let mut byte = [0];
                client.read_exact(&mut byte).await.expect("read");
                assert_eq!(byte[0], i);
            }
            joined(server.await);
        });
    });
}

#[test]
fn std_sockets_convert_both_ways_and_addresses_match() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (std_listener, addr) = util::std_listener();
            let listener = TcpListener::from_std(std_listener).expect("from_std listener");
            assert_eq!(listener.local_addr().unwrap(), addr);
            let std_client = std::net::TcpStream::connect(addr).unwrap();
            let client = TcpStream::from_std(std_client).expect("from_std stream");
            let (server, peer) = listener.accept().await.expect("accept");
            assert_eq!(peer, client.local_addr().unwrap());
            assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
            assert_eq!(client.peer_addr().unwrap(), addr);
            client.set_nodelay(true).unwrap();
            assert!(client.nodelay().unwrap());

            // Back to std: still connected, still nonblocking.
            let mut std_server = server.into_std().expect("into_std");
            let mut client = client;
            client.write_all(b"hi").await.unwrap();
            std_server.set_nonblocking(false).unwrap();
            let mut buf = [0; 2];
            std_server.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"hi");
            let std_listener = listener.into_std().expect("listener into_std");
            assert_eq!(std_listener.local_addr().unwrap(), addr);
        });
    });
}

#[test]
fn readable_and_try_read_follow_the_edge_triggered_readiness() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let mut client = TcpStream::connect(addr).await.expect("connect");
            let (server, _) = listener.accept().await.expect("accept");
            let mut buf = [0; 64];
            let err = server.try_read(&mut buf).expect_err("nothing was sent yet");
            assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);

            // Waits for data, then drains it with try_read until WouldBlock.
            let server = Rc::new(server);
            let reader = edgeloop::spawn({
                let server = server.clone();
                async move {
                    let mut got = Vec::new();
                    while got.len() < 10 {
                        server.readable().await.expect("readable");
                        let mut buf = [0; 4];
                        loop {
                            match server.try_read(&mut buf) {
                                Ok(0) => panic!("EOF"),
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                                Err(e) => panic!("try_read: {e}"),
                            }
                        }
                    }
                    got
                }
            });
            edgeloop::yield_now().await;
            assert!(!reader.is_finished(), "readable() returned with no data");
            client.write_all(b"01234").await.unwrap();
            edgeloop::yield_now().await;
            client.write_all(b"56789").await.unwrap();
            assert_eq!(joined(reader.await), b"0123456789");

            // EOF: readable at once, and try_read gives 0.
            client.shutdown(Shutdown::Write).unwrap();
            server.readable().await.expect("readable at EOF");
            assert_eq!(server.try_read(&mut buf).unwrap(), 0);
        });
    });
}

#[test]
fn writable_and_try_write_wait_for_the_peer_to_drain() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let client = TcpStream::connect(addr).await.expect("connect");
            let (mut server, _) = listener.accept().await.expect("accept");
            client
                .writable()
                .await
                .expect("a new connection is writable");
            let chunk = pattern(11, 64 * 1024);
            let mut sent = 0usize;
            loop {
                match client.try_write(&chunk) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("try_write: {e}"),
                }
            }
            assert!(sent > 0);
            let client = Rc::new(client);
            let writer = edgeloop::spawn({
                let client = client.clone();
                async move { client.writable().await }
            });
            // (Not asserted: that the writer is still waiting here. TCP may
            // free send-buffer space on a late ACK even though the peer
            // reads nothing, and that is a genuine writability edge.)
            edgeloop::yield_now().await;
            // Drain everything the client managed to send.
            let mut drained = vec![0; sent];
            server.read_exact(&mut drained).await.expect("drain");
            joined(writer.await).expect("writable after the peer drained");
            assert!(client.try_write(b"more").expect("room again") > 0);
        });
    });
}

#[test]
fn vectored_reads_and_writes_carry_every_slice() {
    use edgeloop::io::{AsyncRead, AsyncWrite};
    use std::io::{IoSlice, IoSliceMut};
    watchdog(|| {
        edgeloop::block_on(async {
            let addr = util::spawn_echo_server().await;
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            let parts: [&[u8]; 3] = [b"edge", b"", b"loop!"];
            let slices = parts.map(IoSlice::new);
            let n = poll_fn(|cx| Pin::new(&mut stream).poll_write_vectored(cx, &slices))
                .await
                .expect("write_vectored");
            assert_eq!(n, 9, "a vectored write this small goes out whole");
            let mut got = Vec::new();
            while got.len() < 9 {
                stream.readable().await.unwrap();
                let (mut a, mut b) = ([0u8; 3], [0u8; 16]);
                let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
                let n = poll_fn(|cx| Pin::new(&mut stream).poll_read_vectored(cx, &mut bufs))
                    .await
                    .expect("read_vectored");
                got.extend_from_slice(&a[..n.min(3)]);
                got.extend_from_slice(&b[..n.saturating_sub(3)]);
            }
            assert_eq!(got, b"edgeloop!");
        });
    });
}

#[test]
fn the_pattern_check_notices_a_changed_byte() {
    let mut data = pattern(1, 10_000);
    assert_pattern(1, 0, &data, "unchanged");
    assert_pattern(1, 5_000, &data[5_000..], "unchanged, from the middle");
    data[7_777] ^= 1;
    let msg = util::expect_panic("a flipped bit", || assert_pattern(1, 0, &data, "flipped"));
    assert!(msg.contains("byte 7777"), "{msg}");
    assert_ne!(
        pattern(1, 64),
        pattern(2, 64),
        "seeds give different streams"
    );
}
