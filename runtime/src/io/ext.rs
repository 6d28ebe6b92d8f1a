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

    /// Reads into several buffers at once (`readv` on a socket); returns
    /// how many bytes were read in all, `Ok(0)` at end of stream.
    ///
    /// Cancel-safe: if dropped before completing, no bytes were read.
    fn read_vectored<'a, 'b>(
        &'a mut self,
        bufs: &'a mut [std::io::IoSliceMut<'b>],
    ) -> super::ReadVectored<'a, 'b, Self>
    where
        Self: Unpin,
    {
        super::ReadVectored::new(self, bufs)
    }

    /// Reads until end of stream and appends it to `buf` if it is UTF-8;
    /// returns how many bytes were appended. If it is not, the error is
    /// `InvalidData` and `buf` is left as it was.
    ///
    /// Not cancel-safe: `buf` changes only when the future completes, so
    /// if it is dropped early `buf` is as it was and the bytes read so far
    /// are lost. They are lost on an I/O error too.
    ///
    /// ```
    /// use edgeloop::io::AsyncReadExt;
    ///
    /// edgeloop::block_on(async {
    ///     let mut text = String::from("say: ");
    ///     assert_eq!((&b"hello"[..]).read_to_string(&mut text).await?, 5);
    ///     assert_eq!(text, "say: hello");
    ///     let err = (&b"\xff"[..]).read_to_string(&mut text).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    ///     assert_eq!(text, "say: hello");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> super::ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        super::ReadToString::new(self, buf)
    }

    super::num::read_num_methods! {
        u8 => read_u8;
        i8 => read_i8;
        u16 => read_u16, read_u16_le;
        i16 => read_i16, read_i16_le;
        /// ```
        /// use edgeloop::io::AsyncReadExt;
        ///
        /// edgeloop::block_on(async {
        ///     let mut src: &[u8] = &[0, 0, 1, 2, 2, 1, 0, 0];
        ///     assert_eq!(src.read_u32().await?, 0x0102);
        ///     assert_eq!(src.read_u32_le().await?, 0x0102);
        ///     assert!(src.read_u32().await.is_err(), "UnexpectedEof");
        ///     Ok::<_, std::io::Error>(())
        /// })?;
        /// # Ok::<_, std::io::Error>(())
        /// ```
        u32 => read_u32, read_u32_le;
        i32 => read_i32, read_i32_le;
        u64 => read_u64, read_u64_le;
        i64 => read_i64, read_i64_le;
        u128 => read_u128, read_u128_le;
        i128 => read_i128, read_i128_le;
        f32 => read_f32, read_f32_le;
        f64 => read_f64, read_f64_le;
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

    /// Writes from several buffers at once, in one
    /// [`poll_write_vectored`](AsyncWrite::poll_write_vectored) (`sendmsg`
    /// on a socket); returns how many bytes were written in all, which may
    /// be fewer than the buffers hold.
    ///
    /// Cancel-safe: if dropped before completing, no bytes were written.
    ///
    /// ```
    /// use std::io::IoSlice;
    /// use edgeloop::io::AsyncWriteExt;
    ///
    /// edgeloop::block_on(async {
    ///     let mut out = Vec::new();
    ///     let parts = [IoSlice::new(b"head "), IoSlice::new(b"body")];
    ///     let n = out.write_vectored(&parts).await?;
    ///     assert_eq!(&out[..n], &b"head "[..n]); // a `Vec` takes the first slice
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    fn write_vectored<'a, 'b>(
        &'a mut self,
        bufs: &'a [std::io::IoSlice<'b>],
    ) -> super::WriteVectored<'a, 'b, Self>
    where
        Self: Unpin,
    {
        super::WriteVectored::new(self, bufs)
    }

    super::num::write_num_methods! {
        u8 => write_u8;
        i8 => write_i8;
        u16 => write_u16, write_u16_le;
        i16 => write_i16, write_i16_le;
        /// ```
        /// use edgeloop::io::AsyncWriteExt;
        ///
        /// edgeloop::block_on(async {
        ///     let mut out = Vec::new();
        ///     out.write_u32(0x0102).await?;
        ///     out.write_u32_le(0x0102).await?;
        ///     assert_eq!(out, [0, 0, 1, 2, 2, 1, 0, 0]);
        ///     Ok::<_, std::io::Error>(())
        /// })?;
        /// # Ok::<_, std::io::Error>(())
        /// ```
        u32 => write_u32, write_u32_le;
        i32 => write_i32, write_i32_le;
        u64 => write_u64, write_u64_le;
        i64 => write_i64, write_i64_le;
        u128 => write_u128, write_u128_le;
        i128 => write_i128, write_i128_le;
        f32 => write_f32, write_f32_le;
        f64 => write_f64, write_f64_le;
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

    #[inline]
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

    #[inline]
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

    #[inline]
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

    #[inline]
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

    #[inline]
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

    #[inline]
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

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_close(cx)
    }
}
