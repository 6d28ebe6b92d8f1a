//! `BufWriter`: adds a write buffer to any [`AsyncWrite`].

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::buf_reader::DEFAULT_BUF_SIZE;
use super::{AsyncBufRead, AsyncRead, AsyncWrite};

pin_project! {
    /// Adds a buffer to a writer: small writes are gathered in it and reach
    /// the inner writer as one large write when it is full, or when it is
    /// flushed or closed.
    ///
    /// A write at least as large as the buffer goes straight to the inner
    /// writer (after what is buffered, to keep the order); so does a
    /// vectored write whose slices together are, as one
    /// `poll_write_vectored`. Smaller vectored writes are gathered like
    /// any other. If the inner object is also [`AsyncRead`], reads pass
    /// straight through.
    ///
    /// # Flush before you drop
    /// **Call [`flush`](super::AsyncWriteExt::flush) or
    /// [`close`](super::AsyncWriteExt::close) before dropping a
    /// `BufWriter`.** A destructor cannot wait for a socket, so dropping
    /// one drops the bytes still in its buffer, as tokio's does. Dropping
    /// never panics and never blocks. To take a writer apart without
    /// losing anything, [`into_parts`](Self::into_parts) hands back the
    /// unwritten bytes.
    ///
    /// ```
    /// use edgeloop::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
    /// use edgeloop::net::{TcpListener, TcpStream};
    ///
    /// edgeloop::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let mut out = BufWriter::new(client);
    ///     for word in ["one ", "two ", "three"] {
    ///         out.write_all(word.as_bytes()).await?; // buffered
    ///     }
    ///     out.close().await?; // one write, then the write side shut down
    ///     let mut got = String::new();
    ///     server.read_to_string(&mut got).await?;
    ///     assert_eq!(got, "one two three");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub struct BufWriter<W> {
        #[pin]
        inner: W,
        // Written by the user, not yet by `inner`; never grows past its
        // capacity.
        buf: Vec<u8>,
    }
}

impl<W> BufWriter<W> {
    /// A `BufWriter` with an 8 KiB buffer.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// A `BufWriter` with a buffer of (at least) `capacity` bytes,
    /// allocated now. With 0, every write goes straight through.
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
        }
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer. Writing to it directly puts bytes ahead of what
    /// is buffered.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The pinned inner writer.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut W> {
        self.project().inner
    }

    /// The inner writer, and the bytes written to this `BufWriter` that
    /// have not reached it yet (empty after a flush).
    ///
    /// ```
    /// use edgeloop::io::{AsyncWriteExt, BufWriter};
    ///
    /// edgeloop::block_on(async {
    ///     let mut out = BufWriter::new(Vec::new());
    ///     out.write_all(b"pending").await?;
    ///     let (inner, unwritten) = out.into_parts();
    ///     assert_eq!((&inner[..], &unwritten[..]), (&b""[..], &b"pending"[..]));
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn into_parts(self) -> (W, Vec<u8>) {
        (self.inner, self.buf)
    }

    /// The bytes buffered, not yet written to the inner writer.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The size of the buffer.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

impl<W: AsyncWrite> BufWriter<W> {
    /// Writes the whole buffer to the inner writer (without flushing it).
    /// What was written is removed even if the rest must wait, so a retry
    /// never writes a byte twice.
    fn flush_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut me = self.project();
        let mut written = 0;
        let res = loop {
            if written == me.buf.len() {
                break Poll::Ready(Ok(()));
            }
            match me.inner.as_mut().poll_write(cx, &me.buf[written..]) {
                Poll::Ready(Ok(0)) => break Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(e)) => break Poll::Ready(Err(e)),
                Poll::Pending => break Poll::Pending,
            }
        };
        me.buf.drain(..written);
        res
    }
}

impl<W: AsyncWrite> AsyncWrite for BufWriter<W> {
    /// Buffers `buf`, writing the buffer out first if `buf` does not fit;
    /// a `buf` at least as large as the buffer goes straight through.
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.buf.len().saturating_add(buf.len()) > self.buf.capacity() {
            ready!(self.as_mut().flush_buf(cx))?;
        }
        let me = self.project();
        if buf.len() >= me.buf.capacity() {
            me.inner.poll_write(cx, buf)
        } else {
            me.buf.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
    }

    /// As `poll_write`, for all of `bufs` together: buffered whole, or
    /// passed on whole to the inner `poll_write_vectored`.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total = bufs
            .iter()
            .fold(0usize, |sum, b| sum.saturating_add(b.len()));
        if self.buf.len().saturating_add(total) > self.buf.capacity() {
            ready!(self.as_mut().flush_buf(cx))?;
        }
        let me = self.project();
        if total >= me.buf.capacity() {
            me.inner.poll_write_vectored(cx, bufs)
        } else {
            bufs.iter().for_each(|b| me.buf.extend_from_slice(b));
            Poll::Ready(Ok(total))
        }
    }

    /// Writes the buffer out, then flushes the inner writer.
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().flush_buf(cx))?;
        self.get_pin_mut().poll_flush(cx)
    }

    /// Writes the buffer out, then closes the inner writer (for a socket,
    /// shuts down its write side).
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().flush_buf(cx))?;
        self.get_pin_mut().poll_close(cx)
    }
}

/// Reads pass straight through to the inner object.
impl<W: AsyncRead> AsyncRead for BufWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_read_vectored(cx, bufs)
    }
}

/// A `BufWriter<BufReader<T>>` still reads line by line.
impl<W: AsyncBufRead> AsyncBufRead for BufWriter<W> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_pin_mut().poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_pin_mut().consume(amt)
    }
}

impl<W: fmt::Debug> fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufWriter")
            .field("writer", &self.inner)
            .field("buffered", &self.buf.len())
            .field("capacity", &self.buf.capacity())
            .finish()
    }
}
