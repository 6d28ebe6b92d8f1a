//! Tasks: [`spawn`], [`JoinHandle`], [`JoinError`] and [`yield_now`].
//!
//! What a task is, in the terms a caller needs:
//!
//! - **One allocation per task.** `spawn` makes one heap block holding the
//!   task's state, its future (later its output) and the waker of whoever
//!   awaits the [`JoinHandle`]. A `Waker` for the task is a counted pointer
//!   to that block, so cloning one allocates nothing.
//! - **A reference count in the state word.** The run queue, every `Waker`
//!   and the `JoinHandle` each hold a reference, counted in the same atomic
//!   word as the task's flags (scheduled, complete, cancelled); the block is
//!   freed when the last reference goes. However often a task is woken, it
//!   is queued at most once; a wake while it runs queues it once more, after
//!   that poll.
//! - **Polled and dropped only on the runtime's thread.** A `Waker` may be
//!   sent to and woken from any thread, but it touches only the atomic word
//!   and the runtime's cross-thread queue, never the future. The future is
//!   dropped on the runtime's thread too (when it finishes, is aborted, or
//!   the runtime is dropped), and so is the output, since `JoinHandle` is
//!   `!Send`. That is why [`spawn`] needs no `Send`.
//! - **Panics stay in the task.** A panic in the future's `poll` or `Drop`
//!   becomes the task's [`JoinError`]; the other tasks go on.

mod builder;
mod id;
mod join;
mod join_set;
mod raw;
mod run_queue;
mod state;
mod waker;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use builder::Builder;
pub use id::Id;
pub use join::{JoinError, JoinHandle};
pub use join_set::JoinSet;
pub(crate) use raw::TaskRef;
pub(crate) use run_queue::RunQueue;
pub(crate) use waker::into_local_task;

use crate::{context, coop};

/// Spawns `future` as a new task on the current runtime.
///
/// The future need not be `Send`: it is polled, and dropped, only on the
/// runtime's thread. It starts running at the runtime's next tick, whether or
/// not the returned handle is awaited; dropping the handle detaches it.
///
/// A panic inside the task is caught: the handle gets a [`JoinError`] whose
/// [`is_panic`](JoinError::is_panic) is true, and every other task goes on.
///
/// # Panics
/// Outside an edgeloop runtime.
///
/// ```
/// use std::rc::Rc;
/// edgeloop::block_on(async {
///     let shared = Rc::new(5); // not Send, and that is fine
///     let task = edgeloop::spawn({
///         let shared = shared.clone();
///         async move { *shared + 1 }
///     });
///     assert_eq!(task.await.unwrap(), 6);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    context::expect_core("edgeloop::spawn", |core| core.spawn(future))
}

/// The [`Id`] of the task being polled (or of the `block_on` future).
///
/// # Panics
/// When no task of an edgeloop runtime is being polled; see [`try_id`].
#[track_caller]
pub fn id() -> Id {
    try_id().expect("`edgeloop::task::id` must be called from inside a task or a `block_on` future")
}

/// The [`Id`] of the task being polled (or of the `block_on` future), or
/// `None` outside one.
pub fn try_id() -> Option<Id> {
    context::with_core(|core| core.current_task()).flatten()
}

/// Lets other tasks run before this one continues.
///
/// The task is re-queued only after the runtime has checked for I/O events,
/// so a task that yields in a loop cannot starve sockets. Outside a runtime
/// it returns after one `Pending`, waking itself at once.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// edgeloop::block_on(async {
///     let ran = Rc::new(Cell::new(false));
///     edgeloop::spawn({
///         let ran = ran.clone();
///         async move { ran.set(true) }
///     });
///     assert!(!ran.get(), "a spawned task waits for its turn");
///     edgeloop::yield_now().await;
///     assert!(ran.get(), "yielding gave it one");
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        coop::defer_wake(cx);
        Poll::Pending
    }
}
