//! `copy`: everything a reader gives, written to a writer; and the buffer
//! that carries it, shared with [`copy_bidirectional`](super::copy_bidirectional).

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::buf_reader::DEFAULT_BUF_SIZE;
use super::{AsyncRead, AsyncWrite};

/// Copies everything `reader` gives until end of stream into `writer`,
/// then flushes `writer`; returns how many bytes were copied. It does not
/// close `writer`.
///
/// The bytes go through an 8 KiB buffer of its own. While the reader has
/// nothing to give, the writer is flushed, so a
/// [`BufWriter`](super::BufWriter) on the far end does not sit on bytes.
/// For a reader that already has a buffer, [`copy_buf`](super::copy_buf)
/// saves the copy into this one.
///
/// An error from either side ends the copy; how many bytes got through
/// before it is then unknown.
///
/// # Cancel safety
/// Not cancel-safe: bytes read from `reader` but not yet written when the
/// future is dropped are lost.
///
/// ```
/// use edgeloop::io::{copy, AsyncReadExt, AsyncWriteExt};
/// use edgeloop::net::{TcpListener, TcpStream};
///
/// edgeloop::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"through the socket").await?;
///     client.close().await?; // EOF ends the copy
///     let mut got = Vec::new();
///     assert_eq!(copy(&mut server, &mut got).await?, 18);
///     assert_eq!(got, b"through the socket");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = CopyBuffer::new();
    poll_fn(|cx| buf.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer))).await
}

/// One direction of a copy: the bytes read but not yet written, and how
/// far it has got. Resumable: every step's progress is kept here.
#[derive(Debug)]
pub(crate) struct CopyBuffer {
    buf: Box<[u8]>,
    /// `buf[pos..filled]` is read and not yet written.
    pos: usize,
    filled: usize,
    /// Bytes written so far.
    copied: u64,
    /// The reader reached end of stream.
    read_done: bool,
    /// Bytes were written since the last flush.
    need_flush: bool,
}

impl CopyBuffer {
    pub(crate) fn new() -> CopyBuffer {
        CopyBuffer {
            buf: vec![0; DEFAULT_BUF_SIZE].into_boxed_slice(),
            pos: 0,
            filled: 0,
            copied: 0,
            read_done: false,
            need_flush: false,
        }
    }

    /// Copies until `reader` ends and all is written and flushed; returns
    /// the byte count. Each turn of the loop reads or writes, so a socket's
    /// I/O budget bounds it.
    pub(crate) fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            if self.pos == self.filled && !self.read_done {
                ready!(self.poll_fill(cx, reader.as_mut(), writer.as_mut()))?;
            }
            while self.pos < self.filled {
                let pending = &self.buf[self.pos..self.filled];
                let n = ready!(writer.as_mut().poll_write(cx, pending))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.pos += n;
                self.copied += n as u64;
                self.need_flush = true;
            }
            if self.read_done {
                ready!(writer.as_mut().poll_flush(cx))?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.copied));
            }
        }
    }

    /// Reads the next chunk into the empty buffer. While the reader has
    /// nothing, flushes what was written since the last flush.
    fn poll_fill<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: Pin<&mut R>,
        writer: Pin<&mut W>,
    ) -> Poll<io::Result<()>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        match reader.poll_read(cx, &mut self.buf) {
            Poll::Ready(Ok(0)) => self.read_done = true,
            Poll::Ready(Ok(n)) => {
                self.pos = 0;
                self.filled = n;
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => {
                if self.need_flush {
                    ready!(writer.poll_flush(cx))?;
                    self.need_flush = false;
                }
                return Poll::Pending;
            }
        }
        Poll::Ready(Ok(()))
    }
}
