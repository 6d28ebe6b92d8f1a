//! Who waits for a registration, and where the wakers go when it is ready.
//!
//! Two kinds of waiter, because two kinds of caller exist (each
//! `ScheduledIo` keeps both, for each direction):
//!
//! - **`poll_*` callers** (`AsyncRead::poll_read`, `AsyncFd::poll_io`, …)
//!   have no future of their own to clean up after them, so they share one
//!   slot per direction that holds the waker of the *last* caller: a new
//!   waker replaces the old one, never piles up next to it. Two tasks that
//!   both wait through `poll_*` in the same direction of one fd therefore do
//!   not both get woken — the same rule as tokio's.
//! - **`async` operations** (`accept`, `readable`, `async_io`, …) own a
//!   future, and that future holds a [`WaiterKey`] to its entry: the entry
//!   is updated in place when the future is polled again, and removed when
//!   the future completes or is dropped (a `timeout` that fired, a task that
//!   ended). Any number may wait at once — eight tasks accepting on one
//!   listener each get their connection.
//!
//! An event wakes every waiter of its direction and empties the list; the
//! list's generation (`epoch`) moves on, so a key handed out before is known
//! to be stale and its future registers afresh when it next waits. The
//! common case — one task per direction — costs no allocation, and a list
//! that did grow keeps its capacity for the next round.

use std::task::Waker;

/// Where the wakers an event (or a deregistration) releases go. The
/// driver's own sink queues its runtime's tasks in place; a `Vec` keeps
/// them to be woken later, outside every borrow.
pub(crate) trait WakeSink {
    /// Takes one released waker. Called under the driver's borrows: it must
    /// not call into the waker.
    fn take(&mut self, waker: Waker);
}

impl WakeSink for Vec<Waker> {
    #[inline]
    fn take(&mut self, waker: Waker) {
        self.push(waker);
    }
}

/// Names one `async` operation's entry in a [`Keyed`] list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaiterKey {
    index: usize,
    epoch: u64,
}

/// The `async` operations waiting in one direction.
#[derive(Debug, Default)]
pub(crate) struct Keyed {
    /// Their wakers; `None` marks a removed entry.
    entries: Vec<Option<Waker>>,
    /// Indices of removed entries, for reuse.
    free: Vec<usize>,
    /// Bumped each time the list is emptied: older keys are stale.
    epoch: u64,
}

impl Keyed {
    /// Records `waker` under `key`, reusing its entry if the key is still
    /// current. The waker comes in owned (its caller cloned it, outside any
    /// borrow), and what is left over comes back, to be dropped outside
    /// too: the entry's old waker, or `waker` itself when the entry already
    /// wakes the same task.
    pub(crate) fn set(&mut self, key: &mut Option<WaiterKey>, waker: Waker) -> Option<Waker> {
        if let Some(k) = *key {
            if k.epoch == self.epoch {
                if let Some(Some(old)) = self.entries.get_mut(k.index) {
                    if old.will_wake(&waker) {
                        return Some(waker);
                    }
                    return Some(std::mem::replace(old, waker));
                }
            }
        }
        let index = match self.free.pop() {
            Some(index) => {
                self.entries[index] = Some(waker);
                index
            }
            None => {
                self.entries.push(Some(waker));
                self.entries.len() - 1
            }
        };
        *key = Some(WaiterKey {
            index,
            epoch: self.epoch,
        });
        None
    }

    /// Removes the entry `key` names, if it is still current; returns its
    /// waker to be dropped outside the driver's borrows.
    pub(crate) fn remove(&mut self, key: WaiterKey) -> Option<Waker> {
        if key.epoch != self.epoch {
            return None;
        }
        let waker = self.entries.get_mut(key.index)?.take()?;
        self.free.push(key.index);
        Some(waker)
    }

    /// Hands every waiter to `woken` and starts a new generation. Out of
    /// line: only listeners and `async` readiness waits have one.
    #[inline(never)]
    pub(crate) fn drain_into(&mut self, woken: &mut impl WakeSink) {
        if self.entries.is_empty() {
            return;
        }
        for waker in self.entries.drain(..).flatten() {
            woken.take(waker);
        }
        self.free.clear();
        self.epoch += 1;
    }
}

#[cfg(test)]
impl Keyed {
    /// How many wakers are held.
    pub(crate) fn len(&self) -> usize {
        self.entries.iter().flatten().count()
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

    fn wakers(n: usize) -> (Vec<Arc<Count>>, Vec<Waker>) {
        let counts: Vec<_> = (0..n)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let wakers = counts.iter().map(|c| Waker::from(c.clone())).collect();
        (counts, wakers)
    }

    #[test]
    fn keyed_waiters_are_all_woken_and_removed_when_done() {
        let (counts, w) = wakers(8);
        let mut list = Keyed::default();
        let mut keys = [None; 8];
        for (key, waker) in keys.iter_mut().zip(&w) {
            assert!(list.set(key, waker.clone()).is_none());
        }
        // Re-polling with the same key does not add an entry: the waker
        // handed in comes back, the entry's stays.
        for (key, waker) in keys.iter_mut().zip(&w) {
            assert!(list
                .set(key, waker.clone())
                .is_some_and(|w| w.will_wake(waker)));
        }
        assert_eq!(list.len(), 8);
        // Two operations end (say, cancelled by a timeout).
        assert!(list.remove(keys[0].unwrap()).is_some());
        assert!(list.remove(keys[0].unwrap()).is_none(), "removed once");
        assert!(list.remove(keys[5].unwrap()).is_some());
        assert_eq!(list.len(), 6);
        let mut woken = Vec::new();
        list.drain_into(&mut woken);
        assert_eq!(woken.len(), 6);
        woken.drain(..).for_each(Waker::wake);
        let woken_counts: Vec<_> = counts.iter().map(|c| c.0.load(Ordering::SeqCst)).collect();
        assert_eq!(woken_counts, [0, 1, 1, 1, 1, 0, 1, 1]);
        // After the event every old key is stale: removing one is a no-op,
        // and waiting again takes a fresh entry.
        assert!(list.remove(keys[1].unwrap()).is_none());
        assert!(list.set(&mut keys[1], w[1].clone()).is_none());
        assert_ne!(keys[1], keys[2]);
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn a_stale_key_never_removes_a_newer_waiter() {
        let (_, w) = wakers(2);
        let mut list = Keyed::default();
        let (mut old, mut new) = (None, None);
        list.set(&mut old, w[0].clone());
        list.drain_into(&mut Vec::new());
        list.set(&mut new, w[1].clone());
        assert_eq!(
            old.unwrap().index,
            new.unwrap().index,
            "same slot, new epoch"
        );
        assert!(list.remove(old.unwrap()).is_none());
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn churn_reuses_entries_instead_of_growing() {
        let (_, w) = wakers(1);
        let mut list = Keyed::default();
        for _ in 0..10_000 {
            let mut key = None;
            list.set(&mut key, w[0].clone());
            list.remove(key.unwrap());
        }
        assert_eq!(list.entries.len(), 1);
        assert_eq!(list.len(), 0);
    }
}
