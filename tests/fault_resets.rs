//! Resets and half-closes at every point of a connection's life: while it
//! waits in the accept queue, while the server is reading a message, while
//! it is writing a large reply, at random points of an echo, and a FIN that
//! arrives while the server is parked on a full socket in the middle of a
//! write. Resets surface as `ConnectionReset`/`BrokenPipe` errors on that
//! connection only; a FIN ends reading, never writing.
//!
//! Every test here first restores the default `SIGPIPE` action for the
//! whole process (Rust programs ignore it, which would hide a write that
//! raises it): a `SIGPIPE` kills this test binary. Only tests that want
//! that live in this file. (`sigpipe.rs` covers writes after a reset has
//! arrived; here the reset lands in the middle of a transfer.)

mod util;

use std::future::poll_fn;
use std::io::{self, ErrorKind, IoSlice, Read};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Once;
use std::task::Poll;
use std::thread;

use edgeloop::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use edgeloop::net::TcpStream;
use edgeloop::Runtime;
use util::{assert_pattern, fill_pattern, pattern, set_linger_zero, watchdog, CountPolls, Prng};

/// Restores the default `SIGPIPE` action (terminate) for this process, once.
fn let_sigpipe_kill_the_process() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `SIG_DFL` is a valid disposition for `SIGPIPE`; no handler
        // code is installed, and every test in this binary wants it.
        let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        assert_ne!(previous, libc::SIG_ERR);
    });
}

/// [`watchdog`], with `SIGPIPE` fatal.
fn guarded(body: impl FnOnce() + Send + 'static) {
    let_sigpipe_kill_the_process();
    watchdog(body);
}

fn is_reset(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
    )
}

/// A `std` client connected to `addr` (the kernel completes the handshake
/// whether or not anyone accepts), closed at once with RST.
fn connect_and_reset(addr: SocketAddr) {
    let s = std::net::TcpStream::connect(addr).expect("connect");
    set_linger_zero(&s);
    drop(s);
}

/// Writes `msg` and reads the same bytes back.
async fn assert_echoes(stream: &mut TcpStream, msg: &[u8], what: &str) {
    stream.write_all(msg).await.expect(what);
    let mut got = vec![0; msg.len()];
    stream.read_exact(&mut got).await.expect(what);
    assert_eq!(got, msg, "{what}");
}

/// Echoes until EOF or the first error; returns the error, or `None` at EOF.
async fn echo_until_end(mut stream: TcpStream) -> Option<io::Error> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return None,
            Ok(n) => {
                if let Err(e) = stream.write_all(&buf[..n]).await {
                    return Some(e);
                }
            }
            Err(e) => return Some(e),
        }
    }
}

#[test]
fn connections_reset_while_queued_for_accept_do_not_stop_the_accept_loop() {
    guarded(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (listener, addr) = util::local_listener().await;
            // Everything is queued, some of it already reset, before the
            // server calls accept: one readiness edge has to cover it all.
            let mut good = Vec::new();
            for i in 0..12 {
                if i % 3 == 2 {
                    let s = std::net::TcpStream::connect(addr).expect("connect");
                    good.push(TcpStream::from_std(s).unwrap());
                } else {
                    connect_and_reset(addr);
                }
            }
            let (reset, served) = (8, good.len());
            let acceptor = edgeloop::spawn(async move {
                let mut outcomes = Vec::new();
                for _ in 0..reset + served {
                    match listener.accept().await {
                        Ok((stream, _)) => outcomes.push(edgeloop::spawn(echo_until_end(stream))),
                        // Linux hands reset connections out; other systems
                        // may report them from accept instead.
                        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionAborted, "{e}"),
                    }
                }
                (listener, outcomes)
            });
            for (i, s) in good.iter_mut().enumerate() {
                assert_echoes(
                    s,
                    format!("good {i}").as_bytes(),
                    "a client queued among resets",
                )
                .await;
            }
            drop(good); // FIN: their echo tasks end cleanly
            let (listener, outcomes) = acceptor.await.expect("acceptor");
            let (mut resets, mut clean) = (0, 0);
            for outcome in outcomes {
                match outcome.await.expect("echo task") {
                    None => clean += 1,
                    Some(e) if is_reset(&e) => resets += 1,
                    Some(e) => panic!("a reset connection failed with {e}"),
                }
            }
            assert_eq!(clean, served, "connections that closed with FIN");
            assert!(
                resets <= reset,
                "{resets} resets from {reset} reset clients"
            );

            // The listener goes on.
            edgeloop::spawn(async move {
                let (stream, _) = listener.accept().await.expect("accept after resets");
                echo_until_end(stream).await
            });
            let mut newcomer = TcpStream::connect(addr).await.unwrap();
            assert_echoes(&mut newcomer, b"after", "a client after the resets").await;
        });
    });
}

