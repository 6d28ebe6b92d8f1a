//! The queue of futures waiting on one synchronization primitive.
//!
//! Every waiting future (a blocked `send`, an `acquire`, a `lock`, a
//! `notified`) owns a [`Key`] to one entry of a [`WaitList`]. The entries
//! live in a slab and are linked first-come first-served, so the list is a
//! FIFO queue from which any entry can also be taken out in O(1).
//!
//! An entry is in one of two states:
//!
//! - **waiting**: linked into the queue, holding the future's latest waker;
//! - **notified**: taken off the queue by [`WaitList::notify_one`] or
//!   [`WaitList::notify_all`], holding what it was handed (a `G`: a permit,
//!   a reserved slot, a kind of notification), waker already returned to be
//!   woken.
//!
//! The future frees its entry when it next polls ([`WaitList::poll`] sees it
//! notified) or when it is dropped ([`WaitList::remove`]). A future dropped
//! while notified gets back what it was handed and passes it on, so nothing
//! given to a future that went away is lost. Freed entries are reused, so a
//! primitive that saw a million cancelled waits holds no more memory than
//! its most waiters at once.
//!
//! The list never wakes anything itself: it hands wakers back so that the
//! primitive can wake them after it lets go of its `RefCell` (a waker may
//! poll inline or drop things that re-enter). [`Wakers`] is the bag they go
//! into.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::task::Waker;

/// Names one future's entry in a [`WaitList`]; stale once the entry is
/// freed (the generation moves on when it is reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Key {
    index: usize,
    generation: u64,
}

/// What [`WaitList::poll`] found.
#[derive(Debug)]
pub(super) enum Polled<G> {
    /// Still queued; holds the waker the new one displaced, if any, to be
    /// dropped outside the primitive's borrow.
    Waiting(Option<Waker>),
    /// Handed `G`; the entry is freed.
    Notified(G),
}

/// What [`WaitList::remove`] took out.
#[derive(Debug)]
pub(super) enum Removed<G> {
    /// The entry was still queued; its waker, to be dropped outside the
    /// primitive's borrow.
    Waiting(Waker),
    /// The entry had been handed `G`, which the caller must pass on.
    Notified(G),
    /// The key was stale: nothing to do.
    Gone,
}

#[derive(Debug)]
enum Slot<G> {
    Vacant,
    Waiting {
        waker: Waker,
        prev: Option<usize>,
        next: Option<usize>,
    },
    Notified(G),
}

#[derive(Debug)]
struct Entry<G> {
    generation: u64,
    slot: Slot<G>,
}

/// A FIFO queue of waiting futures (see the module docs).
#[derive(Debug)]
pub(super) struct WaitList<G = ()> {
    entries: Vec<Entry<G>>,
    /// Indices of vacant entries, for reuse.
    free: Vec<usize>,
    head: Option<usize>,
    tail: Option<usize>,
    /// How many entries are waiting (linked).
    waiting: usize,
}

impl<G: Copy> WaitList<G> {
    /// An empty list; allocates nothing until the first waiter.
    pub(super) const fn new() -> Self {
        WaitList {
            entries: Vec::new(),
            free: Vec::new(),
            head: None,
            tail: None,
            waiting: 0,
        }
    }

    /// True when no future is waiting (notified entries not counted).
    pub(super) fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Queues a new waiter at the back.
    pub(super) fn push_back(&mut self, waker: &Waker) -> Key {
        let slot = Slot::Waiting {
            waker: waker.clone(),
            prev: self.tail,
            next: None,
        };
        let index = match self.free.pop() {
            Some(index) => {
                self.entries[index].slot = slot;
                index
            }
            None => {
                self.entries.push(Entry {
                    generation: 0,
                    slot,
                });
                self.entries.len() - 1
            }
        };
        match self.tail {
            Some(tail) => self.set_next(tail, Some(index)),
            None => self.head = Some(index),
        }
        self.tail = Some(index);
        self.waiting += 1;
        Key {
            index,
            generation: self.entries[index].generation,
        }
    }

    /// Called by the future that owns `key` when it is polled again: keeps
    /// it waiting with `waker`, or frees the entry and reports what it was
    /// handed.
    ///
    /// # Panics
    /// If `key` is stale: only its owner frees an entry, so that is a bug.
    pub(super) fn poll(&mut self, key: Key, waker: &Waker) -> Polled<G> {
        let entry = self.entry_mut(key).expect("a waiter's key outlived it");
        match &mut entry.slot {
            Slot::Waiting { waker: old, .. } if old.will_wake(waker) => Polled::Waiting(None),
            Slot::Waiting { waker: old, .. } => {
                Polled::Waiting(Some(std::mem::replace(old, waker.clone())))
            }
            Slot::Notified(given) => {
                let given = *given;
                self.vacate(key.index);
                Polled::Notified(given)
            }
            Slot::Vacant => unreachable!("entry_mut never returns a vacant entry"),
        }
    }

    /// Takes the entry `key` names out of the list (its future is dropped
    /// or finished another way).
    pub(super) fn remove(&mut self, key: Key) -> Removed<G> {
        let Some(entry) = self.entry_mut(key) else {
            return Removed::Gone;
        };
        let removed = match entry.slot {
            Slot::Notified(given) => Removed::Notified(given),
            _ => Removed::Waiting(self.unlink(key.index)),
        };
        self.vacate(key.index);
        removed
    }

    /// Hands `given` to the longest-waiting future; returns its waker, to be
    /// woken after the caller lets go of its borrow. `None` if nobody waits.
    pub(super) fn notify_one(&mut self, given: G) -> Option<Waker> {
        let index = self.head?;
        let waker = self.unlink(index);
        self.entries[index].slot = Slot::Notified(given);
        Some(waker)
    }

