//! The bounded channel: [`channel`], [`Sender`], [`Receiver`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::chan::{Chan, Closed, Recv};
use super::error::{SendError, TryRecvError, TrySendError};
use crate::sync::wait_list::Key;

/// Creates a channel that holds at most `capacity` messages; a sender
/// waits for room when it is full.
///
/// `Send` when `T` is: a thread may hold it (see the [module docs](super)).
///
/// # Panics
/// If `capacity` is 0.
///
/// ```
/// edgeloop::block_on(async {
///     let (tx, mut rx) = edgeloop::sync::mpsc::channel(8);
///     tx.send("hi").await.unwrap();
///     assert_eq!(rx.recv().await, Some("hi"));
/// });
/// ```
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "`edgeloop::sync::mpsc::channel` needs a capacity of at least 1"
    );
    let chan = Arc::new(Chan::new(Some(capacity)));
    (
        Sender {
            chan: chan.clone(),
            max_capacity: capacity,
        },
        Receiver { chan },
    )
}

/// Sends into a bounded channel; clone it for more producers.
///
/// `Send` (shared through `Arc`, the state under a mutex): see the
/// [module docs](super). When the last sender is dropped the receiver sees
/// the end of the stream.
///
/// ```
/// edgeloop::block_on(async {
///     let (tx, mut rx) = edgeloop::sync::mpsc::channel(1);
///     let tx2 = tx.clone();
///     drop(tx);
///     tx2.send(1).await.unwrap();
///     drop(tx2);
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
    max_capacity: usize,
}

impl<T> Sender<T> {
    /// [`send`](Self::send) from a thread without a runtime: waits (parking
    /// the thread) while the channel is full.
    ///
    /// # Panics
    /// On a thread running an edgeloop runtime.
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::sync::block_on_thread(self.send(value), "mpsc::Sender::blocking_send")
    }

    /// Sends `value`, waiting for a free slot if the channel is full;
    /// `Err(SendError(value))` if the receiver is gone.
    ///
    /// Blocked senders are served first come, first served. Dropping the
    /// future before it completes sends nothing and gives up its place (and
    /// any slot it was handed) to the next sender.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let (tx, rx) = edgeloop::sync::mpsc::channel(1);
    ///     drop(rx);
    ///     assert_eq!(tx.send(9).await.unwrap_err().0, 9);
    /// });
    /// ```
    pub fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + '_ {
        Sending {
            chan: &self.chan,
            value: Some(value),
            key: None,
        }
    }

    /// Sends `value` if a slot is free now: `Full(value)` if not (or if
    /// other senders are waiting), `Closed(value)` if the receiver is gone.
    ///
    /// ```
    /// use edgeloop::sync::mpsc::{channel, error::TrySendError};
    /// let (tx, rx) = channel(1);
    /// assert!(tx.try_send(1).is_ok());
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Waits until the receiver is closed or dropped. Cancel-safe.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let (tx, rx) = edgeloop::sync::mpsc::channel::<()>(1);
    ///     edgeloop::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub fn closed(&self) -> impl Future<Output = ()> + '_ {
        Closed {
            chan: &self.chan,
            key: None,
        }
    }

    /// True once the receiver was closed or dropped.
    ///
    /// ```
    /// let (tx, mut rx) = edgeloop::sync::mpsc::channel::<()>(1);
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Free slots now: the capacity less queued messages and slots already
    /// promised to waiting senders.
    ///
    /// ```
    /// let (tx, _rx) = edgeloop::sync::mpsc::channel(3);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.capacity(), 2);
    /// assert_eq!(tx.max_capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The capacity the channel was made with.
    ///
    /// ```
    /// let (tx, _rx) = edgeloop::sync::mpsc::channel::<()>(5);
    /// assert_eq!(tx.max_capacity(), 5);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.max_capacity
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
            max_capacity: self.max_capacity,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("capacity", &self.capacity())
            .field("max_capacity", &self.max_capacity)
            .finish()
    }
}

/// The future of [`Sender::send`]: its value, and its place in line once
/// it has had to wait.
struct Sending<'a, T> {
    chan: &'a Chan<T>,
    value: Option<T>,
    key: Option<Key>,
}

// Nothing in `Sending` is ever pinned structurally: the value is moved out by
// `&mut`, so the future can be moved between polls whatever `T` is.
impl<T> Unpin for Sending<'_, T> {}

impl<T> Future for Sending<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.chan.poll_send(&mut this.key, &mut this.value, cx)
    }
}

impl<T> Drop for Sending<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_send(key);
        }
    }
}

/// Receives from a bounded channel; see [`channel`].
///
/// `Send` when `T` is: a thread may hold it (see the [module docs](super)). Dropping it
/// closes the channel and drops the messages still queued.
///
/// ```
/// edgeloop::block_on(async {
///     let (tx, mut rx) = edgeloop::sync::mpsc::channel(4);
///     tx.try_send(1).unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// [`recv`](Self::recv) from a thread without a runtime: waits (parking
    /// the thread) for a message; `None` once every sender is gone.
    ///
    /// # Panics
    /// On a thread running an edgeloop runtime.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::sync::block_on_thread(self.recv(), "mpsc::Receiver::blocking_recv")
    }

    /// The next message; `None` once every sender is gone (or the receiver
    /// was closed) and the queue is empty.
    ///
    /// Cancel-safe: dropping the future loses no message.
    ///
    /// ```
    /// use std::time::Duration;
    /// use edgeloop::time::timeout;
    /// edgeloop::block_on(async {
    ///     let (tx, mut rx) = edgeloop::sync::mpsc::channel::<u8>(1);
    ///     assert!(timeout(Duration::from_millis(1), rx.recv()).await.is_err());
    ///     tx.send(2).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(2));
    /// });
    /// ```
    pub fn recv(&mut self) -> impl Future<Output = Option<T>> + '_ {
        Recv { chan: &self.chan }
    }

    /// The polling form of [`recv`](Self::recv); keeps the waker of the
    /// last caller.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// edgeloop::block_on(async {
    ///     let (tx, mut rx) = edgeloop::sync::mpsc::channel(1);
    ///     tx.try_send(5).unwrap();
    ///     assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, Some(5));
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// The next message if one is queued, without waiting.
    ///
    /// ```
    /// use edgeloop::sync::mpsc::{channel, error::TryRecvError};
    /// let (tx, mut rx) = channel(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Stops accepting messages: sends fail from now on, blocked senders
    /// are woken to fail, and messages already queued can still be taken.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let (tx, mut rx) = edgeloop::sync::mpsc::channel(2);
    ///     tx.send(1).await.unwrap();
    ///     rx.close();
    ///     assert!(tx.send(2).await.is_err());
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// How many messages are queued.
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::mpsc::channel(2);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// assert!(!rx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// True when no message is queued.
    ///
    /// ```
    /// let (_tx, rx) = edgeloop::sync::mpsc::channel::<()>(2);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("len", &self.len())
            .finish()
    }
}
