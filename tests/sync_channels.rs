//! `edgeloop::sync`'s channels — oneshot, mpsc (bounded and unbounded),
//! broadcast, watch — by behaviour: what arrives, in what order, the
//! errors a dropped half causes, what a cancelled wait leaves behind (no
//! message lost, no place or slot kept, no waker held), and a thousand
//! tasks ping-ponging.
//!
//! Futures are polled by hand where the test needs one exact interleaving
//! (the primitives need no runtime to wait, only wakers); everything else
//! runs on `edgeloop::block_on`.

mod util;

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use edgeloop::sync::{broadcast, mpsc, oneshot, watch};
use edgeloop::time::{sleep, timeout};
use util::{poll_once, rss_kib, watchdog};

/// A waker that counts its wakes; `Arc::strong_count` of it tells how many
/// clones someone still holds.
struct CountWakes(AtomicUsize);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<CountWakes>, Waker) {
    let count = Arc::new(CountWakes(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

/// Polls `future` once with `waker`.
fn poll_with<F: Future + ?Sized>(future: std::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

const SHORT: Duration = Duration::from_millis(2);

// ---------------------------------------------------------------- oneshot

#[test]
fn oneshot_delivers_across_tasks_and_reports_dropped_halves() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, rx) = oneshot::channel();
            edgeloop::spawn(async move {
                sleep(SHORT).await;
                tx.send(String::from("late")).unwrap();
            });
            assert_eq!(rx.await.unwrap(), "late");

            let (tx, rx) = oneshot::channel::<u8>();
            edgeloop::spawn(async move { drop(tx) });
            assert!(rx.await.is_err(), "sender dropped without sending");

            let (tx, rx) = oneshot::channel();
            drop(rx);
            assert!(tx.is_closed());
            assert_eq!(tx.send(7), Err(7), "the value comes back");
        });
    });
}

#[test]
fn oneshot_closed_wakes_the_sender_and_try_recv_reports_state() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut tx, rx) = oneshot::channel::<()>();
            edgeloop::spawn(async move {
                sleep(SHORT).await;
                drop(rx);
            });
            tx.closed().await;
            assert!(tx.is_closed());

            let (tx, mut rx) = oneshot::channel();
            assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Empty));
            tx.send(1).unwrap();
            assert_eq!(rx.try_recv(), Ok(1));
            assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));

            let (tx, mut rx) = oneshot::channel();
            rx.close();
            assert_eq!(tx.send(2), Err(2));
            assert!(rx.await.is_err());
        });
    });
}

#[test]
fn oneshot_dropped_waits_release_their_wakers() {
    watchdog(|| {
        let (count, waker) = counting_waker();
        let (mut tx, mut rx) = oneshot::channel::<u8>();
        for _ in 0..1_000 {
            assert!(poll_with(std::pin::Pin::new(&mut rx), &waker).is_pending());
            let mut closed = pin!(tx.closed());
            assert!(poll_with(closed.as_mut(), &waker).is_pending());
        }
        // The receiver keeps the last waker while it is alive (it is the
        // future itself); the dropped `closed` futures keep none.
        assert_eq!(
            Arc::strong_count(&count),
            3,
            "ours, `waker`, the receiver's"
        );
        tx.send(3).unwrap();
        assert_eq!(count.0.load(SeqCst), 1, "the receiver was woken once");
        assert_eq!(Arc::strong_count(&count), 2);
        assert_eq!(rx.try_recv(), Ok(3));
    });
}

// ------------------------------------------------------------------- mpsc

#[test]
fn mpsc_delivers_in_order_and_ends_when_every_sender_is_gone() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, mut rx) = mpsc::channel(4);
            let producers: Vec<_> = (0..3)
                .map(|p| {
                    let tx = tx.clone();
                    edgeloop::spawn(async move {
                        for i in 0..50 {
                            tx.send((p, i)).await.unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            let mut next = [0; 3];
            while let Some((p, i)) = rx.recv().await {
                assert_eq!(i, next[p], "producer {p}'s messages stay in order");
                next[p] += 1;
            }
            assert_eq!(next, [50; 3]);
            for producer in producers {
                producer.await.unwrap();
            }
            assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
        });
    });
}

