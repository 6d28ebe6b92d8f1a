//! The unbounded channel: [`unbounded_channel`], [`UnboundedSender`],
//! [`UnboundedReceiver`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::chan::{Chan, Closed, Recv};
use super::error::{SendError, TryRecvError};

/// Creates a channel with no bound: sending never waits, so the queue
/// grows as fast as producers outrun the consumer.
///
/// `Send` when `T` is: a thread may hold it (see the [module docs](super)).
///
/// ```
/// edgeloop::block_on(async {
///     let (tx, mut rx) = edgeloop::sync::mpsc::unbounded_channel();
///     for i in 0..100 {
///         tx.send(i).unwrap();
///     }
///     assert_eq!(rx.recv().await, Some(0));
/// });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver { chan },
    )
}

/// Sends into an unbounded channel; clone it for more producers.
///
/// `Send` (shared through `Arc`, the state under a mutex): see the
/// [module docs](super).
///
/// ```
/// let (tx, mut rx) = edgeloop::sync::mpsc::unbounded_channel();
/// tx.clone().send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// Queues `value` at once; `Err(SendError(value))` if the receiver is
    /// gone.
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::mpsc::unbounded_channel();
    /// drop(rx);
    /// assert!(tx.send(1).is_err());
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan
            .try_send(value)
            .map_err(|e| SendError(e.into_inner()))
    }

    /// Waits until the receiver is closed or dropped. Cancel-safe.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let (tx, rx) = edgeloop::sync::mpsc::unbounded_channel::<()>();
    ///     edgeloop::spawn(async move { drop(rx) });
    ///     tx.closed().await;
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
    /// let (tx, rx) = edgeloop::sync::mpsc::unbounded_channel::<()>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// Receives from an unbounded channel; see [`unbounded_channel`].
///
/// `Send` when `T` is: a thread may hold it (see the [module docs](super)).
///
/// ```
/// edgeloop::block_on(async {
///     let (tx, mut rx) = edgeloop::sync::mpsc::unbounded_channel::<u8>();
///     drop(tx);
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedReceiver<T> {
    /// [`recv`](Self::recv) from a thread without a runtime: waits (parking
    /// the thread) for a message; `None` once every sender is gone.
    ///
    /// # Panics
    /// On a thread running an edgeloop runtime.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::sync::block_on_thread(self.recv(), "mpsc::UnboundedReceiver::blocking_recv")
    }

    /// The next message; `None` once every sender is gone (or the receiver
    /// was closed) and the queue is empty. Cancel-safe.
    ///
    /// ```
    /// edgeloop::block_on(async {
    ///     let (tx, mut rx) = edgeloop::sync::mpsc::unbounded_channel();
    ///     edgeloop::spawn(async move { tx.send("late").unwrap() });
    ///     assert_eq!(rx.recv().await, Some("late"));
    /// });
    /// ```
    pub fn recv(&mut self) -> impl Future<Output = Option<T>> + '_ {
        Recv { chan: &self.chan }
    }

    /// The polling form of [`recv`](Self::recv).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// edgeloop::block_on(async {
    ///     let (tx, mut rx) = edgeloop::sync::mpsc::unbounded_channel();
    ///     tx.send(1).unwrap();
    ///     assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, Some(1));
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// The next message if one is queued, without waiting.
    ///
    /// ```
    /// let (tx, mut rx) = edgeloop::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Stops accepting messages; those already queued can still be taken.
    ///
    /// ```
    /// let (tx, mut rx) = edgeloop::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// How many messages are queued.
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::mpsc::unbounded_channel();
    /// tx.send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// True when no message is queued.
    ///
    /// ```
    /// let (_tx, rx) = edgeloop::sync::mpsc::unbounded_channel::<()>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedReceiver")
            .field("len", &self.len())
            .finish()
    }
}
