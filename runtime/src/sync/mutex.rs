//! [`Mutex`]: exclusive access to a value, held across `.await`s.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};

use super::semaphore::{Permit, Semaphore, TryAcquireError};

/// A lock whose guard may be held across `.await` points: a `RefCell` that
/// makes a second user wait instead of panicking.
///
/// - **Fair.** Tasks get the lock in the order they started waiting
///   (a [`Semaphore`] of one permit underneath).
/// - **Cancel-safe.** Dropping a `lock` future gives up its place; if the
///   lock had already been handed to it, it passes to the next in line.
/// - **No poisoning.** A panic while the guard is held releases the lock.
/// - **Runtime-local.** `!Send` and `!Sync`, no atomics: share it through
///   an `Rc` the way tokio's is shared through an `Arc`. A future that must
///   be `Send` cannot hold it.
///
/// If no guard needs to live across an `.await`, a plain `RefCell` is
/// cheaper.
///
/// ```
/// use std::rc::Rc;
/// use edgeloop::sync::Mutex;
///
/// edgeloop::block_on(async {
///     let log = Rc::new(Mutex::new(Vec::new()));
///     let writer = edgeloop::spawn({
///         let log = log.clone();
///         async move {
///             let mut log = log.lock().await;
///             log.push("start");
///             edgeloop::yield_now().await; // still held
///             log.push("end");
///         }
///     });
///     edgeloop::yield_now().await;
///     log.lock().await.push("after");
///     writer.await.unwrap();
///     assert_eq!(*log.lock().await, ["start", "end", "after"]);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    semaphore: Semaphore,
    value: RefCell<T>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    ///
    /// ```
    /// let m = edgeloop::sync::Mutex::new(1);
    /// assert_eq!(m.into_inner(), 1);
    /// ```
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            semaphore: Semaphore::new(1),
            value: RefCell::new(value),
        }
    }

    /// The value, taking the mutex apart.
    ///
    /// ```
    /// let m = edgeloop::sync::Mutex::new("x");
    /// assert_eq!(m.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock, first come, first served.
    ///
    /// Dropping the future before it completes gives up its place in line.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let m = edgeloop::sync::Mutex::new(0);
    ///     *m.lock().await += 1;
    ///     assert_eq!(*m.lock().await, 1);
    /// });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        let permit = self
            .semaphore
            .acquire()
            .await
            .expect("a mutex's semaphore is never closed");
        self.guard(permit)
    }

    /// The lock if it is free now and nobody waits for it.
    ///
    /// ```
    /// let m = edgeloop::sync::Mutex::new(0);
    /// let held = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(held);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.semaphore.try_acquire() {
            Ok(permit) => Ok(self.guard(permit)),
            Err(TryAcquireError::NoPermits) => Err(TryLockError(())),
            Err(TryAcquireError::Closed) => unreachable!("a mutex's semaphore is never closed"),
        }
    }

    /// The value, through an exclusive borrow of the mutex (no locking).
    ///
    /// ```
    /// let mut m = edgeloop::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    fn guard<'a>(&'a self, permit: Permit<'a>) -> MutexGuard<'a, T> {
        MutexGuard {
            value: self
                .value
                .try_borrow_mut()
                .expect("the one permit makes the borrow exclusive"),
            _permit: permit,
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.value.try_borrow() {
            Ok(value) if self.semaphore.available_permits() == 1 => d.field("value", &&*value),
            _ => d.field("value", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Exclusive access to a [`Mutex`]'s value; unlocks when dropped, handing
/// the lock to the next waiter.
///
/// ```
/// edgeloop::block_on(async {
///     let m = edgeloop::sync::Mutex::new(String::new());
///     let mut guard = m.lock().await;
///     guard.push_str("held");
///     assert_eq!(&*guard, "held");
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    // Declared first so that it is dropped first: the borrow ends before
    // the permit wakes the next locker.
    value: RefMut<'a, T>,
    _permit: Permit<'a>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// [`Mutex::try_lock`] found the lock held (or others waiting for it).
///
/// ```
/// let m = edgeloop::sync::Mutex::new(());
/// let _held = m.try_lock().unwrap();
/// assert_eq!(m.try_lock().unwrap_err().to_string(), "the mutex is locked");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mutex is locked")
    }
}

impl std::error::Error for TryLockError {}
