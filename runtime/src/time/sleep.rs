//! `Sleep`: a future that completes at a deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::timers::{TimerKey, Timers};
use crate::{context, coop};

/// Waits until `duration` has elapsed.
///
/// The sleep never completes early: it is ready only once `Instant::now()`
/// has reached its deadline. The runtime parks with nanosecond timeouts
/// (`epoll_pwait2`), so it usually wakes within tens of microseconds after.
///
/// A `Sleep` belongs to a runtime: the one running when it was made, or —
/// if it was made outside any — the first one that polls it. So
/// `edgeloop::block_on(timeout(d, f))` works.
///
/// # Panics
/// When polled outside a runtime, by a runtime other than its own, or after
/// its runtime was dropped: a timer nobody will fire would otherwise hang
/// its task silently.
///
/// ```
/// use std::time::{Duration, Instant};
/// edgeloop::block_on(async {
///     let start = Instant::now();
///     edgeloop::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

/// Waits until `deadline`; at once if it has passed.
///
/// It belongs to a runtime as [`sleep`]'s future does, and may be created
/// anywhere.
///
/// # Panics
/// As [`sleep`]: when polled outside a runtime, by a runtime other than its
/// own, or after its runtime was dropped.
///
/// ```
/// use std::time::{Duration, Instant};
/// edgeloop::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     edgeloop::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        key: None,
        timers: context::with_core(|core| core.timers.clone()),
    }
}

/// `now + duration`, or a deadline decades away if that overflows `Instant`.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    saturating_add(Instant::now(), duration)
}

/// `at + duration`, or thirty years after `at` if that overflows `Instant`
/// (which, on Linux, is far beyond anything a program waits for).
pub(crate) fn saturating_add(at: Instant, duration: Duration) -> Instant {
    at.checked_add(duration)
        .unwrap_or_else(|| at + Duration::from_secs(86_400 * 365 * 30))
}

/// The future returned by [`sleep`] and [`sleep_until`]. Dropping it cancels
/// the timer.
pub struct Sleep {
    deadline: Instant,
    /// The armed timer, once polled and not yet elapsed.
    key: Option<TimerKey>,
    /// The timers of the runtime this sleep belongs to; `None` until a
    /// runtime polls it, if it was made outside one.
    timers: Option<Rc<Timers>>,
}

impl Sleep {
    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (earlier or later); the sleep may be awaited again.
    ///
    /// A task already waiting on this sleep is woken at the new deadline
    /// (at once, if it has passed) without having to poll it again.
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let (Some(key), Some(timers)) = (self.key, &self.timers) {
            self.key = if timers.is_closed() {
                None
            } else {
                timers.reset(key, deadline)
            };
        }
    }

    fn disarm(&mut self) {
        if let (Some(key), Some(timers)) = (self.key.take(), &self.timers) {
            timers.cancel(key);
        }
    }

    /// The timers to arm, binding this sleep to the polling runtime if it
    /// has none yet; panics on every misuse that would hang the task.
    fn bind(&mut self) -> &Rc<Timers> {
        let Some(running) = coop::current_runtime() else {
            panic!("{SLEEP} was polled outside an edgeloop runtime: {HOW}");
        };
        let timers = self.timers.get_or_insert_with(|| {
            context::with_core(|core| core.timers.clone())
                .unwrap_or_else(|| panic!("{SLEEP} was polled outside an edgeloop runtime: {HOW}"))
        });
        if timers.is_closed() {
            panic!(
                "{SLEEP} was polled after its runtime (#{}) was dropped: {HOW}",
                timers.owner().get()
            );
        }
        if timers.owner() != running {
            panic!(
                "{SLEEP} made in runtime #{} was polled by another runtime (#{}): {HOW}",
                timers.owner().get(),
                running.get()
            );
        }
        timers
    }
}

/// The misuse messages' subject, naming the calls a user makes.
const SLEEP: &str =
    "an `edgeloop::time::sleep` timer (`Sleep`, also inside `timeout` and `interval`)";
/// … and what to do instead.
const HOW: &str = "a timer belongs to the runtime that first runs it; \
     create it and await it inside the same runtime's `block_on` or tasks";

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let timers = this.bind().clone();
        if Instant::now() >= this.deadline {
            this.disarm();
            return Poll::Ready(());
        }
        let still_armed = this.key.is_some_and(|key| timers.update(key, cx.waker()));
        if !still_armed {
            this.key = Some(timers.insert(this.deadline, cx.waker()));
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("armed", &self.key.map(|k| k.deadline()))
            .finish()
    }
}
