//! Per-registration state: the cached readiness and who waits for it.

use std::cell::Cell;
use std::os::fd::RawFd;
use std::task::Waker;

use super::ready::{Interest, Ready};
use super::token::Token;
use super::waiters::{Keyed, WaiterKey, WakeSink};

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

impl WaitAs<'_> {
    /// The same way of waiting, for one more call.
    pub(crate) fn reborrow(&mut self) -> WaitAs<'_> {
        match self {
            WaitAs::Polled => WaitAs::Polled,
            WaitAs::Keyed(key) => WaitAs::Keyed(key),
        }
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
pub(crate) struct ScheduledIo {
    /// Its token, to deregister it and for traces.
    token: Token,
    /// The fd, for traces (never used to reach the kernel).
    fd: RawFd,
    readiness: Cell<Ready>,
    /// Whether `keyed` was ever allocated: events test this flag (in what
    /// would be padding) instead of taking the box out and putting it back.
    has_keyed: Cell<bool>,
    /// The last `poll_*` reader's and writer's wakers (see `waiters.rs`).
    readers: Cell<Option<Waker>>,
    writers: Cell<Option<Waker>>,
    /// `async` operations' entries, both directions, allocated by the first
    /// one and kept (with their generations) for the registration's life.
    keyed: Cell<Option<Box<KeyedPair>>>,
}

// The waiters are `Cell`s, not a `RefCell`: seven words in all (an idle
// connection pays for them), and no borrow to get wrong. Each update takes
// a value out, changes it and puts it back with no foreign code in between:
// a waker is cloned before, and what it displaced is dropped after, so a
// waker's `clone` or `drop` that came back into this registration would
// find it whole.

impl std::fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduledIo")
            .field("token", &self.token)
            .field("fd", &self.fd)
            .field("readiness", &self.readiness.get())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct KeyedPair {
    readers: Keyed,
    writers: Keyed,
}

impl KeyedPair {
    fn of(&mut self, direction: Interest) -> &mut Keyed {
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
            has_keyed: Cell::new(false),
            readers: Cell::new(None),
            writers: Cell::new(None),
            keyed: Cell::new(None),
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
    /// `interest`'s directions, as `how` says.
    #[inline]
    pub(crate) fn wait(&self, interest: Interest, mut how: WaitAs<'_>, waker: &Waker) {
        // Plain tests rather than a loop, and inlined: this is on every
        // `Pending`, nearly always for one direction.
        if interest.is_readable() {
            self.register(Interest::READABLE, &mut how, waker);
        }
        if interest.is_writable() {
            self.register(Interest::WRITABLE, &mut how, waker);
        }
    }

    #[inline]
    fn register(&self, direction: Interest, how: &mut WaitAs<'_>, waker: &Waker) {
        match how {
            WaitAs::Polled => {
                let slot = self.polled(direction);
                let current = slot.take();
                let same = current.as_ref().is_some_and(|old| old.will_wake(waker));
                // Put back before the clone, which is foreign code: should
                // it panic, the slot still holds the last caller's waker.
                slot.set(current);
                if !same {
                    let new = waker.clone();
                    // Dropped once the slot is whole again.
                    let displaced = slot.replace(Some(new));
                    drop(displaced);
                }
            }
            WaitAs::Keyed(keys) => self.register_keyed(direction, keys.get(direction), waker),
        }
    }

    /// The `async` path, out of line: `accept`, `readable()` and the like.
    #[inline(never)]
    fn register_keyed(&self, direction: Interest, key: &mut Option<WaiterKey>, waker: &Waker) {
        let waker = waker.clone();
        let mut pair = self.keyed.take().unwrap_or_default();
        let left_over = pair.of(direction).set(key, waker);
        self.keyed.set(Some(pair));
        self.has_keyed.set(true);
        drop(left_over);
    }

    fn polled(&self, direction: Interest) -> &Cell<Option<Waker>> {
        if direction == Interest::READABLE {
            &self.readers
        } else {
            &self.writers
        }
    }

    /// Removes an `async` operation's waiter in `direction` (it completed or
    /// was dropped); returns its waker, for the caller to drop.
    pub(crate) fn remove_waiter(&self, direction: Interest, key: WaiterKey) -> Option<Waker> {
        let mut pair = self.keyed.take()?;
        let removed = pair.of(direction).remove(key);
        self.keyed.set(Some(pair));
        removed
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
    /// must not call into a waker (the driver's slab is borrowed meanwhile).
    #[inline]
    pub(crate) fn set(&self, ready: Ready, woken: &mut impl WakeSink) {
        self.readiness.set(self.readiness.get() | ready);
        let (read, write) = (ready.is_readable(), ready.is_writable());
        if read {
            if let Some(waker) = self.readers.take() {
                woken.take(waker);
            }
        }
        if write {
            if let Some(waker) = self.writers.take() {
                woken.take(waker);
            }
        }
        if !self.has_keyed.get() {
            return;
        }
        if let Some(mut pair) = self.keyed.take() {
            if read {
                pair.readers.drain_into(woken);
            }
            if write {
                pair.writers.drain_into(woken);
            }
            self.keyed.set(Some(pair));
        }
    }

    /// Moves every waiter into `woken` (the fd is going away).
    pub(crate) fn drain_all(&self, woken: &mut Vec<Waker>) {
        woken.extend(self.readers.take());
        woken.extend(self.writers.take());
        if let Some(mut pair) = self.keyed.take() {
            pair.readers.drain_into(woken);
            pair.writers.drain_into(woken);
            self.keyed.set(Some(pair));
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

    fn fresh() -> ScheduledIo {
        let io = ScheduledIo::new(
            Token {
                index: 0,
                generation: 0,
            },
            0,
        );
        io.clear_would_block(Interest::READABLE | Interest::WRITABLE);
        io
    }

    #[test]
    fn polled_callers_share_one_slot_per_direction() {
        let counts: Vec<_> = (0..3)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let w: Vec<Waker> = counts.iter().map(|c| Waker::from(c.clone())).collect();
        let io = fresh();
        io.wait(Interest::READABLE, WaitAs::Polled, &w[0]);
        io.wait(Interest::READABLE, WaitAs::Polled, &w[0]); // kept, not doubled
        io.wait(Interest::READABLE, WaitAs::Polled, &w[1]); // replaces it
        io.wait(Interest::WRITABLE, WaitAs::Polled, &w[2]); // the other direction
                                                            // `counts` and `w` hold the others: the registration let go of its clone.
        assert_eq!(
            Arc::strong_count(&counts[0]),
            2,
            "the replaced waker was released"
        );
        let mut woken = Vec::new();
        io.set(Ready::READABLE, &mut woken);
        assert_eq!(woken.len(), 1, "the last reader only");
        assert!(woken[0].will_wake(&w[1]));
        io.set(Ready::WRITABLE, &mut woken);
        assert_eq!(woken.len(), 2);
        assert!(woken[1].will_wake(&w[2]));
    }

    #[test]
    fn a_registration_is_seven_words() {
        // Every registered fd has one; idle connections pay for it.
        assert_eq!(std::mem::size_of::<ScheduledIo>(), 56);
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
