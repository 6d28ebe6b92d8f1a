//! Per-registration state: the cached readiness and who waits for it.

use std::task::Waker;

use super::ready::{Interest, Ready};

/// What the driver knows about one registered fd.
///
/// The readiness cache is filled by epoll events and emptied, one direction
/// at a time, only when an operation in that direction hits `EAGAIN`.
#[derive(Debug, Default)]
pub(crate) struct ScheduledIo {
    readiness: Ready,
    readers: Waiters,
    writers: Waiters,
}

impl ScheduledIo {
    /// A fresh registration is presumed ready both ways, so the first operation
    /// is tried at once instead of waiting a round trip through `epoll_wait`;
    /// if the fd was not ready the operation's `EAGAIN` clears the presumption.
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            readiness: Ready::READABLE | Ready::WRITABLE,
            readers: Waiters::default(),
            writers: Waiters::default(),
        }
    }

    pub(crate) fn readiness(&self) -> Ready {
        self.readiness
    }

    /// Readiness relevant to `interest`, or — if there is none — records `waker`
    /// to be woken by the next event in that direction and returns empty.
    pub(crate) fn poll_ready(&mut self, interest: Interest, waker: &Waker) -> Ready {
        let ready = self.readiness.for_interest(interest);
        if ready.is_empty() {
            self.waiters(interest).register(waker);
        }
        ready
    }

    /// Forgets the readiness an `EAGAIN` in `interest`'s direction disproved.
    pub(crate) fn clear(&mut self, interest: Interest) {
        self.readiness = self.readiness - Ready::clearable(interest);
    }

    /// Merges an event and moves the wakers it concerns into `woken`.
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

    fn waiters(&mut self, interest: Interest) -> &mut Waiters {
        if interest == Interest::READABLE {
            &mut self.readers
        } else {
            &mut self.writers
        }
    }
}

/// The tasks waiting in one direction.
///
/// Nearly always one task waits, so the first waker sits inline and the
/// common case allocates nothing. Further tasks (say, eight tasks accepting
/// on one listener) are kept too, never replacing the first: an event wakes
/// them all and each retries its own operation.
#[derive(Debug, Default)]
struct Waiters {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Waiters {
    fn register(&mut self, waker: &Waker) {
        match &mut self.first {
            None => self.first = Some(waker.clone()),
            Some(first) if first.will_wake(waker) => {}
            Some(_) => {
                if !self.rest.iter().any(|w| w.will_wake(waker)) {
                    self.rest.push(waker.clone());
                }
            }
        }
    }

    fn drain_into(&mut self, woken: &mut Vec<Waker>) {
        woken.extend(self.first.take());
        woken.append(&mut self.rest);
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
    fn every_distinct_waiter_is_kept_and_duplicates_are_not() {
        let counts: Vec<_> = (0..8)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let wakers: Vec<Waker> = counts.iter().map(|c| Waker::from(c.clone())).collect();
        let mut io = ScheduledIo::new();
        io.clear(Interest::READABLE);
        for w in wakers.iter().chain(wakers.iter()) {
            assert!(io.poll_ready(Interest::READABLE, w).is_empty());
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
    fn ready_direction_does_not_register() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count);
        let mut io = ScheduledIo::new();
        assert!(io.poll_ready(Interest::WRITABLE, &waker).is_writable());
        let mut woken = Vec::new();
        io.drain_all(&mut woken);
        assert!(woken.is_empty());
    }
}
