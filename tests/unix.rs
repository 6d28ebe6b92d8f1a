//! Unix domain sockets: `UnixListener`, `UnixStream` (halves, credentials,
//! big transfers) and `UnixDatagram`, on file system paths and abstract
//! names; and the `unix_echo` example's server.

mod util;

#[allow(dead_code)] // its `main` is not run here; `bind` and `serve` are
#[path = "../examples/unix_echo.rs"]
mod unix_echo;

use std::ffi::OsStr;
use std::future::poll_fn;
use std::io::{self, ErrorKind, IoSlice};
use std::net::Shutdown;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;
use std::pin::Pin;

use edgeloop::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use edgeloop::net::{UnixDatagram, UnixListener, UnixStream};
use util::watchdog;

/// A fresh directory for one test's socket files, removed when dropped
/// (also when the test panics).
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("edgeloop-unix-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the test's temp dir");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An abstract name (leading NUL) unique to this process and test.
fn abstract_name(test: &str) -> String {
    format!("\0edgeloop-test-{}-{test}", std::process::id())
}

/// A connected pair through a listener: (client, server end).
async fn connected(listener: &UnixListener) -> (UnixStream, UnixStream) {
    let path = listener.local_addr().unwrap();
    let client = match path.as_pathname() {
        Some(path) => UnixStream::connect(path).await,
        None => {
            let name = path.as_abstract_name().expect("named listener");
            let mut full = vec![0];
            full.extend_from_slice(name);
            UnixStream::connect(OsStr::from_bytes(&full)).await
        }
    }
    .expect("connect");
    let (server, peer) = listener.accept().await.expect("accept");
    assert!(peer.is_unnamed(), "the client never bound: {peer:?}");
    (client, server)
}

/// One `poll_write_vectored`, awaited.
async fn write_vectored<W: AsyncWrite + Unpin>(
    w: &mut W,
    bufs: &[IoSlice<'_>],
) -> io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *w).poll_write_vectored(cx, bufs)).await
}

#[test]
fn a_listener_echoes_on_a_path() {
    watchdog(|| {
        let dir = TempDir::new("echo");
        let path = dir.path("echo.sock");
        edgeloop::block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(&*path));
            let meta = std::fs::symlink_metadata(&path).unwrap();
            assert!(meta.file_type().is_socket(), "bind made a socket file");
            let server = edgeloop::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0; 64];
                loop {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    stream.write_all(&buf[..n]).await.unwrap();
                }
            });
            let mut client = UnixStream::connect(&path).await.unwrap();
            assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(&*path));
            assert!(client.local_addr().unwrap().is_unnamed());
            for msg in [&b"hello"[..], b"unix", b"world"] {
                client.write_all(msg).await.unwrap();
                let mut got = vec![0; msg.len()];
                client.read_exact(&mut got).await.unwrap();
                assert_eq!(got, msg);
            }
            client.shutdown(Shutdown::Write).unwrap();
            server.await.unwrap();
        });
    });
}

#[test]
fn a_pair_talks_both_ways_and_writes_vectored() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            assert!(a.local_addr().unwrap().is_unnamed());
            a.write_all(b"ping").await.unwrap();
            let mut buf = [0; 4];
            b.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
            let slices = [IoSlice::new(b"po"), IoSlice::new(b""), IoSlice::new(b"ng")];
            let n = write_vectored(&mut b, &slices).await.unwrap();
            assert_eq!(n, 4);
            a.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"pong");
            // `&UnixStream` reads and writes too.
            (&a).write_all(b"ref!").await.unwrap();
            (&b).read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ref!");
        });
    });
}

