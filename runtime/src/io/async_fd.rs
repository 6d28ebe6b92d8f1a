//! `AsyncFd`: any nonblocking file descriptor, registered with the driver.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use super::{AsyncRead, AsyncWrite};
use crate::context;
use crate::coop;
use crate::driver::{Driver, Interest, Ready, ScheduledIo, WaitAs, WaiterKeys};

/// How many times one `poll_io` call tries its operation before it gives
/// the thread back. An `EAGAIN` clears the readiness, so the next round
/// parks the waker; only `EINTR` over and over could use them all up, and
/// then the task yields instead of spinning.
const ATTEMPTS: usize = 4;

/// A nonblocking file descriptor registered with the runtime's epoll driver.
///
/// The fd is registered once, edge-triggered, for both directions (and for
/// urgent data). Its readiness is cached: an event sets it, and an operation
/// that hits `EAGAIN` clears it, one direction at a time (see [`Ready`] for
/// which bits go, and [`clear_readiness`](Self::clear_readiness) for the
/// one other way). [`poll_io`](AsyncFd::poll_io) packages that rule for any
/// syscall; the sockets of `edgeloop::net` are thin layers over it.
///
/// The fd **must be in nonblocking mode**; a blocking read would stall the
/// whole runtime. Dropping the `AsyncFd` deregisters the fd *before* the
/// wrapped value (and so the fd) is dropped.
///
/// # Who gets woken
///
/// The `async` methods ([`readable`](Self::readable),
/// [`writable`](Self::writable), [`ready`](Self::ready),
/// [`async_io`](Self::async_io)) each keep their own entry in the waiter
/// list, released when the future completes or is dropped: any number of
/// tasks may wait in one direction, and an event wakes them all (each then
/// retries its own operation).
///
/// The `poll_*` methods ([`poll_io`](Self::poll_io),
/// [`poll_read_ready`](Self::poll_read_ready), the `AsyncRead` /
/// `AsyncWrite` impls) have no future to clean up after them, so they
/// share **one slot per direction** holding the waker of the most recent
/// caller: if two tasks wait through `poll_*` in the same direction, only
/// the last one is woken. (tokio has the same rule.) One reader task and one
/// writer task, each through `poll_*`, is fine: the directions are apart.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use edgeloop::io::{AsyncFd, Interest};
///
/// edgeloop::block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let a = AsyncFd::new(a)?;
///     b.write_all(b"ping")?;
///     let mut buf = [0; 4];
///     let n = a.async_io(Interest::READABLE, |s| (&*s).read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct AsyncFd<T: AsRawFd> {
    /// `None` only while `into_inner` takes it out.
    inner: Option<T>,
    /// Its registration: the readiness cache and the waiters, reached
    /// directly (the driver's slab holds the other handle).
    io: Rc<ScheduledIo>,
    driver: Rc<Driver>,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s fd with the current runtime's driver.
    ///
    /// # Errors
    /// The OS's error from `epoll_ctl`, as it gave it. Notably a regular
    /// file (or a directory, or `/dev/null`) gives `EPERM`: such a file is
    /// always ready for reading and writing, so the kernel has no readiness
    /// to report and `epoll_ctl` refuses it, with error kind
    /// [`PermissionDenied`](io::ErrorKind::PermissionDenied) and
    /// `raw_os_error() == Some(libc::EPERM)` — not a matter of access
    /// rights. Read such files with blocking calls (off the runtime's
    /// thread if they may be slow); for standard input, which may be one,
    /// use [`stdin`](crate::io::stdin).
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        let driver = context::expect_core("AsyncFd::new", |core| core.driver.clone());
        let io = driver.register(inner.as_raw_fd())?;
        Ok(AsyncFd {
            inner: Some(inner),
            io,
            driver,
        })
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        self.inner
            .as_ref()
            .expect("AsyncFd holds its value until dropped")
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner
            .as_mut()
            .expect("AsyncFd holds its value until dropped")
    }

    /// Deregisters the fd and returns the wrapped value (still nonblocking).
    pub fn into_inner(mut self) -> T {
        self.deregister();
        self.inner
            .take()
            .expect("AsyncFd holds its value until dropped")
    }

    /// The readiness cached for this fd right now (a snapshot; no syscall).
    pub fn readiness(&self) -> Ready {
        self.io.readiness()
    }

    /// Forgets the cached readiness in `interest`'s direction without an
    /// `EAGAIN` to prove it is gone, saving the syscall that would only
    /// return `EAGAIN`.
    ///
    /// Call it only when the fd is known to be drained in that direction.
    /// The case it is made for: a read from a **stream** socket returned
    /// fewer bytes than asked, so the receive queue was empty at that moment;
    /// any byte that arrives later raises a new edge, which sets the
    /// readiness again. (Likewise a short write to a stream socket: the send
    /// buffer is full, and freed space raises a new `EPOLLOUT` edge.) Calling
    /// it when data is still pending makes the next wait last until *new*
    /// data comes.
    ///
    /// Two things are kept whatever is asked: the closed bits (EOF, hang-up)
    /// and the error bit, which no syscall has reported yet; and read
    /// readiness while urgent (out-of-band) data is pending — a TCP read
    /// stops short at the urgent mark with data still queued, so there a
    /// short read proves nothing; the next read that hits `EAGAIN` ends
    /// that state.
    pub fn clear_readiness(&self, interest: Interest) {
        self.driver.clear_drained(&self.io, interest);
    }

    /// Waits until the cached readiness says a read may make progress.
    ///
    /// The readiness may be stale: an operation can still hit `EAGAIN`, after
    /// which call [`ReadyGuard::clear_ready`] (or use
    /// [`ReadyGuard::try_io`], which does it for you) and wait again.
    pub async fn readable(&self) -> io::Result<ReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// Waits until the cached readiness says a write may make progress.
    pub async fn writable(&self) -> io::Result<ReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// Waits for readiness in `interest`'s direction.
    ///
    /// Cancel-safe: dropping the future loses nothing and releases its
    /// place among the waiters.
    pub async fn ready(&self, interest: Interest) -> io::Result<ReadyGuard<'_, T>> {
        let mut waiter = Waiter::new(self);
        poll_fn(|cx| self.poll_ready_as(cx, interest, WaitAs::Keyed(&mut waiter.keys))).await
    }

    /// Polls for read readiness; on `Pending` the task is woken by the next
    /// read event (only the most recent `poll_*` caller per direction is
    /// remembered; see [Who gets woken](AsyncFd#who-gets-woken)).
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyGuard<'a, T>>> {
        self.poll_ready_as(cx, Interest::READABLE, WaitAs::Polled)
    }

    /// Polls for write readiness; on `Pending` the task is woken by the next
    /// write event (only the most recent `poll_*` caller per direction is
    /// remembered).
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyGuard<'a, T>>> {
        self.poll_ready_as(cx, Interest::WRITABLE, WaitAs::Polled)
    }

    fn poll_ready_as<'a>(
        &'a self,
        cx: &mut Context<'_>,
        interest: Interest,
        how: WaitAs<'_>,
    ) -> Poll<io::Result<ReadyGuard<'a, T>>> {
        let ready = ready!(self.driver.poll_ready(&self.io, interest, cx, how))?;
        // A readiness wait spends a unit of the budget as an operation
        // does: the loop `readable().await` + `try_read` must not starve
        // the other tasks any more than `read().await` does.
        if !self.driver.budget().spend() {
            return self.budget_spent(cx);
        }
        Poll::Ready(Ok(ReadyGuard {
            fd: self,
            interest,
            ready,
        }))
    }

    /// Runs the nonblocking operation `op` once the fd is ready in
    /// `interest`'s direction: the one rule every socket operation follows.
    ///
    /// - not ready: record the task's waker, return `Pending`;
    /// - ready: call `op`; `EINTR` is retried (a few times, then the task
    ///   yields);
    /// - `EAGAIN`/`EWOULDBLOCK`: clear that direction's readiness, record the
    ///   task's waker, return `Pending` (the next edge wakes the task);
    /// - anything else, success or error, is returned as is.
    ///
    /// Each completed operation spends one unit of the task's I/O budget;
    /// when the budget is spent this returns `Pending` and re-queues the task
    /// so that other tasks get a turn.
    ///
    /// The waker is kept in the direction's one `poll_*` slot (see
    /// [Who gets woken](AsyncFd#who-gets-woken)); [`async_io`](Self::async_io)
    /// keeps its own.
    ///
    /// # Errors
    /// `op`'s error; or, instead of waiting forever, an error if this fd's
    /// runtime has shut down or if that runtime is not the one running on this thread
    /// (the fd was moved into a task of another runtime).
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_as(cx, interest, WaitAs::Polled, op)
    }

    #[inline(always)]
    fn poll_io_as<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut how: WaitAs<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let driver = &*self.driver;
        for _ in 0..ATTEMPTS {
            // The fast path is these two tests; anything else (not ready,
            // or not this runtime's poll, or shut down) goes through
            // `poll_ready`, which parks the waker or says what is wrong.
            if !driver.is_usable() || self.io.ready_for(interest).is_empty() {
                ready!(driver.poll_ready(&self.io, interest, cx, how.reborrow()))?;
            }
            if !driver.budget().spend() {
                return self.budget_spent(cx);
            }
            match op(self.get_ref()) {
                Ok(value) => return Poll::Ready(Ok(value)),
                Err(err) => {
                    if let Some(err) = self.failed(err, interest) {
                        return Poll::Ready(Err(err));
                    }
                }
            }
        }
        coop::defer_wake(cx);
        Poll::Pending
    }

    /// An operation failed. `EAGAIN` clears the direction's readiness and
    /// `EINTR` is retried, both with the budget unit refunded (`None`:
    /// try again); any other error is the caller's. Out of line, so that
    /// the success path above stays small enough to inline.
    #[inline(never)]
    fn failed(&self, err: io::Error, interest: Interest) -> Option<io::Error> {
        match err.kind() {
            io::ErrorKind::WouldBlock => {
                self.driver.budget().refund();
                self.driver.note_would_block(&self.io, interest);
                self.driver.clear_ready(&self.io, interest);
                None
            }
            io::ErrorKind::Interrupted => {
                self.driver.budget().refund();
                None
            }
            _ => Some(err),
        }
    }

    /// The task's budget is spent: it is woken again once the runtime has
    /// looked at the driver.
    #[cold]
    fn budget_spent<R>(&self, cx: &mut Context<'_>) -> Poll<R> {
        self.driver.note_budget_spent();
        coop::defer_wake(cx);
        Poll::Pending
    }

    /// The `async` form of [`poll_io`](AsyncFd::poll_io), with its own place
    /// among the waiters (released when the future completes or is dropped).
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut waiter = Waiter::new(self);
        poll_fn(|cx| self.poll_io_as(cx, interest, WaitAs::Keyed(&mut waiter.keys), &mut op)).await
    }

    /// Tries `op` without waiting: `WouldBlock` if the cached readiness says
    /// not ready, or if `op` hits `EAGAIN` (which clears the readiness).
    /// `EINTR` is retried.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        if self.io.ready_for(interest).is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        loop {
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.driver.note_would_block(&self.io, interest);
                    self.driver.clear_ready(&self.io, interest);
                    return Err(e);
                }
                res => return res,
            }
        }
    }

    fn deregister(&mut self) {
        if let Some(inner) = &self.inner {
            // An error means the fd was closed behind our back; its slot is
            // freed all the same, which is all that matters here.
            let _ = self.driver.deregister(&self.io, inner.as_raw_fd());
        }
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .field("token", &self.io.token())
            .finish()
    }
}

