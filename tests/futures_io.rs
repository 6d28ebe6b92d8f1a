//! The `futures-io` feature: edgeloop's I/O types driven by `futures-util`'s
//! combinators, and `futures-io` types driven by edgeloop's through
//! `edgeloop::io::FuturesIo`.
//!
//! `futures-util`'s extension traits are called by path (`fio::...`):
//! edgeloop's sockets implement both sets of traits, so a method call would
//! be ambiguous with edgeloop's `AsyncReadExt` in scope.
#![cfg(feature = "futures-io")]

mod util;

use edgeloop::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter, FuturesIo};
use edgeloop::net::{TcpListener, TcpStream, UnixStream};
use futures_util::io as fio;
use futures_util::StreamExt;
use util::{assert_pattern, pattern, watchdog, LOCALHOST_0};

/// Enough bytes that the socket buffers fill and both sides wait on
/// `EAGAIN` more than once.
const LARGE: usize = 1 << 20;

/// A connected pair: (edgeloop client, edgeloop server end).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(LOCALHOST_0).await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// With the feature on, every edgeloop I/O type implements `futures-io`'s
/// traits (a compile-time check: the test passes if it builds).
#[test]
fn every_io_type_implements_the_futures_io_traits() {
    fn read_write<T: fio::AsyncRead + fio::AsyncWrite>() {}
    fn read<T: fio::AsyncRead>() {}
    fn write<T: fio::AsyncWrite>() {}
    fn buf_read<T: fio::AsyncBufRead>() {}

    read_write::<edgeloop::io::AsyncFd<std::fs::File>>();
    read_write::<BufReader<TcpStream>>();
    buf_read::<BufReader<TcpStream>>();
    read_write::<BufWriter<TcpStream>>();
    buf_read::<BufWriter<BufReader<TcpStream>>>();
    read::<edgeloop::io::ReadHalf<TcpStream>>();
    write::<edgeloop::io::WriteHalf<TcpStream>>();
    read::<edgeloop::io::PipeReader>();
    write::<edgeloop::io::PipeWriter>();
    read::<edgeloop::io::Stdin>();
    write::<edgeloop::io::Stdout>();
    write::<edgeloop::io::Stderr>();

    read_write::<TcpStream>();
    read_write::<&TcpStream>();
    read::<edgeloop::net::ReadHalf<'_>>();
    write::<edgeloop::net::WriteHalf<'_>>();
    read::<edgeloop::net::OwnedReadHalf>();
    write::<edgeloop::net::OwnedWriteHalf>();
    read_write::<UnixStream>();
    read_write::<&UnixStream>();
    read::<edgeloop::net::UnixReadHalf<'_>>();
    write::<edgeloop::net::UnixWriteHalf<'_>>();
    read::<edgeloop::net::UnixOwnedReadHalf>();
    write::<edgeloop::net::UnixOwnedWriteHalf>();
}

/// `futures-util`'s `write_all` + `close` on one end and `read_to_end` on
/// the other: every byte arrives, and `close` shuts the write side down, so
/// the reader sees end of stream.
#[test]
fn futures_read_to_end_and_write_all_over_tcp() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, mut server) = pair().await;
            let writer = edgeloop::spawn(async move {
                fio::AsyncWriteExt::write_all(&mut client, &pattern(1, LARGE))
                    .await
                    .unwrap();
                fio::AsyncWriteExt::close(&mut client).await.unwrap();
                client
            });
            let mut got = Vec::new();
            let n = fio::AsyncReadExt::read_to_end(&mut server, &mut got)
                .await
                .unwrap();
            assert_eq!(n, LARGE);
            assert_pattern(1, 0, &got, "read_to_end");
            // The client can still read after closing its write side.
            let mut client = writer.await.unwrap();
            fio::AsyncWriteExt::write_all(&mut server, b"bye")
                .await
                .unwrap();
            let mut bye = [0; 3];
            fio::AsyncReadExt::read_exact(&mut client, &mut bye)
                .await
                .unwrap();
            assert_eq!(&bye, b"bye");
        });
    });
}

/// `futures_util::io::copy` from an edgeloop stream (through `&TcpStream`)
/// into a `Vec`.
#[test]
fn futures_copy_from_a_tcp_stream_into_a_vec() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, server) = pair().await;
            let writer = edgeloop::spawn(async move {
                client.write_all(&pattern(2, LARGE)).await.unwrap();
                client.close().await.unwrap();
            });
            let mut sink = Vec::new();
            let copied = fio::copy(&server, &mut sink).await.unwrap();
            assert_eq!(copied, LARGE as u64);
            assert_pattern(2, 0, &sink, "copy into a Vec");
            writer.await.unwrap();
        });
    });
}

/// `futures-util`'s `lines` over edgeloop's `BufReader`, fed in pieces that
/// split lines.
#[test]
fn futures_lines_over_an_edgeloop_buf_reader() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, server) = pair().await;
            let writer = edgeloop::spawn(async move {
                for piece in [&b"alpha\nbe"[..], b"ta\r\n", b"\ngamma"] {
                    client.write_all(piece).await.unwrap();
                    edgeloop::yield_now().await;
                }
                client.close().await.unwrap();
            });
            let mut lines = fio::AsyncBufReadExt::lines(BufReader::with_capacity(4, server));
            let mut got = Vec::new();
            while let Some(line) = lines.next().await {
                got.push(line.unwrap());
            }
            assert_eq!(got, ["alpha", "beta", "", "gamma"]);
            writer.await.unwrap();
        });
    });
}

