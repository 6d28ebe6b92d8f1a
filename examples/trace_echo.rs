//! The whole chain, traced: an echo server and one client exchange two
//! messages, then a timer fires and another thread wakes a task.
//!
//! ```text
//! EDGELOOP_TRACE=stderr cargo run --example trace_echo         # readable lines
//! EDGELOOP_TRACE=trace.json cargo run --example trace_echo     # for ui.perfetto.dev
//! ```
//!
//! With `EDGELOOP_TRACE` unset it traces to stderr anyway: that is what it
//! is for. Read the lines from the top: `register` (the fd gets its token),
//! `epoll_wait` (the driver blocks), `fd … IN` (the event), `wake task …`
//! (its waiter), `poll task …` (the task runs), and how the read ends: a
//! short read clears the readiness (`read readiness cleared (short
//! transfer)`, the server's socket), a read that finds nothing says
//! `read fd … → EAGAIN: Pending` (the client's); either way the task waits
//! for the next edge.

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::{TcpListener, TcpStream};
use edgeloop::trace::TraceSink;

fn main() -> std::io::Result<()> {
    let mut builder = edgeloop::Builder::new();
    if std::env::var_os(edgeloop::trace::ENV_VAR).is_none() {
        builder.trace(TraceSink::Stderr);
    }
    let rt = builder.build()?;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = edgeloop::task::Builder::new()
            .name("echo server")
            .spawn(async move {
                let (mut conn, _) = listener.accept().await?;
                let mut buf = [0; 64];
                loop {
                    let n = conn.read(&mut buf).await?;
                    if n == 0 {
                        return Ok::<_, std::io::Error>(());
                    }
                    conn.write_all(&buf[..n]).await?;
                }
            })?;
        let mut client = TcpStream::connect(addr).await?;
        for message in [&b"hello"[..], b"edge-triggered"] {
            client.write_all(message).await?;
            let mut echo = vec![0; message.len()];
            client.read_exact(&mut echo).await?;
            assert_eq!(echo, message);
        }
        drop(client);
        server.await??;

        // A timer: the driver's wait ends at its deadline.
        edgeloop::time::sleep(Duration::from_millis(2)).await;

        // A wake from another thread: through the cross-thread queue and,
        // since the runtime is parked, the eventfd.
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let woken = Arc::new(Mutex::new(false));
        let waiter = edgeloop::task::Builder::new()
            .name("woken from a thread")
            .spawn({
                let (slot, woken) = (slot.clone(), woken.clone());
                poll_fn(move |cx| {
                    if *woken.lock().unwrap() {
                        return Poll::Ready(());
                    }
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Pending
                })
            })?;
        edgeloop::yield_now().await;
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            *woken.lock().unwrap() = true;
            if let Some(waker) = slot.lock().unwrap().take() {
                waker.wake();
            }
        });
        waiter.await.expect("the woken task");
        thread.join().expect("the waking thread");
        Ok(())
    })
}
