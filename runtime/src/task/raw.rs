//! The task cell: one heap allocation holding the header, the future (later
//! its output) and the join waker; and `TaskRef`, a counted pointer to it.
//!
//! # Safety
//!
//! The cell is shared by the runtime thread, which polls and drops the future,
//! and by wakers on any thread, which only touch the atomic state and the
//! `Arc<Shared>` in the header. The rules that keep this sound:
//!
//! - **Thread of the future.** `stage` and the join waker are touched only on
//!   the runtime's thread: `run`, `shutdown` and completion are called by the
//!   scheduler, and `JoinHandle` is `!Send`, so its reads happen there too.
//!   This is what lets a `!Send` future live behind a `Send + Sync` waker.
//! - **Lifetime.** The cell is freed when the reference count in the state
//!   word reaches zero. The scheduler's owned-task list holds one reference
//!   until the task completes or is shut down, so the future is always dropped
//!   (on the runtime thread) before a reference held elsewhere can be the last.
//!   The output, likewise, is dropped on the runtime thread: by `complete` if
//!   no `JoinHandle` is left, else by the handle (which is `!Send`).
//! - **Unwinding.** The rule above must hold when user code panics at any
//!   point, or a `Waker` on another thread could end up freeing a `!Send`
//!   future there. So nothing the runtime calls while completing a task can
//!   unwind: polls, the future's and the output's drops, and the join
//!   waker's `wake` each run under `catch_unwind`. `run` and `shutdown`
//!   therefore always return, and the owned list releases a task only after
//!   they did.
//! - **Pinning.** The future is polled through a pin to its place in the cell
//!   and dropped there in place; the cell never moves.
//! - **Layout.** `Cell<F>` is `repr(C)` with the header first, so a pointer to
//!   the cell is a pointer to its header and back.

use std::any::Any;
use std::cell::{Cell as StdCell, UnsafeCell};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::id::Id;
use super::join::JoinError;
use super::state::{State, CANCELLED, COMPLETE, JOIN_INTEREST, SCHEDULED};
use super::waker::waker_ref;
use crate::park::Shared;
use crate::trace::TaskOutcome;
use crate::util::{drop_caught, wake_caught};

/// The type-independent head of every task cell.
pub(crate) struct Header {
    pub(crate) state: State,
    /// The task's number, for `task::id()` and traces.
    pub(crate) id: Id,
    vtable: &'static Vtable,
    /// The runtime's cross-thread half: where a wake from another thread goes.
    pub(crate) shared: Arc<Shared>,
    /// This task's slot in the scheduler's owned-task list (runtime thread only).
    pub(crate) owned_index: StdCell<usize>,
    /// The waker of the task awaiting this one's `JoinHandle`; runtime
    /// thread only. Taken when the task completes, and when the handle is
    /// dropped: a joiner that gave up must not be kept alive (two tasks
    /// that each gave up on the other would otherwise keep each other).
    join_waker: UnsafeCell<Option<Waker>>,
}

/// Per-future-type operations, reached through the header.
struct Vtable {
    run: unsafe fn(NonNull<Header>) -> Option<TaskOutcome>,
    shutdown: unsafe fn(NonNull<Header>),
    try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    drop_output: unsafe fn(NonNull<Header>),
    dealloc: unsafe fn(NonNull<Header>),
}

/// What the cell holds after the header.
enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
struct Cell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// A counted reference to a task cell.
pub(crate) struct TaskRef(NonNull<Header>);

// SAFETY: a `TaskRef` on another thread only reaches the header's atomic
// state and `Arc<Shared>` (both thread-safe); everything else in the cell is
// touched only on the runtime thread (see the module's Safety section).
unsafe impl Send for TaskRef {}
// SAFETY: as for `Send`: shared access goes through atomics only.
unsafe impl Sync for TaskRef {}