/// The halves, `io::split`'s halves and `BufWriter` work through
/// `futures-util` too.
#[test]
fn futures_combinators_over_halves_and_buf_writer() {
    watchdog(|| {
        edgeloop::block_on(async {
            // TCP owned halves, and a BufWriter that `close` flushes first.
            let (client, server) = pair().await;
            let (mut read, mut write) = server.into_split();
            let mut client = BufWriter::new(client);
            fio::AsyncWriteExt::write_all(&mut client, b"to the server")
                .await
                .unwrap();
            fio::AsyncWriteExt::close(&mut client).await.unwrap();
            let mut got = Vec::new();
            fio::AsyncReadExt::read_to_end(&mut read, &mut got)
                .await
                .unwrap();
            assert_eq!(got, b"to the server");
            fio::AsyncWriteExt::write_all(&mut write, b"back")
                .await
                .unwrap();
            let mut back = [0; 4];
            fio::AsyncReadExt::read_exact(client.get_mut(), &mut back)
                .await
                .unwrap();
            assert_eq!(&back, b"back");

            // A Unix pair: `io::split` halves on one end, borrowed halves on
            // the other.
            let (left, mut right) = UnixStream::pair().unwrap();
            let (mut left_read, mut left_write) = edgeloop::io::split(left);
            let (mut right_read, mut right_write) = right.split();
            fio::AsyncWriteExt::write_all(&mut left_write, b"ping")
                .await
                .unwrap();
            let mut ping = [0; 4];
            fio::AsyncReadExt::read_exact(&mut right_read, &mut ping)
                .await
                .unwrap();
            assert_eq!(&ping, b"ping");
            fio::AsyncWriteExt::write_all(&mut right_write, b"pong")
                .await
                .unwrap();
            fio::AsyncWriteExt::close(&mut right_write).await.unwrap();
            let mut pong = Vec::new();
            fio::AsyncReadExt::read_to_end(&mut left_read, &mut pong)
                .await
                .unwrap();
            assert_eq!(pong, b"pong");
        });
    });
}

/// The other way: a `futures-io` `Cursor` in `FuturesIo` is a source for
/// `edgeloop::io::copy`, and `AllowStdIo` around a `Vec` a destination.
#[test]
fn edgeloop_copy_between_futures_io_types_and_a_tcp_stream() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, mut server) = pair().await;
            let sender = edgeloop::spawn(async move {
                let mut source = FuturesIo::new(fio::Cursor::new(pattern(3, LARGE)));
                let copied = edgeloop::io::copy(&mut source, &mut client).await.unwrap();
                assert_eq!(copied, LARGE as u64);
                assert_eq!(source.get_ref().position(), LARGE as u64);
                client.close().await.unwrap();
            });
            let mut sink = FuturesIo::new(fio::AllowStdIo::new(Vec::new()));
            let copied = edgeloop::io::copy(&mut server, &mut sink).await.unwrap();
            assert_eq!(copied, LARGE as u64);
            assert_pattern(
                3,
                0,
                &sink.into_inner().into_inner(),
                "copy into AllowStdIo",
            );
            sender.await.unwrap();
        });
    });
}

/// `AsyncReadExt::read_to_end`, edgeloop's `BufReader` and
/// `AsyncBufReadExt::read_line` over wrapped `futures-io` readers.
#[test]
fn edgeloop_reads_from_wrapped_futures_io_readers() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut cursor = FuturesIo::new(fio::Cursor::new(b"all of it".to_vec()));
            let mut all = Vec::new();
            cursor.read_to_end(&mut all).await.unwrap();
            assert_eq!(all, b"all of it");

            // Through edgeloop's BufReader.
            let source = FuturesIo::new(fio::Cursor::new(b"one\ntwo\n".to_vec()));
            let mut reader = BufReader::new(source);
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, "one\n");

            // A futures-io AsyncBufRead is an edgeloop AsyncBufRead as is.
            let std_reader = std::io::Cursor::new(b"three\nfour".to_vec());
            let mut buffered = FuturesIo::new(fio::AllowStdIo::new(std_reader));
            let mut lines = Vec::new();
            let mut line = String::new();
            while buffered.read_line(&mut line).await.unwrap() > 0 {
                lines.push(std::mem::take(&mut line));
            }
            assert_eq!(lines, ["three\n", "four"]);
        });
    });
}

/// Both directions compose: an edgeloop socket seen as `futures-io`, then
/// wrapped back into edgeloop's traits, still reads and writes.
#[test]
fn round_trip_through_futures_io_and_back() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (client, server) = pair().await;
            let mut client = FuturesIo::new(client);
            let mut server = FuturesIo::new(server);
            client.write_all(b"there and back").await.unwrap();
            client.close().await.unwrap();
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"there and back");
        });
    });
}

/// A pipe's ends through `futures-util`: dropping the writer is the end of
/// stream (its `close` only flushes).
#[test]
fn futures_combinators_over_a_pipe() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut reader, mut writer) = edgeloop::io::pipe().unwrap();
            let sender = edgeloop::spawn(async move {
                fio::AsyncWriteExt::write_all(&mut writer, &pattern(4, LARGE))
                    .await
                    .unwrap();
            });
            let mut got = Vec::new();
            fio::AsyncReadExt::read_to_end(&mut reader, &mut got)
                .await
                .unwrap();
            assert_pattern(4, 0, &got, "read_to_end from a pipe");
            sender.await.unwrap();
        });
    });
}
