//! Asynchronous I/O: the [`AsyncRead`] / [`AsyncWrite`] traits, their
//! extension methods, and [`AsyncFd`], which registers any nonblocking file
//! descriptor with the runtime's epoll driver.
//!
//! The traits have the shape of `futures-io`'s (`poll_read` fills a plain
//! byte slice; `poll_close` flushes, then closes) but are edgeloop's own:
//! they are **not** interchangeable with `futures-io`'s or tokio's
//! `AsyncRead` / `AsyncWrite`. Out of the box, a type that implements those
//! does not implement these, nor the other way round, so codecs and adapters
//! written for them cannot be used with edgeloop's sockets directly. The
//! `futures-io` cargo feature (off by default) bridges to `futures-io` both
//! ways: every edgeloop I/O type (`AsyncFd`, `BufReader`, `BufWriter`,
//! `split`'s halves, the sockets and their halves) also implements
//! `futures-io`'s `AsyncRead` / `AsyncWrite` (and `AsyncBufRead` where it
//! implements edgeloop's), and `FuturesIo` wraps a `futures-io` type to
//! give it edgeloop's traits. There is no bridge to tokio's traits.

mod async_fd;
mod buf_read;
mod buf_read_ext;
mod buf_reader;
mod buf_split;
mod buf_writer;
mod copy;
mod copy_bidirectional;
mod copy_buf;
mod ext;
mod fd_released;
#[cfg(feature = "futures-io")]
mod futures_io;
mod lines;
mod num;
mod pipe;
mod read_to_string;
mod split;
mod stdio;
mod vectored;

use std::io::{self, IoSlice, IoSliceMut};
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{Context, Poll};

#[cfg(feature = "futures-io")]
pub use self::futures_io::FuturesIo;
pub use crate::driver::{Interest, Ready};
/// For `__forward_to_edgeloop!`'s expansion in other crates; not API.
#[cfg(feature = "futures-io")]
#[doc(hidden)]
pub use ::futures_io as __futures_io;
pub use async_fd::{AsyncFd, ReadyGuard, TryIoError};
pub use buf_read::AsyncBufRead;
pub use buf_read_ext::{AsyncBufReadExt, ReadLine, ReadUntil};
pub use buf_reader::BufReader;
pub use buf_split::Split;
pub use buf_writer::BufWriter;
pub use copy::copy;
pub use copy_bidirectional::copy_bidirectional;
pub use copy_buf::copy_buf;
pub use ext::{
    AsyncReadExt, AsyncWriteExt, Close, Flush, Read, ReadExact, ReadToEnd, Write, WriteAll,
};
pub use fd_released::{fd_released, FdReleased};
pub use lines::Lines;
pub use num::{ReadNum, WriteNum};
pub use pipe::{pipe, PipeReader, PipeWriter};
pub use read_to_string::ReadToString;
pub use split::{split, ReadHalf, WriteHalf};
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
pub use vectored::{ReadVectored, WriteVectored};

/// Reads bytes asynchronously.
///
/// Use it through [`AsyncReadExt`]'s `.await`-able methods; call
/// `poll_read` directly when writing a future or another reader by hand.
///
/// ```
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use edgeloop::io::AsyncRead;
///
/// edgeloop::block_on(async {
///     let mut src: &[u8] = b"hello";
///     let mut buf = [0; 3];
///     let n = poll_fn(|cx| Pin::new(&mut src).poll_read(cx, &mut buf)).await?;
///     assert_eq!(&buf[..n], b"hel");
///     assert_eq!(src, b"lo"); // reading a slice consumes it
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub trait AsyncRead {
    /// Reads into `buf`; `Ready(Ok(0))` means end of stream (or an empty
    /// `buf`). On `Pending` the task is woken when a read may make progress.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;

    /// Reads into several buffers; by default into the first non-empty one.
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        match bufs.iter_mut().find(|b| !b.is_empty()) {
            Some(buf) => self.poll_read(cx, buf),
            None => self.poll_read(cx, &mut []),
        }
    }
}

/// Writes bytes asynchronously.
///
/// Use it through [`AsyncWriteExt`]'s `.await`-able methods. Implementing
/// it for a writer that is not a socket:
///
/// ```
/// use std::io;
/// use std::pin::Pin;
/// use std::task::{ready, Context, Poll};
/// use edgeloop::io::{AsyncWrite, AsyncWriteExt};
///
/// /// Counts the bytes that pass through to a `Vec`.
/// struct Counting {
///     inner: Vec<u8>,
///     count: usize,
/// }
///
/// impl AsyncWrite for Counting {
///     fn poll_write(
///         mut self: Pin<&mut Self>,
///         cx: &mut Context<'_>,
///         buf: &[u8],
///     ) -> Poll<io::Result<usize>> {
///         let n = ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
///         self.count += n;
///         Poll::Ready(Ok(n))
///     }
///
///     fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
///         Pin::new(&mut self.inner).poll_flush(cx)
///     }
///
///     // Not a socket: there is no write side to shut down, so closing
///     // only flushes.
///     fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
///         self.poll_flush(cx)
///     }
/// }
///
/// edgeloop::block_on(async {
///     let mut out = Counting { inner: Vec::new(), count: 0 };
///     out.write_all(b"hello").await?;
///     out.close().await?;
///     assert_eq!(out.count, 5);
///     assert_eq!(out.inner, b"hello");
///     Ok::<_, io::Error>(())
/// })?;
/// # Ok::<_, io::Error>(())
/// ```
pub trait AsyncWrite {
    /// Writes some of `buf`, returning how much. `Ready(Ok(0))` for a
    /// non-empty `buf` means the object can take no more.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;

    /// Writes from several buffers; by default from the first non-empty one.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match bufs.iter().find(|b| !b.is_empty()) {
            Some(buf) => self.poll_write(cx, buf),
            None => self.poll_write(cx, &[]),
        }
    }

    /// Pushes out anything buffered.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Flushes, then closes. For a socket this shuts down the write side
    /// (`shutdown(SHUT_WR)`: the peer reads EOF, and this side can still
    /// read); for other objects it does what the implementation documents
    /// ([`AsyncFd`]'s only flushes).
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

macro_rules! deref_async_read {
    () => {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_read(cx, buf)
        }

        fn poll_read_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &mut [IoSliceMut<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_read_vectored(cx, bufs)
        }
    };
}

macro_rules! deref_async_write {
    () => {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_write(cx, buf)
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_write_vectored(cx, bufs)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_flush(cx)
        }

        fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_close(cx)
        }
    };
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for &mut T {
    deref_async_read!();
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for Box<T> {
    deref_async_read!();
}

impl<T: ?Sized + AsyncWrite + Unpin> AsyncWrite for &mut T {
    deref_async_write!();
}

impl<T: ?Sized + AsyncWrite + Unpin> AsyncWrite for Box<T> {
    deref_async_write!();
}

impl<P> AsyncRead for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncRead,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().as_mut().poll_read(cx, buf)
    }
}

impl<P> AsyncWrite for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncWrite,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().as_mut().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_close(cx)
    }
}

/// Reading from a byte slice consumes it; always ready.
impl AsyncRead for &[u8] {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Read::read(self.get_mut(), buf))
    }
}

/// Writing to a vector appends; always ready.
impl AsyncWrite for Vec<u8> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