/// Reads through `&T` (files, pipes, sockets), waiting for readiness.
impl<T: AsRawFd> AsyncRead for AsyncFd<T>
where
    for<'a> &'a T: io::Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Interest::READABLE, |mut inner| {
            io::Read::read(&mut inner, buf)
        })
    }
}

/// Writes through `&T`, waiting for readiness.
///
/// `poll_close` only flushes; it shuts nothing down and does not close the
/// fd, because a generic fd has no half-close (drop the `AsyncFd` to close
/// it). For a TCP socket use `edgeloop::net::TcpStream`, whose `poll_close`
/// does `shutdown(SHUT_WR)`.
impl<T: AsRawFd> AsyncWrite for AsyncFd<T>
where
    for<'a> &'a T: io::Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Interest::WRITABLE, |mut inner| {
            io::Write::write(&mut inner, buf)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_io(cx, Interest::WRITABLE, |mut inner| {
            io::Write::flush(&mut inner)
        })
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// An `async` operation's places among an fd's waiters (one per direction
/// it waits in), released on drop.
struct Waiter<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    keys: WaiterKeys,
}

impl<'a, T: AsRawFd> Waiter<'a, T> {
    fn new(fd: &'a AsyncFd<T>) -> Waiter<'a, T> {
        Waiter {
            fd,
            keys: WaiterKeys::default(),
        }
    }
}

impl<T: AsRawFd> Drop for Waiter<'_, T> {
    fn drop(&mut self) {
        self.fd.driver.remove_waiters(&self.fd.io, &mut self.keys);
    }
}

