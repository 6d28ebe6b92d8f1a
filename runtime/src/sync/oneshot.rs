//! A channel for one value: [`channel`], [`Sender`], [`Receiver`].
//!
//! Both halves are `Send` (for `T: Send`) and share one `Arc`, the state
//! under a mutex, as tokio's do: a thread may send to a task, or wait for
//! a task's answer with [`Receiver::blocking_recv`].
//!
//! ```
//! use edgeloop::sync::oneshot;
//!
//! edgeloop::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     edgeloop::spawn(async move {
//!         let _ = tx.send("computed");
//!     });
//!     assert_eq!(rx.await, Ok("computed"));
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

/// Creates a channel for one value of type `T`.
///
/// ```
/// let (tx, mut rx) = edgeloop::sync::oneshot::channel::<u8>();
/// assert!(rx.try_recv().is_err());
/// tx.send(3).unwrap();
/// assert_eq!(rx.try_recv(), Ok(3));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Mutex::new(Inner {
        value: None,
        sender_alive: true,
        receiver_closed: false,
        receiver_waker: None,
        closed_waker: None,
    }));
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

struct Inner<T> {
    value: Option<T>,
    sender_alive: bool,
    /// The receiver was dropped or closed: no value will be taken.
    receiver_closed: bool,
    /// The task awaiting the receiver.
    receiver_waker: Option<Waker>,
    /// The task awaiting [`Sender::closed`].
    closed_waker: Option<Waker>,
}

/// Sends the channel's one value; see [`channel`].
///
/// `Send` when `T` is: a thread may hold it (see the [module docs](self)).
///
/// ```
/// let (tx, rx) = edgeloop::sync::oneshot::channel();
/// drop(rx);
/// assert_eq!(tx.send(5), Err(5), "nobody to receive it");
/// ```
pub struct Sender<T> {
    inner: Arc<Mutex<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender; gives it back as `Err(value)` if
    /// the receiver was dropped or closed.
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::oneshot::channel();
    /// assert!(tx.send(1).is_ok());
    /// assert_eq!(edgeloop::block_on(rx), Ok(1));
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if inner.receiver_closed {
                return Err(value);
            }
            inner.value = Some(value);
            inner.receiver_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// True once the receiver was dropped or closed.
    ///
    /// ```
    /// let (tx, mut rx) = edgeloop::sync::oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .receiver_closed
    }

    /// Waits until the receiver is dropped or closed: a producer's cue to
    /// stop computing a value nobody wants.
    ///
    /// Cancel-safe; dropping the future releases its waker.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let (mut tx, rx) = edgeloop::sync::oneshot::channel::<()>();
    ///     edgeloop::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub fn closed(&mut self) -> impl Future<Output = ()> + '_ {
        Closed { sender: self }
    }

    /// The polling form of [`closed`](Self::closed): `Ready` once the
    /// receiver is gone; otherwise the waker is kept (replacing the last).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// edgeloop::block_on(async {
    ///     let (mut tx, rx) = edgeloop::sync::oneshot::channel::<()>();
    ///     drop(rx);
    ///     poll_fn(|cx| tx.poll_closed(cx)).await;
    /// });
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let displaced = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if inner.receiver_closed {
                return Poll::Ready(());
            }
            replace_waker(&mut inner.closed_waker, cx.waker())
        };
        drop(displaced);
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let (waker, stale) = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.sender_alive = false;
            (inner.receiver_waker.take(), inner.closed_waker.take())
        };
        // Dropped and woken with the borrow released.
        drop(stale);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

struct Closed<'a, T> {
    sender: &'a mut Sender<T>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.sender.poll_closed(cx)
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        let waker = self
            .sender
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed_waker
            .take();
        drop(waker);
    }
}

/// Receives the channel's one value: await it for
/// `Result<T, RecvError>`; see [`channel`].
///
/// Awaiting it is cancel-safe: a value sent while nobody awaited stays in
/// the channel for the next poll or [`try_recv`](Self::try_recv).
/// `Send` when `T` is: a thread may hold it (see the [module docs](self)).
///
/// ```
/// edgeloop::block_on(async {
///     let (tx, rx) = edgeloop::sync::oneshot::channel::<u8>();
///     drop(tx);
///     assert!(rx.await.is_err(), "the sender went away without sending");
/// });
/// ```
pub struct Receiver<T> {
    inner: Arc<Mutex<Inner<T>>>,
}

impl<T> Receiver<T> {
    /// Waits for the value on a thread without a runtime (parking it).
    ///
    /// # Panics
    /// On a thread running an edgeloop runtime.
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::sync::block_on_thread(self, "oneshot::Receiver::blocking_recv")
    }

    /// Takes the value if it was sent, without waiting.
    ///
    /// ```
    /// use edgeloop::sync::oneshot::{channel, TryRecvError};
    /// let (tx, mut rx) = channel::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match inner.value.take() {
            Some(value) => Ok(value),
            None if inner.sender_alive && !inner.receiver_closed => Err(TryRecvError::Empty),
            None => Err(TryRecvError::Closed),
        }
    }

    /// Refuses any value not sent yet: [`Sender::send`] fails from now on
    /// and [`Sender::closed`] completes. A value already sent can still be
    /// taken.
    ///
    /// ```
    /// let (tx, mut rx) = edgeloop::sync::oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn close(&mut self) {
        let waker = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.receiver_closed = true;
            inner.closed_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let displaced = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(value) = inner.value.take() {
                return Poll::Ready(Ok(value));
            }
            if !inner.sender_alive || inner.receiver_closed {
                return Poll::Ready(Err(RecvError(())));
            }
            replace_waker(&mut inner.receiver_waker, cx.waker())
        };
        drop(displaced);
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (value, waker, stale) = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.receiver_closed = true;
            (
                inner.value.take(),
                inner.closed_waker.take(),
                inner.receiver_waker.take(),
            )
        };
        // The value's destructor and the wake run with the borrow released.
        drop((value, stale));
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}

/// Stores `waker` in `slot` unless the one there wakes the same task;
/// returns the displaced waker, to be dropped after the borrow ends.
fn replace_waker(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(old) if old.will_wake(waker) => None,
        slot => slot.replace(waker.clone()),
    }
}

/// The sender went away without sending (or the receiver closed first).
///
/// ```
/// let (tx, rx) = edgeloop::sync::oneshot::channel::<()>();
/// drop(tx);
/// let err = edgeloop::block_on(rx).unwrap_err();
/// assert_eq!(err.to_string(), "the oneshot sender was dropped without sending");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the oneshot sender was dropped without sending")
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] gave no value.
///
/// ```
/// use edgeloop::sync::oneshot::{channel, TryRecvError};
/// let (_tx, mut rx) = channel::<()>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing sent yet; the sender is still there.
    Empty,
    /// Nothing sent, and nothing ever will be: the sender is gone, or the
    /// receiver was closed.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "no value sent yet",
            TryRecvError::Closed => "the oneshot channel is closed",
        })
    }
}

impl std::error::Error for TryRecvError {}
