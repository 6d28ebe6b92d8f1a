//! Tasks: [`spawn`], [`JoinHandle`], [`JoinError`] and [`yield_now`].
//!
//! A task is one heap allocation — header (atomic state, vtable, a handle to
//! the runtime's cross-thread queue), the future, later its output, and the
//! join waker — shared by the run queues, the wakers and the `JoinHandle`
//! through a reference count in the state word. See `raw.rs` for the memory
//! rules and `state.rs` for the flags.

mod join;
mod raw;
mod state;
mod waker;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use join::{JoinError, JoinHandle};
pub(crate) use raw::TaskRef;

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
/// edgeloop_runtime::block_on(async {
///     let shared = Rc::new(5); // not Send, and that is fine
///     let task = edgeloop_runtime::spawn({
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

/// Lets other tasks run before this one continues.
///
/// The task is re-queued only after the runtime has checked for I/O events,
/// so a task that yields in a loop cannot starve sockets.
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
