//! **edgeloop**: a single-threaded async runtime whose waker-based task queue
//! is driven by an edge-triggered epoll loop, with async TCP sockets.
//!
//! ```
//! use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
//! use edgeloop::net::{TcpListener, TcpStream};
//!
//! edgeloop::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = edgeloop::spawn(async move {
//!         let (mut conn, _) = listener.accept().await?;
//!         let mut buf = [0; 5];
//!         conn.read_exact(&mut buf).await?;
//!         conn.write_all(&buf).await
//!     });
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello").await?;
//!     let mut echo = [0; 5];
//!     client.read_exact(&mut echo).await?;
//!     assert_eq!(&echo, b"hello");
//!     server.await?
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # How a waker maps to epoll
//!
//! Follow one byte from the kernel to the task that reads it:
//!
//! ```text
//!  kernel: a byte arrives on fd 7
//!     │
//!  epoll_wait ──► event { events: EPOLLIN, data: token (slot 3, generation 12) }
//!     │
//!  slot 3 still at generation 12? if not, the fd was closed and its number
//!     │                           reused: the event is dropped
//!  registration: readiness |= READABLE, take the readers' wakers
//!     │
//!  waker.wake() ──► task state |= SCHEDULED ──► run queue (once, however many wakes)
//!     │
//!  the scheduler pops the task ──► future.poll(cx)
//!     │
//!  AsyncFd::poll_io ──► read(7) ──► n bytes: Ready(Ok(n))
//!                         └──────► EAGAIN: clear READABLE, store cx.waker(),
//!                                  return Pending (the next edge wakes it)
//! ```
//!
//! The rules that make this correct and cheap:
//!
//! - **Registered once.** Making an [`AsyncFd`](crate::io::AsyncFd) (every
//!   [`TcpStream`](crate::net::TcpStream) and
//!   [`TcpListener`](crate::net::TcpListener) is one) adds its fd to epoll
//!   for `EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET`: both
//!   directions, edge-triggered. Nothing is re-armed per wait; dropping it
//!   removes the fd from epoll before the fd is closed.
//! - **Tokens, not fds.** An event's `epoll_data` is a slot index plus a
//!   generation, so an event queued for a closed fd never reaches the socket
//!   that reuses its number.
//! - **Readiness is cached** per registration, as a
//!   [`Ready`](crate::io::Ready) set: events add bits, and operations clear
//!   them one direction at a time. An operation that hits `EAGAIN` clears
//!   its direction's ready and closed bits and the error bit. On a TCP
//!   stream a short read or write proves the direction drained too, so it
//!   clears the ready bit alone and saves the syscall that could only return
//!   `EAGAIN` (see
//!   [`AsyncFd::clear_readiness`](crate::io::AsyncFd::clear_readiness)); but
//!   while urgent data is pending
//!   ([`Ready::PRIORITY`](crate::io::Ready::PRIORITY)) a short read clears
//!   nothing, since a read stops short at the urgent mark.
//! - **Readers and writers wait apart** ([`Interest`](crate::io::Interest)),
//!   so one task may read while another writes. `poll_*` callers
//!   ([`AsyncFd::poll_io`](crate::io::AsyncFd::poll_io), the
//!   [`AsyncRead`](crate::io::AsyncRead) and
//!   [`AsyncWrite`](crate::io::AsyncWrite) impls) share one slot per
//!   direction, and the last waker wins. `async` operations
//!   ([`TcpListener::accept`](crate::net::TcpListener::accept),
//!   [`AsyncFd::readable`](crate::io::AsyncFd::readable), …) keep their own
//!   entry, removed when their future ends, so any number of them may wait
//!   in one direction and an event wakes them all.
//! - **Parking and cross-thread wakes.** With nothing to run, the thread
//!   blocks in `epoll_wait` until an event or the earliest timer's deadline.
//!   A wake on the runtime's thread makes no syscall; a wake from another
//!   thread pushes the task onto a lock-free queue and, only if the runtime
//!   is parked, writes an `eventfd` that sits in the same epoll set.
//! - **Fairness.** The driver is checked for events at least every 61 polls
//!   ([`Builder::event_interval`](crate::Builder::event_interval); the
//!   `block_on` future's polls count); [`yield_now`] re-queues a task only
//!   after that check; and one task poll may complete at most 128 I/O
//!   operations ([`Builder::io_budget`](crate::Builder::io_budget)) before
//!   its next one returns `Pending` and the task, too, waits for that check.
//!
//! `spawn` needs no `Send`: a task's future is polled and dropped only on the
//! runtime's thread (see [`task`]).
//!
//! # Layout
//!
//! This crate is the facade; depend on it and use its paths. The executor,
//! driver, timers and I/O traits live in the `edgeloop-runtime` crate,
//! re-exported at this crate's root, and the sockets in `edgeloop-net`,
//! re-exported as [`net`]. The long version of this tour, with the source
//! files in the order the byte travels, is `docs/architecture.md` in the
//! repository.

pub use edgeloop_runtime::*;

/// TCP sockets. Each is an [`AsyncFd`](crate::io::AsyncFd) around a `std`
/// socket, and each operation follows its one rule: try the syscall, and on
/// `EAGAIN` clear the cached readiness and wait for the next edge. Sockets
/// are created nonblocking and close-on-exec; writes never raise `SIGPIPE`
/// (a reset peer gives `EPIPE` or `ECONNRESET` as an error).
pub mod net {
    pub use edgeloop_net::*;
}
