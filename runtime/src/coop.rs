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

/// A task poll's remaining I/O operations; `None` outside the runtime.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget(Option<u32>);

impl Budget {
    /// Operations one task poll may complete before yielding.
    pub(crate) const IO_OPERATIONS: u32 = 128;

    pub(crate) fn initial(ops: u32) -> Budget {
        Budget(Some(ops.min(UNCONSTRAINED - 1)))
    }
}

/// The budget word's value for "no budget" (outside a task poll).
const UNCONSTRAINED: u32 = u32::MAX;

/// The poll under way on this thread, in one word, so that the I/O path's
/// one thread-local access is a single load (and `with_budget` a single
/// swap): the low half is the budget left (`UNCONSTRAINED`: none), the
/// high half the polling runtime's id (0: none).
#[derive(Clone, Copy, Debug)]
struct Polling(u64);

impl Polling {
    const IDLE: Polling = Polling(UNCONSTRAINED as u64);

    fn new(budget: Budget, runtime: RuntimeId) -> Polling {
        let budget = budget.0.unwrap_or(UNCONSTRAINED);
        Polling(u64::from(runtime.0.get()) << 32 | u64::from(budget))
    }

    fn budget(self) -> u32 {
        self.0 as u32
    }

    fn runtime(self) -> Option<RuntimeId> {
        NonZeroU32::new((self.0 >> 32) as u32).map(RuntimeId)
    }

    /// Whether the poll is `owner`'s.
    fn is_of(self, owner: RuntimeId) -> bool {
        (self.0 >> 32) as u32 == owner.0.get()
    }
}

thread_local! {
    static POLLING: Cell<Polling> = const { Cell::new(Polling::IDLE) };
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
    let _restore = Restore(POLLING.with(|p| p.replace(Polling::new(budget, runtime))));
    f()
}

/// The runtime whose poll is under way on this thread, if any.
pub(crate) fn current_runtime() -> Option<RuntimeId> {
    POLLING.try_with(|p| p.get().runtime()).ok().flatten()
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
        let now = p.get();
        if !now.is_of(owner) {
            return Spend::Foreign;
        }
        match now.budget() {
            0 => Spend::Spent,
            UNCONSTRAINED => Spend::Go,
            _ => {
                // The budget is the low half: one less is one less.
                p.set(Polling(now.0 - 1));
                Spend::Go
            }
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
        let now = p.get();
        // No budget stays none; a budget never climbs past its start.
        if now.budget() < UNCONSTRAINED - 1 {
            p.set(Polling(now.0 + 1));
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
