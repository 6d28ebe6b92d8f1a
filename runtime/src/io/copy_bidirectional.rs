//! `copy_bidirectional`: a proxy's core, both ways at once, passing
//! half-close through.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::copy::CopyBuffer;
use super::{AsyncRead, AsyncWrite};

/// Copies `a`'s bytes to `b` and `b`'s to `a` at the same time, until both
/// directions are done; returns `(a to b, b to a)` byte counts.
///
/// **Half-close passes through.** When one side's read reaches end of
/// stream, the bytes copied so far are flushed and the *other* side is
/// closed ([`poll_close`](AsyncWrite::poll_close): for a socket,
/// `shutdown(SHUT_WR)`, so its peer reads EOF), while the opposite
/// direction goes on. The future completes once both directions have ended
/// so.
///
/// The first error from either side ends both directions; the counts are
/// then unknown. Each direction has its own 8 KiB buffer. Both run in the
/// one task that awaits this, so `a` and `b` must wake a reader and a
/// writer apart (edgeloop's sockets do).
///
/// # Cancel safety
/// Not cancel-safe: bytes read from one side but not yet written to the
/// other when the future is dropped are lost.
///
/// ```
/// use edgeloop::io::{copy_bidirectional, AsyncReadExt, AsyncWriteExt};
/// use edgeloop::net::{TcpListener, TcpStream};
///
/// edgeloop::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     // A proxy between two connections: client <-> (a | b) <-> upstream.
///     let mut client = TcpStream::connect(addr).await?;
///     let (mut a, _) = listener.accept().await?;
///     let mut upstream = TcpStream::connect(addr).await?;
///     let (mut b, _) = listener.accept().await?;
///     let proxy = edgeloop::spawn(async move { copy_bidirectional(&mut a, &mut b).await });
///
///     client.write_all(b"request").await?;
///     client.close().await?; // half-close: upstream reads EOF after it
///     let mut request = Vec::new();
///     upstream.read_to_end(&mut request).await?;
///     upstream.write_all(b"response").await?; // the other way is still open
///     upstream.close().await?;
///     let mut response = Vec::new();
///     client.read_to_end(&mut response).await?;
///
///     assert_eq!((&request[..], &response[..]), (&b"request"[..], &b"response"[..]));
///     assert_eq!(proxy.await??, (7, 8));
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut a_to_b = Direction::Copying(CopyBuffer::new());
    let mut b_to_a = Direction::Copying(CopyBuffer::new());
    poll_fn(|cx| {
        let a_to_b = a_to_b.poll_transfer(cx, Pin::new(&mut *a), Pin::new(&mut *b))?;
        let b_to_a = b_to_a.poll_transfer(cx, Pin::new(&mut *b), Pin::new(&mut *a))?;
        let to_b = ready!(a_to_b);
        let to_a = ready!(b_to_a);
        Poll::Ready(Ok((to_b, to_a)))
    })
    .await
}

/// Where one direction of a bidirectional copy is.
#[derive(Debug)]
enum Direction {
    /// Reading from one side, writing to the other.
    Copying(CopyBuffer),
    /// The reader ended and all is written: closing the writer.
    Closing(u64),
    /// Closed; this many bytes went this way.
    Done(u64),
}

impl Direction {
    fn poll_transfer<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            match self {
                Direction::Copying(buf) => {
                    let copied = ready!(buf.poll_copy(cx, reader.as_mut(), writer.as_mut()))?;
                    *self = Direction::Closing(copied);
                }
                Direction::Closing(copied) => {
                    let copied = *copied;
                    ready!(writer.as_mut().poll_close(cx))?;
                    *self = Direction::Done(copied);
                }
                Direction::Done(copied) => return Poll::Ready(Ok(*copied)),
            }
        }
    }
}
