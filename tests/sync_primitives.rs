//! `edgeloop::sync`'s primitives — `Notify`, `Semaphore`, `Mutex` — by
//! behaviour: permits and notifications, FIFO fairness, what a cancelled
//! wait gives up (its place, and whatever it had been handed), that no
//! cancelled wait keeps a waker, and that wakers run only after the
//! primitive let go of its state (one that re-enters finds it usable; one
//! that panics leaves the others woken).

mod util;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use edgeloop::sync::{Mutex, Notify, Semaphore, TryAcquireError};
use edgeloop::time::{sleep, timeout};
use util::{
    expect_panic, panicking_waker, rss_kib, silence_expected_panics, watchdog, EXPECTED_PANIC,
};

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

fn poll_with<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

const SHORT: Duration = Duration::from_millis(2);

// ----------------------------------------------------------------- Notify

#[test]
fn notify_one_wakes_a_waiter_or_stores_one_permit() {
    watchdog(|| {
        edgeloop::block_on(async {
            let notify = Rc::new(Notify::new());
            let waiter = edgeloop::spawn({
                let notify = notify.clone();
                async move { notify.notified().await }
            });
            edgeloop::yield_now().await;
            notify.notify_one();
            waiter.await.unwrap();

            notify.notify_one();
            notify.notify_one();
            notify.notified().await;
            assert!(
                timeout(SHORT, notify.notified()).await.is_err(),
                "permits do not add up"
            );
        });
    });
}

#[test]
fn notify_waiters_wakes_everyone_waiting_and_stores_nothing() {
    watchdog(|| {
        edgeloop::block_on(async {
            let notify = Rc::new(Notify::new());
            let woken = Rc::new(Cell::new(0));
            let waiters: Vec<_> = (0..10)
                .map(|_| {
                    let (notify, woken) = (notify.clone(), woken.clone());
                    edgeloop::spawn(async move {
                        notify.notified().await;
                        woken.set(woken.get() + 1);
                    })
                })
                .collect();
            edgeloop::yield_now().await;
            let created_before = notify.notified();
            notify.notify_waiters();
            created_before.await;
            for waiter in waiters {
                waiter.await.unwrap();
            }
            assert_eq!(woken.get(), 10);
            assert!(
                timeout(SHORT, notify.notified()).await.is_err(),
                "no permit stored"
            );
        });
    });
}

#[test]
fn notify_one_given_to_a_dropped_waiter_passes_to_the_next() {
    watchdog(|| {
        let (count, waker) = counting_waker();
        let notify = Notify::new();
        let mut first = Box::pin(notify.notified());
        let mut second = pin!(notify.notified());
        assert!(poll_with(first.as_mut(), &waker).is_pending());
        assert!(poll_with(second.as_mut(), &waker).is_pending());
        notify.notify_one();
        assert_eq!(count.0.load(SeqCst), 1);
        drop(first);
        assert_eq!(count.0.load(SeqCst), 2, "handed on to `second`");
        assert!(poll_with(second.as_mut(), &waker).is_ready());
        // A notification given to a dropped future with nobody behind it
        // becomes the stored permit.
        let mut only = Box::pin(notify.notified());
        assert!(poll_with(only.as_mut(), &waker).is_pending());
        notify.notify_one();
        drop(only);
        assert!(poll_with(pin!(notify.notified()), &waker).is_ready());
        assert_eq!(Arc::strong_count(&count), 2, "no waker kept");
    });
}

// -------------------------------------------------------------- Semaphore

