//! Writes to a reset TCP connection, to a Unix stream whose peer is gone and
//! to Unix sockets shut down for writing give `EPIPE`/`ECONNRESET` as
//! errors and never raise `SIGPIPE`, even in a process that has not ignored
//! it (Rust programs ignore it by default, which would hide the mistake).
//!
//! The only test in this binary: it restores the default `SIGPIPE` action
//! for the whole process, so a `SIGPIPE` kills the test binary.

mod util;

use std::future::poll_fn;
use std::io::{ErrorKind, IoSlice};
use std::net::Shutdown;
use std::pin::Pin;

use edgeloop::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use edgeloop::net::{TcpStream, UnixDatagram, UnixStream};
use util::watchdog;

#[test]
fn writing_to_a_reset_connection_is_an_error_not_a_signal() {
    // SAFETY: `SIG_DFL` is a valid disposition for `SIGPIPE`; no handler
    // code is installed, and no other test runs in this process.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR);
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            client.write_all(b"x").await.unwrap();
            let mut byte = [0];
            server.read_exact(&mut byte).await.unwrap();
            util::set_linger_zero(&client);
            drop(client);
            server.readable().await.unwrap(); // the reset has arrived

            let mut errors = Vec::new();
            for _ in 0..4 {
                errors.push(server.write(b"plain write").await);
                let slices = [IoSlice::new(b"vectored"), IoSlice::new(b" write")];
                errors.push(
                    poll_fn(|cx| Pin::new(&mut server).poll_write_vectored(cx, &slices)).await,
                );
            }
            for res in errors {
                let err = res.expect_err("a write to a reset connection succeeded");
                assert!(
                    matches!(
                        err.kind(),
                        ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
                    ),
                    "{err}"
                );
            }
            unix_writes_are_errors_not_signals().await;
        });
    });
}

/// The Unix side of the same rule: every write path of `UnixStream` and
/// `UnixDatagram` sends with `MSG_NOSIGNAL` (std's `write` on them does not).
async fn unix_writes_are_errors_not_signals() {
    let is_pipe = |res: std::io::Result<usize>, what: &str| {
        let err = res.expect_err(what);
        assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{what}: {err}");
    };
    // The peer is gone.
    let (mut a, b) = UnixStream::pair().unwrap();
    drop(b);
    is_pipe(a.write(b"to nobody").await, "write after the peer closed");
    let slices = [IoSlice::new(b"vectored"), IoSlice::new(b" write")];
    is_pipe(
        poll_fn(|cx| Pin::new(&mut a).poll_write_vectored(cx, &slices)).await,
        "vectored write after the peer closed",
    );
    is_pipe(a.try_write(b"now"), "try_write after the peer closed");
    // This end shut its own write side.
    let (mut c, _d) = UnixStream::pair().unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    is_pipe(c.write(b"after shutdown").await, "write after shutdown");
    let (e, _f) = UnixDatagram::pair().unwrap();
    e.shutdown(Shutdown::Write).unwrap();
    is_pipe(e.send(b"datagram").await, "send after shutdown");
    is_pipe(e.try_send(b"datagram"), "try_send after shutdown");
}
