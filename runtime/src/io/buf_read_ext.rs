//! `AsyncBufReadExt`: `.await`-able delimiter and line reading on every
//! [`AsyncBufRead`].

use std::future::Future;
use std::io;
use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncBufRead, Lines, Split};

/// The message of a `read_line` future polled again after it completed.
const READ_LINE_POLLED_AFTER_COMPLETION: &str =
    "`AsyncBufReadExt::read_line` future polled after it completed; await a new `read_line`";

/// The error of a line that is not UTF-8.
pub(crate) const NOT_UTF8: &str = "stream did not contain valid UTF-8";

/// Helpers on every [`AsyncBufRead`] ([`BufReader`](super::BufReader),
/// byte slices, …).
///
/// ```
/// use edgeloop::io::{AsyncBufReadExt, BufReader};
///
/// edgeloop::block_on(async {
///     let mut reader = BufReader::new(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
///     let mut request_line = String::new();
///     reader.read_line(&mut request_line).await?;
///     assert_eq!(request_line, "GET / HTTP/1.1\r\n");
///     let mut headers = reader.lines();
///     assert_eq!(headers.next_line().await?.as_deref(), Some("Host: a"));
///     assert_eq!(headers.next_line().await?.as_deref(), Some(""));
///     assert_eq!(headers.next_line().await?, None);
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Reads bytes into `buf` until `byte` (which is appended too) or end
    /// of stream; returns how many bytes were appended, 0 at end of stream.
    ///
    /// # Cancel safety
    /// Cancel-safe in the way tokio's is: every byte taken from the reader
    /// is already in `buf`, so if the future is dropped early nothing is
    /// lost, and calling `read_until` again goes on to the delimiter. Only
    /// the count of the dropped call is lost.
    ///
    /// ```
    /// use edgeloop::io::AsyncBufReadExt;
    ///
    /// edgeloop::block_on(async {
    ///     let mut src: &[u8] = b"a,b";
    ///     let mut field = Vec::new();
    ///     assert_eq!(src.read_until(b',', &mut field).await?, 2);
    ///     assert_eq!(field, b"a,");
    ///     assert_eq!(src.read_until(b',', &mut field).await?, 1, "end of stream ends it too");
    ///     assert_eq!(field, b"a,b");
    ///     assert_eq!(src.read_until(b',', &mut field).await?, 0);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    fn read_until<'a>(&'a mut self, byte: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        let start = buf.len();
        ReadUntil {
            reader: self,
            delimiter: byte,
            buf,
            start,
        }
    }

    /// Reads one line, `\n` included, and appends it to `buf`; returns how
    /// many bytes were appended, 0 at end of stream. A last line without
    /// `\n` is returned as it is.
    ///
    /// If the line is not UTF-8 the error is `InvalidData`, and `buf` is
    /// left as it was (the bad line is consumed). On an I/O error too `buf`
    /// keeps its old contents, and what was read of the line is lost.
    ///
    /// # Cancel safety
    /// **Not cancel-safe.** If the future is dropped before it completes
    /// (under a [`timeout`](crate::time::timeout), say), `buf` is left as
    /// it was before the call and the bytes already taken from the reader
    /// (the first part of the line) are **lost**. Use
    /// [`lines`](Self::lines) and [`Lines::next_line`], which keep a
    /// partial line, where a read may be cancelled.
    ///
    /// ```
    /// use edgeloop::io::AsyncBufReadExt;
    ///
    /// edgeloop::block_on(async {
    ///     let mut src: &[u8] = b"one\ntwo";
    ///     let mut text = String::from("> ");
    ///     assert_eq!(src.read_line(&mut text).await?, 4);
    ///     assert_eq!(src.read_line(&mut text).await?, 3);
    ///     assert_eq!(src.read_line(&mut text).await?, 0);
    ///     assert_eq!(text, "> one\ntwo");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        let start = buf.len();
        let bytes = mem::take(buf).into_bytes();
        ReadLine {
            reader: self,
            buf,
            bytes: Some(bytes),
            start,
        }
    }

    /// The lines of this reader, without their `\n` or `\r\n`, as std's
    /// `BufRead::lines` gives them: a [`Stream`](futures_core::Stream) of
    /// `io::Result<String>`, or one [`next_line`](Lines::next_line) at a
    /// time. Cancel-safe (see [`Lines`]).
    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        Lines::new(self)
    }

    /// The segments of this reader between `byte`s, without the `byte`:
    /// a [`Stream`](futures_core::Stream) of `io::Result<Vec<u8>>`, or one
    /// [`next_segment`](Split::next_segment) at a time. Cancel-safe (see
    /// [`Split`]).
    ///
    /// On a byte slice the slice's own `split` method is found first:
    /// wrap it in a [`BufReader`](super::BufReader), or call
    /// `AsyncBufReadExt::split(slice, byte)`.
    fn split(self, byte: u8) -> Split<Self>
    where
        Self: Sized,
    {
        Split::new(self, byte)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// Moves bytes from `reader` to the end of `buf` until `delimiter` (which
/// is moved too) or end of stream. Resumable: what it moved stays in `buf`
/// whatever happens, so the caller keeps its progress across polls, errors
/// and cancellation.
pub(crate) fn poll_read_until<R: AsyncBufRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    delimiter: u8,
    buf: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    loop {
        let (done, used) = {
            let available = ready!(reader.as_mut().poll_fill_buf(cx))?;
            match available.iter().position(|&b| b == delimiter) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (available.is_empty(), available.len())
                }
            }
        };
        reader.as_mut().consume(used);
        if done {
            return Poll::Ready(Ok(()));
        }
    }
}

