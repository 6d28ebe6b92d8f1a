//! The runtime's counters against workloads whose counts are known, read
//! with `edgeloop::runtime::metrics()` from inside the runtime and with
//! `Runtime::metrics()` from outside.

mod util;

use std::future::poll_fn;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use edgeloop::io::AsyncReadExt;
use edgeloop::net::TcpStream;
use edgeloop::runtime::metrics;
use edgeloop::time::{sleep, timeout};
use edgeloop::trace::TraceSink;
use edgeloop::Runtime;
use util::watchdog;

/// A runtime that does not trace, whatever `EDGELOOP_TRACE` says: the
/// counts below are the untraced runtime's.
fn untraced() -> Runtime {
    edgeloop::Builder::new()
        .trace(TraceSink::Off)
        .build()
        .unwrap()
}

#[test]
fn task_and_wake_counters_match_a_known_workload() {
    const TASKS: u64 = 50;
    watchdog(|| {
        let rt = untraced();
        let inside = rt.block_on(async {
            let handles: Vec<_> = (0..TASKS)
                .map(|_| edgeloop::spawn(edgeloop::yield_now()))
                .collect();
            for h in handles {
                h.await.unwrap();
            }
            metrics()
        });
        assert_eq!(inside.tasks_spawned, TASKS);
        assert_eq!(inside.live_tasks, 0);
        assert!(
            inside.wakes_deferred >= TASKS,
            "each yield_now is a deferred wake: {inside:?}"
        );
        assert!(
            inside.max_run_queue >= TASKS,
            "all were queued at once: {inside:?}"
        );
        assert_eq!(inside.lost_wakes, 0);
        assert_eq!(inside.longest_poll, None, "measured only while tracing");
        let outside = rt.metrics();
        assert_eq!(outside.tasks_spawned, inside.tasks_spawned);
    });
}

#[test]
fn timer_counters_count_armed_fired_and_cancelled() {
    watchdog(|| {
        let rt = untraced();
        rt.block_on(async {
            sleep(Duration::from_millis(1)).await;
            sleep(Duration::from_millis(1)).await;
            // Armed at its first poll, cancelled when the timeout drops it.
            assert!(
                timeout(Duration::from_millis(1), sleep(Duration::from_secs(60)))
                    .await
                    .is_err()
            );
        });
        let m = rt.metrics();
        // Three sleeps fired (two plain, the timeout's own), one cancelled.
        assert_eq!(m.timers_armed, 4, "{m:?}");
        assert_eq!(m.timers_fired, 3, "{m:?}");
        assert_eq!(m.timers_cancelled, 1, "{m:?}");
        assert_eq!(m.wakes_from_timers, 3, "{m:?}");
        assert_eq!(m.armed_timers, 0);
    });
}

#[test]
fn io_and_cross_thread_counters_follow_the_traffic() {
    watchdog(|| {
        let rt = untraced();
        let (listener, addr) = util::std_listener();
        let m = rt.block_on(async move {
            let peer = std::thread::spawn(move || {
                let (mut conn, _) = listener.accept().unwrap();
                std::thread::sleep(Duration::from_millis(5));
                conn.write_all(b"ping").unwrap();
                conn
            });
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0; 64];
            // A short read: the readiness is cleared without an EAGAIN.
            assert_eq!(stream.read(&mut buf).await.unwrap(), 4);
            drop(peer.join().unwrap());

            // A wake from another thread, through the cross-thread queue.
            let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
            let done = Arc::new(Mutex::new(false));
            let waiter = edgeloop::spawn({
                let (slot, done) = (slot.clone(), done.clone());
                poll_fn(move |cx| {
                    if *done.lock().unwrap() {
                        return Poll::Ready(());
                    }
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Pending
                })
            });
            edgeloop::yield_now().await;
            std::thread::spawn(move || {
                *done.lock().unwrap() = true;
                slot.lock().unwrap().take().unwrap().wake();
            })
            .join()
            .unwrap();
            waiter.await.unwrap();
            metrics()
        });
        assert!(m.io_events >= 1 && m.wakes_from_io >= 1, "{m:?}");
        assert!(m.max_events_per_turn >= 1, "{m:?}");
        assert!(m.events_per_turn() > 0.0);
        assert!(m.short_transfer_clears >= 1, "{m:?}");
        assert_eq!(m.wakes_from_other_threads, 1, "{m:?}");
        assert_eq!(m.stale_events, 0);
    });
}

#[test]
fn the_longest_poll_is_measured_while_tracing() {
    watchdog(|| {
        let rt = edgeloop::Builder::new()
            .trace(TraceSink::callback(|_| {}))
            .build()
            .unwrap();
        rt.block_on(async {
            edgeloop::spawn(async { std::thread::sleep(Duration::from_millis(3)) })
                .await
                .unwrap();
        });
        let longest = rt.metrics().longest_poll.expect("measured while tracing");
        assert!(longest >= Duration::from_millis(3), "{longest:?}");
    });
}

#[test]
fn metrics_outside_a_runtime_panic_naming_the_call() {
    let msg = util::expect_panic("metrics outside a runtime", metrics);
    assert!(msg.contains("edgeloop::runtime::metrics"), "{msg}");
}
