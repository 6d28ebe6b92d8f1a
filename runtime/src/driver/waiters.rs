//! The tasks waiting in one direction of one registration.
//!
//! Two kinds of waiter, because two kinds of caller exist:
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

/// Names one `async` operation's entry in a [`Waiters`] list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaiterKey {
    index: usize,
    epoch: u64,
}

/// Who waits in one direction (see the module docs).
///
/// Two words when no `async` operation ever waited here (the common case:
/// a connection read and written through `poll_*`); the keyed list is
/// allocated by the first one and then kept, with its generation, for the
/// registration's life.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    /// The last `poll_*` caller's waker.
    polled: Option<Waker>,
    /// `async` operations' entries.
    keyed: Option<Box<Keyed>>,
}

/// The `async` operations waiting in one direction.
#[derive(Debug, Default)]
struct Keyed {
    /// Their wakers; `None` marks a removed entry.
    entries: Vec<Option<Waker>>,
    /// Indices of removed entries, for reuse.
    free: Vec<usize>,
    /// Bumped each time the list is emptied: older keys are stale.
    epoch: u64,
}

impl Keyed {
    /// Out of line: only listeners and `async` readiness waits have one.
    #[inline(never)]
    fn drain_into(&mut self, woken: &mut impl WakeSink) {
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

impl Waiters {
    /// Records a `poll_*` caller's waker; returns the one it displaced, to
    /// be dropped by the caller outside the driver's borrows.
    #[inline]
    pub(crate) fn set_polled(&mut self, waker: &Waker) -> Option<Waker> {
        match &mut self.polled {
            Some(old) if old.will_wake(waker) => None,
            slot => slot.replace(waker.clone()),
        }
    }

    /// Records an `async` operation's waker under `key`, reusing its entry
    /// if the key is still current; returns a displaced waker, if any.
    pub(crate) fn set_keyed(
        &mut self,
        key: &mut Option<WaiterKey>,
        waker: &Waker,
    ) -> Option<Waker> {
        let list = self.keyed.get_or_insert_with(Box::default);
        if let Some(k) = *key {
            if k.epoch == list.epoch {
                if let Some(Some(old)) = list.entries.get_mut(k.index) {
                    if old.will_wake(waker) {
                        return None;
                    }
                    return Some(std::mem::replace(old, waker.clone()));
                }
            }
        }
        let index = match list.free.pop() {
            Some(index) => {
                list.entries[index] = Some(waker.clone());
                index
            }
            None => {
                list.entries.push(Some(waker.clone()));
                list.entries.len() - 1
            }
        };
        *key = Some(WaiterKey {
            index,
            epoch: list.epoch,
        });
        None
    }

    /// Removes the entry `key` names, if it is still current; returns its
    /// waker to be dropped outside the driver's borrows.
    pub(crate) fn remove(&mut self, key: WaiterKey) -> Option<Waker> {
        let list = self.keyed.as_mut()?;
        if key.epoch != list.epoch {
            return None;
        }
        let waker = list.entries.get_mut(key.index)?.take()?;
        list.free.push(key.index);
        Some(waker)
    }

    /// Hands every waiter to `woken` and starts a new generation.
    #[inline]
    pub(crate) fn drain_into(&mut self, woken: &mut impl WakeSink) {
        if let Some(waker) = self.polled.take() {
            woken.take(waker);
        }
        if let Some(list) = &mut self.keyed {
            list.drain_into(woken);
        }
    }

    /// How many wakers are held (for tests and metrics).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        usize::from(self.polled.is_some())
            + self
                .keyed
                .as_ref()
                .map_or(0, |l| l.entries.iter().flatten().count())
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
    fn polled_callers_share_one_slot() {
        let (_, w) = wakers(3);
        let mut list = Waiters::default();
        assert!(list.set_polled(&w[0]).is_none());
        assert!(list.set_polled(&w[0]).is_none(), "the same waker is kept");
        assert!(list.set_polled(&w[1]).is_some(), "another one replaces it");
        assert!(list.set_polled(&w[2]).is_some());
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn keyed_waiters_are_all_woken_and_removed_when_done() {
        let (counts, w) = wakers(8);
        let mut list = Waiters::default();
        let mut keys = [None; 8];
        for (key, waker) in keys.iter_mut().zip(&w) {
            assert!(list.set_keyed(key, waker).is_none());
        }
        // Re-polling with the same key does not add an entry.
        for (key, waker) in keys.iter_mut().zip(&w) {
            assert!(list.set_keyed(key, waker).is_none());
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
        assert!(list.set_keyed(&mut keys[1], &w[1]).is_none());
        assert_ne!(keys[1], keys[2]);
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn a_stale_key_never_removes_a_newer_waiter() {
        let (_, w) = wakers(2);
        let mut list = Waiters::default();
        let (mut old, mut new) = (None, None);
        list.set_keyed(&mut old, &w[0]);
        list.drain_into(&mut Vec::new());
        list.set_keyed(&mut new, &w[1]);
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
        let mut list = Waiters::default();
        for _ in 0..10_000 {
            let mut key = None;
            list.set_keyed(&mut key, &w[0]);
            list.remove(key.unwrap());
        }
        assert_eq!(list.keyed.as_ref().unwrap().entries.len(), 1);
        assert_eq!(list.len(), 0);
    }
}
