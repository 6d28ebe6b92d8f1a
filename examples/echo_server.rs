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
//! writes the bytes straight back within the same poll. Only when the peer
//! reads slower than it sends (the write hits `EAGAIN`) do the unsent bytes
//! move into a per-connection `Vec`, freed again once they are written. An
//! idle connection costs its socket, its task and its driver slot.

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
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; SCRATCH_SIZE].into_boxed_slice());
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
                        .spawn(async move {
                            if let Err(err) = echo(stream).await {
                                report(&err);
                            }
                        })?;
                }
                Err(err) => eprintln!("accept: {err}"),
            }
        }
    })
}

/// Echoes one connection until the peer's EOF.
async fn echo(stream: TcpStream) -> io::Result<()> {
    let mut unsent = Vec::new();
    loop {
        if !unsent.is_empty() {
            (&stream).write_all(&unsent).await?;
            unsent = Vec::new(); // give the memory back: the peer caught up
        }
        let n = poll_fn(|cx| {
            SCRATCH.with_borrow_mut(|scratch| echo_once(&stream, cx, scratch, &mut unsent))
        })
        .await?;
        if n == 0 {
            return Ok(());
        }
    }
}

/// One read into `scratch`, written straight back; what the socket will not
/// take now is appended to `unsent`. Returns the bytes read (0 at EOF).
fn echo_once(
    stream: &TcpStream,
    cx: &mut Context<'_>,
    scratch: &mut [u8],
    unsent: &mut Vec<u8>,
) -> Poll<io::Result<usize>> {
    let n = ready!(Pin::new(&mut &*stream).poll_read(cx, scratch))?;
    let mut written = 0;
    while written < n {
        match Pin::new(&mut &*stream).poll_write(cx, &scratch[written..n]) {
            Poll::Ready(Ok(w)) => written += w,
            Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
            Poll::Pending => {
                unsent.extend_from_slice(&scratch[written..n]);
                break;
            }
        }
    }
    Poll::Ready(Ok(n))
}

/// A peer that vanishes is routine for a server; anything else is worth a line.
fn report(err: &io::Error) {
    use io::ErrorKind::*;
    if !matches!(err.kind(), ConnectionReset | BrokenPipe | ConnectionAborted) {
        eprintln!("connection: {err}");
    }
}
