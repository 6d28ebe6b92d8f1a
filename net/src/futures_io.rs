//! `futures-io`'s traits for the sockets and their halves (the
//! `futures-io` feature).
//!
//! Each impl forwards every method to the type's edgeloop impl and holds
//! exactly where that impl holds, as `edgeloop::io`'s own types do (the
//! runtime keeps the same list for `AsyncFd`, `BufReader`, `BufWriter` and
//! `io::split`'s halves). The impls live here because Rust wants a trait
//! impl in the crate of the trait or of the type.

use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use edgeloop_runtime::io::{AsyncRead, AsyncWrite};

use crate::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, UnixOwnedReadHalf, UnixOwnedWriteHalf,
    UnixReadHalf, UnixStream, UnixWriteHalf, WriteHalf,
};

/// Implements `futures-io`'s traits for sockets by calling edgeloop's impl
/// of the trait with the same name.
///
/// One entry per type: `impl[generics] Traits for Type;`, the generics in
/// brackets; the traits are `AsyncRead` and/or `AsyncWrite`.
macro_rules! forward_to_edgeloop {
    ($(impl $generics:tt $($trait:ident),+ for $ty:ty;)*) => {
        $($(forward_to_edgeloop!(@$trait $generics $ty);)+)*
    };
    (@AsyncRead [$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> futures_io::AsyncRead for $ty
        where
            Self: AsyncRead,
        {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                AsyncRead::poll_read(self, cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                AsyncRead::poll_read_vectored(self, cx, bufs)
            }
        }
    };
    (@AsyncWrite [$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> futures_io::AsyncWrite for $ty
        where
            Self: AsyncWrite,
        {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_flush(self, cx)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_close(self, cx)
            }
        }
    };
}

// `UdpSocket` and `UnixDatagram` send datagrams, not a byte stream: they
// implement neither set of traits.
forward_to_edgeloop! {
    impl[] AsyncRead, AsyncWrite for TcpStream;
    impl['a] AsyncRead, AsyncWrite for &'a TcpStream;
    impl['a] AsyncRead for ReadHalf<'a>;
    impl['a] AsyncWrite for WriteHalf<'a>;
    impl[] AsyncRead for OwnedReadHalf;
    impl[] AsyncWrite for OwnedWriteHalf;
    impl[] AsyncRead, AsyncWrite for UnixStream;
    impl['a] AsyncRead, AsyncWrite for &'a UnixStream;
    impl['a] AsyncRead for UnixReadHalf<'a>;
    impl['a] AsyncWrite for UnixWriteHalf<'a>;
    impl[] AsyncRead for UnixOwnedReadHalf;
    impl[] AsyncWrite for UnixOwnedWriteHalf;
}
