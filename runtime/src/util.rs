//! Small helpers shared by the driver, the timers and the scheduler: calling
//! code the runtime does not control (wakers, destructors) without letting
//! its panics unwind through the runtime's own state.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Waker;

use crate::context;

/// Wakes `waker`, catching a panic from its `wake` (or its drop).
///
/// A waker is foreign code as far as the runtime is concerned: a panic in it
/// belongs to whoever wrote it. The panic hook has already printed it; the
/// runtime counts it ([`crate::RuntimeMetrics::waker_panics`]) and goes on,
/// so it never unwinds through a half-updated queue, slab or task cell.
pub(crate) fn wake_caught(waker: Waker) {
    if catch_unwind(AssertUnwindSafe(|| waker.wake())).is_err() {
        note_waker_panic();
    }
}

/// Wakes and empties `wakers` (keeping the allocation), catching panics as
/// [`wake_caught`] does: one waker's panic leaves no other asleep. One
/// `catch_unwind` serves the whole batch; after a panic it resumes with the
/// next waker (the panicking one was consumed by its `wake`).
pub(crate) fn wake_all(wakers: &mut Vec<Waker>) {
    // Most calls (a turn with no event, no timer due) have nothing to do.
    if wakers.is_empty() {
        return;
    }
    let mut rest = wakers.drain(..);
    while catch_unwind(AssertUnwindSafe(|| rest.by_ref().for_each(Waker::wake))).is_err() {
        note_waker_panic();
    }
}

/// Drops `value`, catching a panic from its `Drop`.
///
/// The panic's payload is dropped the same way, since its own `Drop` may
/// panic too; a payload type that panics every time it is dropped would
/// make that a chain without end, so after a few links the last payload is
/// leaked instead.
pub(crate) fn drop_caught<T>(value: T) {
    /// Payloads dropped in turn before giving up on a chain of them.
    const PAYLOAD_DROPS: usize = 4;
    let Err(mut payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) else {
        return;
    };
    for _ in 0..PAYLOAD_DROPS {
        match catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(next) => payload = next,
        }
    }
    std::mem::forget(payload);
}

/// Drops each waker through [`drop_caught`]: wakers the runtime lets go of
/// at shutdown or deregistration are foreign code too, and one that panics
/// must neither cut the runtime's cleanup short nor, with a second one,
/// turn into a panic during unwinding (which aborts).
pub(crate) fn drop_wakers(wakers: impl IntoIterator<Item = Waker>) {
    for waker in wakers {
        drop_caught(waker);
    }
}

fn note_waker_panic() {
    context::with_core(|core| core.note_waker_panic());
}
