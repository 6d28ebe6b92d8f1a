//! `TcpStream`'s halves: one task reads while another writes.
//!
//! Reads and writes wait in separate directions of one registration, so a
//! reader and a writer never take each other's wakes; the halves only give
//! that a shape the borrow checker and `spawn` accept.

use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use edgeloop_runtime::io::{AsyncRead, AsyncWrite};

use super::TcpStream;

/// The reading half of [`TcpStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The writing half of [`TcpStream::split`]. `poll_close` (and so
/// `AsyncWriteExt::close`) shuts the stream's write side down.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

/// The reading half of [`TcpStream::into_split`]: owned, so it can move into
/// a task of its own.
#[derive(Debug)]
pub struct OwnedReadHalf {
    stream: Rc<TcpStream>,
}

/// The writing half of [`TcpStream::into_split`]. Dropping it shuts the
/// stream's write side down (the peer reads EOF once it has read the rest),
/// as closing it does; [`forget`](Self::forget) drops it without that.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    stream: Rc<TcpStream>,
    /// Whether dropping it sends FIN.
    shutdown_on_drop: bool,
}

/// [`OwnedReadHalf::reunite`] was given halves of two different streams;
/// both come back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of two different TCP streams")
    }
}

impl Error for ReuniteError {}

pub(crate) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

pub(crate) fn into_split(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let stream = Rc::new(stream);
    (
        OwnedReadHalf {
            stream: stream.clone(),
        },
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

impl OwnedReadHalf {
    /// Puts the halves back together, if they are of one stream.
    pub fn reunite(self, write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Rc::ptr_eq(&self.stream, &write.stream) {
            return Err(ReuniteError(self, write));
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

    /// Reads without taking the data out (`MSG_PEEK`).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.peek(buf).await
    }
}

impl OwnedWriteHalf {
    /// Puts the halves back together, if they are of one stream.
    pub fn reunite(self, read: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
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

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // An error means the connection is already gone; nothing to tell.
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

/// Reading through a shared reference, the way `&TcpStream` reads.
macro_rules! read_through {
    ($half:ty, $stream:ident) => {
        impl AsyncRead for $half {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut().tcp();
                Pin::new(&mut &*$stream).poll_read(cx, buf)
            }
        }
    };
}

/// Writing through a shared reference, the way `&TcpStream` writes.
macro_rules! write_through {
    ($half:ty, $stream:ident) => {
        impl AsyncWrite for $half {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut().tcp();
                Pin::new(&mut &*$stream).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut().tcp();
                Pin::new(&mut &*$stream).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $stream = self.get_mut().tcp();
                Pin::new(&mut &*$stream).poll_flush(cx)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $stream = self.get_mut().tcp();
                Pin::new(&mut &*$stream).poll_close(cx)
            }
        }
    };
}

impl ReadHalf<'_> {
    fn tcp(&self) -> &TcpStream {
        self.0
    }
}

impl WriteHalf<'_> {
    fn tcp(&self) -> &TcpStream {
        self.0
    }
}

impl OwnedReadHalf {
    fn tcp(&self) -> &TcpStream {
        &self.stream
    }
}

impl OwnedWriteHalf {
    fn tcp(&self) -> &TcpStream {
        &self.stream
    }
}

read_through!(ReadHalf<'_>, stream);
read_through!(OwnedReadHalf, stream);
write_through!(WriteHalf<'_>, stream);
write_through!(OwnedWriteHalf, stream);
