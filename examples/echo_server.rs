//! An echo server: every byte a client sends comes back, until it closes.
//!
//! ```text
//! cargo run --release --example echo_server              # 127.0.0.1:8080
//! cargo run --release --example echo_server 0.0.0.0:9000
//! nc 127.0.0.1 8080
//! ```
//!
//! No buffer is kept per connection. A connection's task waits for
//! readability, reads into one scratch buffer the whole thread shares, and
//! writes the bytes straight back within the same poll, read after read,
//! until a read would wait (the socket is drained; the next edge wakes the
//! task). Only when the peer reads slower than it sends (the write hits
//! `EAGAIN`) do the unsent bytes move into a per-connection `Vec`, freed
//! again once they are written. An idle connection costs its socket, its
//! task and its driver slot.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use edgeloop::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use edgeloop::net::{TcpListener, TcpStream};

/// Size of the shared read buffer: one `read` takes up to this much.
const SCRATCH_SIZE: usize = 64 * 1024;

thread_local! {
    // Constant-initialised, so reaching it is a plain thread-local access
    // with no first-use check (64 KiB of the thread's static TLS block).
    static SCRATCH: RefCell<[u8; SCRATCH_SIZE]> = const { RefCell::new([0; SCRATCH_SIZE]) };
}

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    edgeloop::block_on(async move {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!(
            "edgeloop echo server listening on {}",
            listener.local_addr()?
        );
        // The plain loop is enough: out of file descriptors, `accept`
        // reports `EMFILE` once and then waits for an fd to be closed,
        // instead of failing again at once (which would spin).
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    // Named for traces (EDGELOOP_TRACE): "conn 127.0.0.1:5123".
                    edgeloop::task::Builder::new()
                        .name(&format!("conn {peer}"))
                        .spawn(echo(stream))?;
                }
                Err(err) => eprintln!("accept: {err}"),
            }
        }
    })
}

/// Serves one connection: the task's whole future. (Spawned as it is, not
/// wrapped in another `async` block, which would keep a second copy of
/// the stream's place in every idle connection's task.)
async fn echo(stream: TcpStream) {
    if let Err(err) = echo_until_eof(&stream).await {
        report(&err);
    }
}

/// Echoes until the peer's EOF.
async fn echo_until_eof(stream: &TcpStream) -> io::Result<()> {
    let mut unsent = Vec::new();
    loop {
        if !unsent.is_empty() {
            (&*stream).write_all(&unsent).await?;
            unsent = Vec::new(); // give the memory back: the peer caught up
        }
        let open = poll_fn(|cx| {
            SCRATCH.with_borrow_mut(|scratch| echo_ready(stream, cx, scratch, &mut unsent))
        })
        .await?;
        if !open {
            return Ok(());
        }
    }
}

/// Echoes what the socket holds: reads into `scratch`, each read written
/// straight back, until a read would wait (`Pending`; its waker is parked
/// for the next edge). `Ready(false)` at the peer's EOF; `Ready(true)` when
/// the socket would not take everything, the rest being in `unsent`.
///
/// The loop is bounded: every read and write spends a unit of the task's
/// I/O budget, and once it is spent `poll_read` returns `Pending` and the
/// task yields to the other connections.
fn echo_ready(
    stream: &TcpStream,
    cx: &mut Context<'_>,
    scratch: &mut [u8],
    unsent: &mut Vec<u8>,
) -> Poll<io::Result<bool>> {
    loop {
        let n = ready!(Pin::new(&mut &*stream).poll_read(cx, scratch))?;
        if n == 0 {
            return Poll::Ready(Ok(false));
        }
        let mut written = 0;
        while written < n {
            match Pin::new(&mut &*stream).poll_write(cx, &scratch[written..n]) {
                Poll::Ready(Ok(w)) => written += w,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => {
                    unsent.extend_from_slice(&scratch[written..n]);
                    return Poll::Ready(Ok(true));
                }
            }
        }
    }
}

/// A peer that vanishes is routine for a server; anything else is worth a line.
fn report(err: &io::Error) {
    use io::ErrorKind::*;
    if !matches!(err.kind(), ConnectionReset | BrokenPipe | ConnectionAborted) {
        eprintln!("connection: {err}");
    }
}