#[test]
fn mpsc_errors_full_closed_and_dropped_receiver() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, mut rx) = mpsc::channel(2);
            assert_eq!(tx.capacity(), 2);
            tx.try_send(1).unwrap();
            tx.send(2).await.unwrap();
            assert_eq!(tx.capacity(), 0);
            assert_eq!(tx.try_send(3), Err(mpsc::TrySendError::Full(3)));
            assert_eq!(rx.try_recv(), Ok(1));
            assert_eq!(tx.capacity(), 1);
            assert_eq!(rx.len(), 1);

            // Closing keeps what is queued, refuses what is not.
            rx.close();
            assert!(tx.is_closed());
            assert_eq!(tx.try_send(4), Err(mpsc::TrySendError::Closed(4)));
            assert_eq!(tx.send(5).await, Err(mpsc::SendError(5)));
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(rx.recv().await, None, "closed and drained");

            // A dropped receiver fails a sender that is blocked already.
            let (tx, rx) = mpsc::channel(1);
            tx.send(0).await.unwrap();
            let blocked = edgeloop::spawn({
                let tx = tx.clone();
                async move { tx.send(1).await }
            });
            edgeloop::yield_now().await;
            drop(rx);
            assert_eq!(blocked.await.unwrap(), Err(mpsc::SendError(1)));
            tx.closed().await;
        });
    });
}

#[test]
fn mpsc_dropping_the_receiver_drops_queued_messages() {
    watchdog(|| {
        let (tx, rx) = mpsc::channel(4);
        let token = Rc::new(());
        tx.try_send(token.clone()).unwrap();
        tx.try_send(token.clone()).unwrap();
        assert_eq!(Rc::strong_count(&token), 3);
        drop(rx);
        assert_eq!(Rc::strong_count(&token), 1);
    });
}

#[test]
fn mpsc_recv_dropped_by_a_timeout_loses_no_message() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            edgeloop::spawn(async move {
                for i in 0..100u32 {
                    if i % 10 == 0 {
                        sleep(SHORT).await;
                    }
                    tx.send(i).await.unwrap();
                }
            });
            let (mut got, mut timeouts) = (Vec::new(), 0);
            loop {
                match timeout(Duration::from_micros(300), rx.recv()).await {
                    Ok(Some(i)) => got.push(i),
                    Ok(None) => break,
                    Err(_) => timeouts += 1,
                }
            }
            assert_eq!(got, (0..100).collect::<Vec<_>>());
            assert!(timeouts > 0, "some recv futures were dropped while waiting");
        });
    });
}

#[test]
fn mpsc_blocked_senders_are_served_in_fifo_order() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            tx.send(usize::MAX).await.unwrap();
            for i in 0..20 {
                let tx = tx.clone();
                edgeloop::spawn(async move { tx.send(i).await.unwrap() });
                // Let it block before the next one starts.
                edgeloop::yield_now().await;
            }
            // `try_send` does not overtake the blocked senders, even when
            // a slot is momentarily free.
            assert_eq!(rx.recv().await, Some(usize::MAX));
            assert!(matches!(tx.try_send(99), Err(mpsc::TrySendError::Full(99))));
            drop(tx);
            let mut got = Vec::new();
            while let Some(i) = rx.recv().await {
                got.push(i);
            }
            assert_eq!(got, (0..20).collect::<Vec<_>>());
        });
    });
}

#[test]
fn mpsc_a_cancelled_send_sends_nothing_and_frees_its_place() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            tx.send(0).await.unwrap();
            assert!(timeout(SHORT, tx.send(1)).await.is_err());
            let later = edgeloop::spawn({
                let tx = tx.clone();
                async move { tx.send(2).await.unwrap() }
            });
            assert_eq!(rx.recv().await, Some(0));
            assert_eq!(rx.recv().await, Some(2), "1 was never sent");
            later.await.unwrap();
            assert_eq!(tx.capacity(), 1);
        });
    });
}

