//! Timers: `sleep` never completes early and sleeps complete in deadline
//! order; `timeout` both ways; `interval`; resetting and dropping sleeps.
//!
//! Nothing here asserts an upper bound on time: a loaded machine may wake a
//! timer late, never early.

mod util;

use std::cell::RefCell;
use std::future::{pending, poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::TcpStream;
use edgeloop::time::{interval, sleep, sleep_until, timeout, Elapsed};
use edgeloop::Runtime;
use util::{watchdog, DropFlag};

/// Polls `future` once in the current task: true if it is still pending.
async fn poll_pending<F: Future + Unpin>(future: &mut F) -> bool {
    poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *future).poll(cx).is_pending())).await
}

#[test]
fn sleeps_with_shuffled_deadlines_complete_in_deadline_order_and_never_early() {
    const TASKS: u32 = 300;
    watchdog(|| {
        edgeloop::block_on(async {
            // Distinct deadlines from a common base, in 20 clusters 2 ms
            // apart (30 ms .. 68 ms); within a cluster 1 µs apart, so that
            // several fall due in one driver turn and their order within the
            // turn counts too. Shuffled across the spawn order.
            let mut offsets: Vec<Duration> = (0..TASKS)
                .map(|i| {
                    Duration::from_millis(30)
                        + Duration::from_millis(2) * (i % 20)
                        + Duration::from_micros(1) * (i / 20)
                })
                .collect();
            util::shuffle(&mut offsets, 0x7117);
            let base = Instant::now();
            let log: Rc<RefCell<Vec<(Instant, bool)>>> = Rc::default();
            let tasks: Vec<_> = offsets
                .iter()
                .map(|&offset| {
                    let log = log.clone();
                    edgeloop::spawn(async move {
                        let deadline = base + offset;
                        let mut sleep = Box::pin(sleep_until(deadline));
                        // Armed: its first poll found the deadline ahead and
                        // the task returned `Pending` right away, so only the
                        // runtime's timer can have completed it. (Re-polling
                        // in the same task poll could find it due on a slow
                        // machine, e.g. under valgrind, and complete it out of
                        // the timer's order.)
                        let mut armed = None;
                        poll_fn(|cx| {
                            let poll = sleep.as_mut().poll(cx);
                            armed.get_or_insert(poll.is_pending());
                            poll
                        })
                        .await;
                        let armed = armed.expect("polled at least once");
                        let now = Instant::now();
                        assert!(
                            now >= deadline,
                            "a sleep completed {:?} before its deadline",
                            deadline - now
                        );
                        log.borrow_mut().push((deadline, armed));
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            let log = log.borrow();
            assert_eq!(log.len(), TASKS as usize);
            let armed: Vec<Instant> = log.iter().filter(|e| e.1).map(|e| e.0).collect();
            assert!(
                !armed.is_empty(),
                "no sleep was still pending at its first poll; the test checked no order"
            );
            for (i, pair) in armed.windows(2).enumerate() {
                assert!(
                    pair[0] <= pair[1],
                    "completion #{} (deadline base+{:?}) came after one due later (base+{:?})",
                    i + 1,
                    pair[1] - base,
                    pair[0] - base
                );
            }
        });
    });
}

#[test]
fn sleep_never_completes_before_its_duration() {
    watchdog(|| {
        edgeloop::block_on(async {
            let durations = [0u64, 1, 50, 100, 999, 1_000, 2_500, 10_000, 20_000];
            let tasks: Vec<_> = durations
                .iter()
                .map(|&us| {
                    edgeloop::spawn(async move {
                        let d = Duration::from_micros(us);
                        for _ in 0..3 {
                            let start = Instant::now();
                            sleep(d).await;
                            let took = start.elapsed();
                            assert!(took >= d, "sleep({d:?}) returned after {took:?}");
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
    });
}

#[test]
fn a_sleep_whose_deadline_has_passed_is_ready_at_its_first_poll() {
    watchdog(|| {
        edgeloop::block_on(async {
            assert!(!poll_pending(&mut sleep(Duration::ZERO)).await);
            let past = Instant::now() - Duration::from_millis(5);
            let mut s = sleep_until(past);
            assert!(s.is_elapsed());
            assert!(!poll_pending(&mut s).await, "a past deadline must not wait");
        });
    });
}

#[test]
fn ten_thousand_sleeps_all_complete_and_leave_no_timer_armed() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut micros: Vec<u64> = (0..10_000).map(|i| i * 2).collect();
            util::shuffle(&mut micros, 10);
            let tasks: Vec<_> = micros
                .into_iter()
                .map(|us| edgeloop::spawn(sleep(Duration::from_micros(us))))
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(rt.metrics().armed_timers, 0);
        });
    });
}

#[test]
fn timeout_gives_the_output_when_the_future_finishes_in_time() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let out = timeout(Duration::from_secs(30), async {
                sleep(Duration::from_millis(2)).await;
                "in time"
            })
            .await;
            assert_eq!(out, Ok("in time"));
            assert_eq!(rt.metrics().armed_timers, 0, "the deadline was disarmed");
            let ready = timeout(Duration::ZERO, async { 7 }).await;
            assert_eq!(ready, Ok(7), "a ready future beats even a zero timeout");
        });
    });
}

#[test]
fn timeout_gives_elapsed_not_early_and_drops_the_slow_future() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let flag = DropFlag::new();
            let probe = flag.probe();
            let limit = Duration::from_millis(10);
            let start = Instant::now();
            let res = timeout(limit, async move {
                let _probe = probe;
                pending::<()>().await;
            })
            .await;
            let took = start.elapsed();
            let elapsed: Elapsed = res.expect_err("a future that never finishes finished");
            assert_eq!(elapsed.to_string(), "deadline has elapsed");
            assert!(took >= limit, "timed out after {took:?}, before {limit:?}");
            assert!(flag.is_dropped(), "the timed-out future was not dropped");
            assert_eq!(rt.metrics().armed_timers, 0);

            let err: std::io::Error = elapsed.into();
            assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        });
    });
}

