//! The tutorials' `select` echo server with an output queue per connection,
//! written as two tasks per connection joined by a bounded channel.
//!
//! ```text
//! cargo run --release --example queue_echo               # 127.0.0.1:8083
//! nc 127.0.0.1 8083                                      # type lines; each comes back
//! ```
//!
//! What maps to what in the Python version (`inputs`, `outputs`,
//! `message_queues`, one `select.select` loop):
//!
//! | Python | here |
//! |---|---|
//! | the `while True: select.select(...)` loop | the runtime (`block_on`) |
//! | `server` in `inputs`, `s is server: accept()` | the `accept` loop in `main` |
//! | `message_queues[conn] = queue.Queue()` | `mpsc::channel(QUEUE_DEPTH)` per connection |
//! | `s.recv(1024)`, `message_queues[s].put(data)` | the reader task: `read`, then `send` |
//! | `outputs.append(s)` / `outputs.remove(s)` | nothing: the writer task waits in `recv` |
//! | `get_nowait()`, `s.send(next_msg)` | the writer task: `recv`, then `write_all` |
//! | `if not data:` close, `del message_queues[s]` | EOF ends the reader; the writer drains and sends FIN |
//!
//! Two differences are on purpose. The Python queue is unbounded, so a peer
//! that sends without reading makes the server keep everything it sent;
//! here the queue holds [`QUEUE_DEPTH`] chunks, after which the reader
//! waits in `send` and stops reading, and TCP's flow control tells the peer
//! to slow down. And `s.send(next_msg)` may write only part of a chunk
//! (the rest is lost); `write_all` writes all of it, waiting as needed.

use std::io;
use std::net::SocketAddr;

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener};
use edgeloop::sync::mpsc;

/// How many chunks a connection's queue holds before its reader waits.
const QUEUE_DEPTH: usize = 64;

/// The most one `read` takes (the tutorials' `recv(1024)`, larger).
const CHUNK_SIZE: usize = 4096;

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8083".to_string());
    edgeloop::block_on(async move {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!(
            "edgeloop queue echo listening on {}",
            listener.local_addr()?
        );
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let (read, write) = stream.into_split();
                    let (queue_tx, queue_rx) = mpsc::channel(QUEUE_DEPTH);
                    // Named for traces (EDGELOOP_TRACE): "read 127.0.0.1:5123".
                    edgeloop::task::Builder::new()
                        .name(&format!("read {peer}"))
                        .spawn(report(peer, read_into_queue(read, queue_tx)))?;
                    edgeloop::task::Builder::new()
                        .name(&format!("write {peer}"))
                        .spawn(report(peer, write_from_queue(queue_rx, write)))?;
                }
                Err(err) => eprintln!("accept: {err}"),
            }
        }
    })
}

/// Reads chunks until EOF and queues each one. Dropping `queue` at the end
/// tells the writer there is nothing more.
async fn read_into_queue(mut read: OwnedReadHalf, queue: mpsc::Sender<Vec<u8>>) -> io::Result<()> {
    let mut buf = vec![0; CHUNK_SIZE];
    loop {
        let n = read.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        // Waits while the queue is full: backpressure.
        if queue.send(buf[..n].to_vec()).await.is_err() {
            return Ok(()); // the writer failed (and said so); stop reading
        }
    }
}

/// Writes every queued chunk, in order, then shuts the write side down so
/// the peer reads EOF after the last echoed byte.
async fn write_from_queue(
    mut queue: mpsc::Receiver<Vec<u8>>,
    mut write: OwnedWriteHalf,
) -> io::Result<()> {
    while let Some(chunk) = queue.recv().await {
        write.write_all(&chunk).await?;
    }
    write.close().await
}

/// Runs one half of a connection, printing its error unless the peer
/// simply went away.
async fn report(peer: SocketAddr, half: impl std::future::Future<Output = io::Result<()>>) {
    use io::ErrorKind::*;
    if let Err(err) = half.await {
        if !matches!(err.kind(), ConnectionReset | BrokenPipe | ConnectionAborted) {
            eprintln!("{peer}: {err}");
        }
    }
}