#[test]
fn mpsc_a_slot_handed_to_a_dropped_sender_goes_to_the_next() {
    watchdog(|| {
        let (count, waker) = counting_waker();
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let mut first = Box::pin(tx.send(1));
        let mut second = pin!(tx.send(2));
        assert!(poll_with(first.as_mut(), &waker).is_pending());
        assert!(poll_with(second.as_mut(), &waker).is_pending());
        // Taking a message hands the free slot to `first`, which is woken…
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(count.0.load(SeqCst), 1);
        assert_eq!(tx.capacity(), 0, "the slot is promised to `first`");
        // …but goes away without using it: `second` gets it.
        drop(first);
        assert_eq!(count.0.load(SeqCst), 2, "`second` was woken");
        assert_eq!(poll_with(second.as_mut(), &waker), Poll::Ready(Ok(())));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
        assert_eq!(tx.capacity(), 1, "no slot was lost on the way");
    });
}

#[test]
fn mpsc_cancelled_waits_hold_no_wakers() {
    watchdog(|| {
        let (count, waker) = counting_waker();
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.try_send(0).unwrap();
        for i in 0..10_000 {
            let mut send = pin!(tx.send(i));
            assert!(poll_with(send.as_mut(), &waker).is_pending());
            let mut closed = pin!(tx.closed());
            assert!(poll_with(closed.as_mut(), &waker).is_pending());
        }
        assert_eq!(Arc::strong_count(&count), 2, "only ours and `waker`");
        assert_eq!(count.0.load(SeqCst), 0, "nothing was woken");
        // A recv that waited and was dropped holds nothing either.
        assert_eq!(rx.try_recv(), Ok(0));
        {
            let mut recv = pin!(rx.recv());
            assert!(poll_with(recv.as_mut(), &waker).is_pending());
            assert_eq!(Arc::strong_count(&count), 3);
        }
        assert_eq!(Arc::strong_count(&count), 2);
        // And the channel still works, its capacity whole.
        assert_eq!(tx.capacity(), 1);
        tx.try_send(5).unwrap();
        assert_eq!(rx.try_recv(), Ok(5));
    });
}

#[test]
fn mpsc_unbounded_never_waits_and_reports_the_end() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel();
            for i in 0..10_000 {
                tx.send(i).unwrap();
            }
            assert_eq!(rx.len(), 10_000);
            let tx2 = tx.clone();
            drop(tx);
            edgeloop::spawn(async move {
                sleep(SHORT).await;
                tx2.send(-1).unwrap();
            });
            for i in 0..10_000 {
                assert_eq!(rx.recv().await, Some(i));
            }
            assert_eq!(rx.recv().await, Some(-1));
            assert_eq!(rx.recv().await, None);

            let (tx, rx) = mpsc::unbounded_channel::<u8>();
            drop(rx);
            assert!(tx.is_closed());
            assert_eq!(tx.send(1), Err(mpsc::SendError(1)));
        });
    });
}

#[test]
fn a_thousand_tasks_ping_pong_over_mpsc() {
    const PAIRS: usize = 500;
    const ROUNDS: u32 = 100;
    watchdog(|| {
        edgeloop::block_on(async {
            let finished = Rc::new(Cell::new(0));
            let mut handles = Vec::new();
            for _ in 0..PAIRS {
                let (ping_tx, mut ping_rx) = mpsc::channel::<u32>(1);
                let (pong_tx, mut pong_rx) = mpsc::channel::<u32>(1);
                handles.push(edgeloop::spawn(async move {
                    // The ponger: answers each ball with the next number.
                    while let Some(n) = ping_rx.recv().await {
                        pong_tx.send(n + 1).await.unwrap();
                    }
                }));
                let finished = finished.clone();
                handles.push(edgeloop::spawn(async move {
                    let mut ball = 0;
                    for _ in 0..ROUNDS {
                        ping_tx.send(ball).await.unwrap();
                        ball = pong_rx.recv().await.unwrap() + 1;
                    }
                    assert_eq!(ball, 2 * ROUNDS);
                    finished.set(finished.get() + 1);
                }));
            }
            assert_eq!(handles.len(), 1_000);
            for handle in handles {
                handle.await.unwrap();
            }
            assert_eq!(finished.get(), PAIRS);
        });
    });
}