#[test]
fn a_read_that_timed_out_loses_no_data() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            let mut buf = [0; 8];
            let res = timeout(Duration::from_millis(5), server.read(&mut buf)).await;
            assert!(res.is_err(), "a read with no data finished: {res:?}");
            client.write_all(b"late").await.unwrap();
            let n = server.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"late");
        });
    });
}

#[test]
fn interval_ticks_on_its_schedule_never_early_and_catches_up_without_skipping() {
    watchdog(|| {
        edgeloop::block_on(async {
            let period = Duration::from_millis(3);
            let mut every = interval(period);
            assert_eq!(every.period(), period);
            let first = every.tick().await;
            for k in 1..=5u32 {
                let due = every.tick().await;
                assert_eq!(due, first + period * k, "tick {k} was scheduled at");
                let now = Instant::now();
                assert!(now >= due, "tick {k} completed {:?} early", due - now);
            }
            // Fall behind by several periods: the missed ticks come at once,
            // one per call, each with its own scheduled instant.
            sleep(period * 4).await;
            for k in 6..=9u32 {
                let mut tick = pin!(every.tick());
                let due = match poll_fn(|cx| Poll::Ready(tick.as_mut().poll(cx))).await {
                    Poll::Ready(due) => due,
                    Poll::Pending => panic!("missed tick {k} was not ready at once"),
                };
                assert_eq!(due, first + period * k, "missed tick {k}");
            }
        });
    });
}

#[test]
fn interval_with_a_zero_period_panics() {
    watchdog(|| {
        edgeloop::block_on(async {
            let msg = util::expect_panic("interval(0)", || interval(Duration::ZERO));
            assert!(msg.contains("period"), "{msg:?}");
        });
    });
}

#[test]
fn resetting_a_sleep_moves_its_deadline_both_ways() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            // Later: the old, earlier timer must not complete it. (200 ms
            // leaves room for a slow first poll, e.g. under valgrind.)
            let mut s = Box::pin(sleep(Duration::from_millis(200)));
            assert!(poll_pending(&mut s).await, "armed");
            let later = Instant::now() + Duration::from_millis(300);
            s.as_mut().reset(later);
            s.as_mut().await;
            let now = Instant::now();
            assert!(
                now >= later,
                "completed {:?} before the reset deadline",
                later - now
            );
            assert_eq!(rt.metrics().armed_timers, 0);

            // Earlier: a sleep of an hour, reset to now, completes.
            let mut s = Box::pin(sleep(Duration::from_secs(3600)));
            assert!(poll_pending(&mut s).await, "armed");
            assert_eq!(rt.metrics().armed_timers, 1);
            s.as_mut().reset(Instant::now() + Duration::from_millis(1));
            s.as_mut().await;
            assert_eq!(rt.metrics().armed_timers, 0, "the hour-long timer is gone");
        });
    });
}

#[test]
fn dropping_an_armed_sleep_disarms_it() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut sleeps: Vec<_> = (0..50)
                .map(|i| Box::pin(sleep(Duration::from_secs(60 + i))))
                .collect();
            for s in &mut sleeps {
                assert!(poll_pending(s).await);
            }
            assert_eq!(rt.metrics().armed_timers, 50);
            sleeps.truncate(10);
            assert_eq!(rt.metrics().armed_timers, 10);
            drop(sleeps);
            assert_eq!(rt.metrics().armed_timers, 0);
        });
    });
}

#[test]
fn a_sleep_moved_to_another_task_wakes_that_task() {
    watchdog(|| {
        edgeloop::block_on(async {
            let handoff: Rc<RefCell<Option<std::pin::Pin<Box<edgeloop::time::Sleep>>>>> =
                Rc::default();
            let first = edgeloop::spawn({
                let handoff = handoff.clone();
                async move {
                    // 100 ms: room for a slow first poll (valgrind).
                    let mut s = Box::pin(sleep(Duration::from_millis(100)));
                    assert!(poll_pending(&mut s).await, "armed with this task's waker");
                    *handoff.borrow_mut() = Some(s);
                }
            });
            first.await.unwrap(); // the first task is gone; its sleep lives on
            let s = handoff.borrow_mut().take().unwrap();
            let deadline = s.deadline();
            let second = edgeloop::spawn(async move {
                s.await;
                Instant::now()
            });
            let done = second.await.unwrap();
            assert!(done >= deadline);
        });
    });
}

fn thread_timer_slack_ns() -> i32 {
    // SAFETY: PR_GET_TIMERSLACK reads a per-thread integer; no pointers.
    unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) }
}

#[test]
fn block_on_tightens_the_timer_slack_and_restores_it() {
    watchdog(|| {
        let before = thread_timer_slack_ns();
        assert!(before > 1_000, "the thread starts with the kernel's slack");
        let during = edgeloop::block_on(async { thread_timer_slack_ns() });
        assert_eq!(during, 1_000, "1 µs while the runtime runs");
        assert_eq!(thread_timer_slack_ns(), before, "restored after block_on");

        let rt = edgeloop::Builder::new().timer_slack(None).build().unwrap();
        assert_eq!(rt.block_on(async { thread_timer_slack_ns() }), before);
    });
}
