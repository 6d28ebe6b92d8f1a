//! A single value that changes: [`channel`], [`Sender`], [`Receiver`].
//! Receivers see the latest value, and can wait for the next change.
//!
//! Only the latest value is kept: a receiver that looks rarely skips the
//! values in between. Each receiver remembers which version it last saw;
//! [`Receiver::changed`] waits for a newer one.
//!
//! Runtime-local: the halves are `!Send` and share one `Rc` (no atomics),
//! the way tokio's watch shares an `Arc`. They move between the tasks of
//! one runtime freely, but a future that must be `Send` cannot hold one.
//!
//! The value sits in a `RefCell`: a [`borrow`](Receiver::borrow) is a
//! `std::cell::Ref`. Let it go before the sender changes the value (don't
//! hold it across an `.await`); a send while it is held panics.
//!
//! ```
//! use edgeloop::sync::watch;
//!
//! edgeloop::block_on(async {
//!     let (tx, mut rx) = watch::channel("starting");
//!     edgeloop::spawn(async move {
//!         tx.send("ready").unwrap();
//!     });
//!     rx.changed().await.unwrap();
//!     assert_eq!(*rx.borrow_and_update(), "ready");
//! });
//! ```

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::wait_list::{Key, Polled, WaitList, Wakers};

pub mod error;

pub use error::{RecvError, SendError};

/// Creates a watch channel holding `init`; receivers start having seen it.
///
/// ```
/// let (_tx, rx) = edgeloop::sync::watch::channel(1);
/// assert_eq!(*rx.borrow(), 1);
/// assert!(!rx.has_changed().unwrap());
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(Shared {
        value: RefCell::new(init),
        state: RefCell::new(State {
            version: 0,
            sender_alive: true,
            receivers: 1,
            waiters: WaitList::new(),
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, seen: 0 },
    )
}

struct Shared<T> {
    value: RefCell<T>,
    state: RefCell<State>,
}

struct State {
    /// Bumped by every change.
    version: u64,
    sender_alive: bool,
    receivers: usize,
    /// Receivers waiting in `changed`.
    waiters: WaitList,
}

impl<T> Shared<T> {
    #[track_caller]
    fn value_mut(&self, called: &str) -> RefMut<'_, T> {
        self.value.try_borrow_mut().unwrap_or_else(|_| {
            panic!("`edgeloop::sync::watch::Sender::{called}`: a `borrow()` of the value is still held; drop it first")
        })
    }

    /// Records a change and wakes every `changed` future.
    fn publish(&self) {
        let mut wakers = Wakers::default();
        {
            let mut state = self.state.borrow_mut();
            state.version += 1;
            state.waiters.notify_all((), &mut wakers);
        }
        wakers.wake();
    }
}

/// Changes the value; see [`channel`]. There is one sender.
///
/// Runtime-local (`!Send`): see the [module docs](self).
///
/// ```
/// let (tx, rx) = edgeloop::sync::watch::channel(0);
/// tx.send_modify(|v| *v += 5);
/// assert_eq!(*rx.borrow(), 5);
/// ```
pub struct Sender<T> {
    shared: Rc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Replaces the value and wakes the receivers; `Err(SendError(value))`,
    /// the value unchanged, if there are no receivers.
    ///
    /// # Panics
    /// If a [`borrow`](Receiver::borrow) of the value is held.
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// drop(rx);
    /// assert!(tx.send(3).is_err());
    /// ```
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.state.borrow().receivers == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value whether or not anyone receives, returning the old
    /// one.
    ///
    /// # Panics
    /// If a [`borrow`](Receiver::borrow) of the value is held.
    ///
    /// ```
    /// let (tx, _rx) = edgeloop::sync::watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    #[track_caller]
    pub fn send_replace(&self, value: T) -> T {
        let old = std::mem::replace(&mut *self.shared.value_mut("send"), value);
        self.shared.publish();
        old
    }