/// Proof that an [`AsyncFd`] was ready in one direction, as returned by
/// [`readable`](AsyncFd::readable), [`writable`](AsyncFd::writable) and
/// [`ready`](AsyncFd::ready).
///
/// The readiness may be stale, so run the operation through
/// [`try_io`](ReadyGuard::try_io): on `EAGAIN` it clears the readiness, and
/// the next wait then lasts until a new edge.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use edgeloop::io::AsyncFd;
///
/// edgeloop::block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let a = AsyncFd::new(a)?;
///     b.write_all(b"hi")?;
///     let mut buf = [0; 8];
///     let n = loop {
///         let mut guard = a.readable().await?;
///         match guard.try_io(|s| (&*s).read(&mut buf)) {
///             Ok(result) => break result?,
///             Err(_would_block) => continue, // readiness cleared: wait again
///         }
///     };
///     assert_eq!(&buf[..n], b"hi");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct ReadyGuard<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    interest: Interest,
    ready: Ready,
}

impl<'a, T: AsRawFd> ReadyGuard<'a, T> {
    /// The readiness seen.
    pub fn ready(&self) -> Ready {
        self.ready
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &'a T {
        self.fd.get_ref()
    }

    /// Forgets the readiness this guard saw: call it after an operation hit
    /// `EAGAIN`, or the next wait returns at once and spins. Everything the
    /// `EAGAIN` disproved goes — the direction's ready and closed bits and
    /// the error bit — so a stale error or the hang-up of a socket that was
    /// not yet connected cannot keep the fd looking ready.
    ///
    /// For a guard of a combined interest, that is every direction the
    /// guard saw ready; if only one of them hit `EAGAIN`, use
    /// [`clear_ready_matching`](Self::clear_ready_matching) instead, or the
    /// other direction's readiness is lost until its next edge.
    pub fn clear_ready(&mut self) {
        let seen = self.seen_directions();
        self.clear(seen);
    }

