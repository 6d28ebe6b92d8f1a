//! The I/O budget of the poll under way, and which runtime is running on
//! this thread.
//!
//! **The budget.** A connection whose peer never pauses would otherwise keep
//! its task busy forever (edge-triggered readiness never runs dry while data
//! keeps coming). Each poll starts with [`Budget::IO_OPERATIONS`] units;
//! every I/O operation that is tried spends one (an `EAGAIN` is refunded);
//! once spent, operations return `Pending` and the task is re-queued only
//! after the driver has been checked (like `yield_now`), so the other
//! connections' events are seen before the busy one runs again. The budget
//! lives in the runtime's driver ([`PollBudget`]), beside the readiness the
//! same operation reads: spending it is a plain load and store.
//!
//! **The runtime.** Timers and I/O objects belong to one runtime. Before one
//! of them parks a waker, it checks that the runtime running on this thread
//! is its own: a waker parked in a runtime that is not running would never
//! be woken. `block_on` marks its runtime as running here ([`enter`]);
//! runtimes do not nest, so while it runs every poll on the thread is that
//! runtime's.

use std::cell::Cell;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::task::Context;

use crate::context;

/// Names one runtime for its whole life; never reused within a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RuntimeId(NonZeroU32);

impl RuntimeId {
    /// A fresh id: 1 for the first runtime of the process, then 2, 3, ….
    pub(crate) fn next() -> RuntimeId {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let id = NEXT.fetch_add(1, Relaxed);
        RuntimeId(NonZeroU32::new(id).expect("more than 2^32 - 1 runtimes in one process"))
    }

    pub(crate) fn get(self) -> u64 {
        u64::from(self.0.get())
    }
}

/// The I/O operations one poll starts with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget(u32);

impl Budget {
    /// Operations one task poll may complete before yielding.
    pub(crate) const IO_OPERATIONS: u32 = 128;

    pub(crate) fn initial(ops: u32) -> Budget {
        Budget(ops.min(UNCONSTRAINED - 1))
    }
}

/// The budget word's value for "no budget" (outside a poll).
const UNCONSTRAINED: u32 = u32::MAX;

/// The remaining budget of the poll under way, kept by one runtime's
/// driver (runtime thread only). Outside a poll it is unconstrained.
#[derive(Debug)]
pub(crate) struct PollBudget(Cell<u32>);

impl Default for PollBudget {
    fn default() -> PollBudget {
        PollBudget(Cell::new(UNCONSTRAINED))
    }
}

impl PollBudget {
    /// Runs `f` — one poll of a task or of a `block_on` future — with
    /// `budget`, restoring what was there before afterwards (also when `f`
    /// unwinds).
    #[inline]
    pub(crate) fn with<R>(&self, budget: Budget, f: impl FnOnce() -> R) -> R {
        struct Restore<'a>(&'a Cell<u32>, u32);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.0.set(self.1);
            }
        }
        let _restore = Restore(&self.0, self.0.replace(budget.0));
        f()
    }

    /// Spends one unit for an operation about to be tried; false when the
    /// budget is spent (the caller then defers its task's wake).
    #[inline]
    pub(crate) fn spend(&self) -> bool {
        match self.0.get() {
            0 => false,
            UNCONSTRAINED => true,
            left => {
                self.0.set(left - 1);
                true
            }
        }
    }

    /// Gives back the unit of an operation that did not complete (`EAGAIN`).
    #[inline]
    pub(crate) fn refund(&self) {
        let left = self.0.get();
        // No budget stays none; every refund follows a spend, so a budget
        // never climbs past its start.
        if left < UNCONSTRAINED - 1 {
            self.0.set(left + 1);
        }
    }
}

thread_local! {
    static RUNNING: Cell<Option<RuntimeId>> = const { Cell::new(None) };
}

/// Marks `runtime` as running on this thread until the guard drops (also
/// when `block_on` unwinds); the previous mark is put back then.
pub(crate) fn enter(runtime: RuntimeId) -> RunningGuard {
    RunningGuard(RUNNING.with(|r| r.replace(Some(runtime))))
}

/// Puts back the runtime [`enter`] replaced.
pub(crate) struct RunningGuard(Option<RuntimeId>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let _ = RUNNING.try_with(|r| r.set(self.0));
    }
}

/// The runtime whose `block_on` is running on this thread, if any.
pub(crate) fn current_runtime() -> Option<RuntimeId> {
    RUNNING.try_with(Cell::get).ok().flatten()
}

/// Wakes the task once the runtime has looked at the driver (immediately,
/// outside a runtime).
pub(crate) fn defer_wake(cx: &mut Context<'_>) {
    if context::with_core(|core| core.defer(cx.waker())).is_none() {
        cx.waker().wake_by_ref();
    }
}
