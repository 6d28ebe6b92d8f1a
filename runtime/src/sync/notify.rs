//! [`Notify`]: wake one waiting task, or all of them, with no data.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::wait_list::{Key, Polled, Removed, WaitList, Wakers};

/// Wakes tasks waiting in [`notified`](Self::notified), with no data.
///
/// - [`notify_one`](Self::notify_one) wakes the longest waiter, or stores
///   one permit if nobody waits (the next `notified().await` then returns
///   at once; permits do not add up).
/// - [`notify_waiters`](Self::notify_waiters) wakes every waiter, and every
///   `notified()` future created before the call, but stores no permit.
/// - **Cancel-safe.** A dropped `notified` future leaves the list; a
///   `notify_one` it had received and not consumed passes to the next
///   waiter (or becomes the stored permit).
/// - **Runtime-local.** `!Send`/`!Sync`, no atomics: share it through an
///   `Rc` the way tokio's is shared through an `Arc`. A future that must be
///   `Send` cannot hold it.
///
/// ```
/// use std::rc::Rc;
/// use edgeloop::sync::Notify;
///
/// edgeloop::block_on(async {
///     let ready = Rc::new(Notify::new());
///     let waiter = edgeloop::spawn({
///         let ready = ready.clone();
///         async move { ready.notified().await; "woken" }
///     });
///     edgeloop::yield_now().await;
///     ready.notify_one();
///     assert_eq!(waiter.await.unwrap(), "woken");
/// });
/// ```
pub struct Notify {
    state: RefCell<State>,
}

struct State {
    /// A `notify_one` that found nobody waiting.
    permit: bool,
    /// How many times `notify_waiters` was called.
    generation: u64,
    waiters: WaitList<Kind>,
}

/// What a notified entry received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    One,
    All,
}

impl Notify {
    /// A `Notify` with no stored permit.
    ///
    /// ```
    /// let _notify = edgeloop::sync::Notify::new();
    /// ```
    pub const fn new() -> Notify {
        Notify {
            state: RefCell::new(State {
                permit: false,
                generation: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Waits for a notification. Completes at once if a permit is stored
    /// (consuming it) or if [`notify_waiters`](Self::notify_waiters) was
    /// called since this future was created.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let notify = edgeloop::sync::Notify::new();
    ///     notify.notify_one(); // stored
    ///     notify.notified().await; // consumed
    /// });
    /// ```
    pub fn notified(&self) -> impl Future<Output = ()> + '_ {
        Notified {
            notify: self,
            generation: self.state.borrow().generation,
            key: None,
        }
    }

    /// Wakes the longest-waiting `notified` future, or stores a permit if
    /// none waits.
    ///
    /// ```
    /// use std::time::Duration;
    /// use edgeloop::time::timeout;
    /// edgeloop::block_on(async {
    ///     let notify = edgeloop::sync::Notify::new();
    ///     notify.notify_one();
    ///     notify.notify_one(); // still one permit
    ///     notify.notified().await;
    ///     assert!(timeout(Duration::from_millis(1), notify.notified()).await.is_err());
    /// });
    /// ```
    pub fn notify_one(&self) {
        let waker = {
            let mut state = self.state.borrow_mut();
            let waker = state.waiters.notify_one(Kind::One);
            if waker.is_none() {
                state.permit = true;
            }
            waker
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every waiting `notified` future (and completes those created
    /// but not yet polled); stores no permit.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let notify = edgeloop::sync::Notify::new();
    ///     let early = notify.notified();
    ///     notify.notify_waiters();
    ///     early.await; // created before the call: completes
    /// });
    /// ```
    pub fn notify_waiters(&self) {
        let mut wakers = Wakers::default();
        {
            let mut state = self.state.borrow_mut();
            state.generation += 1;
            state.waiters.notify_all(Kind::All, &mut wakers);
        }
        wakers.wake();
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify")
            .field("permit", &self.state.borrow().permit)
            .finish_non_exhaustive()
    }
}

/// The future of [`Notify::notified`].
struct Notified<'a> {
    notify: &'a Notify,
    /// `notify_waiters` calls seen when the future was created.
    generation: u64,
    key: Option<Key>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut state = this.notify.state.borrow_mut();
        let displaced = match this.key {
            Some(key) => match state.waiters.poll(key, cx.waker()) {
                Polled::Notified(_) => {
                    this.key = None;
                    return Poll::Ready(());
                }
                Polled::Waiting(displaced) => displaced,
            },
            None if state.generation != this.generation => return Poll::Ready(()),
            None if state.permit => {
                state.permit = false;
                return Poll::Ready(());
            }
            None => {
                this.key = Some(state.waiters.push_back(cx.waker()));
                None
            }
        };
        drop(state);
        drop(displaced);
        Poll::Pending
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let removed = self.notify.state.borrow_mut().waiters.remove(key);
        match removed {
            // A `notify_one` this future never consumed: pass it on.
            Removed::Notified(Kind::One) => self.notify.notify_one(),
            other => drop(other),
        }
    }
}
