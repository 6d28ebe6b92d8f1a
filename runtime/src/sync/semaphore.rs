//! [`Semaphore`]: a count of permits handed out first come, first served.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::wait_list::{Key, Polled, Removed, WaitList, Wakers};

/// A count of permits; [`acquire`](Self::acquire) waits for one.
///
/// - **Fair.** Waiters get permits in the order they started waiting, and
///   [`try_acquire`](Self::try_acquire) does not overtake them.
/// - **Cancel-safe.** Dropping an `acquire` future gives up its place; a
///   permit it had already been handed goes to the next waiter.
/// - **Runtime-local.** `!Send` and `!Sync` (a `RefCell`, no atomics):
///   share it through an `Rc` the way tokio's is shared through an `Arc`.
///   A future that must be `Send` cannot hold one.
///
/// ```
/// use std::rc::Rc;
/// use edgeloop::sync::Semaphore;
///
/// edgeloop::block_on(async {
///     let limit = Rc::new(Semaphore::new(2));
///     let tasks: Vec<_> = (0..6)
///         .map(|_| {
///             let limit = limit.clone();
///             edgeloop::spawn(async move {
///                 let _permit = limit.acquire().await.unwrap();
///                 edgeloop::yield_now().await; // at most two here at once
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(limit.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    state: RefCell<State>,
}

struct State {
    permits: usize,
    closed: bool,
    /// `true` when an entry was handed a permit, `false` when it was woken
    /// by [`Semaphore::close`].
    waiters: WaitList<bool>,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    ///
    /// ```
    /// let sem = edgeloop::sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub const fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: RefCell::new(State {
                permits,
                closed: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Waits for a permit, first come, first served; `Err` once the
    /// semaphore is [closed](Self::close). The permit goes back when the
    /// [`Permit`] is dropped.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let sem = edgeloop::sync::Semaphore::new(1);
    ///     let permit = sem.acquire().await.unwrap();
    ///     assert_eq!(sem.available_permits(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub fn acquire(&self) -> impl Future<Output = Result<Permit<'_>, AcquireError>> + '_ {
        Acquire {
            semaphore: self,
            key: None,
        }
    }

    /// A permit if one is free now and nobody waits ahead.
    ///
    /// ```
    /// use edgeloop::sync::{Semaphore, TryAcquireError};
    /// let sem = Semaphore::new(1);
    /// let _held = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// ```
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        let mut state = self.state.borrow_mut();
        if state.closed {
            return Err(TryAcquireError::Closed);
        }
        if state.permits == 0 || !state.waiters.is_empty() {
            return Err(TryAcquireError::NoPermits);
        }
        state.permits -= 1;
        Ok(Permit { semaphore: self })
    }

    /// Like [`acquire`](Self::acquire), for a semaphore shared through an
    /// `Rc`: the permit holds the `Rc`, so it can move into a spawned task.
    ///
    /// ```
    /// use std::rc::Rc;
    /// edgeloop::block_on(async {
    ///     let sem = Rc::new(edgeloop::sync::Semaphore::new(1));
    ///     let permit = sem.clone().acquire_owned().await.unwrap();
    ///     let task = edgeloop::spawn(async move {
    ///         let _permit = permit; // released when the task ends
    ///     });
    ///     task.await.unwrap();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire_owned(self: Rc<Self>) -> Result<OwnedPermit, AcquireError> {
        self.acquire().await?.forget();
        Ok(OwnedPermit { semaphore: self })
    }

    /// Like [`try_acquire`](Self::try_acquire), for a semaphore shared
    /// through an `Rc`.
    ///
    /// ```
    /// use std::rc::Rc;
    /// let sem = Rc::new(edgeloop::sync::Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn try_acquire_owned(self: Rc<Self>) -> Result<OwnedPermit, TryAcquireError> {
        self.try_acquire()?.forget();
        Ok(OwnedPermit { semaphore: self })
    }

    /// Adds `n` permits, handing them to waiters first.
    ///
    /// # Panics
    /// If the count would overflow `usize`.
    ///
    /// ```
    /// let sem = edgeloop::sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Permits free now (not counting those handed to waiters that have
    /// not run yet).
    ///
    /// ```
    /// let sem = edgeloop::sync::Semaphore::new(4);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.borrow().permits
    }

    /// Closes the semaphore: waiting and later `acquire`s fail; permits
    /// already held stay valid.
    ///
    /// ```
    /// use edgeloop::sync::{Semaphore, TryAcquireError};
    /// let sem = Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    /// ```
    pub fn close(&self) {
        let mut wakers = Wakers::default();
        {
            let mut state = self.state.borrow_mut();
            state.closed = true;
            state.waiters.notify_all(false, &mut wakers);
        }
        wakers.wake();
    }

    /// True once [`close`](Self::close) was called.
    ///
    /// ```
    /// assert!(!edgeloop::sync::Semaphore::new(1).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    /// Gives `n` permits back: to waiters in order, the rest to the count.
    #[track_caller]
    fn release(&self, mut n: usize) {
        let mut wakers = Wakers::default();
        {
            let mut state = self.state.borrow_mut();
            while n > 0 && !state.closed {
                let Some(waker) = state.waiters.notify_one(true) else {
                    break;
                };
                wakers.push(waker);
                n -= 1;
            }
            state.permits = state
                .permits
                .checked_add(n)
                .expect("`edgeloop::sync::Semaphore::add_permits`: the permit count overflows");
        }
        wakers.wake();
    }

    fn poll_acquire(&self, key: &mut Option<Key>, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let mut state = self.state.borrow_mut();
        let granted = match *key {
            Some(k) => match state.waiters.poll(k, cx.waker()) {
                Polled::Waiting(displaced) => {
                    drop(state);
                    drop(displaced);
                    return Poll::Pending;
                }
                Polled::Notified(granted) => {
                    *key = None;
                    granted
                }
            },
            None if state.closed => return Poll::Ready(Err(())),
            None if state.permits > 0 && state.waiters.is_empty() => {
                state.permits -= 1;
                true
            }
            None => {
                *key = Some(state.waiters.push_back(cx.waker()));
                return Poll::Pending;
            }
        };
        if !state.closed {
            return Poll::Ready(Ok(()));
        }
        // Closed after this waiter was handed a permit: nobody waits any
        // more, so the permit simply goes back to the count.
        state.permits += usize::from(granted);
        Poll::Ready(Err(()))
    }

    fn cancel_acquire(&self, key: Key) {
        let removed = self.state.borrow_mut().waiters.remove(key);
        match removed {
            Removed::Notified(true) => self.release(1),
            other => drop(other),
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("closed", &state.closed)
            .finish()
    }
}

