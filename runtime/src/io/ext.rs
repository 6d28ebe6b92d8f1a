//! `AsyncReadExt` / `AsyncWriteExt`: `.await`-able read and write helpers.
//!
//! Each method returns a small future that borrows the reader or writer and
//! calls its `poll_*` method; none allocates.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite};

/// Helpers on every [`AsyncRead`].
///
/// ```
/// use edgeloop::io::AsyncReadExt;
///
/// edgeloop::block_on(async {
///     let mut src: &[u8] = b"head:body";
///     let mut head = [0; 5];
///     src.read_exact(&mut head).await?;
///     let mut rest = Vec::new();
///     let n = src.read_to_end(&mut rest).await?;
///     assert_eq!(&head, b"head:");
///     assert_eq!((n, &rest[..]), (4, &b"body"[..]));
///     assert_eq!(src.read(&mut head).await?, 0, "end of stream");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; `Ok(0)` at end of stream.
    ///
    /// Cancel-safe: if dropped before completing, no bytes were read.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Fills `buf` completely; `UnexpectedEof` if the stream ends first.
    ///
    /// Not cancel-safe: bytes read before cancellation are in `buf` but the
    /// count is lost.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact { reader: self, buf }
    }

    /// Reads until end of stream, appending to `buf`; returns how many bytes
    /// were appended. Bytes read before an error stay in `buf`.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let start = buf.len();
        ReadToEnd {
            reader: self,
            buf,
            start,
        }
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Helpers on every [`AsyncWrite`].
///
/// ```
/// use edgeloop::io::AsyncWriteExt;
///
/// edgeloop::block_on(async {
///     let mut out = Vec::new();
///     let n = out.write(b"abc").await?; // a `Vec` takes everything
///     out.write_all(b"def").await?;
///     out.flush().await?;
///     assert_eq!((n, &out[..]), (3, &b"abcdef"[..]));
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `buf`, returning how much.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write { writer: self, buf }
    }

    /// Writes all of `buf`. A writer that accepts zero bytes gives `WriteZero`.
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll { writer: self, buf }
    }

    /// Flushes buffered data.
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush { writer: self }
    }

    /// Flushes and closes, as [`AsyncWrite::poll_close`] does: for a socket,
    /// shuts down the write side.
    fn close(&mut self) -> Close<'_, Self>
    where
        Self: Unpin,
    {
        Close { writer: self }
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// Future of [`AsyncReadExt::read`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read(cx, this.buf)
    }
}

/// Future of [`AsyncReadExt::read_exact`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while !this.buf.is_empty() {
            let n = match Pin::new(&mut *this.reader).poll_read(cx, this.buf) {
                Poll::Ready(Ok(n)) => n,
                other => return other.map(|r| r.map(drop)),
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            let rest = std::mem::take(&mut this.buf);
            this.buf = &mut rest[n..];
        }
        Poll::Ready(Ok(()))
    }
}

/// Future of [`AsyncReadExt::read_to_end`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    start: usize,
}

/// The smallest free space `read_to_end` offers a reader.
const READ_TO_END_CHUNK: usize = 4096;

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let filled = this.buf.len();
            if this.buf.capacity() - filled < READ_TO_END_CHUNK {
                this.buf.reserve(READ_TO_END_CHUNK.max(filled));
            }
            this.buf.resize(this.buf.capacity(), 0);
            let res = Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf[filled..]);
            let n = match res {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => {
                    this.buf.truncate(filled);
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {
                    this.buf.truncate(filled);
                    return Poll::Pending;
                }
            };
            this.buf.truncate(filled + n);
            if n == 0 {
                return Poll::Ready(Ok(filled - this.start));
            }
        }
    }
}

/// Future of [`AsyncWriteExt::write`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Write<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Write<'_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write(cx, this.buf)
    }
}

/// Future of [`AsyncWriteExt::write_all`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while !this.buf.is_empty() {
            let n = match Pin::new(&mut *this.writer).poll_write(cx, this.buf) {
                Poll::Ready(Ok(n)) => n,
                other => return other.map(|r| r.map(drop)),
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.buf = &this.buf[n..];
        }
        Poll::Ready(Ok(()))
    }
}

/// Future of [`AsyncWriteExt::flush`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Flush<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_flush(cx)
    }
}

/// Future of [`AsyncWriteExt::close`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Close<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Close<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_close(cx)
    }
}