impl TaskRef {
    /// Allocates a task for `future` whose state counts `refs` references;
    /// the caller turns each into a `TaskRef` with [`TaskRef::from_raw`].
    pub(crate) fn allocate<F>(future: F, shared: Arc<Shared>, refs: usize) -> NonNull<Header>
    where
        F: Future + 'static,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(refs),
                id: Id::next(),
                vtable: &Vtable {
                    run: run::<F>,
                    shutdown: shutdown::<F>,
                    try_read_output: try_read_output::<F>,
                    drop_output: drop_output::<F>,
                    dealloc: dealloc::<F>,
                },
                shared,
                owned_index: StdCell::new(usize::MAX),
                join_waker: UnsafeCell::new(None),
            },
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        NonNull::from(Box::leak(cell)).cast()
    }

    /// Adopts one reference already counted in the header.
    ///
    /// # Safety
    /// `ptr` points at a live task cell and the caller gives up one counted
    /// reference to it.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> TaskRef {
        TaskRef(ptr)
    }

    pub(crate) fn as_ptr(&self) -> NonNull<Header> {
        self.0
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: this counted reference keeps the cell alive.
        unsafe { self.0.as_ref() }
    }

    /// Polls the task (or drops it, if cancelled). `Some` — how it ended —
    /// when it completed now. Runtime thread only.
    pub(crate) fn run(&self) -> Option<TaskOutcome> {
        // SAFETY: called by the scheduler on the runtime thread; the vtable
        // matches the cell's future type.
        unsafe { (self.header().vtable.run)(self.0) }
    }

    /// Drops the future without polling it and completes the task as
    /// cancelled. Runtime thread only.
    pub(crate) fn shutdown(&self) {
        // SAFETY: as for `run`.
        unsafe { (self.header().vtable.shutdown)(self.0) }
    }

    /// Moves the output into `dst` (a `*mut Poll<Result<T, JoinError>>`) if
    /// the task is complete; otherwise records `waker` as the join waker.
    ///
    /// # Safety
    /// Runtime thread only; `dst` must point at a `Poll<Result<T, JoinError>>`
    /// where `T` is this task's output type.
    pub(crate) unsafe fn try_read_output(&self, dst: *mut (), waker: &Waker) {
        // SAFETY: the caller upholds the thread and type requirements.
        unsafe { (self.header().vtable.try_read_output)(self.0, dst, waker) }
    }

    /// True if the task is unfinished, not queued, and no waker of it exists:
    /// its only references are this one (the owned list's, which the caller
    /// holds) and the `JoinHandle`'s, if that lives. Nothing can queue it
    /// again. (A waker being woken or cloned on another thread right now
    /// holds a reference, so it is seen.)
    pub(crate) fn is_unwakeable(&self) -> bool {
        let state = self.header().state.load();
        let handle = usize::from(state.has(JOIN_INTEREST));
        !state.has(COMPLETE) && !state.has(SCHEDULED) && state.refs() == 1 + handle
    }

    /// Called when the `JoinHandle` goes away: no one will read the output.
    /// Runtime thread only.
    pub(crate) fn drop_join_interest(&self) {
        let prev = self.header().state.unset(JOIN_INTEREST);
        // SAFETY: `JoinHandle` is `!Send`, so this is the runtime thread,
        // the only one that touches the join waker. Dropped here, when the
        // handle goes, not left for `dealloc` (wherever that runs), and
        // caught: a waker's drop may panic, and a handle's drop must not.
        let join_waker = unsafe { (*self.header().join_waker.get()).take() };
        drop_caught(join_waker);
        if prev.has(COMPLETE) {
            // SAFETY: as above, the runtime thread.
            unsafe { (self.header().vtable.drop_output)(self.0) }
        }
    }
}

impl Clone for TaskRef {
    fn clone(&self) -> TaskRef {
        self.header().state.ref_inc();
        TaskRef(self.0)
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference; nobody else can reach the cell.
            unsafe { (self.header().vtable.dealloc)(self.0) }
        }
    }
}

/// # Safety
/// `ptr` is a live `Cell<F>` (the vtable was built for `F`).
unsafe fn cell<'a, F: Future>(ptr: NonNull<Header>) -> &'a Cell<F> {
    // SAFETY: `repr(C)` with the header first makes the cast valid.
    unsafe { ptr.cast::<Cell<F>>().as_ref() }
}

/// # Safety
/// Runtime thread; `ptr` is a live `Cell<F>`.
unsafe fn run<F: Future>(ptr: NonNull<Header>) -> Option<TaskOutcome> {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F>(ptr) };
    let prev = cell.header.state.transition_to_running();
    if prev.has(COMPLETE) {
        return None; // a stale queue entry
    }
    if prev.has(CANCELLED) {
        // SAFETY: runtime thread (forwarded).
        return Some(unsafe { cancel(cell) });
    }
    let stage = cell.stage.get();
    // SAFETY: runtime thread, no other reference to the stage is live (the
    // join handle only touches it once COMPLETE is set, which it is not).
    let Stage::Running(future) = (unsafe { &mut *stage }) else {
        unreachable!("a task that is not complete holds its future");
    };
    // SAFETY: the future stays in its place in the cell until dropped there.
    let future = unsafe { Pin::new_unchecked(future) };
    // SAFETY: `ptr` is a live task; the borrowed waker does not outlive it.
    let waker = unsafe { waker_ref(ptr) };
    let mut cx = Context::from_waker(&waker);
    let result = match catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx))) {
        Ok(Poll::Pending) => return None,
        Ok(Poll::Ready(output)) => Ok(output),
        Err(payload) => Err(JoinError::panic(payload)),
    };
    // SAFETY: runtime thread; the stage is not borrowed any more.
    let drop_panic = unsafe { drop_stage_in_place(stage) };
    // A future whose `Drop` panics after it finished completes as panicked.
    // What is discarded — the output, or a second panic's payload — is
    // dropped under `catch_unwind` too: nothing may unwind out of `run`.
    let result = match (result, drop_panic) {
        (Ok(output), Some(payload)) => {
            drop_caught(output);
            Err(JoinError::panic(payload))
        }
        (result, second_panic) => {
            drop_caught(second_panic);
            result
        }
    };
    let outcome = if result.is_ok() {
        TaskOutcome::Completed
    } else {
        TaskOutcome::Panicked
    };
    // SAFETY: runtime thread.
    unsafe { complete(cell, result) };
    Some(outcome)
}

