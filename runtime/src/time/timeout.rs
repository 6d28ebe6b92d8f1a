//! `timeout`: bound how long a future may take.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::sleep::{deadline_after, sleep_until, Sleep};

/// Runs `future` for at most `duration`: `Ok(output)` if it finished in time,
/// `Err(Elapsed)` (and the future dropped) if not.
///
/// The future is polled before the deadline is checked, so one that is ready
/// at once always succeeds, even with a zero duration.
///
/// Its timer belongs to a runtime as a [`sleep`](super::sleep)'s does: the
/// one running when `timeout` was called, or, if it was called outside any,
/// the first one that polls it. So `edgeloop::block_on(timeout(d, f))`
/// works.
///
/// # Panics
/// When the `Timeout` is polled outside a runtime, by a runtime other than
/// its timer's, or after that runtime was dropped.
///
/// ```
/// use std::time::Duration;
/// use edgeloop::time::{sleep, timeout};
/// edgeloop::block_on(async {
///     assert!(timeout(Duration::from_millis(1), sleep(Duration::from_secs(10))).await.is_err());
///     assert_eq!(timeout(Duration::from_secs(10), async { 5 }).await.unwrap(), 5);
/// });
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    timeout_at(deadline_after(duration), future)
}

/// Like [`timeout`], with an absolute deadline: handy when several steps
/// share one.
///
/// # Panics
/// As [`timeout`]: when polled outside a runtime, by a runtime other than
/// its timer's, or after that runtime was dropped.
///
/// ```
/// use std::time::{Duration, Instant};
/// use edgeloop::time::{sleep, timeout_at};
/// edgeloop::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(20);
///     assert_eq!(timeout_at(deadline, async { 1 }).await, Ok(1));
///     let slow = timeout_at(deadline, sleep(Duration::from_secs(10))).await;
///     assert!(slow.is_err());
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// Unwraps the future, dropping the timer.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Debug for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Elapsed")
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}
