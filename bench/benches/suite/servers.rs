//! The echo servers that need a peer crate: edgeloop's two (the logic of
//! `examples/echo_server.rs`, and tokio's program written against edgeloop)
//! and tokio's current-thread runtime doing the idiomatic echo. Each listens
//! on 127.0.0.1, port 0, and prints `port N`.
//! The fourth, the hand-written epoll loop, is `edgeloop_bench::epoll_server`.
//!
//! All four set `TCP_NODELAY` on every accepted connection. Without it, a
//! server that answers one message with several writes (tokio's, at 16 KiB
//! through a 4 KiB buffer) waits on Nagle's algorithm for the client's
//! delayed ACK, about 40 ms a message, and the benchmark would measure that.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io::{self, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use edgeloop_bench::ECHO_BUFFER;

use edgeloop::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use edgeloop::net::{TcpListener, TcpStream};

/// How long tokio's accept loop pauses when the process is out of
/// descriptors (tokio's `accept` would fail again at once; edgeloop's waits
/// for a closed fd by itself).
const FD_EXHAUSTED_PAUSE: Duration = Duration::from_millis(20);

thread_local! {
    static SCRATCH: RefCell<[u8; ECHO_BUFFER]> = const { RefCell::new([0; ECHO_BUFFER]) };
}

fn announce(port: u16) -> io::Result<()> {
    println!("port {port}");
    io::stdout().flush()
}

fn is_fd_exhaustion(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// edgeloop's echo server: no buffer per connection; each read goes into one
/// scratch buffer the thread shares and is written straight back. (The
/// example's buffer is 64 KiB; here it is [`ECHO_BUFFER`], as the others'.)
pub fn edgeloop() -> io::Result<()> {
    edgeloop::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        announce(listener.local_addr()?.port())?;
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    edgeloop::spawn(echo(stream));
                }
                Err(e) => eprintln!("edgeloop server: accept: {e}"),
            }
        }
    })
}

/// Serves one connection, as the task's whole future (the example's
/// `echo`); an error ends it.
async fn echo(stream: TcpStream) {
    let _ = echo_until_eof(&stream).await;
}

/// Echoes until the peer's EOF (the example's `echo_until_eof`).
async fn echo_until_eof(stream: &TcpStream) -> io::Result<()> {
    let mut unsent = Vec::new();
    loop {
        if !unsent.is_empty() {
            (&*stream).write_all(&unsent).await?;
            unsent = Vec::new();
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

/// Reads into `scratch` and writes each read straight back until a read
/// would wait (the example's `echo_ready`): `Ready(false)` at EOF,
/// `Ready(true)` when the rest is left in `unsent`. Bounded by the budget.
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

/// tokio's program, line for line, on edgeloop: a task per connection,
/// `read` into its own [`ECHO_BUFFER`] buffer, then `write_all`. The
/// instruction count of issue 10 measures the runtime with this one.
pub fn edgeloop_rw() -> io::Result<()> {
    use edgeloop::io::AsyncReadExt;
    edgeloop::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        announce(listener.local_addr()?.port())?;
        loop {
            match listener.accept().await {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    edgeloop::spawn(async move {
                        let mut buf = vec![0u8; ECHO_BUFFER];
                        loop {
                            let n = match stream.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    });
                }
                Err(e) => eprintln!("edgeloop-rw server: accept: {e}"),
            }
        }
    })
}

/// tokio's current-thread runtime: per connection, `read` into a
/// [`ECHO_BUFFER`] buffer, then `write_all`.
///
/// With `io_only` the runtime has no time driver (`enable_io` instead of
/// `enable_all`; `--role server tokio-io`), for the instruction count's
/// note on what tokio's timer costs per turn.
pub fn tokio(io_only: bool) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut builder = tokio::runtime::Builder::new_current_thread();
    if io_only {
        builder.enable_io();
    } else {
        builder.enable_all();
    }
    let rt = builder.build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        announce(listener.local_addr()?.port())?;
        loop {
            match listener.accept().await {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; ECHO_BUFFER];
                        loop {
                            let n = match stream.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    });
                }
                // Without a time driver, the pause blocks the thread: only
                // for this corner of a benchmark server.
                Err(e) if is_fd_exhaustion(&e) && io_only => std::thread::sleep(FD_EXHAUSTED_PAUSE),
                Err(e) if is_fd_exhaustion(&e) => tokio::time::sleep(FD_EXHAUSTED_PAUSE).await,
                Err(e) => eprintln!("tokio server: accept: {e}"),
            }
        }
    })
}
