//! The errors of [`broadcast`](super).

use std::fmt;

/// Nobody is subscribed: the value comes back unsent.
///
/// ```
/// let (tx, rx) = edgeloop::sync::broadcast::channel(1);
/// drop(rx);
/// assert_eq!(tx.send(3).unwrap_err().0, 3);
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
        f.write_str("the broadcast channel has no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Receiver::recv`](super::Receiver::recv) gave no message.
///
/// ```
/// use edgeloop::sync::broadcast::error::RecvError;
/// assert_eq!(RecvError::Lagged(2).to_string(), "the receiver lagged behind by 2 messages");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and every kept message was taken.
    Closed,
    /// This many messages were dropped before this receiver took them;
    /// the next receive goes on from the oldest kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("the broadcast channel is closed"),
            RecvError::Lagged(n) => write!(f, "the receiver lagged behind by {n} messages"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) gave no
/// message.
///
/// ```
/// use edgeloop::sync::broadcast::{channel, error::TryRecvError};
/// let (_tx, mut rx) = channel::<()>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing new now; senders remain.
    Empty,
    /// Every sender is gone and every kept message was taken.
    Closed,
    /// This many messages were dropped before this receiver took them.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the broadcast channel is empty"),
            TryRecvError::Closed => f.write_str("the broadcast channel is closed"),
            TryRecvError::Lagged(n) => {
                write!(f, "the receiver lagged behind by {n} messages")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}
