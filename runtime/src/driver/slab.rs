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

#[derive(Debug)]
struct Slot {
    generation: u32,
    entry: Entry,
}

#[derive(Debug)]
enum Entry {
    Occupied(Rc<ScheduledIo>),
    Vacant { next_free: Option<u32> },
}

impl Slab {
    /// Stores a fresh registration for `fd` and returns it (it knows its token).
    pub(crate) fn insert(&mut self, fd: RawFd) -> Rc<ScheduledIo> {
        self.len += 1;
        if let Some(index) = self.free_head {
            let slot = &mut self.slots[index as usize];
            let Entry::Vacant { next_free } = slot.entry else {
                unreachable!("free list points at an occupied slot");
            };
            self.free_head = next_free;
            let token = Token {
                index,
                generation: slot.generation,
            };
            let io = Rc::new(ScheduledIo::new(token, fd));
            slot.entry = Entry::Occupied(io.clone());
            return io;
        }
        let index = u32::try_from(self.slots.len())
            .ok()
            .filter(|&i| i != u32::MAX)
            .expect("more than 2^32 - 1 registrations");
        let io = Rc::new(ScheduledIo::new(
            Token {
                index,
                generation: 0,
            },
            fd,
        ));
        self.slots.push(Slot {
            generation: 0,
            entry: Entry::Occupied(io.clone()),
        });
        io
    }

    /// The registration `token` names, if it is still the slot's tenant.
    #[inline]
    pub(crate) fn get(&self, token: Token) -> Option<&ScheduledIo> {
        match self.slots.get(token.index as usize) {
            Some(Slot {
                generation,
                entry: Entry::Occupied(io),
            }) if *generation == token.generation => Some(io),
            _ => None,
        }
    }

    /// Frees `token`'s slot and bumps its generation; stale tokens get `None`.
    pub(crate) fn remove(&mut self, token: Token) -> Option<Rc<ScheduledIo>> {
        self.get(token)?;
        let slot = &mut self.slots[token.index as usize];
        let old = std::mem::replace(
            &mut slot.entry,
            Entry::Vacant {
                next_free: self.free_head,
            },
        );
        slot.generation = slot.generation.wrapping_add(1);
        self.free_head = Some(token.index);
        self.len -= 1;
        match old {
            Entry::Occupied(io) => Some(io),
            Entry::Vacant { .. } => unreachable!("checked occupied above"),
        }
    }

    /// Visits every live registration.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&ScheduledIo)) {
        for slot in &self.slots {
            if let Entry::Occupied(io) = &slot.entry {
                f(io);
            }
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
