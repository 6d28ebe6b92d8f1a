//! The I/O helpers: `BufReader` lines and delimiters, `BufWriter`
//! coalescing, `copy` and `copy_bidirectional` over TCP (half-close passed
//! through), the number readers and writers, `io::split`, and what a
//! cancelled `read_line` or `next_line` keeps.

#[path = "io_helpers/doubles.rs"]
mod doubles;
mod util;

use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::time::Duration;

use doubles::{Both, CountingWriter, Trickle};
use edgeloop::io::{
    self as eio, copy, copy_bidirectional, copy_buf, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt,
    BufReader, BufWriter,
};
use edgeloop::net::TcpStream;
use edgeloop::time::timeout;
use futures_core::Stream;
use util::{assert_pattern, join, pattern, watchdog};

/// A connected pair: (client, server).
async fn socket_pair() -> (TcpStream, TcpStream) {
    let (listener, addr) = util::local_listener().await;
    let client = TcpStream::connect(addr).await.expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    (client, server)
}

/// A timeout long enough for a byte on loopback to arrive, short enough
/// for a test that waits for it to run out.
const SHORT: Duration = Duration::from_millis(50);

/// Writes `parts` one after another with a pause between, then closes.
async fn send_in_parts(mut stream: TcpStream, parts: &[&[u8]]) {
    for part in parts {
        stream.write_all(part).await.expect("send a part");
        edgeloop::time::sleep(Duration::from_millis(2)).await;
    }
    stream.close().await.expect("close the sender");
}

#[test]
fn lines_over_tcp_strip_lf_and_crlf_and_keep_a_last_line_without_newline() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (client, server) = socket_pair().await;
            let parts: &[&[u8]] = &[b"one\r", b"\ntw", b"o\n\n", b"\r\nla", b"st"];
            let sender = edgeloop::spawn(send_in_parts(client, parts));
            // A small buffer, so lines cross its refills too.
            let mut lines = BufReader::with_capacity(3, server).lines();
            let mut got = Vec::new();
            while let Some(line) = lines.next_line().await.expect("next_line") {
                got.push(line);
            }
            assert_eq!(got, ["one", "two", "", "", "last"]);
            assert_eq!(lines.next_line().await.unwrap(), None, "EOF stays EOF");
            sender.await.unwrap();
        });
    });
}

#[test]
fn lines_are_a_stream_of_results() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, server) = socket_pair().await;
            client.write_all(b"a\nb\r\nc").await.unwrap();
            client.close().await.unwrap();
            let mut lines = BufReader::new(server).lines();
            let mut got = Vec::new();
            while let Some(line) = poll_fn(|cx| Pin::new(&mut lines).poll_next(cx)).await {
                got.push(line.expect("a line"));
            }
            assert_eq!(got, ["a", "b", "c"]);
        });
    });
}

#[test]
fn lines_of_an_empty_stream_end_at_once() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, server) = socket_pair().await;
            client.close().await.unwrap();
            let mut lines = BufReader::new(server).lines();
            assert_eq!(lines.next_line().await.unwrap(), None);

            let (mut client, server) = socket_pair().await;
            client.close().await.unwrap();
            let mut reader = BufReader::new(server);
            let mut line = String::from("kept");
            assert_eq!(reader.read_line(&mut line).await.unwrap(), 0);
            assert_eq!(line, "kept", "nothing appended at EOF");
        });
    });
}

#[test]
fn a_line_that_is_not_utf8_is_an_error_and_the_next_line_still_comes() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut lines = BufReader::new(&b"ok\n\xff\xfe\nafter\n"[..]).lines();
            assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("ok"));
            let err = lines.next_line().await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("after"));

            let mut reader = BufReader::new(&b"\xffbad\ngood\n"[..]);
            let mut buf = String::from("before|");
            let err = reader.read_line(&mut buf).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            assert_eq!(buf, "before|", "a bad line leaves buf as it was");
            assert_eq!(reader.read_line(&mut buf).await.unwrap(), 5);
            assert_eq!(buf, "before|good\n");
        });
    });
}

