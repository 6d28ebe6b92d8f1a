//! The future of `AsyncReadExt::read_to_string`.

use std::future::Future;
use std::io;
use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::buf_read_ext::NOT_UTF8;
use super::AsyncRead;

/// The smallest free space `read_to_string` offers a reader.
const READ_CHUNK: usize = 4096;

/// Future of [`AsyncReadExt::read_to_string`](super::AsyncReadExt::read_to_string).
///
/// The bytes are read into a vector of its own and checked once the
/// stream ends, then appended to the string, so the string is only ever
/// changed by a complete, valid read.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    bytes: Vec<u8>,
}

impl<'a, R: ?Sized> ReadToString<'a, R> {
    pub(crate) fn new(reader: &'a mut R, buf: &'a mut String) -> Self {
        ReadToString {
            reader,
            buf,
            bytes: Vec::new(),
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_to_end(
            Pin::new(&mut *this.reader),
            cx,
            &mut this.bytes
        ))?;
        let text = String::from_utf8(mem::take(&mut this.bytes))
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, NOT_UTF8))?;
        let n = text.len();
        if this.buf.is_empty() {
            *this.buf = text; // no copy
        } else {
            this.buf.push_str(&text);
        }
        Poll::Ready(Ok(n))
    }
}

/// Reads onto the end of `bytes` until end of stream. Resumable: what was
/// read stays in `bytes` across polls.
fn poll_read_to_end<R: AsyncRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    bytes: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    loop {
        let filled = bytes.len();
        if bytes.capacity() - filled < READ_CHUNK {
            bytes.reserve(READ_CHUNK.max(filled));
        }
        bytes.resize(bytes.capacity(), 0);
        let res = reader.as_mut().poll_read(cx, &mut bytes[filled..]);
        let n = match res {
            Poll::Ready(Ok(n)) => n,
            other => {
                bytes.truncate(filled);
                return other.map_ok(drop);
            }
        };
        bytes.truncate(filled + n);
        if n == 0 {
            return Poll::Ready(Ok(()));
        }
    }
}
