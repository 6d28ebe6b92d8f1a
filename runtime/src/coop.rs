//! What the thread is polling for right now: the I/O budget of the current
//! poll, and which runtime that poll belongs to.
//!
//! **The budget.** A connection whose peer never pauses would otherwise keep
//! its task busy forever (edge-triggered readiness never runs dry while data
//! keeps coming). Each poll starts with [`Budget::IO_OPERATIONS`] units;
//! every I/O operation that is tried spends one (an `EAGAIN` is refunded);
//! once spent, operations return `Pending` and the task is re-queued only
//! after the driver has been checked (like `yield_now`), so the other
//! connections' events are seen before the busy one runs again.
//!
//! **The runtime.** Timers and I/O objects belong to one runtime. Before one
//! of them parks a waker, it checks that the poll under way is this
//! runtime's: a waker parked in a runtime that is not running would never be
//! woken. Both facts live in one thread-local, so the I/O path pays a
//! single thread-local access for both.

use std::cell::Cell;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::Context;

use crate::context;

/// Names one runtime for its whole life; never reused within a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RuntimeId(NonZeroU64);

impl RuntimeId {
    /// A fresh id: 1 for the first runtime of the process, then 2, 3, ….
    pub(crate) fn next() -> RuntimeId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Relaxed);
        RuntimeId(NonZeroU64::new(id).expect("2^64 runtimes"))
    }

    pub(crate) fn get(self) -> u64 {
        self.0.get()
    }
}

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

/// The poll under way on this thread.
#[derive(Clone, Copy, Debug)]
struct Polling {
    budget: Budget,
    /// The runtime whose task (or `block_on` future) is being polled.
    runtime: Option<RuntimeId>,
}

thread_local! {
    static POLLING: Cell<Polling> = const {
        Cell::new(Polling { budget: Budget::unconstrained(), runtime: None })
    };
}

/// Runs `f` — one poll of a task or of a `block_on` future of `runtime` —
/// with `budget`, restoring what was there before afterwards (also when `f`
/// unwinds).
pub(crate) fn with_budget<R>(budget: Budget, runtime: RuntimeId, f: impl FnOnce() -> R) -> R {
    struct Restore(Polling);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = POLLING.try_with(|p| p.set(self.0));
        }
    }
    let new = Polling {
        budget,
        runtime: Some(runtime),
    };
    let _restore = Restore(POLLING.with(|p| p.replace(new)));
    f()
}

/// The runtime whose poll is under way on this thread, if any.
pub(crate) fn current_runtime() -> Option<RuntimeId> {
    POLLING.try_with(|p| p.get().runtime).ok().flatten()
}

/// What [`spend`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spend {
    /// A unit was spent: try the operation.
    Go,
    /// The budget is spent: the task is woken after the next driver check.
    Spent,
    /// The poll under way is not `owner`'s (another runtime's, or none): the
    /// operation must fail rather than run where its wake would never come.
    Foreign,
}

/// Spends one unit for an operation of runtime `owner` about to be tried.
/// One thread-local access for both checks: this is on every I/O
/// operation's path.
pub(crate) fn spend(cx: &mut Context<'_>, owner: RuntimeId) -> Spend {
    let spend = POLLING.with(|p| {
        let mut now = p.get();
        if now.runtime != Some(owner) {
            return Spend::Foreign;
        }
        match now.budget {
            Budget(Some(0)) => Spend::Spent,
            Budget(Some(n)) => {
                now.budget = Budget(Some(n - 1));
                p.set(now);
                Spend::Go
            }
            Budget(None) => Spend::Go,
        }
    });
    if spend == Spend::Spent {
        defer_wake(cx);
    }
    spend
}

/// Gives back the unit of an operation that did not complete (`EAGAIN`).
pub(crate) fn refund() {
    POLLING.with(|p| {
        let mut now = p.get();
        if let Budget(Some(n)) = now.budget {
            now.budget = Budget(Some(n + 1));
            p.set(now);
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
