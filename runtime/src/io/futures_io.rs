//! Interop with `futures-io` (the `futures-io` feature), both ways.
//!
//! - **edgeloop → futures-io.** Every I/O type of this crate that
//!   implements edgeloop's [`AsyncRead`] / [`AsyncWrite`] /
//!   [`AsyncBufRead`] also implements `futures-io`'s trait of the same
//!   name, by forwarding each method to edgeloop's impl. The impls are the
//!   list given to `__forward_to_edgeloop!` below; each holds exactly where
//!   edgeloop's impl holds (its `where Self: edgeloop trait` bound says
//!   so), so the two never disagree. The sockets get theirs in
//!   `edgeloop-net`, from a list given to the same (exported, hidden) macro.
//! - **futures-io → edgeloop.** [`FuturesIo`] wraps a `futures-io` type and
//!   implements edgeloop's traits for it, so it works with
//!   [`copy`](super::copy), [`BufReader`] and the `*Ext` traits.
//!
//! Both directions only forward: no buffering, no extra allocation, the
//! same wakes.

use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::{
    AsyncBufRead, AsyncFd, AsyncRead, AsyncWrite, BufReader, BufWriter, PipeReader, PipeWriter,
    ReadHalf, Stderr, Stdin, Stdout, WriteHalf,
};

/// Implements `futures-io`'s traits for edgeloop types by calling
/// edgeloop's impl of the trait with the same name.
///
/// One entry per type: `impl[generics] Traits for Type;`. The generics go
/// in brackets (a macro cannot find the end of `<...>`); the traits are
/// any of `AsyncRead`, `AsyncWrite`, `AsyncBufRead`.
///
/// Exported, hidden, for `edgeloop-net`'s sockets (a trait impl must live
/// in the crate of the trait or of the type): one list of forwarding
/// bodies for both crates. Not part of the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __forward_to_edgeloop {
    ($(impl $generics:tt $($trait:ident),+ for $ty:ty;)*) => {
        $($($crate::__forward_to_edgeloop!(@$trait $generics $ty);)+)*
    };
    (@AsyncRead [$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> $crate::io::__futures_io::AsyncRead for $ty
        where
            Self: $crate::io::AsyncRead,
        {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::io::AsyncRead::poll_read(self, cx, buf)
            }

            fn poll_read_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::io::AsyncRead::poll_read_vectored(self, cx, bufs)
            }
        }
    };
    (@AsyncWrite [$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> $crate::io::__futures_io::AsyncWrite for $ty
        where
            Self: $crate::io::AsyncWrite,
        {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn poll_flush(self: ::std::pin::Pin<&mut Self>, cx: &mut ::std::task::Context<'_>) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_close(self: ::std::pin::Pin<&mut Self>, cx: &mut ::std::task::Context<'_>) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::io::AsyncWrite::poll_close(self, cx)
            }
        }
    };
    (@AsyncBufRead [$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> $crate::io::__futures_io::AsyncBufRead for $ty
        where
            Self: $crate::io::AsyncBufRead,
        {
            fn poll_fill_buf(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<&[u8]>> {
                $crate::io::AsyncBufRead::poll_fill_buf(self, cx)
            }

            fn consume(self: ::std::pin::Pin<&mut Self>, amt: usize) {
                $crate::io::AsyncBufRead::consume(self, amt)
            }
        }
    };
}

// The references, boxes, pins, slices and vectors edgeloop's traits are
// implemented for are not listed: `futures-io` implements its own traits
// for those already.
crate::__forward_to_edgeloop! {
    impl[T: std::os::fd::AsRawFd] AsyncRead, AsyncWrite for AsyncFd<T>;
    impl[R] AsyncRead, AsyncWrite, AsyncBufRead for BufReader<R>;
    impl[W] AsyncRead, AsyncWrite, AsyncBufRead for BufWriter<W>;
    impl[T] AsyncRead for ReadHalf<T>;
    impl[T] AsyncWrite for WriteHalf<T>;
    impl[] AsyncRead for PipeReader;
    impl[] AsyncWrite for PipeWriter;
    impl[] AsyncRead for Stdin;
    impl[] AsyncWrite for Stdout;
    impl[] AsyncWrite for Stderr;
}

pin_project! {
    /// A `futures-io` reader or writer, seen through edgeloop's traits.
    ///
    /// Implements edgeloop's [`AsyncRead`], [`AsyncWrite`] and
    /// [`AsyncBufRead`] wherever `T` implements `futures-io`'s trait of the
    /// same name, by forwarding each call, so a type written for
    /// `futures-io` works with [`copy`](super::copy), [`BufReader`] and
    /// the [`AsyncReadExt`](super::AsyncReadExt) /
    /// [`AsyncWriteExt`](super::AsyncWriteExt) methods. (The other way
    /// needs no wrapper: with the `futures-io` feature on, edgeloop's own
    /// I/O types implement `futures-io`'s traits directly.)
    ///
    /// It adds no buffer and no behaviour: `poll_close` is `T`'s, and so
    /// is every wake.
    ///
    /// ```
    /// use edgeloop::io::{AsyncReadExt, FuturesIo};
    ///
    /// /// Only `futures-io`'s `AsyncRead`, as a type from another crate might be.
    /// struct Zeros(usize);
    ///
    /// impl futures_io::AsyncRead for Zeros {
    ///     fn poll_read(
    ///         mut self: std::pin::Pin<&mut Self>,
    ///         _cx: &mut std::task::Context<'_>,
    ///         buf: &mut [u8],
    ///     ) -> std::task::Poll<std::io::Result<usize>> {
    ///         let n = buf.len().min(self.0);
    ///         buf[..n].fill(0);
    ///         self.0 -= n;
    ///         std::task::Poll::Ready(Ok(n))
    ///     }
    /// }
    ///
    /// edgeloop::block_on(async {
    ///     let mut zeros = FuturesIo::new(Zeros(3));
    ///     let mut all = Vec::new();
    ///     zeros.read_to_end(&mut all).await?;
    ///     assert_eq!(all, [0, 0, 0]);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct FuturesIo<T> {
        #[pin]
        inner: T,
    }
}

impl<T> FuturesIo<T> {
    /// Wraps a `futures-io` object.
    pub fn new(inner: T) -> FuturesIo<T> {
        FuturesIo { inner }
    }

    /// The wrapped object.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped object.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The pinned wrapped object.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut T> {
        self.project().inner
    }

    /// Unwraps the object.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: futures_io::AsyncRead> AsyncRead for FuturesIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncRead::poll_read(self.project().inner, cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncRead::poll_read_vectored(self.project().inner, cx, bufs)
    }
}

impl<T: futures_io::AsyncWrite> AsyncWrite for FuturesIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(self.project().inner, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write_vectored(self.project().inner, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(self.project().inner, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(self.project().inner, cx)
    }
}

impl<T: futures_io::AsyncBufRead> AsyncBufRead for FuturesIo<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        futures_io::AsyncBufRead::poll_fill_buf(self.project().inner, cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        futures_io::AsyncBufRead::consume(self.project().inner, amt)
    }
}
