//! Vectored writes with more slices than the kernel takes in one call
//! (`UIO_MAXIOV`, 1,024): the write sends what it can instead of failing
//! with `EMSGSIZE`, and a complete write of the slices it passed on is not
//! mistaken for a short one.

mod util;

use std::future::poll_fn;
use std::io::IoSlice;
use std::net::Shutdown;
use std::pin::Pin;
use std::time::Duration;

use edgeloop::io::{AsyncReadExt, AsyncWrite};
use edgeloop::net::TcpStream;
use edgeloop::time::timeout;
use util::watchdog;

/// The kernel's limit on slices per `sendmsg` (`UIO_MAXIOV`).
const MAX_SLICES: usize = 1024;
/// Bytes per slice: small, so that even thousands of slices fit in the
/// socket buffers and no write ever has to wait for the reader.
const SLICE_LEN: usize = 4;

/// A connected pair: (client, server).
async fn socket_pair() -> (TcpStream, TcpStream) {
    let (listener, addr) = util::local_listener().await;
    let client = TcpStream::connect(addr).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// One `poll_write_vectored` call, awaited.
async fn write_vectored(stream: &mut TcpStream, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_write_vectored(cx, bufs)).await
}

/// 1,025 non-empty slices: more than one `sendmsg` accepts. Fails today:
/// the write returns `EMSGSIZE` ("Message too long").
#[test]
fn a_vectored_write_of_more_than_1024_slices_writes_some_bytes() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, mut server) = socket_pair().await;
            let data = util::pattern(10, (MAX_SLICES + 1) * SLICE_LEN);
            let slices: Vec<IoSlice<'_>> = data.chunks(SLICE_LEN).map(IoSlice::new).collect();
            assert_eq!(slices.len(), MAX_SLICES + 1);
            let n = write_vectored(&mut client, &slices)
                .await
                .expect("a vectored write of 1,025 slices failed");
            assert!(
                n > 0 && n <= MAX_SLICES * SLICE_LEN,
                "wrote {n} bytes; expected some, at most the first 1,024 slices' worth"
            );
            let mut got = vec![0; n];
            server.read_exact(&mut got).await.unwrap();
            util::assert_pattern(10, 0, &got, "the bytes of the first slices");
        });
    });
}

/// Writes `data` as `SLICE_LEN`-byte slices, again and again from where
/// the last write stopped, until all of it is written (`write_all` for
/// vectored writes). Each pass offers more slices than `sendmsg` takes.
async fn write_all_vectored(stream: &mut TcpStream, data: &[u8]) -> std::io::Result<()> {
    let mut written = 0;
    while written < data.len() {
        let slices: Vec<IoSlice<'_>> = data[written..]
            .chunks(SLICE_LEN)
            .map(IoSlice::new)
            .collect();
        let n = write_vectored(stream, &slices).await?;
        assert!(
            n > 0,
            "a vectored write of {} slices wrote nothing",
            slices.len()
        );
        written += n;
    }
    Ok(())
}

/// When the write passes on only the first 1,024 slices and the kernel
/// takes all of them, that is a complete write, not a short one: the send
/// buffer is not full, so forgetting the write readiness would leave the
/// next write waiting for an edge that never comes. The peer must get every
/// byte, in order. Fails today: the first write returns `EMSGSIZE`.
#[test]
fn a_writer_looping_over_thousands_of_slices_delivers_every_byte_in_order() {
    const SLICES: usize = 3 * MAX_SLICES + 100;
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, mut server) = socket_pair().await;
            let data = util::pattern(11, SLICES * SLICE_LEN);
            let mut got = vec![0; data.len()];
            let writer = async {
                let wrote = timeout(
                    Duration::from_secs(10),
                    write_all_vectored(&mut client, &data),
                )
                .await;
                // EOF for the reader, so that a failed writer ends it too.
                let _ = client.shutdown(Shutdown::Write);
                wrote
            };
            let (wrote, read) = util::join(writer, server.read_exact(&mut got)).await;
            wrote
                .expect("the writer stalled: a complete write of 1,024 slices was taken for a short one")
                .expect("write_all_vectored");
            read.expect("read_exact");
            util::assert_pattern(11, 0, &got, "vectored stream");
        });
    });
}