#[test]
fn binding_an_existing_path_is_addr_in_use_until_the_file_is_removed() {
    watchdog(|| {
        let dir = TempDir::new("inuse");
        let path = dir.path("busy.sock");
        edgeloop::block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            let err = UnixListener::bind(&path).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            drop(listener);
            assert!(path.exists(), "a dropped listener leaves its socket file");
            let err = UnixListener::bind(&path).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "stale file: {err}");
            let err = UnixDatagram::bind(&path).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "datagram: {err}");
            std::fs::remove_file(&path).unwrap();
            UnixListener::bind(&path).expect("bind once the stale file is gone");
        });
    });
}

#[test]
fn connecting_to_nothing_is_the_os_error() {
    watchdog(|| {
        let dir = TempDir::new("missing");
        edgeloop::block_on(async {
            let err = UnixStream::connect(dir.path("nobody.sock"))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "missing path: {err}");

            let stale = dir.path("stale.sock");
            drop(UnixListener::bind(&stale).unwrap());
            let err = UnixStream::connect(&stale).await.unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::ConnectionRefused,
                "stale file: {err}"
            );

            let err = UnixStream::connect(abstract_name("nobody"))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "abstract: {err}");

            let long = dir.path(&"x".repeat(200));
            let err = UnixStream::connect(&long).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "too long: {err}");
        });
    });
}

#[test]
fn binding_outside_a_runtime_panics_with_the_function_name() {
    let dir = TempDir::new("noruntime");
    let path = dir.path("never.sock");
    let message = util::expect_panic("UnixListener::bind outside a runtime", || {
        UnixListener::bind(&path)
    });
    assert!(message.contains("UnixListener::bind"), "{message}");
    assert!(!path.exists(), "nothing was bound before the panic");
    let message = util::expect_panic("UnixDatagram::bind", || UnixDatagram::bind(&path));
    assert!(message.contains("UnixDatagram::bind"), "{message}");
    let message = util::expect_panic("UnixStream::pair", UnixStream::pair);
    assert!(message.contains("UnixStream::pair"), "{message}");
}

#[test]
fn shutting_down_the_write_side_gives_the_peer_eof() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            a.write_all(b"last words").await.unwrap();
            a.shutdown(Shutdown::Write).unwrap();
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"last words");
            // The other direction is still open.
            b.write_all(b"reply").await.unwrap();
            let mut reply = [0; 5];
            a.read_exact(&mut reply).await.unwrap();
            assert_eq!(&reply, b"reply");
            // Writing after our own shutdown is `EPIPE`, not a signal.
            let err = a.write(b"more").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err}");
        });
    });
}

#[test]
fn owned_halves_work_in_two_tasks_send_eof_on_drop_and_reunite() {
    watchdog(|| {
        let dir = TempDir::new("halves");
        let path = dir.path("halves.sock");
        edgeloop::block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            let (mut client, server) = connected(&listener).await;
            let (mut read, mut write) = server.into_split();
            let reader = edgeloop::spawn(async move {
                let mut got = Vec::new();
                read.read_to_end(&mut got).await.unwrap();
                (got, read)
            });
            let writer = edgeloop::spawn(async move {
                for i in 0..100u8 {
                    write.write_all(&[i; 100]).await.unwrap();
                }
                // Dropping the half shuts the write side down.
            });
            let sent: Vec<u8> = (0..100u8).flat_map(|i| [i; 50]).collect();
            client.write_all(&sent).await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let mut from_server = Vec::new();
            client.read_to_end(&mut from_server).await.unwrap();
            writer.await.unwrap();
            let (got, _read) = reader.await.unwrap();
            assert_eq!(got, sent);
            let expected: Vec<u8> = (0..100u8).flat_map(|i| [i; 100]).collect();
            assert_eq!(from_server, expected, "everything, then EOF from the drop");

            // Reunite: only halves of one stream, and without a shutdown.
            let (_c1, s1) = connected(&listener).await;
            let (mut c2, s2) = connected(&listener).await;
            let (r1, w1) = s1.into_split();
            let (r2, w2) = s2.into_split();
            assert_eq!(r2.peer_cred().unwrap().pid as u32, std::process::id());
            let err = r1.reunite(w2).unwrap_err();
            assert!(err.to_string().contains("different"), "{err}");
            let (r1, w2) = (err.0, err.1);
            let _s1 = r1.reunite(w1).expect("same stream");
            let mut s2 = w2.reunite(r2).expect("same stream");
            s2.write_all(b"still open").await.unwrap();
            let mut buf = [0; 10];
            c2.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"still open");

            // Borrowed halves, in one task.
            let (mut rh, mut wh) = s2.split();
            wh.write_all(b"split").await.unwrap();
            c2.write_all(b"tilps").await.unwrap();
            let mut five = [0; 5];
            rh.read_exact(&mut five).await.unwrap();
            assert_eq!(&five, b"tilps");
        });
    });
}

