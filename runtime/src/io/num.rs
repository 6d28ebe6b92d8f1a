//! The futures of `AsyncReadExt::read_u8` … `read_f64_le` and
//! `AsyncWriteExt::write_u8` … `write_f64_le`: one of each, generic over
//! the number's size, instead of one type per number.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncRead, AsyncWrite};

/// Future of [`AsyncReadExt`](super::AsyncReadExt)'s `read_u8` …
/// `read_f64_le`: reads exactly `N` bytes and decodes them into a `T`.
///
/// Not cancel-safe: if it is dropped part-way, the bytes it has read are
/// lost.
#[must_use = "futures do nothing unless polled"]
pub struct ReadNum<'a, R: ?Sized, T, const N: usize> {
    reader: &'a mut R,
    bytes: [u8; N],
    /// How many of `bytes` are read.
    filled: usize,
    decode: fn([u8; N]) -> T,
}

impl<'a, R: ?Sized, T, const N: usize> ReadNum<'a, R, T, N> {
    pub(crate) fn new(reader: &'a mut R, decode: fn([u8; N]) -> T) -> Self {
        ReadNum {
            reader,
            bytes: [0; N],
            filled: 0,
            decode,
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized, T, const N: usize> Future for ReadNum<'_, R, T, N> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.filled < N {
            let rest = &mut this.bytes[this.filled..];
            let n = ready!(Pin::new(&mut *this.reader).poll_read(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            this.filled += n;
        }
        Poll::Ready(Ok((this.decode)(this.bytes)))
    }
}

impl<R: ?Sized, T, const N: usize> fmt::Debug for ReadNum<'_, R, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadNum")
            .field("size", &N)
            .field("filled", &self.filled)
            .finish()
    }
}

/// Future of [`AsyncWriteExt`](super::AsyncWriteExt)'s `write_u8` …
/// `write_f64_le`: writes the `N` bytes of an encoded number.
///
/// Not cancel-safe: if it is dropped part-way, how many bytes were written
/// is unknown.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WriteNum<'a, W: ?Sized, const N: usize> {
    writer: &'a mut W,
    bytes: [u8; N],
    /// How many of `bytes` are written.
    written: usize,
}

impl<'a, W: ?Sized, const N: usize> WriteNum<'a, W, N> {
    pub(crate) fn new(writer: &'a mut W, bytes: [u8; N]) -> Self {
        WriteNum {
            writer,
            bytes,
            written: 0,
        }
    }
}

impl<W: AsyncWrite + Unpin + ?Sized, const N: usize> Future for WriteNum<'_, W, N> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.written < N {
            let rest = &this.bytes[this.written..];
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

/// How the docs of a number method name its byte order: not at all for a
/// byte (a type listed with no little-endian name).
macro_rules! byte_order {
    (big) => {
        ""
    };
    (big $le:ident) => {
        ", big-endian (network order)"
    };
    (little) => {
        ", little-endian"
    };
}
pub(crate) use byte_order;

/// Declares `AsyncReadExt` methods that read one number each, as
/// `type => big-endian name, little-endian name;` (one name for a byte).
macro_rules! read_num_methods {
    ($($(#[$attr:meta])* $ty:ty => $be:ident $(, $le:ident)?;)*) => {
        $(
            $crate::io::num::read_num_methods!(@one $(#[$attr])* $be, $ty, from_be_bytes,
                $crate::io::num::byte_order!(big $($le)?));
            $($crate::io::num::read_num_methods!(@one $le, $ty, from_le_bytes, ", little-endian");)?
        )*
    };
    (@one $(#[$attr:meta])* $name:ident, $ty:ty, $decode:ident, $order:expr) => {
        #[doc = concat!("Reads a `", stringify!($ty), "`", $order, ".")]
        ///
        /// `UnexpectedEof` if the stream ends first. Not cancel-safe: if
        /// the future is dropped part-way, the bytes it has read are lost.
        $(#[$attr])*
        fn $name(&mut self) -> $crate::io::ReadNum<'_, Self, $ty, { ::std::mem::size_of::<$ty>() }>
        where
            Self: Unpin,
        {
            $crate::io::ReadNum::new(self, <$ty>::$decode)
        }
    };
}
pub(crate) use read_num_methods;

/// Declares `AsyncWriteExt` methods that write one number each, as
/// `type => big-endian name, little-endian name;` (one name for a byte).
macro_rules! write_num_methods {
    ($($(#[$attr:meta])* $ty:ty => $be:ident $(, $le:ident)?;)*) => {
        $(
            $crate::io::num::write_num_methods!(@one $(#[$attr])* $be, $ty, to_be_bytes,
                $crate::io::num::byte_order!(big $($le)?));
            $($crate::io::num::write_num_methods!(@one $le, $ty, to_le_bytes, ", little-endian");)?
        )*
    };
    (@one $(#[$attr:meta])* $name:ident, $ty:ty, $encode:ident, $order:expr) => {
        #[doc = concat!("Writes a `", stringify!($ty), "`", $order, ".")]
        ///
        /// Not cancel-safe: if the future is dropped part-way, how many of
        /// the bytes were written is unknown.
        $(#[$attr])*
        fn $name(&mut self, n: $ty) -> $crate::io::WriteNum<'_, Self, { ::std::mem::size_of::<$ty>() }>
        where
            Self: Unpin,
        {
            $crate::io::WriteNum::new(self, n.$encode())
        }
    };
}
pub(crate) use write_num_methods;
