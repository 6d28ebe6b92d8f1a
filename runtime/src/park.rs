//! The part of a runtime other threads may touch: the cross-thread run queue
//! and the protocol that wakes the runtime out of `epoll_wait`.
//!
//! # The park/unpark protocol
//!
//! The runtime thread, with nothing to run:
//! 1. stores `parked = true`, then a SeqCst fence;
//! 2. re-checks the remote queue and the main-future flag — if either has
//!    work it un-parks itself and does not block;
//! 3. blocks in `epoll_wait`, whose set includes the eventfd;
//! 4. on return, stores `parked = false`.
//!
//! A waker on another thread:
//! 1. pushes the task (or sets the main-future flag), then a SeqCst fence;
//! 2. swaps `parked` to false; only if it was true does it write the eventfd.
//!
//! Invariant: a wake is never lost. The two fences order "publish work, then
//! read `parked`" against "publish `parked`, then read work": either the
//! runtime's re-check sees the work, or the waker sees `parked == true` and
//! the eventfd write interrupts (or pre-empts) the `epoll_wait`. A wake while
//! the runtime is not parked costs no syscall; of several wakes during one
//! park, only the first writes the eventfd.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Wake;

use crossbeam_queue::SegQueue;

use crate::sys;
use crate::task::TaskRef;

/// The runtime's thread-safe half, shared with every task and waker.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Tasks woken from other threads, drained by the runtime each tick.
    pub(crate) remote: SegQueue<TaskRef>,
    /// The `block_on` future was woken.
    pub(crate) main_woken: AtomicBool,
    parked: AtomicBool,
    unpark_fd: OwnedFd,
    /// How many times a waker had to write the eventfd (statistics only).
    pub(crate) unpark_writes: AtomicU64,
}

impl Shared {
    pub(crate) fn new() -> io::Result<Shared> {
        Ok(Shared {
            remote: SegQueue::new(),
            main_woken: AtomicBool::new(true),
            parked: AtomicBool::new(false),
            unpark_fd: sys::eventfd()?,
            unpark_writes: AtomicU64::new(0),
        })
    }

    pub(crate) fn unpark_fd(&self) -> BorrowedFd<'_> {
        self.unpark_fd.as_fd()
    }

    /// Queues a task woken off the runtime's thread.
    pub(crate) fn push_remote(&self, task: TaskRef) {
        self.remote.push(task);
        self.unpark();
    }

    /// Step 1–2 of the waker's side: interrupts `epoll_wait` if the runtime
    /// is (about to be) blocked in it.
    fn unpark(&self) {
        fence(SeqCst);
        if self.parked.swap(false, SeqCst) {
            // An error here (EBADF is impossible while `self` lives) would
            // only mean the eventfd is full, i.e. a wake is already pending.
            let _ = sys::eventfd_signal(self.unpark_fd.as_fd());
            self.unpark_writes.fetch_add(1, Relaxed);
        }
    }

    /// Steps 1–2 of the runtime's side. True if it may block: no work arrived.
    pub(crate) fn prepare_park(&self) -> bool {
        self.parked.store(true, SeqCst);
        fence(SeqCst);
        if self.remote.is_empty() && !self.main_woken.load(SeqCst) {
            return true;
        }
        self.parked.store(false, SeqCst);
        false
    }

    /// Step 4 of the runtime's side.
    pub(crate) fn unparked(&self, eventfd_fired: bool) {
        self.parked.store(false, SeqCst);
        if eventfd_fired {
            sys::eventfd_drain(self.unpark_fd.as_fd());
        }
    }
}

/// The `block_on` future's waker: sets the flag, unparks if needed.
impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.main_woken.store(true, SeqCst);
        self.unpark();
    }
}
