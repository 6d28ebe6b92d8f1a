//! Accepting at the file-descriptor limit, for every listener.
//!
//! At `EMFILE`/`ENFILE` an `accept` fails at once and keeps failing while
//! the connection waits in the kernel's queue: a plain accept loop would
//! spin. [`FdExhaustion`] turns that into one reported error followed by a
//! wait on `edgeloop::io::fd_released`. `TcpListener` and `UnixListener`
//! both accept through it.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use edgeloop_runtime::io::{fd_released, AsyncFd, FdReleased, Interest};

/// The longest an exhausted listener waits before trying `accept` again
/// when no fd of this runtime has been closed (one closed elsewhere — or,
/// for `ENFILE`, in another process — is invisible to the runtime).
const EXHAUSTED_BACKOFF: Duration = Duration::from_millis(100);

fn is_fd_exhaustion(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// A listener's out-of-fds state: whether its next `accept` must first wait
/// for an fd to be released, and whether the current episode was reported.
#[derive(Default)]
pub(crate) struct FdExhaustion {
    /// Set while the process is out of fds: the next `accept` waits on it.
    exhausted: Cell<Option<FdReleased>>,
    /// True from an `EMFILE`/`ENFILE` until the next accepted connection:
    /// the error is returned once per such episode.
    in_episode: Cell<bool>,
}

impl FdExhaustion {
    /// Accepts through `accept` (one `accept4`) on `io`, waiting out fd
    /// exhaustion as the listeners' docs describe. Cancel-safe, with its
    /// own place among `io`'s read waiters.
    pub(crate) async fn accept<L: AsRawFd, T>(
        &self,
        io: &AsyncFd<L>,
        mut accept: impl FnMut(&L) -> io::Result<T>,
    ) -> io::Result<T> {
        loop {
            if let Some(wait) = self.exhausted.take() {
                wait.await;
            }
            let accepted = io
                .async_io(Interest::READABLE, |l| self.observe(accept(l)))
                .await;
            if let Some(result) = self.after_accept(accepted) {
                return result;
            }
        }
    }

    /// The `poll_*` form of [`accept`](Self::accept), in `io`'s one
    /// read slot.
    pub(crate) fn poll_accept<L: AsRawFd, T>(
        &self,
        cx: &mut Context<'_>,
        io: &AsyncFd<L>,
        mut accept: impl FnMut(&L) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        // At most two rounds: a fresh `FdReleased` cannot complete in the
        // same poll that made it (nothing is deregistered in between).
        loop {
            if let Some(mut wait) = self.exhausted.take() {
                if Pin::new(&mut wait).poll(cx).is_pending() {
                    self.exhausted.set(Some(wait));
                    return Poll::Pending;
                }
            }
            let accepted = ready!(io.poll_io(cx, Interest::READABLE, |l| self.observe(accept(l))));
            if let Some(result) = self.after_accept(accepted) {
                return Poll::Ready(result);
            }
        }
    }

    /// Looks at one `accept4`'s outcome. An empty queue (`EAGAIN`) also
    /// ends an out-of-fds episode: nothing was refused, so the next
    /// `EMFILE` is news again.
    fn observe<T>(&self, accepted: io::Result<T>) -> io::Result<T> {
        if matches!(&accepted, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.in_episode.set(false);
        }
        accepted
    }

    /// What an `accept4` outcome means for the caller: `None` to wait and
    /// try again (still out of fds, already reported).
    fn after_accept<T>(&self, accepted: io::Result<T>) -> Option<io::Result<T>> {
        match accepted {
            Ok(accepted) => {
                self.in_episode.set(false);
                Some(Ok(accepted))
            }
            Err(err) if is_fd_exhaustion(&err) => {
                self.exhausted.set(Some(fd_released(EXHAUSTED_BACKOFF)));
                let first = !self.in_episode.replace(true);
                first.then_some(Err(err))
            }
            Err(err) => Some(Err(err)),
        }
    }
}
