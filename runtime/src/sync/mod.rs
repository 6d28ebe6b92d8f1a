//! Runtime-local synchronization: channels ([`oneshot`], [`mpsc`],
//! [`broadcast`], [`watch`]) and primitives ([`Notify`], [`Semaphore`],
//! [`Mutex`]) for tasks of one edgeloop runtime.
//!
//! # Runtime-local
//!
//! Every type here is `!Send`: its state is a `RefCell` shared through an
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
//! ```compile_fail
//! fn needs_send<T: Send>(_: T) {}
//! let (tx, _rx) = edgeloop::sync::mpsc::channel::<u8>(1);
//! needs_send(tx);
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