/// # Safety
/// Runtime thread; `ptr` is a live `Cell<F>`.
unsafe fn shutdown<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F>(ptr) };
    if !cell.header.state.set(CANCELLED).has(COMPLETE) {
        // SAFETY: runtime thread (forwarded).
        unsafe { cancel(cell) };
    }
}

/// Drops the future in place and completes the task as cancelled (or as
/// panicked, if the future's `Drop` panicked).
///
/// # Safety
/// Runtime thread; the task is not complete.
unsafe fn cancel<F: Future>(cell: &Cell<F>) -> TaskOutcome {
    // SAFETY: runtime thread; nothing borrows the stage.
    let (result, outcome) = match unsafe { drop_stage_in_place(cell.stage.get()) } {
        Some(payload) => (Err(JoinError::panic(payload)), TaskOutcome::Panicked),
        None => (Err(JoinError::cancelled()), TaskOutcome::Cancelled),
    };
    // SAFETY: runtime thread.
    unsafe { complete(cell, result) };
    outcome
}

/// Stores the result, sets `COMPLETE`, and either wakes the joiner or — if no
/// `JoinHandle` is left — drops the output at once, on this thread.
///
/// # Safety
/// Runtime thread; the stage is `Consumed`.
unsafe fn complete<F: Future>(cell: &Cell<F>, result: Result<F::Output, JoinError>) {
    // SAFETY: runtime thread; the stage was consumed, so writing over it
    // leaks nothing.
    unsafe { ptr::write(cell.stage.get(), Stage::Finished(result)) };
    let prev = cell.header.state.set(COMPLETE);
    if !prev.has(JOIN_INTEREST) {
        // SAFETY: runtime thread. A panic payload from the output's drop is
        // dropped under `catch_unwind` as well: `complete` must not unwind.
        drop_caught(unsafe { drop_stage_in_place(cell.stage.get()) });
        return;
    }
    // SAFETY: runtime thread; the join waker is only touched there.
    let join_waker = unsafe { (*cell.header.join_waker.get()).take() };
    if let Some(waker) = join_waker {
        // Caught: `complete` runs inside the scheduler's loop and inside
        // shutdown's, whose invariants (every owned task's future dropped on
        // this thread) must not be cut short by a joiner's panicking waker.
        wake_caught(waker);
    }
}

/// Drops whatever the stage holds, in place, leaving `Consumed`. Returns the
/// payload if a `Drop` panicked.
///
/// # Safety
/// Runtime thread; no reference into the stage is live.
unsafe fn drop_stage_in_place<F: Future>(
    stage: *mut Stage<F>,
) -> Option<Box<dyn Any + Send + 'static>> {
    // SAFETY: forwarded; the value is dropped where it lives (pinning holds).
    let res = catch_unwind(AssertUnwindSafe(|| unsafe { ptr::drop_in_place(stage) }));
    // SAFETY: after `drop_in_place`, even one that unwound, the old value is
    // gone; writing without dropping is what is wanted.
    unsafe { ptr::write(stage, Stage::Consumed) };
    res.err()
}

/// # Safety
/// See [`TaskRef::try_read_output`].
unsafe fn try_read_output<F: Future>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F>(ptr) };
    if !cell.header.state.load().has(COMPLETE) {
        // SAFETY: runtime thread; the join waker is only touched there.
        let slot = unsafe { &mut *cell.header.join_waker.get() };
        match slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
        return;
    }
    // SAFETY: runtime thread; complete, so the runtime no longer touches the stage.
    let stage = unsafe { ptr::replace(cell.stage.get(), Stage::Consumed) };
    let Stage::Finished(result) = stage else {
        panic!("JoinHandle polled after it returned its output");
    };
    // SAFETY: the caller promised `dst` is a `Poll<Result<F::Output, JoinError>>`.
    unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(result) };
}

/// # Safety
/// Runtime thread; `ptr` is a live, complete `Cell<F>`.
unsafe fn drop_output<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F>(ptr) };
    // SAFETY: runtime thread; complete, so nothing else touches the stage.
    // A panicking `Drop` of the output is swallowed: its handle is gone.
    drop_caught(unsafe { drop_stage_in_place(cell.stage.get()) });
}

/// # Safety
/// The last reference is gone; `ptr` is a `Cell<F>` made by `allocate`.
unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: `allocate` made it with `Box::new`; no one else can reach it.
    // Its stage is `Consumed` (see the module's Lifetime rule) and its join
    // waker gone (taken at completion or by the handle's drop), so this
    // frees memory and drops only thread-safe parts, whatever thread this is
    // — and nothing of a user's that could panic.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F>>().as_ptr()) });
}
