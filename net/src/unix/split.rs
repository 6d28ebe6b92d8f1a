//! `UnixStream`'s halves: one task reads while another writes (the same
//! shape as `TcpStream`'s).
//!
//! Reads and writes wait in separate directions of one registration, so a
//! reader and a writer never take each other's wakes; the halves only give
//! that a shape the borrow checker and `spawn` accept.

use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use edgeloop_runtime::io::{AsyncRead, AsyncWrite};

use super::{UCred, UnixStream};

/// The reading half of [`UnixStream::split`].
#[derive(Debug)]
pub struct UnixReadHalf<'a>(&'a UnixStream);

/// The writing half of [`UnixStream::split`]. `poll_close` (and so
/// `AsyncWriteExt::close`) shuts the stream's write side down.
#[derive(Debug)]
pub struct UnixWriteHalf<'a>(&'a UnixStream);

/// The reading half of [`UnixStream::into_split`]: owned, so it can move into
/// a task of its own.
#[derive(Debug)]
pub struct UnixOwnedReadHalf {
    stream: Rc<UnixStream>,
}

/// The writing half of [`UnixStream::into_split`]. Dropping it shuts the
/// stream's write side down (the peer reads EOF once it has read the rest),
/// as closing it does; [`forget`](Self::forget) drops it without that.
#[derive(Debug)]
pub struct UnixOwnedWriteHalf {
    stream: Rc<UnixStream>,
    /// Whether dropping it shuts the write side down.
    shutdown_on_drop: bool,
}

/// [`UnixOwnedReadHalf::reunite`] was given halves of two different streams;
/// both come back.
#[derive(Debug)]
pub struct UnixReuniteError(pub UnixOwnedReadHalf, pub UnixOwnedWriteHalf);

impl fmt::Display for UnixReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of two different Unix streams")
    }
}

impl Error for UnixReuniteError {}

pub(crate) fn split(stream: &mut UnixStream) -> (UnixReadHalf<'_>, UnixWriteHalf<'_>) {
    (UnixReadHalf(stream), UnixWriteHalf(stream))
}

pub(crate) fn into_split(stream: UnixStream) -> (UnixOwnedReadHalf, UnixOwnedWriteHalf) {
    let stream = Rc::new(stream);
    (
        UnixOwnedReadHalf {
            stream: stream.clone(),
        },
        UnixOwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

impl UnixOwnedReadHalf {
    /// Puts the halves back together, if they are of one stream.
    pub fn reunite(self, write: UnixOwnedWriteHalf) -> Result<UnixStream, UnixReuniteError> {
        if !Rc::ptr_eq(&self.stream, &write.stream) {
            return Err(UnixReuniteError(self, write));
        }
        let mut write = write;
        write.shutdown_on_drop = false;
        let stream = write.stream.clone();
        drop(write);
        drop(self);
        Ok(Rc::into_inner(stream).expect("both halves were just dropped"))
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }

    /// The peer's credentials (`SO_PEERCRED`).
    pub fn peer_cred(&self) -> io::Result<UCred> {
        self.stream.peer_cred()
    }
}

impl UnixOwnedWriteHalf {
    /// Puts the halves back together, if they are of one stream.
    pub fn reunite(self, read: UnixOwnedReadHalf) -> Result<UnixStream, UnixReuniteError> {
        read.reunite(self)
    }

    /// Drops the half without shutting the write side down.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl Drop for UnixOwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // An error means the connection is already gone; nothing to tell.
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

/// Reading through a shared reference, the way `&UnixStream` reads.
macro_rules! read_through {
    ($half:ty, $stream:ident) => {
        impl AsyncRead for $half {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut().stream();
                Pin::new(&mut &*$stream).poll_read(cx, buf)
            }
        }
    };
}

/// Writing through a shared reference, the way `&UnixStream` writes.
macro_rules! write_through {
    ($half:ty, $stream:ident) => {
        impl AsyncWrite for $half {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut().stream();
                Pin::new(&mut &*$stream).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut().stream();
                Pin::new(&mut &*$stream).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $stream = self.get_mut().stream();
                Pin::new(&mut &*$stream).poll_flush(cx)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $stream = self.get_mut().stream();
                Pin::new(&mut &*$stream).poll_close(cx)
            }
        }
    };
}

impl UnixReadHalf<'_> {
    fn stream(&self) -> &UnixStream {
        self.0
    }
}

impl UnixWriteHalf<'_> {
    fn stream(&self) -> &UnixStream {
        self.0
    }
}

impl UnixOwnedReadHalf {
    fn stream(&self) -> &UnixStream {
        &self.stream
    }
}

impl UnixOwnedWriteHalf {
    fn stream(&self) -> &UnixStream {
        &self.stream
    }
}

read_through!(UnixReadHalf<'_>, stream);
read_through!(UnixOwnedReadHalf, stream);
write_through!(UnixWriteHalf<'_>, stream);
write_through!(UnixOwnedWriteHalf, stream);
