//! `pipe()`: an anonymous pipe as an async reader and writer.

use std::fmt;
use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{AsyncFd, AsyncRead, AsyncWrite};
use crate::sys;

/// Opens an anonymous pipe: `(reader, writer)`, in std's order.
///
/// Both ends are nonblocking and close-on-exec (`pipe2` with `O_NONBLOCK |
/// O_CLOEXEC`), and each is registered with the current runtime's driver
/// as an [`AsyncFd`]: reads wait for data, writes wait for room (a pipe
/// holds 64 KiB on Linux by default).
///
/// Dropping the [`PipeWriter`] (every copy of its fd) gives the reader end
/// of file once the buffered bytes are read. Dropping the [`PipeReader`]
/// makes every later write fail with `EPIPE`; see [`PipeWriter`] for why
/// that is an error and not a `SIGPIPE`.
///
/// # Errors
/// The OS's error from `pipe2` (out of descriptors: `EMFILE`, `ENFILE`) or
/// from registering either end.
///
/// # Panics
/// Outside an edgeloop runtime.
///
/// ```
/// use edgeloop::io::{pipe, AsyncReadExt, AsyncWriteExt};
///
/// edgeloop::block_on(async {
///     let (mut reader, mut writer) = pipe()?;
///     writer.write_all(b"through the pipe").await?;
///     drop(writer); // end of file for the reader
///     let mut got = Vec::new();
///     reader.read_to_end(&mut got).await?;
///     assert_eq!(got, b"through the pipe");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
#[track_caller]
pub fn pipe() -> io::Result<(PipeReader, PipeWriter)> {
    let (read, write) = sys::pipe()?;
    let reader = PipeReader {
        inner: AsyncFd::new(File::from(read))?,
    };
    let writer = PipeWriter {
        inner: AsyncFd::new(File::from(write))?,
    };
    Ok((reader, writer))
}

/// The reading end of a [`pipe`]: an [`AsyncRead`].
///
/// A read returns what the pipe holds (up to the buffer's size), waits
/// while it is empty, and returns `Ok(0)` once every writer is gone and
/// the pipe is drained. Like every [`AsyncFd`], it wakes only the most
/// recent task polling it; read it from one task.
pub struct PipeReader {
    inner: AsyncFd<File>,
}

/// The writing end of a [`pipe`]: an [`AsyncWrite`].
///
/// A write puts as much of the buffer as fits into the pipe and waits
/// while the pipe is full. Writes of at most `PIPE_BUF` (4096) bytes are
/// atomic, as the kernel promises for every pipe.
///
/// # Writing after the reader is gone: `EPIPE`, not `SIGPIPE`
///
/// A write to a pipe without a reader makes the kernel raise `SIGPIPE`
/// and, if the signal does not kill the process, fail with `EPIPE`.
/// Sockets can refuse the signal per call (`MSG_NOSIGNAL`, which
/// `edgeloop::net` uses); pipes have no such flag, and blocking the signal
/// around each write would cost two more syscalls per write. So this
/// writer relies on the signal's disposition:
///
/// - In a program whose `main` comes from Rust's `std` (every binary and
///   test harness built the usual way), `std` sets `SIGPIPE` to *ignored*
///   before `main` runs, and a write to a widowed pipe returns
///   `Err(BrokenPipe)` with `raw_os_error() == Some(EPIPE)`. Nothing to do.
/// - A program that restores the default (`signal(SIGPIPE, SIG_DFL)`, or
///   a build with `-Zon-broken-pipe=kill`) is killed by the write instead,
///   exactly as with a write through `std::fs::File`. Such a program must
///   not outlive its pipes' readers.
///
/// `poll_close` only flushes (a pipe has no half-close, and there is
/// nothing buffered here): drop the writer to give the reader end of file.
pub struct PipeWriter {
    inner: AsyncFd<File>,
}

impl AsyncRead for PipeReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for PipeWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let inner = &self.get_mut().inner;
        inner.poll_io(cx, super::Interest::WRITABLE, |mut file| {
            io::Write::write_vectored(&mut file, bufs)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Every accepted byte is already in the kernel's pipe buffer.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

macro_rules! pipe_end_fd_impls {
    ($end:ident) => {
        impl AsFd for $end {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.get_ref().as_fd()
            }
        }

        impl AsRawFd for $end {
            fn as_raw_fd(&self) -> RawFd {
                self.inner.as_raw_fd()
            }
        }

        impl fmt::Debug for $end {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($end))
                    .field("fd", &self.inner.as_raw_fd())
                    .finish()
            }
        }
    };
}

pipe_end_fd_impls!(PipeReader);
pipe_end_fd_impls!(PipeWriter);
