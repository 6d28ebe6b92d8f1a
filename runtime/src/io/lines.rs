//! `Lines`: the lines of an [`AsyncBufRead`], one at a time or as a stream.

use std::future::poll_fn;
use std::io;
use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;

use super::buf_read_ext::{poll_read_until, NOT_UTF8};
use super::AsyncBufRead;

pin_project! {
    /// The lines of a reader, made by
    /// [`AsyncBufReadExt::lines`](super::AsyncBufReadExt::lines).
    ///
    /// Each line comes without its `\n`, or its `\r\n`, as std's
    /// `BufRead::lines` gives them; a last line without a newline comes as
    /// it is; a line that is not UTF-8 is an `InvalidData` error (and is
    /// skipped). Read them with [`next_line`](Self::next_line) or as a
    /// [`Stream`] of `io::Result<String>`.
    ///
    /// # Cancel safety
    /// [`next_line`](Self::next_line) and [`poll_next_line`](Self::poll_next_line)
    /// are **cancel-safe**: the part of a line read so far is kept here,
    /// not in the future, so dropping a `next_line` future (under a
    /// [`timeout`](crate::time::timeout), say) loses nothing, and the next
    /// call returns the whole line. An I/O error keeps it too.
    ///
    /// ```
    /// use edgeloop::io::{AsyncBufReadExt, BufReader};
    ///
    /// edgeloop::block_on(async {
    ///     let mut lines = BufReader::new(&b"one\r\ntwo\n\nlast"[..]).lines();
    ///     let mut got = Vec::new();
    ///     while let Some(line) = lines.next_line().await? {
    ///         got.push(line);
    ///     }
    ///     assert_eq!(got, ["one", "two", "", "last"]);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Lines<R> {
        #[pin]
        reader: R,
        // The line being read: taken from the reader, not yet returned.
        line: Vec<u8>,
    }
}

impl<R> Lines<R> {
    pub(crate) fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            line: Vec::new(),
        }
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader. Reading from it directly skips the bytes of a line
    /// already taken into this `Lines`.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The pinned reader.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().reader
    }

    /// The reader, and the bytes of a line begun but not yet returned
    /// (empty between lines), so nothing read is lost.
    pub fn into_parts(self) -> (R, Vec<u8>) {
        (self.reader, self.line)
    }
}

impl<R: AsyncBufRead> Lines<R> {
    /// Polls for the next line: `Ready(Ok(None))` at end of stream.
    pub fn poll_next_line(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<String>>> {
        let me = self.project();
        ready!(poll_read_until(me.reader, cx, b'\n', me.line))?;
        if me.line.is_empty() {
            return Poll::Ready(Ok(None));
        }
        if me.line.last() == Some(&b'\n') {
            me.line.pop();
            if me.line.last() == Some(&b'\r') {
                me.line.pop();
            }
        }
        let line = String::from_utf8(mem::take(me.line))
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, NOT_UTF8))?;
        Poll::Ready(Ok(Some(line)))
    }
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// The next line, or `None` at end of stream. Cancel-safe: a partial
    /// line stays in `self` for the next call.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next_line(cx)).await
    }
}

impl<R: AsyncBufRead> Stream for Lines<R> {
    type Item = io::Result<String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_next_line(cx).map(Result::transpose)
    }
}
