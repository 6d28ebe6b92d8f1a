//! The runtime's local run queue: a FIFO of woken tasks.
//!
//! A ring of `Option<TaskRef>` slots whose length is a power of two, so an
//! index wraps with a mask. Pushing and popping are a handful of
//! instructions each and inline into the driver's turn and the scheduler's
//! loop; growing (rare: the queue keeps its size once a workload has shown
//! it) is out of line. Safe code: a slot holds `Some` exactly when it is
//! between `head` and `head + len`.

use super::TaskRef;

/// Slots a queue starts with once something is pushed.
const INITIAL_CAPACITY: usize = 64;

/// A FIFO of tasks (runtime thread only; see the module docs).
#[derive(Default)]
pub(crate) struct RunQueue {
    /// `len()` is zero or a power of two.
    slots: Box<[Option<TaskRef>]>,
    /// Where the oldest task sits.
    head: usize,
    /// How many tasks are queued.
    len: usize,
}

impl RunQueue {
    /// Queues `task` at the back.
    #[inline(always)]
    pub(crate) fn push_back(&mut self, task: TaskRef) {
        if self.len == self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        self.slots[(self.head + self.len) & mask] = Some(task);
        self.len += 1;
    }

    /// Takes the oldest task.
    #[inline(always)]
    pub(crate) fn pop_front(&mut self) -> Option<TaskRef> {
        if self.len == 0 {
            return None;
        }
        let task = self.slots[self.head].take();
        self.head = (self.head + 1) & (self.slots.len() - 1);
        self.len -= 1;
        task
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Doubles the ring, moving the tasks to its front in order.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(INITIAL_CAPACITY);
        let mut slots: Vec<Option<TaskRef>> = Vec::with_capacity(capacity);
        while let Some(task) = self.pop_front() {
            slots.push(Some(task));
        }
        self.len = slots.len();
        slots.resize_with(capacity, || None);
        self.slots = slots.into_boxed_slice();
        self.head = 0;
    }
}

impl std::fmt::Debug for RunQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunQueue").field("len", &self.len).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::park::Shared;
    use crate::task::raw::TaskRef;
    use std::sync::Arc;

    fn tasks(n: usize) -> Vec<TaskRef> {
        let shared = Arc::new(Shared::new(crate::coop::RuntimeId::next(), false).unwrap());
        (0..n)
            .map(|_| {
                let ptr = TaskRef::allocate(std::future::pending::<()>(), shared.clone(), 1);
                // SAFETY: `allocate` counted one reference, adopted here.
                let task = unsafe { TaskRef::from_raw(ptr) };
                // Its future is dropped on this thread before the reference goes.
                task.shutdown();
                task
            })
            .collect()
    }

    #[test]
    fn first_in_first_out_across_wraps_and_growth() {
        let all = tasks(300);
        let ids: Vec<_> = all.iter().map(|t| t.header().id).collect();
        let mut queue = RunQueue::default();
        let mut popped = Vec::new();
        let mut next = 0;
        // Pushes run ahead of pops by a varying amount, so the ring wraps
        // at several sizes and grows with tasks on both sides of the wrap.
        for round in 0..60 {
            for _ in 0..(round % 7 + 3) {
                if next < all.len() {
                    queue.push_back(all[next].clone());
                    next += 1;
                }
            }
            for _ in 0..(round % 5 + 1) {
                popped.extend(queue.pop_front().map(|t| t.header().id));
            }
        }
        while let Some(t) = queue.pop_front() {
            popped.push(t.header().id);
        }
        assert_eq!(next, all.len(), "every task was pushed");
        assert_eq!(popped, ids, "in order, none lost, none twice");
        assert!(queue.is_empty());
        assert_eq!(queue.len(), 0);
    }
}
