//! The I/O budget: how many I/O operations one task poll may complete.
//!
//! A connection whose peer never pauses would otherwise keep its task busy
//! forever (edge-triggered readiness never runs dry while data keeps coming).
//! Each poll starts with [`Budget::IO_OPERATIONS`] units; every I/O
//! operation that completes spends one (an `EAGAIN` is refunded); once
//! spent, operations return
//! `Pending` and the task is re-queued only after the driver has been
//! checked (like `yield_now`), so the other connections' events are seen
//! before the busy one runs again.

use std::cell::Cell;
use std::task::Context;

use crate::context;

/// A task poll's remaining I/O operations; `None` outside the runtime.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget(Option<u32>);

impl Budget {
    /// Operations one task poll may complete before yielding.
    pub(crate) const IO_OPERATIONS: u32 = 128;

    pub(crate) fn initial(ops: u32) -> Budget {
        Budget(Some(ops))
    }

    pub(crate) const fn unconstrained() -> Budget {
        Budget(None)
    }
}

thread_local! {
    static BUDGET: Cell<Budget> = const { Cell::new(Budget::unconstrained()) };
}

/// Runs `f` with `budget`, restoring the previous one afterwards.
pub(crate) fn with_budget<R>(budget: Budget, f: impl FnOnce() -> R) -> R {
    struct Restore(Budget);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = BUDGET.try_with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BUDGET.with(|b| b.replace(budget)));
    f()
}

/// Spends one unit for an operation about to be tried; false (and the task
/// to be woken after the next driver check) when the budget is spent. One
/// thread-local access: this is on every I/O operation's path.
pub(crate) fn spend(cx: &mut Context<'_>) -> bool {
    let spent = BUDGET.with(|b| match b.get() {
        Budget(Some(0)) => true,
        Budget(Some(n)) => {
            b.set(Budget(Some(n - 1)));
            false
        }
        Budget(None) => false,
    });
    if spent {
        defer_wake(cx);
    }
    !spent
}

/// Gives back the unit of an operation that did not complete (`EAGAIN`).
pub(crate) fn refund() {
    BUDGET.with(|b| {
        if let Budget(Some(n)) = b.get() {
            b.set(Budget(Some(n + 1)));
        }
    });
}

/// Wakes the task once the runtime has looked at the driver (immediately,
/// outside a runtime).
pub(crate) fn defer_wake(cx: &mut Context<'_>) {
    if context::with_core(|core| core.defer(cx.waker())).is_none() {
        cx.waker().wake_by_ref();
    }
}
