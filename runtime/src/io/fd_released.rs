//! `FdReleased`: waiting out file-descriptor exhaustion.
//!
//! At `EMFILE`/`ENFILE` an `accept` fails at once, and keeps failing while
//! the connection waits in the kernel's queue (Linux reserves the new fd
//! before it looks at the queue): a loop that retries at once spins at
//! 100 % CPU. What it should wait for is an fd being closed. The runtime
//! sees every fd it registered go away, so it can say when that happens;
//! fds closed elsewhere (a `File`, another thread, another process for
//! `ENFILE`) it cannot see, so a back-off bounds the wait.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::context;
use crate::driver::{Driver, WaiterKey};
use crate::time::{sleep, Sleep};

/// Waits until the current runtime deregisters (and so is about to close)
/// one of its file descriptors, or until `backoff` has passed, whichever
/// comes first.
///
/// For code that ran out of descriptors:
/// `edgeloop::net::TcpListener::accept` uses it to wait out `EMFILE`
/// instead of retrying at once. Spurious completions are possible (a
/// deregistered fd that is handed back by
/// [`AsyncFd::into_inner`](crate::io::AsyncFd::into_inner) frees nothing),
/// so retry the operation and wait again if it still fails. Polled outside
/// the runtime it was made in (or after that runtime shut down) it
/// completes at once, for the same reason: the retry then reports the
/// error.
///
/// # Panics
/// Outside an edgeloop runtime.
///
/// ```
/// use std::time::{Duration, Instant};
/// edgeloop::block_on(async {
///     // Nothing is closed here, so the back-off ends the wait.
///     let start = Instant::now();
///     edgeloop::io::fd_released(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[track_caller]
pub fn fd_released(backoff: Duration) -> FdReleased {
    let driver = context::expect_core("edgeloop::io::fd_released", |core| core.driver.clone());
    FdReleased {
        seen: driver.releases(),
        driver,
        key: None,
        backoff: sleep(backoff),
    }
}

/// The future returned by [`fd_released`]. Dropping it gives up its place
/// among the runtime's waiters and disarms its back-off timer.
#[must_use = "futures do nothing unless polled"]
pub struct FdReleased {
    driver: Rc<Driver>,
    /// The driver's release count when this was made.
    seen: u64,
    /// Our entry among the driver's release waiters.
    key: Option<WaiterKey>,
    backoff: Sleep,
}

impl Future for FdReleased {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        // Polled where no release will ever be seen (another runtime, or
        // after this one shut down): done at once, so that the caller's
        // retry reaches the I/O object's own error instead of a wait (or a
        // panic about a timer the user never made).
        if !this.driver.is_running_here()
            || this.driver.releases() != this.seen
            || Pin::new(&mut this.backoff).poll(cx).is_ready()
        {
            this.release_waiter();
            return Poll::Ready(());
        }
        this.driver.wait_release(cx, &mut this.key);
        Poll::Pending
    }
}

impl FdReleased {
    fn release_waiter(&mut self) {
        if let Some(key) = self.key.take() {
            self.driver.remove_release_waiter(key);
        }
    }
}

impl Drop for FdReleased {
    fn drop(&mut self) {
        self.release_waiter();
    }
}

impl std::fmt::Debug for FdReleased {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FdReleased")
            .field("backoff", &self.backoff)
            .finish()
    }
}
