//! The errors of [`watch`](super).

use std::fmt;

/// No receivers: the value comes back, the channel's value unchanged.
///
/// ```
/// let (tx, rx) = edgeloop::sync::watch::channel(0);
/// drop(rx);
/// assert_eq!(tx.send(1).unwrap_err().0, 1);
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
        f.write_str("the watch channel has no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The sender is gone, so no change will come.
///
/// ```
/// let (tx, rx) = edgeloop::sync::watch::channel(());
/// drop(tx);
/// assert_eq!(rx.has_changed().unwrap_err().to_string(), "the watch sender is gone");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError(pub(super) ());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the watch sender is gone")
    }
}

impl std::error::Error for RecvError {}
