//! `copy_buf`: `copy` for a reader that has its own buffer.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncBufRead, AsyncWrite};

/// Copies everything `reader` gives until end of stream into `writer`,
/// straight from the reader's own buffer, then flushes `writer`; returns
/// how many bytes were copied. It does not close `writer`.
///
/// As [`copy`](super::copy), but with no buffer of its own: for an
/// [`AsyncBufRead`] such as a [`BufReader`](super::BufReader).
///
/// # Cancel safety
/// Cancel-safe as far as the bytes go: a byte is consumed from the reader
/// only once the writer took it, so after a drop the rest is still in the
/// reader. The count is lost.
///
/// ```
/// use edgeloop::io::{copy_buf, BufReader};
///
/// edgeloop::block_on(async {
///     let mut reader = BufReader::new(&b"buffered bytes"[..]);
///     let mut out = Vec::new();
///     assert_eq!(copy_buf(&mut reader, &mut out).await?, 14);
///     assert_eq!(out, b"buffered bytes");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub async fn copy_buf<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut copied = 0;
    poll_fn(|cx| {
        poll_copy_buf(
            cx,
            Pin::new(&mut *reader),
            Pin::new(&mut *writer),
            &mut copied,
        )
    })
    .await
}

/// One step after another of `copy_buf`: fill, write, consume; `copied`
/// keeps the count across polls.
fn poll_copy_buf<R, W>(
    cx: &mut Context<'_>,
    mut reader: Pin<&mut R>,
    mut writer: Pin<&mut W>,
    copied: &mut u64,
) -> Poll<io::Result<u64>>
where
    R: AsyncBufRead + ?Sized,
    W: AsyncWrite + ?Sized,
{
    loop {
        let available = ready!(reader.as_mut().poll_fill_buf(cx))?;
        if available.is_empty() {
            ready!(writer.as_mut().poll_flush(cx))?;
            return Poll::Ready(Ok(*copied));
        }
        let n = ready!(writer.as_mut().poll_write(cx, available))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        reader.as_mut().consume(n);
        *copied += n as u64;
    }
}
