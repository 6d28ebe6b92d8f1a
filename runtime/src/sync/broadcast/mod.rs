//! A fan-out channel: [`channel`], [`Sender`], [`Receiver`]. Every
//! receiver sees every message sent after it subscribed.
//!
//! The channel keeps the last `capacity` messages. A receiver that falls
//! further behind than that is told so — [`RecvError::Lagged`] with the
//! number it missed — and goes on from the oldest message still kept; the
//! senders never wait for slow receivers.
//!
//! Runtime-local: the halves are `!Send` and share one `Rc` (no atomics),
//! the way tokio's broadcast shares an `Arc`. They move between the tasks
//! of one runtime freely, but a future that must be `Send` cannot hold
//! one. Messages are cloned out of the channel, once per receiver.
//!
//! ```
//! use edgeloop::sync::broadcast;
//!
//! edgeloop::block_on(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!     tx.send("news").unwrap();
//!     assert_eq!(rx1.recv().await, Ok("news"));
//!     assert_eq!(rx2.recv().await, Ok("news"));
//! });
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::wait_list::{Key, Polled, WaitList, Wakers};

pub mod error;

pub use error::{RecvError, SendError, TryRecvError};

/// Creates a broadcast channel that keeps the last `capacity` messages.
///
/// # Panics
/// If `capacity` is 0.
///
/// ```
/// let (tx, _rx) = edgeloop::sync::broadcast::channel::<u8>(4);
/// assert_eq!(tx.receiver_count(), 1);
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "`edgeloop::sync::broadcast::channel` needs a capacity of at least 1"
    );
    let shared = Rc::new(RefCell::new(State {
        buffer: VecDeque::with_capacity(capacity),
        capacity,
        head: 0,
        senders: 1,
        receivers: 1,
        waiters: WaitList::new(),
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, next: 0 },
    )
}

struct State<T> {
    /// The last `capacity` messages, oldest first.
    buffer: VecDeque<T>,
    capacity: usize,
    /// The position (count of messages ever sent before it) of `buffer[0]`.
    head: u64,
    senders: usize,
    receivers: usize,
    /// Receivers waiting for the next message.
    waiters: WaitList,
}

impl<T: Clone> State<T> {
    /// The position the next message sent will have.
    fn tail(&self) -> u64 {
        self.head + self.buffer.len() as u64
    }

    /// The message at `*next` for a receiver, moving it on.
    fn take(&self, next: &mut u64) -> Result<T, TryRecvError> {
        if *next < self.head {
            let missed = self.head - *next;
            *next = self.head;
            return Err(TryRecvError::Lagged(missed));
        }
        let index = (*next - self.head) as usize;
        match self.buffer.get(index) {
            Some(value) => {
                *next += 1;
                Ok(value.clone())
            }
            None if self.senders == 0 => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

/// Sends to every receiver; clone it for more producers.
///
/// Runtime-local (`!Send`): see the [module docs](self).
///
/// ```
/// let (tx, rx) = edgeloop::sync::broadcast::channel(2);
/// drop(rx);
/// assert!(tx.send(1).is_err(), "nobody subscribed");
/// ```
pub struct Sender<T> {
    shared: Rc<RefCell<State<T>>>,
}

impl<T: Clone> Sender<T> {
    /// Sends `value` to every current receiver, returning how many there
    /// are; `Err(SendError(value))` if there are none. Never waits: when the
    /// channel is full the oldest message is dropped.
    ///
    /// ```
    /// let (tx, _rx) = edgeloop::sync::broadcast::channel(2);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.send(()).unwrap(), 2);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = Wakers::default();
        let (receivers, evicted) = {
            let mut state = self.shared.borrow_mut();
            if state.receivers == 0 {
                return Err(SendError(value));
            }
            state.buffer.push_back(value);
            let evicted = match state.buffer.len() > state.capacity {
                true => {
                    state.head += 1;
                    state.buffer.pop_front()
                }
                false => None,
            };
            state.waiters.notify_all((), &mut wakers);
            (state.receivers, evicted)
        };
        drop(evicted);
        wakers.wake();
        Ok(receivers)
    }

    /// A new receiver that sees every message sent from now on.
    ///
    /// ```
    /// let (tx, _rx) = edgeloop::sync::broadcast::channel(2);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = self.shared.borrow_mut();
        state.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: state.tail(),
        }
    }

