//! edgeloop's sockets, built only on the runtime's public API.
//!
//! This crate is part of the layout: users get these types as
//! `edgeloop::net` from the `edgeloop` crate.
//!
//! Every socket here is an `AsyncFd` (`edgeloop::io::AsyncFd`) around a
//! `std` socket, and every operation goes through `AsyncFd` (`poll_io`,
//! `async_io`, `try_io`) with the syscall to try: that is the whole mapping
//! from `EAGAIN` to `Pending`. Sockets are created nonblocking and
//! close-on-exec; writes never raise `SIGPIPE` (a reset peer gives
//! `EPIPE`/`ECONNRESET` as an error).

#![deny(unsafe_op_in_unsafe_fn)]

mod exhaustion;
#[cfg(feature = "futures-io")]
mod futures_io;
mod halves;
mod sys;
mod tcp;
mod udp;
mod unix;

pub use tcp::{
    Incoming, OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, TcpListener, TcpStream,
    WriteHalf,
};
pub use udp::UdpSocket;
pub use unix::{
    UCred, UnixDatagram, UnixListener, UnixOwnedReadHalf, UnixOwnedWriteHalf, UnixReadHalf,
    UnixReuniteError, UnixStream, UnixWriteHalf,
};
