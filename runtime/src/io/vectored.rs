//! The futures of `AsyncReadExt::read_vectored` and
//! `AsyncWriteExt::write_vectored`.

use std::future::Future;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite};

/// Future of [`AsyncReadExt::read_vectored`](super::AsyncReadExt::read_vectored).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadVectored<'a, 'b, R: ?Sized> {
    reader: &'a mut R,
    bufs: &'a mut [IoSliceMut<'b>],
}

impl<'a, 'b, R: ?Sized> ReadVectored<'a, 'b, R> {
    pub(crate) fn new(reader: &'a mut R, bufs: &'a mut [IoSliceMut<'b>]) -> Self {
        ReadVectored { reader, bufs }
    }
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadVectored<'_, '_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read_vectored(cx, this.bufs)
    }
}

/// Future of [`AsyncWriteExt::write_vectored`](super::AsyncWriteExt::write_vectored).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WriteVectored<'a, 'b, W: ?Sized> {
    writer: &'a mut W,
    bufs: &'a [IoSlice<'b>],
}

impl<'a, 'b, W: ?Sized> WriteVectored<'a, 'b, W> {
    pub(crate) fn new(writer: &'a mut W, bufs: &'a [IoSlice<'b>]) -> Self {
        WriteVectored { writer, bufs }
    }
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteVectored<'_, '_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write_vectored(cx, this.bufs)
    }
}
