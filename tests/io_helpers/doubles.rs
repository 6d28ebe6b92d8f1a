//! Test doubles for the I/O helper tests: a writer that counts the calls
//! reaching it, a reader that trickles, and an object that is both.

use std::cell::Cell;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use edgeloop::io::{AsyncRead, AsyncWrite};

/// A writer that records what reaches it: each call, and the bytes.
#[derive(Default)]
pub struct CountingWriter {
    pub data: Vec<u8>,
    pub writes: usize,
    pub vectored_writes: usize,
    pub flushes: usize,
    pub closes: usize,
    /// Takes at most this many bytes per call (0: no limit).
    pub max_per_write: usize,
    /// Returns `Pending` (after waking) before every other write.
    pub stall: bool,
    pub stalled: bool,
}

impl CountingWriter {
    fn stalls_before_writes(&mut self, cx: &mut Context<'_>) -> bool {
        if self.stall && !self.stalled {
            self.stalled = true;
            cx.waker().wake_by_ref();
            return true;
        }
        self.stalled = false;
        false
    }

    fn take(&mut self, buf: &[u8]) -> usize {
        let n = match self.max_per_write {
            0 => buf.len(),
            max => buf.len().min(max),
        };
        self.data.extend_from_slice(&buf[..n]);
        n
    }
}

impl AsyncWrite for CountingWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.stalls_before_writes(cx) {
            return Poll::Pending;
        }
        self.writes += 1;
        Poll::Ready(Ok(self.take(buf)))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.stalls_before_writes(cx) {
            return Poll::Pending;
        }
        self.vectored_writes += 1;
        let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
        Poll::Ready(Ok(self.take(&all)))
    }

    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closes += 1;
        Poll::Ready(Ok(()))
    }
}

/// A reader that gives one byte per poll, returning `Pending` (after
/// waking) in between, and counts the reads and their sizes.
pub struct Trickle {
    pub data: Vec<u8>,
    pub pos: usize,
    pub stalled: bool,
    pub reads: Rc<Cell<usize>>,
    pub largest_read: Rc<Cell<usize>>,
    /// Gives this many bytes per read instead of one (and never stalls).
    pub chunk: Option<usize>,
}

impl Trickle {
    pub fn new(data: &[u8]) -> Trickle {
        Trickle {
            data: data.to_vec(),
            pos: 0,
            stalled: false,
            reads: Rc::default(),
            largest_read: Rc::default(),
            chunk: None,
        }
    }
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.chunk.is_none() && !self.stalled {
            self.stalled = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.stalled = false;
        self.reads.set(self.reads.get() + 1);
        self.largest_read
            .set(self.largest_read.get().max(buf.len()));
        let n = buf
            .len()
            .min(self.chunk.unwrap_or(1))
            .min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Poll::Ready(Ok(n))
    }
}

/// A `Vec` that also reads (nothing): enough to be split.
pub struct Both(pub Vec<u8>);

impl AsyncRead for Both {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(0))
    }
}

impl AsyncWrite for Both {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
