//! edgeloop's sockets, built only on the runtime's public API.
//!
//! Every socket here is an [`edgeloop_runtime::io::AsyncFd`] around a `std`
//! socket, and every operation is one call to `AsyncFd::poll_io` with the
//! syscall to try: that is the whole mapping from `EAGAIN` to `Pending`.
//! Sockets are created nonblocking and close-on-exec; writes never raise
//! `SIGPIPE` (a reset peer gives `EPIPE`/`ECONNRESET` as an error).

#![deny(unsafe_op_in_unsafe_fn)]

mod sys;
mod tcp;

pub use tcp::{Incoming, TcpListener, TcpStream};
