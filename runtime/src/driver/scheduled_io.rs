//! Per-registration state: the cached readiness and who waits for it.

use std::cell::{Cell, RefCell};
use std::os::fd::RawFd;
use std::task::Waker;

use super::ready::{Interest, Ready};
use super::token::Token;
use super::waiters::{WaiterKey, Waiters, WakeSink};

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
/// Shared (by `Rc`) between the driver's slab, which finds it from an
/// event's token, and the [`AsyncFd`](crate::io::AsyncFd), which reads and
/// clears the readiness on every operation without a slab lookup. Runtime
/// thread only.
///
/// The readiness cache is filled by epoll events and emptied one direction
/// at a time: by an `EAGAIN`, or by a short transfer (see [`Ready`]).
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    /// Its token, to deregister it and for traces.
    token: Token,
    /// The fd, for traces (never used to reach the kernel).
    fd: RawFd,
    readiness: Cell<Ready>,
    /// Borrowed only by the driver's own code, never across a call into a
    /// waker's `wake` or `drop` (a waker's `clone` and `will_wake` only).
    waiters: RefCell<Directions>,
}

#[derive(Debug, Default)]
struct Directions {
    readers: Waiters,
    writers: Waiters,
}

impl Directions {
    /// The waiters of one direction (`READABLE` or `WRITABLE`, not both).
    fn of(&mut self, direction: Interest) -> &mut Waiters {
        if direction == Interest::READABLE {
            &mut self.readers
        } else {
            &mut self.writers
        }
    }
}

impl ScheduledIo {
    /// A fresh registration is presumed ready both ways, so the first operation
    /// is tried at once instead of waiting a round trip through `epoll_wait`;
    /// if the fd was not ready the operation's `EAGAIN` clears the presumption.
    pub(crate) fn new(token: Token, fd: RawFd) -> ScheduledIo {
        ScheduledIo {
            token,
            fd,
            readiness: Cell::new(Ready::READABLE | Ready::WRITABLE),
            waiters: RefCell::default(),
        }
    }

    pub(crate) fn token(&self) -> Token {
        self.token
    }

    pub(crate) fn readiness(&self) -> Ready {
        self.readiness.get()
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd
    }

    /// Readiness relevant to `interest`; empty if there is none.
    #[inline]
    pub(crate) fn ready_for(&self, interest: Interest) -> Ready {
        self.readiness.get().for_interest(interest)
    }

    /// Records `waker` to be woken by the next event in each of
    /// `interest`'s directions. Returns the wakers it displaced, for the
    /// caller to drop outside the driver's borrows.
    #[inline]
    pub(crate) fn wait(&self, interest: Interest, mut how: WaitAs<'_>, waker: &Waker) -> Displaced {
        let mut waiters = self.waiters.borrow_mut();
        // Plain tests rather than a loop, and inlined: this is on every
        // `Pending`, nearly always for one direction.
        let read = if interest.is_readable() {
            register(&mut waiters.readers, &mut how, Interest::READABLE, waker)
        } else {
            None
        };
        let write = if interest.is_writable() {
            register(&mut waiters.writers, &mut how, Interest::WRITABLE, waker)
        } else {
            None
        };
        (read, write)
    }

    /// Removes an `async` operation's waiter in `direction` (it completed or
    /// was dropped).
    pub(crate) fn remove_waiter(&self, direction: Interest, key: WaiterKey) -> Option<Waker> {
        self.waiters.borrow_mut().of(direction).remove(key)
    }

    /// Forgets what an `EAGAIN` in `interest`'s direction disproved.
    #[inline]
    pub(crate) fn clear_would_block(&self, interest: Interest) {
        self.readiness
            .set(self.readiness.get() - Ready::would_block(interest));
    }

    /// Forgets what a short transfer proved drained — unless urgent data is
    /// pending, when a short read proves nothing (it stops at the mark).
    #[inline]
    pub(crate) fn clear_drained(&self, interest: Interest) {
        let readiness = self.readiness.get();
        let mut interest = interest;
        if interest.is_readable() && readiness.is_priority() {
            if !interest.is_writable() {
                return;
            }
            interest = Interest::WRITABLE;
        }
        self.readiness.set(readiness - Ready::drained(interest));
    }

    /// Merges an event and hands the wakers it concerns to `woken`, which
    /// must not call into a waker (the waiters are borrowed meanwhile).
    #[inline]
    pub(crate) fn set(&self, ready: Ready, woken: &mut impl WakeSink) {
        self.readiness.set(self.readiness.get() | ready);
        let mut waiters = self.waiters.borrow_mut();
        if ready.is_readable() {
            waiters.readers.drain_into(woken);
        }
        if ready.is_writable() {
            waiters.writers.drain_into(woken);
        }
    }

    /// Moves every waiter into `woken` (the fd is going away).
    pub(crate) fn drain_all(&self, woken: &mut Vec<Waker>) {
        let mut waiters = self.waiters.borrow_mut();
        waiters.readers.drain_into(woken);
        waiters.writers.drain_into(woken);
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
        let io = ScheduledIo::new(
            Token {
                index: 0,
                generation: 0,
            },
            0,
        );
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
        let io = ScheduledIo::new(
            Token {
                index: 0,
                generation: 0,
            },
            0,
        );
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