#[test]
fn read_until_and_read_line_append_over_tcp() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (client, server) = socket_pair().await;
            let parts: &[&[u8]] = &[b"k1=v", b"1;k2", b"=;;tail\nline two\n", b"end"];
            let sender = edgeloop::spawn(send_in_parts(client, parts));
            let mut reader = BufReader::with_capacity(4, server);
            let mut field = Vec::new();
            assert_eq!(reader.read_until(b';', &mut field).await.unwrap(), 6);
            assert_eq!(reader.read_until(b';', &mut field).await.unwrap(), 4);
            assert_eq!(reader.read_until(b';', &mut field).await.unwrap(), 1);
            assert_eq!(field, b"k1=v1;k2=;;", "read_until appends");
            let mut text = String::from(">");
            assert_eq!(reader.read_line(&mut text).await.unwrap(), 5);
            assert_eq!(reader.read_line(&mut text).await.unwrap(), 9);
            assert_eq!(reader.read_line(&mut text).await.unwrap(), 3);
            assert_eq!(reader.read_line(&mut text).await.unwrap(), 0);
            assert_eq!(text, ">tail\nline two\nend", "read_line appends");
            sender.await.unwrap();
        });
    });
}

#[test]
fn split_gives_the_segments_between_delimiters() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut segments = BufReader::with_capacity(2, &b"ab,,cde,"[..]).split(b',');
            let mut got = Vec::new();
            while let Some(segment) = segments.next_segment().await.unwrap() {
                got.push(segment);
            }
            assert_eq!(got, [&b"ab"[..], b"", b"cde"]);
        });
    });
}

#[test]
fn buf_reader_serves_small_reads_from_one_inner_read_and_bypasses_for_large_ones() {
    watchdog(|| {
        edgeloop::block_on(async {
            let data = pattern(1, 100);
            let mut inner = Trickle::new(&data);
            inner.chunk = Some(usize::MAX);
            let (reads, largest) = (inner.reads.clone(), inner.largest_read.clone());
            let mut reader = BufReader::with_capacity(16, inner);
            let mut small = [0; 4];
            reader.read_exact(&mut small).await.unwrap();
            assert_eq!(reader.buffer(), &data[4..16]);
            reader.read_exact(&mut small).await.unwrap();
            assert_eq!(reads.get(), 1, "two small reads, one inner read");
            // 8 bytes are still buffered: a large read takes them first…
            let mut large = [0; 32];
            assert_eq!(reader.read(&mut large).await.unwrap(), 8);
            assert_eq!(reads.get(), 1);
            // …and once the buffer is empty, goes straight through.
            assert_eq!(reader.read(&mut large).await.unwrap(), 32);
            assert_eq!((reads.get(), largest.get()), (2, 32));
            assert!(reader.buffer().is_empty());
            assert_pattern(1, 16, &large, "the bypassing read");
            let mut rest = Vec::new();
            reader.read_to_end(&mut rest).await.unwrap();
            assert_pattern(1, 48, &rest, "the rest");
        });
    });
}

#[test]
fn buf_reader_vectored_reads_fill_the_slices_in_order() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut reader = BufReader::with_capacity(8, &b"abcdefghijkl"[..]);
            let (mut a, mut b) = ([0; 3], [0; 3]);
            let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
            assert_eq!(reader.read_vectored(&mut bufs).await.unwrap(), 6);
            assert_eq!((&a, &b), (b"abc", b"def"));
            assert_eq!(reader.buffer(), b"gh");
        });
    });
}

#[test]
fn buf_writer_coalesces_small_writes_until_full_or_flushed() {
    watchdog(|| {
        edgeloop::block_on(async {
            let data = pattern(2, 1000);
            let mut out = BufWriter::with_capacity(100, CountingWriter::default());
            for chunk in data.chunks(10) {
                out.write_all(chunk).await.unwrap();
            }
            // Each 100 bytes went out when the next write did not fit.
            assert_eq!(out.get_ref().writes, 9);
            assert_eq!(out.get_ref().data.len(), 900);
            assert_eq!(out.buffer().len(), 100);
            out.flush().await.unwrap();
            let inner = out.get_ref();
            assert_eq!((inner.writes, inner.flushes, inner.closes), (10, 1, 0));
            assert_pattern(2, 0, &inner.data, "the coalesced bytes");
            out.write_all(b"last").await.unwrap();
            out.close().await.unwrap();
            let (inner, unwritten) = out.into_parts();
            assert!(unwritten.is_empty());
            assert_eq!((inner.writes, inner.flushes, inner.closes), (11, 1, 1));
            assert_eq!(&inner.data[1000..], b"last", "close flushed first");
        });
    });
}

