//! The errors of [`mpsc`](super): what a send or a receive gives back when
//! it cannot complete.

use std::fmt;

/// The receiver is gone: the value comes back unsent.
///
/// ```
/// use edgeloop::sync::mpsc::{unbounded_channel, error::SendError};
/// let (tx, rx) = unbounded_channel();
/// drop(rx);
/// assert_eq!(tx.send(4), Err(SendError(4)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mpsc receiver is closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Sender::try_send`](super::Sender::try_send) gave the value back.
///
/// ```
/// use edgeloop::sync::mpsc::{channel, error::TrySendError};
/// let (tx, _rx) = channel(1);
/// tx.try_send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// No free slot (or senders already waiting for one).
    Full(T),
    /// The receiver is gone.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// use edgeloop::sync::mpsc::error::TrySendError;
    /// assert_eq!(TrySendError::Full(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "the mpsc channel is full",
            TrySendError::Closed(_) => "the mpsc receiver is closed",
        })
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(SendError(value): SendError<T>) -> Self {
        TrySendError::Closed(value)
    }
}

/// Why `try_recv` gave no message.
///
/// ```
/// use edgeloop::sync::mpsc::{unbounded_channel, error::TryRecvError};
/// let (tx, mut rx) = unbounded_channel::<()>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing queued now; senders remain.
    Empty,
    /// Nothing queued, and nothing ever will be: every sender is gone or
    /// the receiver was closed.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "the mpsc channel is empty",
            TryRecvError::Disconnected => "the mpsc channel is empty and disconnected",
        })
    }
}

impl std::error::Error for TryRecvError {}
