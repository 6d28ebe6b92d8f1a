//! Per-registration state: the cached readiness and who waits for it.

use std::os::fd::RawFd;
use std::task::Waker;

use super::ready::{Interest, Ready};
use super::waiters::{WaiterKey, Waiters};

/// How a caller waits: through a bare `poll_*` call (one shared slot per
/// direction) or as an `async` operation that owns a key to its entry.
#[derive(Debug)]
pub(crate) enum WaitAs<'a> {
    Polled,
    Keyed(&'a mut WaiterKeys),
}

/// An `async` operation's entries, one per direction it waits in.
#[derive(Debug, Default)]
pub(crate) struct WaiterKeys {
    read: Option<WaiterKey>,
    write: Option<WaiterKey>,
}

impl WaiterKeys {
    fn get(&mut self, direction: Interest) -> &mut Option<WaiterKey> {
        if direction == Interest::READABLE {
            &mut self.read
        } else {
            &mut self.write
        }
    }

    /// Takes out the entries still held: (read, write).
    pub(crate) fn take(&mut self) -> (Option<WaiterKey>, Option<WaiterKey>) {
        (self.read.take(), self.write.take())
    }
}

/// Wakers a new registration displaced, to be dropped outside the driver's
/// borrows (at most one per direction).
pub(crate) type Displaced = (Option<Waker>, Option<Waker>);

impl WaitAs<'_> {
    /// The same way of waiting, for one more call.
    pub(crate) fn reborrow(&mut self) -> WaitAs<'_> {
        match self {
            WaitAs::Polled => WaitAs::Polled,
            WaitAs::Keyed(key) => WaitAs::Keyed(key),
        }
    }
}

/// Records `waker` among `waiters` (those of `direction`) as `how` says.
#[inline]
fn register(
    waiters: &mut Waiters,
    how: &mut WaitAs<'_>,
    direction: Interest,
    waker: &Waker,
) -> Option<Waker> {
    match how {
        WaitAs::Polled => waiters.set_polled(waker),
        WaitAs::Keyed(keys) => waiters.set_keyed(keys.get(direction), waker),
    }
}

/// What the driver knows about one registered fd.
///
/// The readiness cache is filled by epoll events and emptied one direction
/// at a time: by an `EAGAIN`, or by a short transfer (see [`Ready`]).
#[derive(Debug, Default)]
pub(crate) struct ScheduledIo {
    /// The fd, for traces (never used to reach the kernel).
    fd: RawFd,
    readiness: Ready,
    readers: Waiters,
    writers: Waiters,
}

impl ScheduledIo {
    /// A fresh registration is presumed ready both ways, so the first operation
    /// is tried at once instead of waiting a round trip through `epoll_wait`;
    /// if the fd was not ready the operation's `EAGAIN` clears the presumption.
    pub(crate) fn new(fd: RawFd) -> ScheduledIo {
        ScheduledIo {
            fd,
            readiness: Ready::READABLE | Ready::WRITABLE,
            readers: Waiters::default(),
            writers: Waiters::default(),
        }
    }

    pub(crate) fn readiness(&self) -> Ready {
        self.readiness
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd
    }

    /// Readiness relevant to `interest`; empty if there is none.
    #[inline]
    pub(crate) fn ready_for(&self, interest: Interest) -> Ready {
        self.readiness.for_interest(interest)
    }

    /// Records `waker` to be woken by the next event in each of
    /// `interest`'s directions. Returns the wakers it displaced, for the
    /// caller to drop outside the driver's borrows.
    #[inline]
    pub(crate) fn wait(
        &mut self,
        interest: Interest,
        mut how: WaitAs<'_>,
        waker: &Waker,
    ) -> Displaced {
        // Plain tests rather than a loop, and inlined: this is on every
        // `Pending`, nearly always for one direction.
        let read = if interest.is_readable() {
            register(&mut self.readers, &mut how, Interest::READABLE, waker)
        } else {
            None
        };
        let write = if interest.is_writable() {
            register(&mut self.writers, &mut how, Interest::WRITABLE, waker)
        } else {
            None
        };
        (read, write)
    }

    /// Removes an `async` operation's waiter in `direction` (it completed or
    /// was dropped).
    pub(crate) fn remove_waiter(&mut self, direction: Interest, key: WaiterKey) -> Option<Waker> {
        self.waiters(direction).remove(key)
    }

    /// Forgets what an `EAGAIN` in `interest`'s direction disproved.
    #[inline]
    pub(crate) fn clear_would_block(&mut self, interest: Interest) {
        self.readiness = self.readiness - Ready::would_block(interest);
    }

    /// Forgets what a short transfer proved drained — unless urgent data is
    /// pending, when a short read proves nothing (it stops at the mark).
    #[inline]
    pub(crate) fn clear_drained(&mut self, interest: Interest) {
        let mut interest = interest;
        if interest.is_readable() && self.readiness.is_priority() {
            if !interest.is_writable() {
                return;
            }
            interest = Interest::WRITABLE;
        }
        self.readiness = self.readiness - Ready::drained(interest);
    }

    /// Merges an event and moves the wakers it concerns into `woken`.
    #[inline]
    pub(crate) fn set(&mut self, ready: Ready, woken: &mut Vec<Waker>) {
        self.readiness |= ready;
        if ready.is_readable() {
            self.readers.drain_into(woken);
        }
        if ready.is_writable() {
            self.writers.drain_into(woken);
        }
    }

    /// Moves every waiter into `woken` (the fd is going away).
    pub(crate) fn drain_all(&mut self, woken: &mut Vec<Waker>) {
        self.readers.drain_into(woken);
        self.writers.drain_into(woken);
    }

    /// The waiters of one direction (`READABLE` or `WRITABLE`, not both).
    fn waiters(&mut self, direction: Interest) -> &mut Waiters {
        if direction == Interest::READABLE {
            &mut self.readers
        } else {
            &mut self.writers
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn an_event_wakes_only_its_direction() {
        let counts: Vec<_> = (0..8)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let wakers: Vec<Waker> = counts.iter().map(|c| Waker::from(c.clone())).collect();
        let mut io = ScheduledIo::new(0);
        io.clear_would_block(Interest::READABLE);
        let mut keys: Vec<WaiterKeys> = (0..8).map(|_| WaiterKeys::default()).collect();
        for (key, w) in keys.iter_mut().zip(&wakers) {
            assert!(io.ready_for(Interest::READABLE).is_empty());
            io.wait(Interest::READABLE, WaitAs::Keyed(key), w);
        }
        let mut woken = Vec::new();
        io.set(Ready::WRITABLE, &mut woken);
        assert!(woken.is_empty(), "a write event must not wake readers");
        io.set(Ready::READABLE, &mut woken);
        assert_eq!(woken.len(), 8);
        woken.drain(..).for_each(Waker::wake);
        assert!(counts.iter().all(|c| c.0.load(Ordering::SeqCst) == 1));
    }

    #[test]
    fn a_short_read_is_not_trusted_while_urgent_data_is_pending() {
        let mut io = ScheduledIo::new(0);
        io.set(
            Ready::from_epoll((libc::EPOLLIN | libc::EPOLLPRI) as u32),
            &mut Vec::new(),
        );
        io.clear_drained(Interest::READABLE);
        assert!(io.ready_for(Interest::READABLE).is_readable());
        io.clear_would_block(Interest::READABLE);
        assert!(io.ready_for(Interest::READABLE).is_empty());
        assert!(
            !io.readiness().is_priority(),
            "EAGAIN ends the urgent episode"
        );
    }
}