/// The future of [`Semaphore::acquire`]; leaves the line when dropped.
struct Acquire<'a> {
    semaphore: &'a Semaphore,
    key: Option<Key>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<Permit<'a>, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let semaphore = self.semaphore;
        match semaphore.poll_acquire(&mut self.key, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => Poll::Ready(Ok(Permit { semaphore })),
            Poll::Ready(Err(())) => Poll::Ready(Err(AcquireError(()))),
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.semaphore.cancel_acquire(key);
        }
    }
}

/// One permit of a [`Semaphore`], given back when dropped.
///
/// ```
/// let sem = edgeloop::sync::Semaphore::new(1);
/// let permit = sem.try_acquire().unwrap();
/// permit.forget();
/// assert_eq!(sem.available_permits(), 0, "forgotten, never returned");
/// ```
#[must_use = "the permit goes back as soon as it is dropped"]
pub struct Permit<'a> {
    semaphore: &'a Semaphore,
}

impl Permit<'_> {
    /// Keeps the permit out of the semaphore for good.
    ///
    /// ```
    /// let sem = edgeloop::sync::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.semaphore.release(1);
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// A permit of a [`Semaphore`] shared through an `Rc`, from
/// [`acquire_owned`](Semaphore::acquire_owned); given back when dropped.
///
/// ```
/// use std::rc::Rc;
/// let sem = Rc::new(edgeloop::sync::Semaphore::new(1));
/// let permit = sem.clone().try_acquire_owned().unwrap();
/// assert_eq!(sem.available_permits(), 0);
/// drop(permit);
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit goes back as soon as it is dropped"]
pub struct OwnedPermit {
    semaphore: Rc<Semaphore>,
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        self.semaphore.release(1);
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

/// The semaphore was closed.
///
/// ```
/// edgeloop::block_on(async {
///     let sem = edgeloop::sync::Semaphore::new(0);
///     sem.close();
///     assert!(sem.acquire().await.is_err());
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore is closed")
    }
}

impl std::error::Error for AcquireError {}

/// Why [`Semaphore::try_acquire`] gave no permit.
///
/// ```
/// use edgeloop::sync::{Semaphore, TryAcquireError};
/// assert_eq!(Semaphore::new(0).try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore is closed.
    Closed,
    /// No permit free now, or others wait ahead.
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryAcquireError::Closed => "the semaphore is closed",
            TryAcquireError::NoPermits => "no permits available",
        })
    }
}

impl std::error::Error for TryAcquireError {}