#[test]
fn datagrams_keep_boundaries_and_an_oversize_one_is_cut() {
    watchdog(|| {
        let dir = TempDir::new("dgram");
        let server_path = dir.path("server.sock");
        let client_path = dir.path("client.sock");
        edgeloop::block_on(async {
            let server = UnixDatagram::bind(&server_path).unwrap();
            let client = UnixDatagram::bind(&client_path).unwrap();
            assert_eq!(
                server.local_addr().unwrap().as_pathname(),
                Some(&*server_path)
            );
            let err = client.peer_addr().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotConnected);

            assert_eq!(client.send_to(b"one", &server_path).await.unwrap(), 3);
            assert_eq!(client.send_to(b"two!", &server_path).await.unwrap(), 4);
            let mut buf = [0; 64];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(
                (&buf[..n], from.as_pathname()),
                (&b"one"[..], Some(&*client_path))
            );
            let (n, _) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"two!");
            server.send_to(b"reply", &client_path).await.unwrap();
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(
                (&buf[..n], from.as_pathname()),
                (&b"reply"[..], Some(&*server_path))
            );

            // Connected: `send`/`recv`.
            client.connect(&server_path).unwrap();
            assert_eq!(
                client.peer_addr().unwrap().as_pathname(),
                Some(&*server_path)
            );
            client.send(b"connected").await.unwrap();
            let n = server.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"connected");

            // Too big for the buffer: cut to it, the rest lost; the next
            // datagram is whole.
            let big: Vec<u8> = (0..100u8).collect();
            client.send(&big).await.unwrap();
            client.send(b"next").await.unwrap();
            let mut small = [0; 10];
            let n = server.recv(&mut small).await.unwrap();
            assert_eq!(&small[..n], &big[..10]);
            let n = server.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"next");

            // Nothing queued: `try_recv` says so at once.
            let err = server.try_recv(&mut buf).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::WouldBlock);

            // A pair, and an unbound sender that is seen as unnamed.
            let (a, b) = UnixDatagram::pair().unwrap();
            a.send(b"paired").await.unwrap();
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"paired");
            let unbound = UnixDatagram::unbound().unwrap();
            unbound.send_to(b"anon", &server_path).await.unwrap();
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"anon");
            assert!(from.is_unnamed(), "{from:?}");
        });
    });
}

#[test]
fn abstract_names_work_for_streams_and_datagrams() {
    watchdog(|| {
        edgeloop::block_on(async {
            let name = abstract_name("stream");
            let listener = UnixListener::bind(&name).unwrap();
            let local = listener.local_addr().unwrap();
            assert_eq!(local.as_abstract_name(), Some(&name.as_bytes()[1..]));
            assert!(local.as_pathname().is_none());
            let err = UnixListener::bind(&name).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            let (mut client, mut server) = connected(&listener).await;
            client.write_all(b"abstract").await.unwrap();
            let mut buf = [0; 8];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"abstract");
            drop(listener);
            // No file, and the name is free again once its socket is closed.
            UnixListener::bind(&name).expect("the name was released");

            let dname = abstract_name("dgram");
            let server = UnixDatagram::bind(&dname).unwrap();
            let client = UnixDatagram::unbound().unwrap();
            client.send_to(b"to a name", &dname).await.unwrap();
            let mut buf = [0; 16];
            let (n, _) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"to a name");
            client.connect(&dname).unwrap();
            assert_eq!(
                client.peer_addr().unwrap().as_abstract_name(),
                Some(&dname.as_bytes()[1..])
            );
            client.send(b"connected").await.unwrap();
            let n = server.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"connected");
        });
    });
}