    /// Hands `given` to every waiting future, in order; their wakers go
    /// into `wakers`.
    pub(super) fn notify_all(&mut self, given: G, wakers: &mut Wakers) {
        while let Some(waker) = self.notify_one(given) {
            wakers.push(waker);
        }
    }

    /// How many entries the slab holds, in use or not (for leak tests).
    #[cfg(test)]
    pub(super) fn slab_len(&self) -> usize {
        self.entries.len()
    }

    fn entry_mut(&mut self, key: Key) -> Option<&mut Entry<G>> {
        self.entries
            .get_mut(key.index)
            .filter(|e| e.generation == key.generation && !matches!(e.slot, Slot::Vacant))
    }

    fn set_next(&mut self, index: usize, to: Option<usize>) {
        if let Slot::Waiting { next, .. } = &mut self.entries[index].slot {
            *next = to;
        }
    }

    fn set_prev(&mut self, index: usize, to: Option<usize>) {
        if let Slot::Waiting { prev, .. } = &mut self.entries[index].slot {
            *prev = to;
        }
    }

    /// Unlinks the waiting entry at `index`, leaving it vacant for the
    /// caller to refill or free; returns its waker.
    fn unlink(&mut self, index: usize) -> Waker {
        let Slot::Waiting { waker, prev, next } =
            std::mem::replace(&mut self.entries[index].slot, Slot::Vacant)
        else {
            unreachable!("only waiting entries are linked")
        };
        match prev {
            Some(prev) => self.set_next(prev, next),
            None => self.head = next,
        }
        match next {
            Some(next) => self.set_prev(next, prev),
            None => self.tail = prev,
        }
        self.waiting -= 1;
        waker
    }

    fn vacate(&mut self, index: usize) {
        let entry = &mut self.entries[index];
        entry.slot = Slot::Vacant;
        entry.generation += 1;
        self.free.push(index);
    }
}

/// Wakers collected under a borrow, to be woken once it is released.
///
/// One waker costs no allocation. [`Wakers::wake`] wakes every one even if
/// some panic, then re-raises the first panic, so a panicking waker neither
/// leaves the others asleep nor unwinds through a half-updated primitive
/// (every state change is made before the wakers are woken).
#[derive(Debug, Default)]
pub(super) struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    /// Adds one waker.
    pub(super) fn push(&mut self, waker: Waker) {
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }

    /// Wakes them all (see the type's docs about panics).
    pub(super) fn wake(self) {
        let Wakers { first, rest } = self;
        if rest.is_empty() {
            if let Some(waker) = first {
                waker.wake();
            }
            return;
        }
        let mut all = first.into_iter().chain(rest);
        let mut first_panic = None;
        loop {
            match catch_unwind(AssertUnwindSafe(|| all.by_ref().for_each(Waker::wake))) {
                Ok(()) => break,
                Err(payload) => {
                    first_panic.get_or_insert(payload);
                }
            }
        }
        if let Some(payload) = first_panic {
            resume_unwind(payload);
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

    fn waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn notifies_in_fifo_order_and_skips_removed_entries() {
        let (_, w) = waker();
        let mut list = WaitList::<u32>::new();
        let keys: Vec<_> = (0..4).map(|_| list.push_back(&w)).collect();
        assert!(matches!(list.remove(keys[1]), Removed::Waiting(_)));
        assert!(list.notify_one(7).is_some());
        assert!(list.notify_one(8).is_some());
        assert!(matches!(list.poll(keys[0], &w), Polled::Notified(7)));
        assert!(matches!(list.poll(keys[3], &w), Polled::Waiting(None)));
        assert!(matches!(list.remove(keys[2]), Removed::Notified(8)));
        assert!(matches!(list.remove(keys[2]), Removed::Gone));
        assert!(list.notify_one(9).is_some(), "keys[3] still waits");
        assert!(list.notify_one(9).is_none());
        assert!(list.is_empty());
    }

    #[test]
    fn cancelled_waits_reuse_entries_and_release_wakers() {
        let (count, w) = waker();
        let mut list = WaitList::<()>::new();
        let keep = list.push_back(&w);
        for _ in 0..10_000 {
            let key = list.push_back(&w);
            drop(list.remove(key));
        }
        assert_eq!(list.slab_len(), 2);
        assert_eq!(Arc::strong_count(&count), 3, "ours, `w`, `keep`'s entry");
        drop(list.remove(keep));
        assert_eq!(Arc::strong_count(&count), 2);
        assert!(list.is_empty());
    }

    #[test]
    fn a_stale_key_never_touches_a_reused_entry() {
        let (_, w) = waker();
        let mut list = WaitList::<()>::new();
        let old = list.push_back(&w);
        list.remove(old);
        let new = list.push_back(&w);
        assert_eq!(old.index, new.index);
        assert!(matches!(list.remove(old), Removed::Gone));
        assert!(!list.is_empty());
    }

    #[test]
    fn every_waker_is_woken_even_if_one_panics() {
        struct Bomb;
        impl Wake for Bomb {
            fn wake(self: Arc<Self>) {
                panic!("a waker panics");
            }
        }
        let (count, w) = waker();
        let mut wakers = Wakers::default();
        wakers.push(w.clone());
        wakers.push(Waker::from(Arc::new(Bomb)));
        wakers.push(w);
        let outcome = catch_unwind(AssertUnwindSafe(|| wakers.wake()));
        assert!(outcome.is_err(), "the panic is re-raised");
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }
}
