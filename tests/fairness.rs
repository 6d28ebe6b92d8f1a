//! Fairness: a task that never stops waking itself, or a connection whose
//! peer never stops sending, cannot starve sockets or timers. Each test only
//! asserts that the starved-for work completes; the watchdog bounds it.

mod util;

use std::cell::Cell;
use std::future::poll_fn;
use std::io::{Read, Write};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::TcpStream;
use edgeloop::time::sleep;
use util::{watchdog, CountPolls};

/// While `spinner` runs, an echo round trip and a sleep must both complete.
async fn io_and_timers_progress_beside(spinner: impl std::future::Future<Output = ()> + 'static) {
    let stop = Rc::new(Cell::new(false));
    let spins = edgeloop::spawn({
        let stop = stop.clone();
        async move {
            let mut spinner = Box::pin(spinner);
            poll_fn(|cx| {
                if stop.get() {
                    Poll::Ready(())
                } else {
                    spinner.as_mut().poll(cx)
                }
            })
            .await
        }
    });
    edgeloop::yield_now().await; // the spinner is running now
    let addr = util::spawn_echo_server().await;
    let mut client = TcpStream::connect(addr).await.expect("connect");
    for i in 0..20u8 {
        client.write_all(&[i; 100]).await.expect("write");
        let mut echo = [0; 100];
        client.read_exact(&mut echo).await.expect("read");
        assert_eq!(echo, [i; 100]);
    }
    let start = Instant::now();
    sleep(Duration::from_millis(5)).await;
    assert!(start.elapsed() >= Duration::from_millis(5));
    stop.set(true);
    spins.await.unwrap();
}

#[test]
fn a_task_yielding_in_a_loop_does_not_starve_io_or_timers() {
    watchdog(|| {
        edgeloop::block_on(io_and_timers_progress_beside(async {
            loop {
                edgeloop::yield_now().await;
            }
        }));
    });
}

#[test]
fn a_task_waking_itself_in_every_poll_does_not_starve_io_or_timers() {
    watchdog(|| {
        edgeloop::block_on(io_and_timers_progress_beside(poll_fn(|cx| {
            cx.waker().wake_by_ref();
            Poll::Pending
        })));
    });
}

#[test]
fn several_self_waking_tasks_do_not_starve_the_block_on_future() {
    watchdog(|| {
        edgeloop::block_on(async {
            for _ in 0..4 {
                edgeloop::spawn(poll_fn(|cx| {
                    cx.waker().wake_by_ref();
                    Poll::<()>::Pending
                }));
            }
            for _ in 0..100 {
                edgeloop::yield_now().await;
            }
            sleep(Duration::from_millis(2)).await;
        });
    });
}

/// The byte a [`Firehose`] sends.
const FIREHOSE: u8 = 0xf1;

/// A peer that never pauses, and the runtime task that drains it.
///
/// The sink checks every byte, in small reads: it consumes more slowly than
/// the `std` thread produces, so its socket always has data and its reads
/// never hit `EAGAIN`. Without the I/O budget the sink would never return
/// `Pending`, and nothing else on the runtime would run again.
struct Firehose {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
    sink: edgeloop::JoinHandle<u64>,
    /// How many times the sink task has been polled.
    sink_polls: Arc<AtomicUsize>,
}

impl Firehose {
    /// Starts the firehose and returns once it is in full flow.
    async fn start() -> Firehose {
        let (listener, addr) = util::local_listener().await;
        let received = Rc::new(Cell::new(0u64));
        let (sink, sink_polls) = CountPolls::new({
            let received = received.clone();
            async move {
                let (mut conn, _) = listener.accept().await.expect("accept firehose");
                let mut buf = vec![0; 2048];
                loop {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return received.get(),
                        Ok(n) => {
                            let bad = buf[..n].iter().position(|&b| b != FIREHOSE);
                            assert_eq!(bad, None, "firehose byte {}", received.get());
                            received.set(received.get() + n as u64);
                        }
                    }
                }
            }
        });
        let sink = edgeloop::spawn(sink);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                let chunk = vec![FIREHOSE; 1 << 20];
                let mut sent = 0u64;
                while !stop.load(SeqCst) {
                    match s.write(&chunk) {
                        Ok(n) => sent += n as u64,
                        Err(_) => break,
                    }
                }
                sent
            }
        });
        while received.get() < 8 << 20 {
            sleep(Duration::from_millis(1)).await;
        }
        Firehose {
            stop,
            thread,
            sink,
            sink_polls,
        }
    }

    /// Stops the firehose and checks the sink read everything it sent.
    async fn stop(self) {
        self.stop.store(true, SeqCst);
        // The sink reads until the firehose thread hangs up; only then is
        // joining that thread (which blocks this one) safe.
        let received = self.sink.await.unwrap();
        let sent = self.thread.join().unwrap();
        assert_eq!(received, sent, "the sink read everything the firehose sent");
    }
}