/// Future of [`AsyncBufReadExt::read_until`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadUntil<'a, R: ?Sized> {
    reader: &'a mut R,
    delimiter: u8,
    buf: &'a mut Vec<u8>,
    /// `buf`'s length when the call was made.
    start: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_until(
            Pin::new(&mut *this.reader),
            cx,
            this.delimiter,
            this.buf
        ))?;
        Poll::Ready(Ok(this.buf.len() - this.start))
    }
}

/// Future of [`AsyncBufReadExt::read_line`].
///
/// While it runs, the string's bytes are held here and the line is read
/// onto their end; they go back to the string when it completes, fails, or
/// is dropped (then without the partial line).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadLine<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    /// `buf`'s bytes while the line is read; `None` once they are back.
    bytes: Option<Vec<u8>>,
    /// `buf`'s length when the call was made.
    start: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let bytes = this
            .bytes
            .as_mut()
            .expect(READ_LINE_POLLED_AFTER_COMPLETION);
        let res = ready!(poll_read_until(
            Pin::new(&mut *this.reader),
            cx,
            b'\n',
            bytes
        ));
        let bytes = this.bytes.take().expect(READ_LINE_POLLED_AFTER_COMPLETION);
        if let Err(e) = res {
            restore(this.buf, bytes, this.start);
            return Poll::Ready(Err(e));
        }
        match String::from_utf8(bytes) {
            Ok(line) => {
                *this.buf = line;
                Poll::Ready(Ok(this.buf.len() - this.start))
            }
            Err(e) => {
                restore(this.buf, e.into_bytes(), this.start);
                Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, NOT_UTF8)))
            }
        }
    }
}

/// Gives the string back its own contents if the future is dropped early.
impl<R: ?Sized> Drop for ReadLine<'_, R> {
    fn drop(&mut self) {
        if let Some(bytes) = self.bytes.take() {
            restore(self.buf, bytes, self.start);
        }
    }
}

/// Puts `bytes[..len]`, which were `buf`'s own contents, back into `buf`.
fn restore(buf: &mut String, mut bytes: Vec<u8>, len: usize) {
    bytes.truncate(len);
    // They came from a `String`, so they are UTF-8; the lossy branch is
    // never taken and only keeps this (also run from `Drop`) panic-free.
    *buf = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}