#[test]
fn a_reset_in_the_middle_of_a_message_fails_the_read_after_the_bytes_that_came() {
    const MESSAGE: usize = 4 << 20;
    const SENT: usize = 1 << 20;
    guarded(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let reader = edgeloop::spawn(async move {
                let (mut conn, _) = listener.accept().await.expect("accept");
                let mut buf = vec![0; MESSAGE];
                let mut total = 0;
                loop {
                    match conn.read(&mut buf[total..]).await {
                        Ok(0) => panic!("EOF after {total} bytes where the peer reset"),
                        Ok(n) => total += n,
                        Err(e) => {
                            assert_pattern(11, 0, &buf[..total], "bytes before the reset");
                            return (e, total, listener);
                        }
                    }
                }
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(&pattern(11, SENT)).await.unwrap();
            set_linger_zero(&client);
            drop(client); // RST with the message a quarter sent

            let (err, total, listener) = reader.await.expect("reader");
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
            assert!(total <= SENT, "read {total} bytes of {SENT} sent");
            edgeloop::spawn(async move {
                let (stream, _) = listener.accept().await.expect("accept");
                echo_until_end(stream).await
            });
            let mut next = TcpStream::connect(addr).await.unwrap();
            assert_echoes(&mut next, b"next", "the next connection").await;
        });
    });
}

/// Writes `total` pattern bytes (seed `seed`) in 64 KiB pieces, with plain
/// or vectored writes; returns how many went out before the first error.
async fn write_reply(
    stream: &mut TcpStream,
    seed: u64,
    total: usize,
    vectored: bool,
) -> (usize, io::Result<()>) {
    let mut piece = vec![0; 64 * 1024];
    let mut offset = 0;
    while offset < total {
        let len = piece.len().min(total - offset);
        fill_pattern(seed, offset as u64, &mut piece[..len]);
        let mut done = 0;
        while done < len {
            let res = if vectored {
                let (a, b) = piece[done..len].split_at((len - done) / 2);
                let slices = [IoSlice::new(a), IoSlice::new(b)];
                poll_fn(|cx| Pin::new(&mut *stream).poll_write_vectored(cx, &slices)).await
            } else {
                stream.write(&piece[done..len]).await
            };
            match res {
                Ok(n) => done += n,
                Err(e) => return (offset + done, Err(e)),
            }
        }
        offset += len;
    }
    (offset, Ok(()))
}

#[test]
fn a_reset_in_the_middle_of_a_large_reply_fails_the_write_without_sigpipe() {
    const REPLY: usize = 32 << 20;
    const READ_BEFORE_RESET: usize = 1 << 20;
    guarded(|| {
        let (listener, addr) = util::std_listener();
        let peers = thread::spawn(move || {
            for seed in [21, 22] {
                let (mut s, _) = listener.accept().unwrap();
                let mut got = vec![0; READ_BEFORE_RESET];
                s.read_exact(&mut got).expect("read the start of the reply");
                assert_pattern(seed, 0, &got, "the reply before the reset");
                set_linger_zero(&s);
                drop(s); // RST while the server is still writing
            }
        });
        edgeloop::block_on(async {
            for (seed, vectored) in [(21, false), (22, true)] {
                // The edgeloop side connects, then writes like a server
                // sending a large reply.
                let mut server = TcpStream::connect(addr).await.unwrap();
                let (written, res) = write_reply(&mut server, seed, REPLY, vectored).await;
                let err = res.expect_err("a reply to a reset peer was written in full");
                assert!(is_reset(&err), "vectored: {vectored}: {err}");
                assert!((READ_BEFORE_RESET..REPLY).contains(&written), "{written}");
                // The first error is usually ECONNRESET; the writes after
                // it get EPIPE, the one that raises SIGPIPE unless asked not to.
                for _ in 0..3 {
                    let (_, again) = write_reply(&mut server, seed, 1024, vectored).await;
                    assert!(matches!(&again, Err(e) if is_reset(e)), "{again:?}");
                }
            }
        });
        peers.join().unwrap();
    });
}

/// Races `a` against `b`: the output of whichever finishes first (`a` is
/// polled first); the other is dropped.
async fn first_of<T>(
    a: impl std::future::Future<Output = T>,
    b: impl std::future::Future<Output = T>,
) -> T {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(out);
        }
        b.as_mut().poll(cx)
    })
    .await
}

