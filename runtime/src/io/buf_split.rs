//! `Split`: the segments of an [`AsyncBufRead`] between delimiter bytes.

use std::future::poll_fn;
use std::io;
use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;

use super::buf_read_ext::poll_read_until;
use super::AsyncBufRead;

pin_project! {
    /// The segments of a reader between `delimiter` bytes, made by
    /// [`AsyncBufReadExt::split`](super::AsyncBufReadExt::split), as std's
    /// `BufRead::split` gives them: each without its delimiter, a last one
    /// without a delimiter as it is. Read them with
    /// [`next_segment`](Self::next_segment) or as a [`Stream`] of
    /// `io::Result<Vec<u8>>`.
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`Lines`](super::Lines) is: a partial segment is
    /// kept here for the next call.
    ///
    /// ```
    /// use edgeloop::io::{AsyncBufReadExt, BufReader};
    ///
    /// edgeloop::block_on(async {
    ///     let mut fields = BufReader::new(&b"a\0bc\0\0d"[..]).split(0);
    ///     let mut got = Vec::new();
    ///     while let Some(field) = fields.next_segment().await? {
    ///         got.push(field);
    ///     }
    ///     assert_eq!(got, [&b"a"[..], b"bc", b"", b"d"]);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Split<R> {
        #[pin]
        reader: R,
        delimiter: u8,
        // The segment being read: taken from the reader, not yet returned.
        segment: Vec<u8>,
    }
}

impl<R> Split<R> {
    pub(crate) fn new(reader: R, delimiter: u8) -> Split<R> {
        Split {
            reader,
            delimiter,
            segment: Vec::new(),
        }
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, and the bytes of a segment begun but not yet returned.
    pub fn into_parts(self) -> (R, Vec<u8>) {
        (self.reader, self.segment)
    }
}

impl<R: AsyncBufRead> Split<R> {
    /// Polls for the next segment: `Ready(Ok(None))` at end of stream.
    pub fn poll_next_segment(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Vec<u8>>>> {
        let me = self.project();
        ready!(poll_read_until(me.reader, cx, *me.delimiter, me.segment))?;
        if me.segment.is_empty() {
            return Poll::Ready(Ok(None));
        }
        if me.segment.last() == Some(me.delimiter) {
            me.segment.pop();
        }
        Poll::Ready(Ok(Some(mem::take(me.segment))))
    }
}

impl<R: AsyncBufRead + Unpin> Split<R> {
    /// The next segment, or `None` at end of stream. Cancel-safe.
    pub async fn next_segment(&mut self) -> io::Result<Option<Vec<u8>>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next_segment(cx)).await
    }
}

impl<R: AsyncBufRead> Stream for Split<R> {
    type Item = io::Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_next_segment(cx).map(Result::transpose)
    }
}