    /// Changes the value in place with `modify`, whether or not anyone
    /// receives, and wakes the receivers.
    ///
    /// # Panics
    /// If a [`borrow`](Receiver::borrow) of the value is held, or if
    /// `modify` panics (the receivers are then not told of a change).
    ///
    /// ```
    /// let (tx, mut rx) = edgeloop::sync::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert!(rx.has_changed().unwrap());
    /// assert_eq!(*rx.borrow_and_update(), [1, 2]);
    /// ```
    #[track_caller]
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        modify(&mut self.shared.value_mut("send_modify"));
        self.shared.publish();
    }

    /// The current value.
    ///
    /// ```
    /// let (tx, _rx) = edgeloop::sync::watch::channel('a');
    /// assert_eq!(*tx.borrow(), 'a');
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        self.shared.value.borrow()
    }

    /// A new receiver, having seen the current value.
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::watch::channel(0);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 1);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = self.shared.state.borrow_mut();
        state.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: state.version,
        }
    }

    /// How many receivers there are now.
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::watch::channel(());
    /// let _rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.state.borrow().receivers
    }

    /// True when there are no receivers.
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::watch::channel(());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = Wakers::default();
        {
            let mut state = self.shared.state.borrow_mut();
            state.sender_alive = false;
            state.waiters.notify_all((), &mut wakers);
        }
        wakers.wake();
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender").finish_non_exhaustive()
    }
}

/// Reads the value and waits for changes; clone it for more readers.
///
/// Runtime-local (`!Send`): see the [module docs](self).
///
/// ```
/// edgeloop::block_on(async {
///     let (tx, mut rx) = edgeloop::sync::watch::channel(0);
///     drop(tx);
///     assert!(rx.changed().await.is_err(), "no sender, no change to come");
///     assert_eq!(*rx.borrow(), 0, "the last value is still there");
/// });
/// ```
pub struct Receiver<T> {
    shared: Rc<Shared<T>>,
    /// The version this receiver last saw.
    seen: u64,
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen.
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert!(rx.has_changed().unwrap(), "still unseen");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        self.shared.value.borrow()
    }

    /// The current value, marking it seen.
    ///
    /// ```
    /// let (tx, mut rx) = edgeloop::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        self.seen = self.shared.state.borrow().version;
        self.shared.value.borrow()
    }

    /// Whether a value this receiver has not seen was sent; `Err` if not
    /// and the sender is gone (no change will ever come).
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::watch::channel(1);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// tx.send(2).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.borrow();
        match state.version != self.seen {
            true => Ok(true),
            false if state.sender_alive => Ok(false),
            false => Err(RecvError(())),
        }
    }

    /// Waits for a value this receiver has not seen, and marks it seen;
    /// `Err` once the sender is gone with no unseen value.
    ///
    /// Cancel-safe: dropping the future misses no change.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let (tx, mut rx) = edgeloop::sync::watch::channel(0);
    ///     edgeloop::spawn(async move {
    ///         for i in 1..=3 {
    ///             tx.send(i).unwrap();
    ///             edgeloop::yield_now().await;
    ///         }
    ///     });
    ///     while rx.changed().await.is_ok() {
    ///         if *rx.borrow() == 3 {
    ///             break;
    ///         }
    ///     }
    /// });
    /// ```
    pub fn changed(&mut self) -> impl Future<Output = Result<(), RecvError>> + '_ {
        Changed {
            receiver: self,
            key: None,
        }
    }

    fn poll_changed(
        &mut self,
        key: &mut Option<Key>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), RecvError>> {
        let mut state = self.shared.state.borrow_mut();
        if let Some(k) = *key {
            match state.waiters.poll(k, cx.waker()) {
                Polled::Waiting(displaced) => {
                    drop(state);
                    drop(displaced);
                    return Poll::Pending;
                }
                Polled::Notified(()) => *key = None,
            }
        }
        if state.version != self.seen {
            self.seen = state.version;
            return Poll::Ready(Ok(()));
        }
        if !state.sender_alive {
            return Poll::Ready(Err(RecvError(())));
        }
        *key = Some(state.waiters.push_back(cx.waker()));
        Poll::Pending
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.state.borrow_mut().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.state.borrow_mut().receivers -= 1;
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::changed`]; leaves the waiters when dropped.
struct Changed<'a, T> {
    receiver: &'a mut Receiver<T>,
    key: Option<Key>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.receiver.poll_changed(&mut this.key, cx)
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let removed = self.receiver.shared.state.borrow_mut().waiters.remove(key);
            drop(removed);
        }
    }
}