#[test]
fn buf_writer_passes_large_and_large_vectored_writes_through_in_order() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut out = BufWriter::with_capacity(16, CountingWriter::default());
            out.write_all(b"small").await.unwrap();
            let big = [b'x'; 16];
            assert_eq!(out.write(&big).await.unwrap(), 16);
            // The buffered "small" went first, then the big write as it was.
            assert_eq!((out.get_ref().writes, out.buffer().len()), (2, 0));
            let small = [IoSlice::new(b"ab"), IoSlice::new(b"cd")];
            assert_eq!(out.write_vectored(&small).await.unwrap(), 4);
            assert_eq!(out.get_ref().vectored_writes, 0, "small vectored: buffered");
            assert_eq!(out.buffer(), b"abcd");
            let large = [IoSlice::new(&[b'y'; 10]), IoSlice::new(&[b'z'; 10])];
            assert_eq!(out.write_vectored(&large).await.unwrap(), 20);
            let inner = out.get_ref();
            assert_eq!((inner.writes, inner.vectored_writes), (3, 1));
            let mut want = b"small".to_vec();
            want.extend_from_slice(&big);
            want.extend_from_slice(b"abcd");
            want.extend_from_slice(&[b'y'; 10]);
            want.extend_from_slice(&[b'z'; 10]);
            assert_eq!(inner.data, want);
        });
    });
}

#[test]
fn buf_writer_flush_survives_short_and_pending_writes_without_repeating_a_byte() {
    watchdog(|| {
        edgeloop::block_on(async {
            let inner = CountingWriter {
                max_per_write: 7,
                stall: true,
                ..CountingWriter::default()
            };
            let data = pattern(3, 5000);
            let mut out = BufWriter::with_capacity(64, inner);
            for chunk in data.chunks(13) {
                out.write_all(chunk).await.unwrap();
            }
            out.flush().await.unwrap();
            assert_pattern(3, 0, &out.get_ref().data, "bytes through a slow writer");
            assert_eq!(out.get_ref().data.len(), data.len());
        });
    });
}

#[test]
fn dropping_an_unflushed_buf_writer_does_not_panic() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (client, mut server) = socket_pair().await;
            let mut out = BufWriter::new(client);
            out.write_all(b"never flushed").await.unwrap();
            drop(out); // documented: the buffered bytes go with it
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            assert!(got.is_empty());
        });
    });
}

#[test]
fn copy_moves_64_kib_over_tcp_and_every_byte_arrives() {
    const LEN: usize = 64 * 1024;
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut source, mut from) = socket_pair().await;
            let (mut to, mut sink) = socket_pair().await;
            let data = pattern(4, LEN);
            let send = async {
                source.write_all(&data).await.unwrap();
                source.close().await.unwrap();
            };
            let relay = async {
                let n = copy(&mut from, &mut to).await.unwrap();
                to.close().await.unwrap();
                n
            };
            let receive = async {
                let mut got = Vec::new();
                sink.read_to_end(&mut got).await.unwrap();
                got
            };
            let ((_, copied), got) = join(join(send, relay), receive).await;
            assert_eq!(copied, LEN as u64);
            assert_eq!(got.len(), LEN);
            assert_pattern(4, 0, &got, "the copied stream");
        });
    });
}

#[test]
fn copy_buf_moves_a_buf_reader_into_a_writer() {
    watchdog(|| {
        edgeloop::block_on(async {
            let data = pattern(5, 20_000);
            let mut reader = BufReader::with_capacity(1000, &data[..]);
            let mut out = CountingWriter::default();
            assert_eq!(copy_buf(&mut reader, &mut out).await.unwrap(), 20_000);
            assert_eq!(out.writes, 20, "one write per buffer");
            assert!(out.flushes >= 1);
            assert_pattern(5, 0, &out.data, "copy_buf");
        });
    });
}

