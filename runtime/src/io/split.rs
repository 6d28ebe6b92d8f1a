//! `io::split`: one object that reads and writes, as a read half and a
//! write half that can go to two tasks.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite};

/// The message of `unsplit` given halves of two different objects.
const UNRELATED_HALVES: &str =
    "`ReadHalf::unsplit` was given the write half of another `io::split`; pass the one split with it";

/// Splits `stream` into a read half and a write half, to move into two
/// tasks (a reader and a writer), or to keep both in one. Put them back
/// together with [`ReadHalf::unsplit`].
///
/// The halves share the object through an `Rc<RefCell<T>>`: edgeloop runs
/// its tasks on one thread, so no lock is needed, and the halves are not
/// `Send`. A `RefCell` borrow lasts only as long as one `poll_*` call, so
/// the halves never find each other holding it. `T` must be `Unpin`; pin a
/// `!Unpin` object in a `Box` first.
///
/// Both tasks end up in the one object, so it must keep a reader's waker
/// and a writer's apart, or one task's wait could steal the other's wake-up:
/// edgeloop's sockets and [`AsyncFd`](super::AsyncFd) wait per direction.
/// For a `TcpStream`, its own `into_split` costs less (no `Rc`, no borrow
/// checks) and its write half shuts the write side down when dropped.
///
/// Dropping the write half does not close the object; call
/// [`close`](super::AsyncWriteExt::close) on it for that.
///
/// ```
/// use edgeloop::io::{self, AsyncReadExt, AsyncWriteExt};
/// use edgeloop::net::{TcpListener, TcpStream};
///
/// edgeloop::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (server, _) = listener.accept().await?;
///     let (mut read, mut write) = io::split(server);
///     let reader = edgeloop::spawn(async move {
///         let mut buf = [0; 4];
///         read.read_exact(&mut buf).await?;
///         Ok::<_, std::io::Error>((read, buf))
///     });
///     let writer = edgeloop::spawn(async move {
///         write.write_all(b"pong").await?;
///         Ok::<_, std::io::Error>(write)
///     });
///     client.write_all(b"ping").await?;
///     let mut reply = [0; 4];
///     client.read_exact(&mut reply).await?;
///     let (read, got) = reader.await??;
///     let server = read.unsplit(writer.await??);
///     assert_eq!((&got, &reply), (b"ping", b"pong"));
///     drop(server);
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub fn split<T>(stream: T) -> (ReadHalf<T>, WriteHalf<T>)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let inner = Rc::new(RefCell::new(stream));
    (
        ReadHalf {
            inner: inner.clone(),
        },
        WriteHalf { inner },
    )
}

/// The reading half of an object split by [`split`].
pub struct ReadHalf<T> {
    inner: Rc<RefCell<T>>,
}

/// The writing half of an object split by [`split`].
pub struct WriteHalf<T> {
    inner: Rc<RefCell<T>>,
}

impl<T> ReadHalf<T> {
    /// Whether `other` is the write half split from the same object.
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// Puts the halves back together and returns the object.
    ///
    /// # Panics
    /// If `write` was split from another object.
    #[track_caller]
    pub fn unsplit(self, write: WriteHalf<T>) -> T {
        assert!(self.is_pair_of(&write), "{UNRELATED_HALVES}");
        drop(write);
        match Rc::try_unwrap(self.inner) {
            Ok(cell) => cell.into_inner(),
            Err(_) => unreachable!("the two halves hold the only references"),
        }
    }
}

impl<T> WriteHalf<T> {
    /// Whether `other` is the read half split from the same object.
    pub fn is_pair_of(&self, other: &ReadHalf<T>) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.inner.borrow_mut()).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.inner.borrow_mut()).poll_read_vectored(cx, bufs)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.inner.borrow_mut()).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.inner.borrow_mut()).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.inner.borrow_mut()).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.inner.borrow_mut()).poll_close(cx)
    }
}

impl<T: fmt::Debug> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(&self.inner).finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(&self.inner).finish()
    }
}
