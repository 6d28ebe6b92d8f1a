//! The trace's vocabulary: one [`TraceRecord`] per step of the story.

use std::fmt;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Duration;

use crate::driver::{Interest, Ready};
use crate::task::Id;

/// One step, and when it happened.
#[derive(Clone, Debug)]
pub struct TraceRecord {
    /// Time since the runtime was built (a monotonic clock).
    pub at: Duration,
    /// What happened.
    pub event: TraceEvent,
}

/// A registration's name in epoll's `data` field: a slab slot and the
/// generation of its tenant (printed `slot:generation`). An event whose
/// generation is not the slot's current one belongs to a closed fd.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceToken {
    /// The slab slot.
    pub slot: u32,
    /// Which tenant of the slot.
    pub generation: u32,
}

impl fmt::Display for TraceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.slot, self.generation)
    }
}

/// Every kind of step the runtime records, in the words of the docs: the
/// driver's wait, the events and readiness it sees, the wakes they cause,
/// the polls those lead to, and the `EAGAIN` that ends each one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum TraceEvent {
    /// `epoll_wait` entered, with this timeout (`None`: until an event).
    WaitStart {
        /// The timeout asked for.
        timeout: Option<Duration>,
    },
    /// `epoll_wait` returned.
    WaitEnd {
        /// Events it delivered, the runtime's eventfd's included.
        events: usize,
        /// How long the call took.
        blocked: Duration,
        /// Whether the runtime had announced a park (it could block).
        parked: bool,
    },
    /// An epoll event for a registered fd: its readiness is merged into the
    /// cache and the waiters of the ready directions are woken.
    IoEvent {
        /// The registration.
        token: TraceToken,
        /// Its fd.
        fd: RawFd,
        /// The readiness the event's bits mean to the cache (`EPOLLHUP`,
        /// for example, makes both directions ready and closed).
        ready: Ready,
    },
    /// An event whose token names a slot's former tenant (the fd was closed
    /// and its slot reused): dropped, so it never reaches the new owner.
    StaleEvent {
        /// The stale token.
        token: TraceToken,
    },
    /// The runtime's eventfd fired: a wake came from another thread while
    /// the runtime was parked.
    Unpark,
    /// Cached readiness forgotten in one direction.
    ReadinessCleared {
        /// The registration.
        token: TraceToken,
        /// Its fd.
        fd: RawFd,
        /// The direction.
        interest: Interest,
        /// What proved it gone.
        cause: ClearCause,
    },
    /// An operation hit `EAGAIN` and its task will get `Pending`.
    WouldBlock {
        /// The fd.
        fd: RawFd,
        /// The direction it waits in.
        interest: Interest,
    },
    /// A task was queued to run.
    Wake {
        /// The task.
        task: Id,
        /// Who woke it.
        cause: WakeCause,
    },
    /// A task's poll began.
    PollStart {
        /// The task.
        task: Id,
    },
    /// A task's poll ended.
    PollEnd {
        /// The task.
        task: Id,
        /// `Ready` (the task finished) or `Pending`.
        ready: bool,
        /// How long the poll took.
        took: Duration,
    },
    /// A task was spawned (the `block_on` future is recorded so too, as
    /// `"block_on"`).
    Spawn {
        /// The new task.
        task: Id,
        /// Its name, if spawned through [`crate::task::Builder::name`].
        name: Option<Arc<str>>,
    },
    /// A task finished.
    TaskDone {
        /// The task.
        task: Id,
        /// How.
        outcome: TaskOutcome,
    },
    /// An fd was added to the epoll set.
    Register {
        /// Its token.
        token: TraceToken,
        /// The fd.
        fd: RawFd,
    },
    /// An fd was removed from the epoll set (before it is closed).
    Deregister {
        /// Its token.
        token: TraceToken,
        /// The fd.
        fd: RawFd,
    },
    /// A timer was armed.
    TimerArmed {
        /// How far away its deadline was.
        deadline_in: Duration,
    },
    /// An armed timer was moved to a new deadline.
    TimerReset {
        /// How far away the new deadline was.
        deadline_in: Duration,
    },
    /// An armed timer was disarmed before it fired.
    TimerCancelled,
    /// Timers whose deadline passed were fired (their tasks woken).
    TimersFired {
        /// How many.
        count: usize,
    },
    /// A task is `Pending`, not queued, and no waker of it is left anywhere:
    /// nothing can ever wake it (a `JoinHandle` could still abort it). The
    /// classic bug: a future returned `Pending` without arranging a wake.
    LostWake {
        /// The task.
        task: Id,
        /// Its name, if it has one.
        name: Option<Arc<str>>,
        /// When its last poll ended (time since the runtime was built).
        last_poll: Option<Duration>,
    },
    /// Records lost because the sink failed (say, a full disk).
    Dropped {
        /// How many.
        records: u64,
    },
}

/// Who woke a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WakeCause {
    /// An epoll event on `fd` with these bits.
    Io {
        /// The fd.
        fd: RawFd,
        /// The event's bits.
        ready: Ready,
    },
    /// A timer's deadline passed.
    Timer,
    /// A task (or the `block_on` future) woke it while being polled.
    Task(Id),
    /// Another thread; `eventfd` says whether the runtime had to be woken
    /// out of `epoll_wait` for it.
    OtherThread {
        /// Whether the eventfd fired since the last wait.
        eventfd: bool,
    },
    /// Its own `yield_now`, or its spent I/O budget: it runs again after
    /// the driver has been checked.
    Deferred,
    /// Anything else (a waker called from outside any of the above).
    Other,
}

/// Why cached readiness was forgotten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClearCause {
    /// An operation hit `EAGAIN`.
    WouldBlock,
    /// A short read or write on a stream proved the direction drained.
    ShortTransfer,
}

/// How a task ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskOutcome {
    /// Its future returned `Ready`.
    Completed,
    /// Its future panicked (in `poll` or in `Drop`).
    Panicked,
    /// It was aborted, or dropped when its runtime shut down.
    Cancelled,
}