#[test]
fn copy_bidirectional_passes_half_close_through_and_ends_when_both_ways_are_done() {
    const UP: usize = 48 * 1024;
    const DOWN: usize = 40 * 1024 + 3;
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, mut a) = socket_pair().await;
            let (mut upstream, mut b) = socket_pair().await;
            let proxy = edgeloop::spawn(async move { copy_bidirectional(&mut a, &mut b).await });

            client.write_all(&pattern(6, UP)).await.unwrap();
            client.close().await.unwrap(); // half-close, client -> proxy
            let mut request = Vec::new();
            upstream.read_to_end(&mut request).await.unwrap();
            assert_eq!(request.len(), UP, "upstream saw EOF after the request");
            assert_pattern(6, 0, &request, "client to upstream");

            for _ in 0..10 {
                edgeloop::yield_now().await;
            }
            assert!(!proxy.is_finished(), "the other direction is still open");

            upstream.write_all(&pattern(7, DOWN)).await.unwrap();
            upstream.close().await.unwrap();
            let mut response = Vec::new();
            client.read_to_end(&mut response).await.unwrap();
            assert_eq!(response.len(), DOWN);
            assert_pattern(7, 0, &response, "upstream to client");

            let counts = proxy.await.unwrap().unwrap();
            assert_eq!(counts, (UP as u64, DOWN as u64));
        });
    });
}

#[test]
fn numbers_round_trip_in_both_byte_orders() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut out = Vec::new();
            out.write_u8(0xfe).await.unwrap();
            out.write_i8(-2).await.unwrap();
            out.write_u16(0x0102).await.unwrap();
            out.write_i16_le(-3).await.unwrap();
            out.write_u32(0x0102_0304).await.unwrap();
            out.write_i32_le(i32::MIN).await.unwrap();
            out.write_u64_le(u64::MAX - 1).await.unwrap();
            out.write_i64(-5).await.unwrap();
            out.write_u128(u128::MAX / 3).await.unwrap();
            out.write_i128_le(i128::MIN + 7).await.unwrap();
            out.write_f32(1.5).await.unwrap();
            out.write_f64_le(-0.25).await.unwrap();
            assert_eq!(
                &out[..4],
                [0xfe, 0xfe, 0x01, 0x02],
                "u8, i8, u16 big-endian"
            );
            assert_eq!(out.len(), 1 + 1 + 2 + 2 + 4 + 4 + 8 + 8 + 16 + 16 + 4 + 8);

            // A reader that gives one byte per poll: every read resumes.
            let mut src = Trickle::new(&out);
            assert_eq!(src.read_u8().await.unwrap(), 0xfe);
            assert_eq!(src.read_i8().await.unwrap(), -2);
            assert_eq!(src.read_u16().await.unwrap(), 0x0102);
            assert_eq!(src.read_i16_le().await.unwrap(), -3);
            assert_eq!(src.read_u32().await.unwrap(), 0x0102_0304);
            assert_eq!(src.read_i32_le().await.unwrap(), i32::MIN);
            assert_eq!(src.read_u64_le().await.unwrap(), u64::MAX - 1);
            assert_eq!(src.read_i64().await.unwrap(), -5);
            assert_eq!(src.read_u128().await.unwrap(), u128::MAX / 3);
            assert_eq!(src.read_i128_le().await.unwrap(), i128::MIN + 7);
            assert_eq!(src.read_f32().await.unwrap(), 1.5);
            assert_eq!(src.read_f64_le().await.unwrap(), -0.25);
            let err = src.read_u16().await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);

            let mut short: &[u8] = &[1, 2, 3];
            let err = short.read_u32_le().await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        });
    });
}

#[test]
fn numbers_round_trip_over_tcp() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, server) = socket_pair().await;
            let values: Vec<u64> = (0..1000).map(|i| i * 0x0101_0101_0101).collect();
            let send = async {
                let mut out = BufWriter::new(&mut client);
                for &v in &values {
                    out.write_u64(v).await.unwrap();
                    out.write_u16_le(v as u16).await.unwrap();
                }
                out.close().await.unwrap();
            };
            let receive = async {
                let mut src = BufReader::new(server);
                let mut got = Vec::new();
                for _ in 0..values.len() {
                    let v = src.read_u64().await.unwrap();
                    assert_eq!(src.read_u16_le().await.unwrap(), v as u16);
                    got.push(v);
                }
                assert_eq!(
                    src.read_u8().await.unwrap_err().kind(),
                    io::ErrorKind::UnexpectedEof
                );
                got
            };
            let ((), got) = join(send, receive).await;
            assert_eq!(got, values);
        });
    });
}