#[test]
fn peer_cred_names_this_process() {
    watchdog(|| {
        let dir = TempDir::new("cred");
        let path = dir.path("cred.sock");
        edgeloop::block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            // The socket file is ours: its owner is this process's uid.
            let uid = std::fs::symlink_metadata(&path).unwrap().uid();
            let (client, server) = connected(&listener).await;
            for cred in [client.peer_cred().unwrap(), server.peer_cred().unwrap()] {
                assert_eq!(cred.pid as u32, std::process::id(), "{cred:?}");
                assert_eq!(cred.uid, uid, "{cred:?}");
            }
            let (a, _b) = UnixStream::pair().unwrap();
            assert_eq!(a.peer_cred().unwrap().pid as u32, std::process::id());
        });
    });
}

/// 1 MiB each way at once, every byte checked: far more than the socket
/// buffers hold, so both sides wait for room and for data many times.
#[test]
fn a_mebibyte_each_way_arrives_intact() {
    const LEN: usize = 1 << 20;
    watchdog(|| {
        let dir = TempDir::new("mib");
        let path = dir.path("mib.sock");
        edgeloop::block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            let (client, server) = connected(&listener).await;
            let run = |stream: UnixStream, send_seed: u64, recv_seed: u64| async move {
                let (mut read, mut write) = stream.into_split();
                let sender = edgeloop::spawn(async move {
                    let data = util::pattern(send_seed, LEN);
                    // Uneven chunks, some vectored.
                    let mut at = 0;
                    let mut step = 1;
                    while at < LEN {
                        let end = (at + step).min(LEN);
                        if step % 2 == 0 {
                            let mid = (at + end) / 2;
                            let slices =
                                [IoSlice::new(&data[at..mid]), IoSlice::new(&data[mid..end])];
                            let n = write_vectored(&mut write, &slices).await.unwrap();
                            at += n;
                        } else {
                            write.write_all(&data[at..end]).await.unwrap();
                            at = end;
                        }
                        step = step * 3 % 70_001 + 1;
                    }
                });
                let mut got = Vec::with_capacity(LEN);
                read.read_to_end(&mut got).await.unwrap();
                sender.await.unwrap();
                assert_eq!(got.len(), LEN, "all bytes, then EOF");
                util::assert_pattern(recv_seed, 0, &got, "unix stream");
            };
            let a = edgeloop::spawn(run(client, 1, 2));
            let b = edgeloop::spawn(run(server, 2, 1));
            a.await.unwrap();
            b.await.unwrap();
        });
    });
}

/// The example's own `bind` (which clears a stale socket file) and `serve`,
/// run in this process: a line goes round.
#[test]
fn the_unix_echo_example_echoes_a_line() {
    watchdog(|| {
        let dir = TempDir::new("example");
        let path = dir.path("echo.sock");
        // A stale socket file, as a crashed server leaves it.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        std::fs::write(dir.path("not-a-socket"), b"keep me").unwrap();
        edgeloop::block_on(async {
            let err = unix_echo::bind(&dir.path("not-a-socket"))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            assert!(dir.path("not-a-socket").exists());

            let listener = unix_echo::bind(&path).await.expect("stale file removed");
            edgeloop::spawn(unix_echo::serve(listener));
            let err = unix_echo::bind(&path).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "live server kept: {err}");

            let mut client = UnixStream::connect(&path).await.unwrap();
            client.write_all(b"hello, unix echo\n").await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"hello, unix echo\n");
        });
    });
}
