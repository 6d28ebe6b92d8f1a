//! `BufReader`: adds a read buffer to any [`AsyncRead`].

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::{AsyncBufRead, AsyncRead, AsyncWrite};

/// The buffer size of [`BufReader::new`] and [`BufWriter::new`](super::BufWriter::new).
pub(crate) const DEFAULT_BUF_SIZE: usize = 8 * 1024;

pin_project! {
    /// Adds a buffer to a reader: many small reads (a line, a header, an
    /// integer) cost one read of the inner reader, and it implements
    /// [`AsyncBufRead`], so [`AsyncBufReadExt`](super::AsyncBufReadExt)'s
    /// line and delimiter helpers work on it.
    ///
    /// A read at least as large as the buffer, made while the buffer is
    /// empty, skips it and goes straight to the inner reader. If the inner
    /// object is also [`AsyncWrite`], writes pass straight through.
    ///
    /// Dropping a `BufReader` (or [`into_inner`](Self::into_inner)) drops
    /// the bytes it has buffered; look at them first with
    /// [`buffer`](Self::buffer) if they matter.
    ///
    /// ```
    /// use edgeloop::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    /// use edgeloop::net::{TcpListener, TcpStream};
    ///
    /// edgeloop::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"len 3\nabc").await?;
    ///     let mut server = BufReader::new(server);
    ///     let mut header = String::new();
    ///     server.read_line(&mut header).await?;
    ///     assert_eq!(header, "len 3\n");
    ///     let mut body = [0; 3];
    ///     server.read_exact(&mut body).await?; // the rest of the buffer
    ///     assert_eq!(&body, b"abc");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub struct BufReader<R> {
        #[pin]
        inner: R,
        buf: Box<[u8]>,
        // `buf[pos..filled]` is read from `inner` and not yet consumed.
        pos: usize,
        filled: usize,
    }
}

impl<R> BufReader<R> {
    /// A `BufReader` with an 8 KiB buffer.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// A `BufReader` with a buffer of `capacity` bytes, allocated now.
    /// With a capacity of 0 every read goes straight through, and
    /// [`poll_fill_buf`](AsyncBufRead::poll_fill_buf) can only report end
    /// of stream: line reading needs a buffer.
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        BufReader {
            inner,
            buf: vec![0; capacity].into_boxed_slice(),
            pos: 0,
            filled: 0,
        }
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader. Reading from it directly skips what is buffered.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The pinned inner reader.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// Unwraps the inner reader; the buffered bytes are dropped.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The bytes read from the inner reader and not yet consumed.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// The size of the buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    fn discard_buffer(self: Pin<&mut Self>) {
        let me = self.project();
        *me.pos = 0;
        *me.filled = 0;
    }
}

impl<R: AsyncRead> AsyncRead for BufReader<R> {
    /// Copies from the buffer, filling it first if it is empty; a `buf` at
    /// least as large as the buffer, asked for while it is empty, is read
    /// into directly.
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if self.pos == self.filled && buf.len() >= self.buf.len() {
            let res = ready!(self.as_mut().get_pin_mut().poll_read(cx, buf));
            self.discard_buffer();
            return Poll::Ready(res);
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }

    /// As `poll_read`: straight through when the buffer is empty and the
    /// slices together are at least as large as it.
    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let total = bufs
            .iter()
            .fold(0usize, |sum, b| sum.saturating_add(b.len()));
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        if self.pos == self.filled && total >= self.buf.len() {
            let res = ready!(self.as_mut().get_pin_mut().poll_read_vectored(cx, bufs));
            self.discard_buffer();
            return Poll::Ready(res);
        }
        let mut available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let mut n = 0;
        for buf in bufs.iter_mut() {
            let take = available.len().min(buf.len());
            buf[..take].copy_from_slice(&available[..take]);
            available = &available[take..];
            n += take;
        }
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncRead> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let me = self.project();
        if *me.pos >= *me.filled {
            let n = ready!(me.inner.poll_read(cx, me.buf))?;
            *me.pos = 0;
            *me.filled = n;
        }
        Poll::Ready(Ok(&me.buf[*me.pos..*me.filled]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let me = self.project();
        *me.pos = (*me.pos + amt).min(*me.filled);
    }
}

/// Writes pass straight through to the inner object.
impl<R: AsyncWrite> AsyncWrite for BufReader<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_close(cx)
    }
}

impl<R: fmt::Debug> fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufReader")
            .field("reader", &self.inner)
            .field("buffered", &(self.filled - self.pos))
            .field("capacity", &self.buf.len())
            .finish()
    }
}
