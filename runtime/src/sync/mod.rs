//! Synchronization: channels ([`oneshot`], [`mpsc`],
//! [`broadcast`], [`watch`]) and primitives ([`Notify`], [`Semaphore`],
//! [`Mutex`]) for tasks of one edgeloop runtime.
//!
//! # Runtime-local
//!
//! Every type here except the channels below is `!Send`: its state is a `RefCell` shared through an
//! `Rc` (or borrowed from a value you share through an `Rc`), with no
//! atomics, where tokio's are shared through an `Arc`. That fits a runtime
//! that polls every task on one thread and whose [`spawn`](crate::spawn)
//! needs no `Send`; the price is that a future required to be `Send`
//! cannot hold one of these. They wait only through `std::task::Waker`s,
//! so they work in any task of the runtime (and in `block_on`'s future).
//!
//! The compiler holds you to it: a runtime-local type cannot go where
//! `Send` is required.
//!
//! The channels a thread uses to talk to the runtime are the exception:
//! [`mpsc`] and [`oneshot`] halves are `Send` (their state sits under a
//! mutex), so a thread can feed a task (`try_send`, `blocking_send`) or wait
//! for one (`blocking_recv`):
//!
//! ```
//! let (tx, mut rx) = edgeloop::sync::mpsc::channel::<u32>(4);
//! let feeder = std::thread::spawn(move || {
//!     for i in 0..10 {
//!         tx.blocking_send(i).unwrap();
//!     }
//! });
//! let sum = edgeloop::block_on(async move {
//!     let mut sum = 0;
//!     while let Some(i) = rx.recv().await {
//!         sum += i;
//!     }
//!     sum
//! });
//! feeder.join().unwrap();
//! assert_eq!(sum, 45);
//! ```
//!
//! ```compile_fail
//! fn needs_send<T: Send>(_: T) {}
//! let lock = std::rc::Rc::new(edgeloop::sync::Mutex::new(0));
//! needs_send(async move { *lock.lock().await += 1 });
//! ```
//!
//! # What waiting costs
//!
//! - A future that waits (a blocked `send`, an `acquire`, a `lock`) takes
//!   one entry in its primitive's FIFO list; the entry leaves the list when
//!   the future completes **or is dropped** — under a `timeout`, say — and
//!   freed entries are reused, so cancelled waits leave nothing behind.
//! - Whatever a waiter was handed but never used (a permit, a free slot, a
//!   `notify_one`) passes to the next waiter when its future is dropped.
//! - Wakers are woken only after the primitive has let go of its borrow,
//!   so a waker that polls inline, or drops something that uses the
//!   primitive, finds it consistent; a panicking waker leaves the state
//!   true and the other waiters woken.
//!
//! ```
//! use std::rc::Rc;
//! use edgeloop::sync::{mpsc, Mutex};
//!
//! edgeloop::block_on(async {
//!     let total = Rc::new(Mutex::new(0));
//!     let (done_tx, mut done_rx) = mpsc::channel(1);
//!     for i in 1..=4 {
//!         let (total, done_tx) = (total.clone(), done_tx.clone());
//!         edgeloop::spawn(async move {
//!             *total.lock().await += i;
//!             done_tx.send(()).await.unwrap();
//!         });
//!     }
//!     drop(done_tx);
//!     while done_rx.recv().await.is_some() {}
//!     assert_eq!(*total.lock().await, 10);
//! });
//! ```

mod mutex;
mod notify;
mod semaphore;
mod wait_list;

pub mod broadcast;
pub mod mpsc;
pub mod oneshot;
pub mod watch;

pub use mutex::{Mutex, MutexGuard, TryLockError};
pub use notify::Notify;
pub use semaphore::{AcquireError, OwnedPermit, Permit, Semaphore, TryAcquireError};

/// Runs `future` to completion on the calling thread, parking it between
/// polls: the `blocking_*` calls of a thread that has no runtime.
///
/// # Panics
/// On a thread that is running an edgeloop runtime (it would stop the
/// runtime it waits for); `what` names the call.
#[track_caller]
pub(crate) fn block_on_thread<F: std::future::Future>(future: F, what: &str) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    if crate::context::with_core(|_| ()).is_some() {
        panic!(
            "`{what}` would block the thread the runtime runs on: call it from a thread \
             without a runtime, and `.await` the async form inside one"
        );
    }
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        // A wake before this park makes it return at once; a spurious
        // return only polls again.
        std::thread::park();
    }
}
