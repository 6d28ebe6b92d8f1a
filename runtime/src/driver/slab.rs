//! Registration storage: slots reused through a free list, named by tokens.

use std::os::fd::RawFd;
use std::rc::Rc;

use super::scheduled_io::ScheduledIo;
use super::token::Token;

/// All live registrations of one driver.
///
/// A freed slot is reused by the next registration with its generation bumped,
/// so a token held by (or queued in the kernel for) the old tenant no longer
/// matches: [`Slab::get`] answers `None` for it.
#[derive(Debug, Default)]
pub(crate) struct Slab {
    slots: Vec<Slot>,
    free_head: Option<u32>,
    len: usize,
}

/// One slot: 16 bytes (a registration's `Rc`, its generation, the free
/// list's link), since the slab holds one per registered fd.
#[derive(Debug)]
struct Slot {
    /// The tenant; `None` while the slot is free.
    io: Option<Rc<ScheduledIo>>,
    generation: u32,
    /// While free: the next free slot (`NO_SLOT`: none).
    next_free: u32,
}

/// `next_free`'s "none"; no slot has this index (see `insert`).
const NO_SLOT: u32 = u32::MAX;

impl Slab {
    /// Stores a fresh registration for `fd` and returns it (it knows its token).
    pub(crate) fn insert(&mut self, fd: RawFd) -> Rc<ScheduledIo> {
        let index = match self.free_head {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.slots.len())
                    .ok()
                    .filter(|&i| i != NO_SLOT)
                    .expect("more than 2^32 - 1 registrations");
                self.slots.push(Slot {
                    io: None,
                    generation: 0,
                    next_free: NO_SLOT,
                });
                index
            }
        };
        let slot = &mut self.slots[index as usize];
        debug_assert!(slot.io.is_none(), "the free list points at a free slot");
        if self.free_head == Some(index) {
            self.free_head = (slot.next_free != NO_SLOT).then_some(slot.next_free);
        }
        let token = Token {
            index,
            generation: slot.generation,
        };
        let io = Rc::new(ScheduledIo::new(token, fd));
        slot.io = Some(io.clone());
        self.len += 1;
        io
    }

    /// The registration `token` names, if it is still the slot's tenant.
    #[inline]
    pub(crate) fn get(&self, token: Token) -> Option<&ScheduledIo> {
        match self.slots.get(token.index as usize) {
            Some(Slot {
                io: Some(io),
                generation,
                ..
            }) if *generation == token.generation => Some(io),
            _ => None,
        }
    }

    /// Frees `token`'s slot and bumps its generation; stale tokens get `None`.
    pub(crate) fn remove(&mut self, token: Token) -> Option<Rc<ScheduledIo>> {
        self.get(token)?;
        let slot = &mut self.slots[token.index as usize];
        let old = slot.io.take();
        slot.generation = slot.generation.wrapping_add(1);
        slot.next_free = self.free_head.unwrap_or(NO_SLOT);
        self.free_head = Some(token.index);
        self.len -= 1;
        old
    }

    /// Visits every live registration.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&ScheduledIo)) {
        for io in self.slots.iter().filter_map(|slot| slot.io.as_deref()) {
            f(io);
        }
    }

    /// How many registrations are live.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_two_words() {
        // Every registered fd has one; idle connections pay for it.
        assert_eq!(std::mem::size_of::<Slot>(), 16);
    }

    #[test]
    fn reused_slot_rejects_the_old_token() {
        let mut slab = Slab::default();
        let a = slab.insert(0).token();
        let b = slab.insert(0).token();
        assert!(slab.remove(a).is_some());
        let c = slab.insert(0).token();
        assert_eq!(c.index, a.index, "the freed slot is reused");
        assert_ne!(c.generation, a.generation);
        assert!(
            slab.get(a).is_none(),
            "stale token must not reach the new tenant"
        );
        assert!(slab.remove(a).is_none());
        assert!(slab.get(b).is_some() && slab.get(c).is_some());
        assert_eq!(slab.len(), 2);
    }

    #[test]
    fn many_inserts_and_removes_keep_tokens_distinct() {
        let mut slab = Slab::default();
        let mut live = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for round in 0..1000u32 {
            let t = slab.insert(0).token();
            assert!(seen.insert(t), "token {t:?} handed out twice");
            live.push(t);
            if round % 3 != 0 {
                let victim = live.swap_remove((round as usize * 7) % live.len());
                assert!(slab.remove(victim).is_some());
            }
        }
        assert_eq!(slab.len(), live.len());
        for t in live {
            assert!(slab.get(t).is_some());
        }
    }
}
