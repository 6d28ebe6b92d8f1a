//! `AsyncBufRead`: a reader with an internal buffer that can be looked into.

use std::io;
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::AsyncRead;

/// A reader with an internal buffer: look at what is buffered with
/// [`poll_fill_buf`](Self::poll_fill_buf), then say how much of it was used
/// with [`consume`](Self::consume).
///
/// This is what line- and delimiter-oriented reading needs: find the
/// delimiter in the buffer, take the bytes up to it, and leave the rest for
/// the next call. [`BufReader`](super::BufReader) adds a buffer to any
/// [`AsyncRead`]; a byte slice is one already. Use it through
/// [`AsyncBufReadExt`](super::AsyncBufReadExt).
///
/// ```
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use edgeloop::io::AsyncBufRead;
///
/// edgeloop::block_on(async {
///     let mut src: &[u8] = b"key=value";
///     let eq = poll_fn(|cx| {
///         let buffered = Pin::new(&mut src).poll_fill_buf(cx);
///         buffered.map_ok(|bytes| bytes.iter().position(|&b| b == b'='))
///     })
///     .await?;
///     Pin::new(&mut src).consume(eq.unwrap() + 1);
///     assert_eq!(src, b"value");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub trait AsyncBufRead: AsyncRead {
    /// Returns the buffered bytes, reading more from the source first if
    /// the buffer is empty. An empty slice means end of stream. On
    /// `Pending` the task is woken when a read may make progress.
    ///
    /// Calling it again without [`consume`](Self::consume) returns the same
    /// bytes: nothing is taken out of the buffer until it is consumed.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>>;

    /// Marks the first `amt` bytes of the buffer as used: the next
    /// [`poll_fill_buf`](Self::poll_fill_buf) starts after them. `amt` is
    /// at most the length of the slice `poll_fill_buf` last returned
    /// (a larger one is clamped to it).
    fn consume(self: Pin<&mut Self>, amt: usize);
}

macro_rules! deref_async_buf_read {
    () => {
        fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
            Pin::new(&mut **self.get_mut()).poll_fill_buf(cx)
        }

        fn consume(mut self: Pin<&mut Self>, amt: usize) {
            Pin::new(&mut **self).consume(amt)
        }
    };
}

impl<T: ?Sized + AsyncBufRead + Unpin> AsyncBufRead for &mut T {
    deref_async_buf_read!();
}

impl<T: ?Sized + AsyncBufRead + Unpin> AsyncBufRead for Box<T> {
    deref_async_buf_read!();
}

impl<P> AsyncBufRead for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncBufRead,
{
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().as_mut().poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().as_mut().consume(amt)
    }
}

/// A byte slice is its own buffer; always ready.
impl AsyncBufRead for &[u8] {
    fn poll_fill_buf(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(Ok(*self.get_mut()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        *this = &this[amt.min(this.len())..];
    }
}