/// One 4-byte echo round trip.
async fn probe_round_trip(probe: &mut TcpStream, i: u32) {
    let msg = i.to_le_bytes();
    probe.write_all(&msg).await.expect("probe write");
    let mut echo = [0; 4];
    probe.read_exact(&mut echo).await.expect("probe read");
    assert_eq!(echo, msg);
}

#[test]
fn a_firehose_connection_does_not_starve_another_connections_echo() {
    watchdog(|| {
        edgeloop::block_on(async {
            let firehose = Firehose::start().await;
            let addr = util::spawn_echo_server().await;
            let mut probe = TcpStream::connect(addr).await.expect("connect probe");
            for i in 0..10 {
                probe_round_trip(&mut probe, i).await;
            }
            let start = Instant::now();
            sleep(Duration::from_millis(1)).await;
            assert!(start.elapsed() >= Duration::from_millis(1));
            firehose.stop().await;
        });
    });
}

/// Bounded, not just eventual, progress: a task that spent its I/O budget
/// should wait for the next driver check, as `yield_now` does, so that a
/// connection whose event is pending gets its turn after at most a few of
/// the firehose's polls. Counted in polls of the sink task, not in time.
#[test]
fn a_firehose_gets_only_a_few_polls_per_echo_round_trip_of_another_connection() {
    /// Each round trip needs about two driver turns; a budget-exhausted task
    /// that waits for the driver gets about one poll per turn.
    const MAX_SINK_POLLS_PER_ROUND_TRIP: usize = 8;
    watchdog(|| {
        edgeloop::block_on(async {
            let firehose = Firehose::start().await;
            let addr = util::spawn_echo_server().await;
            let mut probe = TcpStream::connect(addr).await.expect("connect probe");
            probe_round_trip(&mut probe, 0).await;
            let start_polls = firehose.sink_polls.load(SeqCst);
            for i in 1..=20 {
                probe_round_trip(&mut probe, i).await;
                let polls = firehose.sink_polls.load(SeqCst) - start_polls;
                assert!(
                    polls <= MAX_SINK_POLLS_PER_ROUND_TRIP * i as usize,
                    "the firehose's sink task was polled {polls} times during {i} echo \
                     round trip(s) of another connection (at most \
                     {MAX_SINK_POLLS_PER_ROUND_TRIP} per round trip expected); likely cause: a task that \
                     spent its I/O budget is re-queued without waiting for the driver, so \
                     other connections' events wait up to `event_interval` of its polls"
                );
            }
            firehose.stop().await;
        });
    });
}

/// The same with a blocking `std` echo peer on the other side: the runtime
/// side both reads and writes without pause on one connection.
#[test]
fn a_connection_that_is_always_ready_both_ways_does_not_starve_timers() {
    watchdog(|| {
        let (listener, addr) = util::std_listener();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = vec![0; 64 * 1024];
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        edgeloop::block_on(async {
            let stream = Rc::new(TcpStream::connect(addr).await.expect("connect"));
            let stop = Rc::new(Cell::new(false));
            let pump = edgeloop::spawn({
                let (stream, stop) = (stream.clone(), stop.clone());
                async move {
                    let chunk = vec![1; 16 * 1024];
                    while !stop.get() {
                        (&*stream).write_all(&chunk).await.expect("pump write");
                    }
                    stream.shutdown(std::net::Shutdown::Write).unwrap();
                }
            });
            let drain = edgeloop::spawn({
                let stream = stream.clone();
                async move {
                    let mut buf = vec![0; 16 * 1024];
                    while (&*stream).read(&mut buf).await.expect("drain read") != 0 {}
                }
            });
            for _ in 0..20 {
                let start = Instant::now();
                sleep(Duration::from_millis(1)).await;
                assert!(start.elapsed() >= Duration::from_millis(1));
            }
            stop.set(true);
            pump.await.unwrap();
            drain.await.unwrap();
        });
        peer.join().unwrap();
    });
}

/// A task that waits for readiness in a loop on an fd that stays ready
/// (data sits in the socket, and the task never reads it, so nothing clears
/// the readiness): each wait spends budget as an operation does, so the
/// task yields after a budget's worth and the `block_on` future runs. This
/// is the `readable().await` + `try_read` loop `TcpStream::readable` teaches,
/// at its worst. Before the fix a readiness wait spent nothing, the task's
/// first poll never ended, and the watchdog fired.
#[test]
fn a_loop_of_readiness_waits_cannot_starve_the_block_on_future() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (ours, mut peer) = std::os::unix::net::UnixStream::pair().unwrap();
            ours.set_nonblocking(true).unwrap();
            peer.write_all(b"never read").unwrap();
            let ours = edgeloop::io::AsyncFd::new(ours).unwrap();
            let waits = Rc::new(Cell::new(0u64));
            let spinner = edgeloop::spawn({
                let waits = waits.clone();
                async move {
                    loop {
                        let _ready = ours.readable().await.unwrap();
                        waits.set(waits.get() + 1);
                    }
                }
            });
            edgeloop::yield_now().await;
            edgeloop::yield_now().await;
            assert!(waits.get() > 0, "the spinning task ran");
            spinner.abort();
            drop(peer);
        });
    });
}
