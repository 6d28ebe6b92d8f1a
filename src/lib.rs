//! **edgeloop**: a single-threaded async runtime whose waker-based task queue
//! is driven by an edge-triggered epoll loop, with async TCP sockets.
//!
//! This crate gathers the two halves: [`edgeloop_runtime`] (executor, epoll
//! driver, timers, I/O traits, `AsyncFd`) and [`edgeloop_net`] (sockets).
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
//! How a waker maps to epoll, and why each piece is there, is told in the
//! [`edgeloop_runtime`] crate documentation and in `docs/` of the repository.

pub use edgeloop_runtime::*;

/// Sockets (re-exported from `edgeloop-net`).
pub mod net {
    pub use edgeloop_net::*;
}
