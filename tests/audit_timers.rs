//! Timers moved while someone waits on them: resetting a sleep another task
//! awaits, and an interval whose period is so long that `now + period`
//! overflows `Instant`.
//!
//! Upper bounds on time here are generous (seconds where the bug means ten
//! seconds or forever); timers may fire late on a loaded machine, never early.

mod util;

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use edgeloop::time::{interval, sleep, timeout, Sleep};
use util::watchdog;

/// The new deadline set by the reset.
const RESET_TO: Duration = Duration::from_millis(20);

/// Task A waits on a 10 s sleep shared with task B, which moves its
/// deadline to 20 ms from now once A is parked on it. The reset must carry
/// A's waker over to the new deadline; dropping it with the old timer leaves
/// A asleep for good. Fails today: A has not woken after 5 s.
#[test]
fn resetting_a_sleep_another_task_awaits_wakes_that_task_at_the_new_deadline() {
    watchdog(|| {
        edgeloop::block_on(async {
            let shared: Rc<RefCell<Pin<Box<Sleep>>>> =
                Rc::new(RefCell::new(Box::pin(sleep(Duration::from_secs(10)))));
            let parked = Rc::new(Cell::new(false));
            let a = edgeloop::spawn({
                let (shared, parked) = (shared.clone(), parked.clone());
                async move {
                    poll_fn(|cx| {
                        parked.set(true);
                        shared.borrow_mut().as_mut().poll(cx)
                    })
                    .await;
                    Instant::now()
                }
            });
            let b = edgeloop::spawn({
                let shared = shared.clone();
                async move {
                    edgeloop::yield_now().await;
                    assert!(parked.get(), "A waits on the sleep before it is reset");
                    let reset_at = Instant::now();
                    shared.borrow_mut().as_mut().reset(reset_at + RESET_TO);
                    reset_at
                }
            });
            let reset_at = b.await.unwrap();
            let woke_at = timeout(Duration::from_secs(5), a)
                .await
                .expect("task A never woke: the reset dropped its wake with the old timer")
                .unwrap();
            assert!(
                woke_at >= reset_at + RESET_TO,
                "A woke {:?} after the reset, before the new deadline",
                woke_at - reset_at
            );
        });
    });
}

/// `start + Duration::MAX` overflows `Instant`; the next tick must then be
/// "never" (decades away), not the tick just returned. Fails today: the
/// second tick is ready at once (the schedule stays on the first tick).
#[test]
fn an_interval_of_duration_max_does_not_tick_twice_in_a_row() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut every = interval(Duration::MAX);
            every.tick().await;
            let second = timeout(Duration::from_millis(50), every.tick()).await;
            assert!(
                second.is_err(),
                "an interval of Duration::MAX ticked again at once: {second:?}"
            );
        });
    });
}

/// `reset` puts the next tick one period from now; with `Duration::MAX`
/// that overflows and must saturate, not panic. Fails today: `reset`
/// panics ("overflow when adding duration to instant").
#[test]
fn resetting_an_interval_of_duration_max_does_not_panic() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut every = interval(Duration::MAX);
            every.tick().await;
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| every.reset())) {
                panic!(
                    "Interval::reset panicked: {}",
                    util::panic_message(&*payload)
                );
            }
            let next = timeout(Duration::from_millis(50), every.tick()).await;
            assert!(next.is_err(), "ticked right after a reset: {next:?}");
        });
    });
}