    /// How many receivers there are now.
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::broadcast::channel::<()>(2);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.borrow().receivers
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.borrow_mut().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = Wakers::default();
        {
            let mut state = self.shared.borrow_mut();
            state.senders -= 1;
            if state.senders == 0 {
                state.waiters.notify_all((), &mut wakers);
            }
        }
        wakers.wake();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

/// Receives every message sent after it subscribed; see [`channel`].
///
/// Runtime-local (`!Send`): see the [module docs](self).
///
/// ```
/// use edgeloop::sync::broadcast::{channel, error::RecvError};
/// edgeloop::block_on(async {
///     let (tx, mut rx) = channel(8);
///     tx.send(1).unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Ok(1));
///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// });
/// ```
pub struct Receiver<T> {
    shared: Rc<RefCell<State<T>>>,
    /// The position of the next message this receiver takes.
    next: u64,
}

impl<T: Clone> Receiver<T> {
    /// The next message: `Err(Lagged(n))` if `n` messages were dropped
    /// before this receiver took them (the next call goes on from the
    /// oldest kept), `Err(Closed)` once every sender is gone and nothing is
    /// left to take.
    ///
    /// Cancel-safe: dropping the future loses no message.
    ///
    /// ```
    /// use edgeloop::sync::broadcast::{channel, error::RecvError};
    /// edgeloop::block_on(async {
    ///     let (tx, mut rx) = channel(2);
    ///     for i in 0..5 {
    ///         tx.send(i).unwrap();
    ///     }
    ///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
    ///     assert_eq!(rx.recv().await, Ok(3));
    ///     assert_eq!(rx.recv().await, Ok(4));
    /// });
    /// ```
    pub fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + '_ {
        Recv {
            receiver: self,
            key: None,
        }
    }

    /// The next message if there is one now, without waiting.
    ///
    /// ```
    /// use edgeloop::sync::broadcast::{channel, error::TryRecvError};
    /// let (tx, mut rx) = channel::<u8>(2);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.shared.borrow().take(&mut self.next)
    }

    /// A new receiver on the same channel, starting at the next message
    /// sent (not where this one is).
    ///
    /// ```
    /// let (tx, rx) = edgeloop::sync::broadcast::channel(2);
    /// tx.send(1).unwrap();
    /// let mut other = rx.resubscribe();
    /// assert!(other.try_recv().is_err());
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        let mut state = self.shared.borrow_mut();
        state.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: state.tail(),
        }
    }

    fn poll_recv(
        &mut self,
        key: &mut Option<Key>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        let mut state = self.shared.borrow_mut();
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
        match state.take(&mut self.next) {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(TryRecvError::Lagged(missed)) => Poll::Ready(Err(RecvError::Lagged(missed))),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError::Closed)),
            Err(TryRecvError::Empty) => {
                *key = Some(state.waiters.push_back(cx.waker()));
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let buffer = {
            let mut state = self.shared.borrow_mut();
            state.receivers -= 1;
            // Nobody is left to read the kept messages: free them now.
            match state.receivers {
                0 => {
                    let buffer = std::mem::take(&mut state.buffer);
                    state.head += buffer.len() as u64;
                    buffer
                }
                _ => VecDeque::new(),
            }
        };
        drop(buffer);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::recv`]; leaves the waiters when dropped.
struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    key: Option<Key>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.receiver.poll_recv(&mut this.key, cx)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let removed = self.receiver.shared.borrow_mut().waiters.remove(key);
            drop(removed);
        }
    }
}
