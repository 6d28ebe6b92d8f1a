//! `Sleep`: a future that completes at a deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::timers::{TimerKey, Timers};
use crate::context;

/// Waits until `duration` has elapsed.
///
/// The sleep never completes early: it is ready only once `Instant::now()`
/// has reached its deadline. The runtime parks with nanosecond timeouts
/// (`epoll_pwait2`), so it usually wakes within tens of microseconds after.
///
/// # Panics
/// Outside an edgeloop runtime.
///
/// ```
/// use std::time::{Duration, Instant};
/// edgeloop_runtime::block_on(async {
///     let start = Instant::now();
///     edgeloop_runtime::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

/// Waits until `deadline`.
///
/// # Panics
/// Outside an edgeloop runtime.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    let timers = context::expect_core("edgeloop::time::sleep", |core| core.timers.clone());
    Sleep {
        deadline,
        key: None,
        timers,
    }
}

/// `now + duration`, or a deadline decades away if that overflows `Instant`.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

/// The future returned by [`sleep`] and [`sleep_until`]. Dropping it cancels
/// the timer.
pub struct Sleep {
    deadline: Instant,
    /// The armed timer, once polled and not yet elapsed.
    key: Option<TimerKey>,
    timers: Rc<Timers>,
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
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = deadline;
    }

    fn disarm(&mut self) {
        if let Some(key) = self.key.take() {
            self.timers.cancel(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            this.disarm();
            return Poll::Ready(());
        }
        let still_armed = this
            .key
            .is_some_and(|key| this.timers.update(key, cx.waker()));
        if !still_armed {
            this.key = Some(this.timers.insert(this.deadline, cx.waker()));
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