// -------------------------------------------------------------- broadcast

#[test]
fn broadcast_every_receiver_sees_every_message_after_it_subscribed() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, rx) = broadcast::channel(16);
            tx.send(-1).unwrap();
            let receivers: Vec<_> = (0..5)
                .map(|_| {
                    let mut rx = tx.subscribe();
                    edgeloop::spawn(async move {
                        let mut got = Vec::new();
                        loop {
                            match rx.recv().await {
                                Ok(i) => got.push(i),
                                Err(broadcast::RecvError::Closed) => return got,
                                Err(e) => panic!("unexpected {e}"),
                            }
                        }
                    })
                })
                .collect();
            drop(rx);
            assert_eq!(tx.receiver_count(), 5);
            for i in 0..10 {
                assert_eq!(tx.send(i), Ok(5));
                if i % 3 == 0 {
                    edgeloop::yield_now().await;
                }
            }
            drop(tx);
            for receiver in receivers {
                assert_eq!(receiver.await.unwrap(), (0..10).collect::<Vec<_>>());
            }
        });
    });
}

#[test]
fn broadcast_a_lagging_receiver_is_told_exactly_how_many_it_missed() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, mut slow) = broadcast::channel(4);
            let mut fast = tx.subscribe();
            for i in 0..10 {
                tx.send(i).unwrap();
                assert_eq!(fast.recv().await, Ok(i));
            }
            assert_eq!(slow.recv().await, Err(broadcast::RecvError::Lagged(6)));
            for i in 6..10 {
                assert_eq!(slow.recv().await, Ok(i), "goes on from the oldest kept");
            }
            assert_eq!(slow.try_recv(), Err(broadcast::TryRecvError::Empty));
            // Lag again, seen through `try_recv` this time.
            for i in 10..15 {
                tx.send(i).unwrap();
            }
            assert_eq!(slow.try_recv(), Err(broadcast::TryRecvError::Lagged(1)));
            assert_eq!(slow.try_recv(), Ok(11));
            drop(tx);
            for i in 12..15 {
                assert_eq!(
                    slow.recv().await,
                    Ok(i),
                    "kept messages outlive the senders"
                );
            }
            assert_eq!(slow.recv().await, Err(broadcast::RecvError::Closed));
        });
    });
}

#[test]
fn broadcast_send_fails_without_receivers_and_recv_is_cancel_safe() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, rx) = broadcast::channel(2);
            drop(rx);
            assert_eq!(tx.receiver_count(), 0);
            assert_eq!(tx.send(1).unwrap_err().0, 1);

            let mut rx = tx.subscribe();
            edgeloop::spawn({
                let tx = tx.clone();
                async move {
                    for i in 0..20 {
                        sleep(Duration::from_micros(500)).await;
                        tx.send(i).unwrap();
                    }
                }
            });
            drop(tx);
            let mut got = Vec::new();
            loop {
                match timeout(Duration::from_micros(200), rx.recv()).await {
                    Ok(Ok(i)) => got.push(i),
                    Ok(Err(broadcast::RecvError::Closed)) => break,
                    Ok(Err(e)) => panic!("unexpected {e}"),
                    Err(_) => {}
                }
            }
            assert_eq!(got, (0..20).collect::<Vec<_>>());
        });
    });
}

#[test]
fn broadcast_cancelled_waits_hold_no_wakers() {
    watchdog(|| {
        let (count, waker) = counting_waker();
        let (tx, mut rx) = broadcast::channel::<u8>(2);
        for _ in 0..10_000 {
            let mut recv = pin!(rx.recv());
            assert!(poll_with(recv.as_mut(), &waker).is_pending());
        }
        assert_eq!(Arc::strong_count(&count), 2);
        tx.send(1).unwrap();
        assert_eq!(count.0.load(SeqCst), 0, "no stale waiter was woken");
        assert_eq!(rx.try_recv(), Ok(1));
    });
}

// ------------------------------------------------------------------ watch