#[test]
fn resets_at_random_points_of_an_echo_end_only_their_own_connection() {
    const CLIENTS: u64 = 100;
    const MAX_SEND: usize = 512 * 1024;
    guarded(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (listener, addr) = util::local_listener().await;
            let server = edgeloop::spawn(async move {
                let mut tasks = Vec::new();
                for _ in 0..CLIENTS + 1 {
                    let (stream, _) = listener.accept().await.expect("accept");
                    tasks.push(edgeloop::spawn(echo_until_end(stream)));
                }
                tasks
            });
            let mut bystander = TcpStream::connect(addr).await.unwrap();
            assert_echoes(&mut bystander, b"before", "bystander").await;

            let clients: Vec<_> = (0..CLIENTS)
                .map(|seed| {
                    edgeloop::spawn(async move {
                        // Send `sent` bytes, read the first `echoed` of the
                        // echo (which may stop the server's writes), reset.
                        let mut rng = Prng::new(seed);
                        let sent = rng.in_range(0..=MAX_SEND);
                        let echoed = rng.in_range(0..=sent);
                        let stream = TcpStream::connect(addr).await.unwrap();
                        let writing = async {
                            (&stream).write_all(&pattern(seed, sent)).await.unwrap();
                            std::future::pending::<()>().await;
                        };
                        let reading = async {
                            let mut got = vec![0; echoed];
                            (&stream).read_exact(&mut got).await.unwrap();
                            assert_pattern(seed, 0, &got, "echo before the reset");
                        };
                        first_of(reading, writing).await;
                        set_linger_zero(&stream);
                    })
                })
                .collect();
            for c in clients {
                c.await.expect("client");
            }

            assert_echoes(&mut bystander, b"after", "bystander after the resets").await;
            drop(bystander);
            let (mut on_read_or_write, mut clean) = (0, 0);
            for task in server.await.expect("server") {
                match task.await.expect("echo task") {
                    Some(e) if is_reset(&e) => on_read_or_write += 1,
                    Some(e) => panic!("an echo ended with {e}"),
                    None => clean += 1,
                }
            }
            assert_eq!(clean, 1, "only the bystander closed cleanly");
            assert_eq!(on_read_or_write, CLIENTS, "every reset ended its echo");
            assert_eq!(rt.metrics().registrations, 0, "every socket is closed");
        });
    });
}

#[test]
fn a_fin_that_arrives_while_the_server_is_parked_writing_does_not_end_the_write() {
    const REPLY: usize = 16 << 20;
    const READ_BEFORE_FIN: usize = 1 << 20;
    guarded(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let mut peer = TcpStream::connect(addr).await.unwrap();
            // A small, fixed receive buffer: the reply fills the path fast.
            util::set_recv_buffer(&peer, 64 * 1024);
            let (server, _) = listener.accept().await.unwrap();
            let (writer, writer_polls) = CountPolls::new(async move {
                let mut server = server;
                let (written, res) = write_reply(&mut server, 31, REPLY, false).await;
                res.expect("writing after the peer's FIN");
                assert_eq!(written, REPLY);
                let mut buf = [0; 1];
                assert_eq!(server.read(&mut buf).await.unwrap(), 0, "the peer's FIN");
                server.close().await.expect("close");
            });
            let writer = edgeloop::spawn(writer);
            let reader = edgeloop::spawn(async move {
                let mut got = vec![0; REPLY];
                peer.read_exact(&mut got[..READ_BEFORE_FIN]).await.unwrap();
                // Stop reading until the writer has filled the path and
                // parked: a task woken by the driver runs before one that
                // yielded, so a yield that sees no new poll of the writer
                // means it waits for writability.
                loop {
                    let polls = writer_polls.load(SeqCst);
                    edgeloop::yield_now().await;
                    if writer_polls.load(SeqCst) == polls {
                        break;
                    }
                }
                peer.shutdown(Shutdown::Write).unwrap();
                peer.read_exact(&mut got[READ_BEFORE_FIN..])
                    .await
                    .expect("the rest of the reply after shutdown(Write)");
                assert_pattern(31, 0, &got, "reply around the half-close");
                let mut more = [0; 1];
                assert_eq!(
                    peer.read(&mut more).await.unwrap(),
                    0,
                    "EOF after the reply"
                );
            });
            reader.await.expect("peer");
            writer.await.expect("server");
        });
    });
}
