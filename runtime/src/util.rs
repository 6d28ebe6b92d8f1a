//! Small helpers shared by the driver, the timers and the scheduler.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::task::Waker;

/// Wakes and empties `wakers` (keeping the allocation).
///
/// Every waker is woken even if one panics — a foreign waker's panic must not
/// leave the others asleep; the first panic is resumed once all are done.
pub(crate) fn wake_all(wakers: &mut Vec<Waker>) {
    let mut first_panic = None;
    for waker in wakers.drain(..) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
            first_panic.get_or_insert(payload);
        }
    }
    if let Some(payload) = first_panic {
        resume_unwind(payload);
    }
}