#[test]
fn watch_receivers_see_the_latest_value_and_wait_for_changes() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, mut rx) = watch::channel(0);
            assert_eq!(*rx.borrow(), 0);
            assert_eq!(rx.has_changed(), Ok(false));
            let watchers: Vec<_> = (0..3)
                .map(|_| {
                    let mut rx = rx.clone();
                    edgeloop::spawn(async move {
                        let mut seen = Vec::new();
                        while rx.changed().await.is_ok() {
                            seen.push(*rx.borrow_and_update());
                        }
                        seen
                    })
                })
                .collect();
            edgeloop::yield_now().await;
            for i in 1..=3 {
                tx.send(i).unwrap();
                edgeloop::yield_now().await;
            }
            // Two changes at once: a watcher sees only the latest.
            tx.send(4).unwrap();
            tx.send_modify(|v| *v += 1);
            assert_eq!(rx.has_changed(), Ok(true));
            assert_eq!(*rx.borrow_and_update(), 5);
            assert_eq!(rx.has_changed(), Ok(false));
            edgeloop::yield_now().await;
            drop(tx);
            for watcher in watchers {
                assert_eq!(watcher.await.unwrap(), [1, 2, 3, 5]);
            }
            assert!(rx.changed().await.is_err());
            assert!(rx.has_changed().is_err());
            assert_eq!(*rx.borrow(), 5, "the last value stays readable");
        });
    });
}

#[test]
fn watch_send_needs_a_receiver_but_send_modify_does_not() {
    watchdog(|| {
        let (tx, rx) = watch::channel(String::from("a"));
        assert_eq!(tx.receiver_count(), 1);
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(String::from("b")).unwrap_err().0, "b");
        assert_eq!(*tx.borrow(), "a");
        tx.send_modify(|s| s.push('!'));
        assert_eq!(tx.send_replace(String::from("c")), "a!");
        let rx = tx.subscribe();
        assert_eq!(*rx.borrow(), "c");
        assert_eq!(rx.has_changed(), Ok(false), "a new receiver has seen it");
    });
}

#[test]
fn watch_changed_dropped_by_a_timeout_misses_nothing_and_holds_no_waker() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (tx, mut rx) = watch::channel(0);
            assert!(timeout(SHORT, rx.changed()).await.is_err());
            tx.send(1).unwrap();
            timeout(Duration::from_secs(10), rx.changed())
                .await
                .expect("the change made while nobody waited is seen")
                .unwrap();
        });
        let (count, waker) = counting_waker();
        let (tx, mut rx) = watch::channel(0);
        for _ in 0..10_000 {
            let mut changed = pin!(rx.changed());
            assert!(poll_with(changed.as_mut(), &waker).is_pending());
        }
        assert_eq!(Arc::strong_count(&count), 2);
        tx.send(1).unwrap();
        assert_eq!(count.0.load(SeqCst), 0);
        assert!(poll_once(pin!(rx.changed())).is_ready());
    });
}

/// A million cancelled waits on each channel: a waiter entry that lingered
/// would cost tens of bytes each, tens of MiB in all.
#[test]
fn a_million_cancelled_waits_leave_memory_flat() {
    const WAITS: u32 = 1_000_000;
    const ALLOWED_GROWTH_KIB: u64 = 8 * 1024;
    watchdog(|| {
        let (_, waker) = counting_waker();
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let (btx, mut brx) = broadcast::channel::<u8>(1);
        let (_wtx, mut wrx) = watch::channel(());
        let mut churn = |n: u32| {
            for i in 0..n {
                assert!(poll_with(pin!(tx.send(i)), &waker).is_pending());
                assert!(poll_with(pin!(tx.closed()), &waker).is_pending());
                assert!(poll_with(pin!(brx.recv()), &waker).is_pending());
                assert!(poll_with(pin!(wrx.changed()), &waker).is_pending());
            }
        };
        churn(1_000); // warm up the allocator
        let before = rss_kib();
        churn(WAITS);
        let grown = rss_kib().saturating_sub(before);
        assert!(grown < ALLOWED_GROWTH_KIB, "RSS grew by {grown} KiB");
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(tx.capacity(), 1);
        btx.send(1).unwrap();
        assert_eq!(brx.try_recv(), Ok(1));
    });
}