    /// Forgets readiness only in the directions `ready` names
    /// (`Ready::READABLE`, `Ready::WRITABLE`, or both), after an operation
    /// in those directions hit `EAGAIN`.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        let mut directions = None;
        for (bit, direction) in [
            (Ready::READABLE, Interest::READABLE),
            (Ready::WRITABLE, Interest::WRITABLE),
        ] {
            if ready.intersects(bit) && self.interest_has(direction) {
                directions = Some(directions.map_or(direction, |d: Interest| d | direction));
            }
        }
        if let Some(directions) = directions {
            self.clear(directions);
        }
    }

    fn interest_has(&self, direction: Interest) -> bool {
        self.interest.directions().any(|d| d == direction)
    }

    /// The directions of the guard's interest whose readiness it saw.
    fn seen_directions(&self) -> Interest {
        let read = self.interest.is_readable() && self.ready.is_readable();
        let write = self.interest.is_writable() && self.ready.is_writable();
        match (read, write) {
            (true, true) => Interest::READABLE | Interest::WRITABLE,
            (false, true) => Interest::WRITABLE,
            (true, false) => Interest::READABLE,
            (false, false) => self.interest,
        }
    }

    fn clear(&mut self, directions: Interest) {
        self.fd.driver.note_would_block(&self.fd.io, directions);
        self.fd.driver.clear_ready(&self.fd.io, directions);
    }

    /// Runs `op`; if it hits `EAGAIN`, clears the readiness and returns
    /// `Err(TryIoError)` so the caller can wait again.
    pub fn try_io<R>(
        &mut self,
        op: impl FnOnce(&'a T) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match op(self.fd.get_ref()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            res => Ok(res),
        }
    }
}

impl<T: AsRawFd> fmt::Debug for ReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyGuard")
            .field("interest", &self.interest)
            .field("ready", &self.ready)
            .finish()
    }
}

/// The operation in [`ReadyGuard::try_io`] would have blocked; readiness was
/// cleared, so wait again.
#[derive(Debug)]
pub struct TryIoError(());
