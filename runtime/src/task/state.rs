//! A task's lifecycle flags and reference count, packed in one atomic word.
//!
//! | bit | name | set by | meaning |
//! |---|---|---|---|
//! | 0 | `SCHEDULED` | a waker, any thread | the task is in a run queue, or about to be |
//! | 1 | `COMPLETE` | the runtime thread | the future is gone; the output (if any) waits in the cell |
//! | 2 | `CANCELLED` | `abort`, shutdown | the next run drops the future instead of polling it |
//! | 3 | `JOIN_INTEREST` | spawn; cleared by `JoinHandle` drop | someone may still read the output |
//! | 6.. | refs | every `TaskRef` and `Waker` | the cell is freed when this reaches zero |
//!
//! Legal combinations: `SCHEDULED` may be set with anything (on a `COMPLETE`
//! task it is ignored: the queue entry finds the task finished and just drops
//! its reference). `CANCELLED` without `COMPLETE` means an abort is pending.
//! Once `COMPLETE` is set it is never cleared.

use std::sync::atomic::{
    AtomicUsize, Ordering, Ordering::AcqRel, Ordering::Acquire, Ordering::Release,
};

pub(crate) const SCHEDULED: usize = 1;
pub(crate) const COMPLETE: usize = 1 << 1;
pub(crate) const CANCELLED: usize = 1 << 2;
pub(crate) const JOIN_INTEREST: usize = 1 << 3;
const REF_SHIFT: u32 = 6;
const REF_ONE: usize = 1 << REF_SHIFT;

/// A snapshot of the state word.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn has(self, flag: usize) -> bool {
        self.0 & flag != 0
    }

    pub(crate) fn refs(self) -> usize {
        self.0 >> REF_SHIFT
    }
}

/// The state word of one task.
#[derive(Debug)]
pub(crate) struct State(AtomicUsize);

impl State {
    /// A new task: queued once, joinable, with `refs` references.
    pub(crate) fn new(refs: usize) -> State {
        State(AtomicUsize::new(
            SCHEDULED | JOIN_INTEREST | (refs * REF_ONE),
        ))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// Sets `SCHEDULED`; true when the caller must enqueue the task (it was
    /// neither queued already nor complete).
    ///
    /// `COMPLETE` is looked at first, apart, so that setting the bit is a
    /// single test-and-set (`lock bts`) rather than a compare-and-swap
    /// loop. A task that completes between the two is queued once more;
    /// its queue entry finds it finished and only drops the reference (the
    /// combination the table above allows).
    #[inline]
    pub(crate) fn transition_to_scheduled(&self) -> bool {
        if Snapshot(self.0.load(Ordering::Relaxed)).has(COMPLETE) {
            return false;
        }
        self.0.fetch_or(SCHEDULED, AcqRel) & SCHEDULED == 0
    }

    /// Clears `SCHEDULED` as the runtime takes the task off its queue, so a
    /// wake during the poll queues it again. Returns the state before.
    pub(crate) fn transition_to_running(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!SCHEDULED, AcqRel))
    }

    /// Sets `flag`; returns the state before.
    pub(crate) fn set(&self, flag: usize) -> Snapshot {
        Snapshot(self.0.fetch_or(flag, AcqRel))
    }

    /// Clears `flag`; returns the state before.
    pub(crate) fn unset(&self, flag: usize) -> Snapshot {
        Snapshot(self.0.fetch_and(!flag, AcqRel))
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        // Like `Arc`: a count this large means leaked references; stop before
        // it can wrap into the flag bits.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference; true when it was the last.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(REF_ONE, Release));
        if prev.refs() == 1 {
            std::sync::atomic::fence(Acquire);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_or_complete_task_is_not_queued_again() {
        let s = State::new(1);
        assert!(!s.transition_to_scheduled(), "new tasks start queued");
        assert!(s.transition_to_running().has(SCHEDULED));
        assert!(s.transition_to_scheduled());
        assert!(!s.transition_to_scheduled());
        s.transition_to_running();
        s.set(COMPLETE);
        assert!(
            !s.transition_to_scheduled(),
            "waking a finished task does nothing"
        );
    }

    #[test]
    fn refcount_reports_the_last_reference() {
        let s = State::new(2);
        s.ref_inc();
        assert_eq!(s.load().refs(), 3);
        assert!(!s.ref_dec());
        assert!(!s.ref_dec());
        assert!(s.ref_dec());
        assert!(
            s.load().has(JOIN_INTEREST),
            "flags survive refcount changes"
        );
    }
}