#[test]
fn read_to_string_and_vectored_ext_methods_over_tcp() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, mut server) = socket_pair().await;
            let parts = [IoSlice::new(b"head|"), IoSlice::new(b"body")];
            assert_eq!(client.write_vectored(&parts).await.unwrap(), 9);
            let (mut a, mut b) = ([0; 5], [0; 2]);
            let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
            // Loopback queues the 9 bytes at once: one read fills both.
            server.readable().await.unwrap();
            assert_eq!(server.read_vectored(&mut bufs).await.unwrap(), 7);
            assert_eq!((&a, &b), (b"head|", b"bo"));
            client.write_all(", ünïcode".as_bytes()).await.unwrap();
            client.close().await.unwrap();
            let mut text = String::from("rest: ");
            server.read_to_string(&mut text).await.unwrap();
            assert_eq!(text, "rest: dy, ünïcode");
        });
    });
}

#[test]
fn write_vectored_reaches_poll_write_vectored() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut out = CountingWriter::default();
            let parts = [IoSlice::new(b"ab"), IoSlice::new(b"cd")];
            assert_eq!(out.write_vectored(&parts).await.unwrap(), 4);
            assert_eq!((out.writes, out.vectored_writes), (0, 1));
            assert_eq!(out.data, b"abcd");
        });
    });
}

#[test]
fn split_halves_work_from_two_tasks_and_unsplit() {
    const LEN: usize = 100 * 1024;
    watchdog(|| {
        edgeloop::block_on(async {
            let addr = util::spawn_echo_server().await;
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut read, mut write) = eio::split(stream);
            assert!(read.is_pair_of(&write));
            let writer = edgeloop::spawn(async move {
                let data = pattern(8, LEN);
                for chunk in data.chunks(4096) {
                    write.write_all(chunk).await.unwrap();
                }
                write
            });
            let reader = edgeloop::spawn(async move {
                let mut got = vec![0; LEN];
                read.read_exact(&mut got).await.unwrap();
                (read, got)
            });
            let write = writer.await.unwrap();
            let (read, got) = reader.await.unwrap();
            assert_pattern(8, 0, &got, "echoed through the split halves");
            let mut stream = read.unsplit(write);
            stream.close().await.unwrap();
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty(), "the echo server closed after our FIN");
        });
    });
}

#[test]
fn unsplit_of_unrelated_halves_panics_naming_the_call() {
    watchdog(|| {
        let (read, _) = eio::split(Both(Vec::new()));
        let (_, write) = eio::split(Both(Vec::new()));
        let msg = util::expect_panic("unsplit", || read.unsplit(write));
        assert!(msg.contains("ReadHalf::unsplit"), "{msg}");
    });
}

#[test]
fn a_cancelled_read_line_keeps_buf_as_it_was_and_loses_the_partial_line() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, server) = socket_pair().await;
            let mut reader = BufReader::new(server);
            let mut buf = String::from("kept|");
            client.write_all(b"hal").await.unwrap();
            reader.get_ref().readable().await.unwrap(); // "hal" is there
            let res = timeout(SHORT, reader.read_line(&mut buf)).await;
            assert!(res.is_err(), "no newline yet: the timeout fires");
            // Documented: not cancel-safe. `buf` has its old contents, and
            // the bytes the dropped future took from the reader are gone.
            assert_eq!(buf, "kept|");
            assert!(reader.buffer().is_empty());
            client.write_all(b"f\n").await.unwrap();
            reader.read_line(&mut buf).await.unwrap();
            assert_eq!(buf, "kept|f\n", "\"hal\" was lost");
        });
    });
}

#[test]
fn a_cancelled_next_line_loses_nothing() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut client, server) = socket_pair().await;
            let mut lines = BufReader::with_capacity(4, server).lines();
            let mut timeouts = 0;
            for part in [&b"par"[..], b"ti", b"al line"] {
                client.write_all(part).await.unwrap();
                let res = timeout(SHORT, lines.next_line()).await;
                assert!(res.is_err(), "no newline yet: the timeout fires");
                timeouts += 1;
            }
            client.write_all(b"\nnext\n").await.unwrap();
            let line = timeout(Duration::from_secs(10), lines.next_line()).await;
            assert_eq!(line.unwrap().unwrap().as_deref(), Some("partial line"));
            assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("next"));
            assert_eq!(timeouts, 3);
            client.close().await.unwrap();
            assert_eq!(lines.next_line().await.unwrap(), None);
        });
    });
}