#[test]
fn semaphore_bounds_how_many_hold_a_permit_at_once() {
    watchdog(|| {
        edgeloop::block_on(async {
            let sem = Rc::new(Semaphore::new(3));
            let (inside, most) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
            let tasks: Vec<_> = (0..30)
                .map(|i| {
                    let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
                    edgeloop::spawn(async move {
                        let _permit = sem.acquire().await.unwrap();
                        inside.set(inside.get() + 1);
                        most.set(most.get().max(inside.get()));
                        sleep(Duration::from_micros(100 * (i % 4))).await;
                        inside.set(inside.get() - 1);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(most.get(), 3);
            assert_eq!(sem.available_permits(), 3);
        });
    });
}

#[test]
fn semaphore_owned_permits_move_into_spawned_tasks() {
    watchdog(|| {
        edgeloop::block_on(async {
            let sem = Rc::new(Semaphore::new(2));
            let inside = Rc::new(Cell::new(0));
            let mut tasks = Vec::new();
            for _ in 0..10 {
                // The spawner waits for room before it starts each task.
                let permit = sem.clone().acquire_owned().await.unwrap();
                let inside = inside.clone();
                tasks.push(edgeloop::spawn(async move {
                    inside.set(inside.get() + 1);
                    assert!(inside.get() <= 2);
                    sleep(Duration::from_micros(200)).await;
                    inside.set(inside.get() - 1);
                    drop(permit);
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(sem.available_permits(), 2);
            let held = sem.clone().try_acquire_owned().unwrap();
            sem.close();
            assert_eq!(
                sem.clone().try_acquire_owned().unwrap_err(),
                TryAcquireError::Closed
            );
            drop(held);
        });
    });
}

#[test]
fn semaphore_serves_waiters_in_fifo_order_and_try_acquire_does_not_overtake() {
    watchdog(|| {
        edgeloop::block_on(async {
            let sem = Rc::new(Semaphore::new(0));
            let order = Rc::new(RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..10)
                .map(|i| {
                    let (sem, order) = (sem.clone(), order.clone());
                    edgeloop::spawn(async move {
                        sem.acquire().await.unwrap().forget();
                        order.borrow_mut().push(i);
                    })
                })
                .collect();
            edgeloop::yield_now().await;
            sem.add_permits(1);
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
            sem.add_permits(9);
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(*order.borrow(), (0..10).collect::<Vec<_>>());
            assert_eq!(sem.available_permits(), 0);
        });
    });
}

#[test]
fn semaphore_a_dropped_acquire_gives_its_permit_to_the_next_waiter() {
    watchdog(|| {
        let (count, waker) = counting_waker();
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().unwrap();
        let mut first = Box::pin(sem.acquire());
        let mut second = pin!(sem.acquire());
        assert!(poll_with(first.as_mut(), &waker).is_pending());
        assert!(poll_with(second.as_mut(), &waker).is_pending());
        drop(held);
        assert_eq!(count.0.load(SeqCst), 1, "`first` was handed the permit");
        assert_eq!(sem.available_permits(), 0);
        drop(first);
        assert_eq!(count.0.load(SeqCst), 2, "…and gave it to `second`");
        let Poll::Ready(Ok(permit)) = poll_with(second.as_mut(), &waker) else {
            panic!("`second` did not get the permit");
        };
        drop(permit);
        assert_eq!(sem.available_permits(), 1, "no permit lost or made");
        assert_eq!(Arc::strong_count(&count), 2, "no waker kept");
    });
}

#[test]
fn semaphore_acquire_dropped_by_a_timeout_gives_up_its_place() {
    watchdog(|| {
        edgeloop::block_on(async {
            let sem = Rc::new(Semaphore::new(0));
            for _ in 0..200 {
                assert!(timeout(Duration::from_micros(50), sem.acquire())
                    .await
                    .is_err());
            }
            let waiter = edgeloop::spawn({
                let sem = sem.clone();
                async move { sem.acquire().await.unwrap().forget() }
            });
            edgeloop::yield_now().await;
            sem.add_permits(1);
            waiter.await.unwrap();
            assert_eq!(
                sem.available_permits(),
                0,
                "the one permit went to the live waiter"
            );
        });
    });
}

#[test]
fn semaphore_cancelled_acquires_hold_no_wakers() {
    watchdog(|| {
        let (count, waker) = counting_waker();
        let sem = Semaphore::new(0);
        for _ in 0..10_000 {
            let mut acquire = pin!(sem.acquire());
            assert!(poll_with(acquire.as_mut(), &waker).is_pending());
        }
        assert_eq!(Arc::strong_count(&count), 2);
        sem.add_permits(1);
        assert_eq!(count.0.load(SeqCst), 0, "no stale waiter took it");
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn semaphore_close_fails_waiters_and_later_acquires() {
    watchdog(|| {
        edgeloop::block_on(async {
            let sem = Rc::new(Semaphore::new(1));
            let held = sem.acquire().await.unwrap();
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let sem = sem.clone();
                    edgeloop::spawn(async move { sem.acquire().await.is_err() })
                })
                .collect();
            edgeloop::yield_now().await;
            sem.close();
            for waiter in waiters {
                assert!(waiter.await.unwrap(), "a waiter fails on close");
            }
            assert!(sem.acquire().await.is_err());
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
            drop(held);
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

thread_local! {
    static SHARED: Rc<Semaphore> = Rc::new(Semaphore::new(0));
    static REENTERED: Cell<usize> = const { Cell::new(0) };
}

/// A waker whose `wake` uses the thread's [`SHARED`] semaphore: if the
/// semaphore woke it while still borrowing its own state, it would panic.
struct Reenter;

impl Wake for Reenter {
    fn wake(self: Arc<Self>) {
        SHARED.with(|sem| {
            if let Ok(permit) = sem.try_acquire() {
                drop(permit); // gives it back: re-enters `release`
            }
            let _ = sem.available_permits();
        });
        REENTERED.with(|n| n.set(n.get() + 1));
    }
}

#[test]
fn semaphore_wakers_run_after_it_lets_go_of_its_state() {
    watchdog(|| {
        let waker = Waker::from(Arc::new(Reenter));
        SHARED.with(|sem| {
            let mut first = pin!(sem.acquire());
            let mut second = pin!(sem.acquire());
            assert!(poll_with(first.as_mut(), &waker).is_pending());
            assert!(poll_with(second.as_mut(), &waker).is_pending());
            sem.add_permits(1);
            assert_eq!(REENTERED.with(Cell::get), 1);
            sem.close(); // wakes `second` (and `first` already was)
            assert_eq!(REENTERED.with(Cell::get), 2);
        });
    });
}

#[test]
fn a_panicking_waker_leaves_the_other_waiters_woken() {
    watchdog(|| {
        silence_expected_panics();
        let (count, waker) = counting_waker();
        let bomb = panicking_waker();
        let notify = Notify::new();
        let mut a = pin!(notify.notified());
        let mut b = pin!(notify.notified());
        let mut c = pin!(notify.notified());
        assert!(poll_with(a.as_mut(), &waker).is_pending());
        assert!(poll_with(b.as_mut(), &bomb).is_pending());
        assert!(poll_with(c.as_mut(), &waker).is_pending());
        let message = expect_panic("notify_waiters", || notify.notify_waiters());
        assert!(message.starts_with(EXPECTED_PANIC), "{message}");
        assert_eq!(count.0.load(SeqCst), 2, "both other waiters were woken");
        assert!(poll_with(a.as_mut(), &waker).is_ready());
        assert!(poll_with(c.as_mut(), &waker).is_ready());
        // The state is whole: it still works.
        notify.notify_one();
        assert!(poll_with(pin!(notify.notified()), &waker).is_ready());
    });
}

// ------------------------------------------------------------------ Mutex

#[test]
fn mutex_guards_are_exclusive_across_awaits() {
    watchdog(|| {
        edgeloop::block_on(async {
            let counter = Rc::new(Mutex::new(0u32));
            let tasks: Vec<_> = (0..50)
                .map(|_| {
                    let counter = counter.clone();
                    edgeloop::spawn(async move {
                        let mut guard = counter.lock().await;
                        let seen = *guard;
                        edgeloop::yield_now().await; // others try meanwhile
                        *guard = seen + 1;
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(*counter.lock().await, 50, "no update was lost");
        });
    });
}

#[test]
fn mutex_lockers_are_served_in_fifo_order() {
    watchdog(|| {
        edgeloop::block_on(async {
            let log = Rc::new(Mutex::new(Vec::new()));
            let held = log.lock().await;
            let tasks: Vec<_> = (0..20)
                .map(|i| {
                    let log = log.clone();
                    edgeloop::spawn(async move { log.lock().await.push(i) })
                })
                .collect();
            edgeloop::yield_now().await;
            assert!(log.try_lock().is_err());
            drop(held);
            assert!(
                log.try_lock().is_err(),
                "handed to the first waiter, not to us"
            );
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(*log.lock().await, (0..20).collect::<Vec<_>>());
        });
    });
}

#[test]
fn mutex_a_dropped_lock_gives_up_its_place_and_a_panic_unlocks() {
    watchdog(|| {
        let (count, waker) = counting_waker();
        let mutex = Mutex::new(0);
        let held = mutex.try_lock().unwrap();
        let mut first = Box::pin(mutex.lock());
        let mut second = pin!(mutex.lock());
        assert!(poll_with(first.as_mut(), &waker).is_pending());
        assert!(poll_with(second.as_mut(), &waker).is_pending());
        drop(held);
        drop(first); // was handed the lock, never took it
        let Poll::Ready(mut guard) = poll_with(second.as_mut(), &waker) else {
            panic!("`second` did not get the lock");
        };
        *guard += 1;
        drop(guard);
        assert_eq!(Arc::strong_count(&count), 2, "no waker kept");

        silence_expected_panics();
        let _ = expect_panic("a panic while locked", || {
            let _guard = mutex.try_lock().unwrap();
            panic!("{EXPECTED_PANIC} while holding the lock");
        });
        assert_eq!(*mutex.try_lock().expect("the panic unlocked it"), 1);

        edgeloop::block_on(async {
            let held = mutex.lock().await;
            assert!(timeout(SHORT, mutex.lock()).await.is_err());
            drop(held);
            assert!(
                mutex.try_lock().is_ok(),
                "the timed-out locker left the line"
            );
        });
    });
}

/// A million cancelled waits on each primitive: a waiter entry that
/// lingered would cost tens of bytes each, tens of MiB in all.
#[test]
fn a_million_cancelled_waits_leave_memory_flat() {
    const WAITS: usize = 1_000_000;
    const ALLOWED_GROWTH_KIB: u64 = 8 * 1024;
    watchdog(|| {
        let (_, waker) = counting_waker();
        let (sem, notify, mutex) = (Semaphore::new(0), Notify::new(), Mutex::new(()));
        let held = mutex.try_lock().unwrap();
        let churn = |n: usize| {
            for _ in 0..n {
                assert!(poll_with(pin!(sem.acquire()), &waker).is_pending());
                assert!(poll_with(pin!(notify.notified()), &waker).is_pending());
                assert!(poll_with(pin!(mutex.lock()), &waker).is_pending());
            }
        };
        churn(1_000); // warm up the allocator
        let before = rss_kib();
        churn(WAITS);
        let grown = rss_kib().saturating_sub(before);
        assert!(grown < ALLOWED_GROWTH_KIB, "RSS grew by {grown} KiB");
        drop(held);
        assert_eq!(sem.available_permits(), 0);
        assert!(mutex.try_lock().is_ok());
    });
}
