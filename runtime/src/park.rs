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
//! The `parked` flag and both halves of the protocol are [`ParkFlag`]; the
//! queue and the eventfd are passed in, so the model test (`cfg(loom)`) runs
//! this very code against modelled ones.
//!
//! Invariant: a wake is never lost. Every write to `parked` is a swap, so
//! the runtime's "announce" and each waker's "check" are ordered in one
//! read-modify-write chain: if the waker's swap comes second it reads `true`
//! and writes the eventfd, which ends (or pre-empts) the `epoll_wait`; if it
//! comes first, the runtime's swap acquires it, and with it the pushed task,
//! which the re-check then finds. The SeqCst fences order the same pairs a
//! second way ("publish work, then read `parked`" against "publish `parked`,
//! then read work"). A wake while the runtime is not parked costs no
//! syscall; of several wakes during one park, only the first writes.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, PoisonError, RwLock};
use std::task::Wake;

use crossbeam_queue::SegQueue;

use crate::coop::RuntimeId;
use crate::sys;
use crate::task::TaskRef;

/// The runtime's thread-safe half, shared with every task and waker.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The runtime this is the shared half of.
    pub(crate) id: RuntimeId,
    /// Tasks woken from other threads, drained by the runtime each tick.
    pub(crate) remote: SegQueue<TaskRef>,
    /// The `block_on` future was woken.
    pub(crate) main_woken: AtomicBool,
    /// The runtime traces: its `block_on` future's wakes are recorded too.
    pub(crate) traced: bool,
    parked: ParkFlag,
    /// Set at shutdown; see [`Shared::push_remote`].
    closed: CloseFlag,
    /// The eventfd; `None` once the runtime has shut down. Wakers write it
    /// under the read lock (only on the slow path, which makes a syscall
    /// anyway), so closing it under the write lock can never let a late
    /// write land on a reused fd number.
    unpark_fd: RwLock<Option<OwnedFd>>,
    /// How many times a waker had to write the eventfd (statistics only).
    pub(crate) unpark_writes: AtomicU64,
}

impl Shared {
    pub(crate) fn new(id: RuntimeId, traced: bool) -> io::Result<Shared> {
        Ok(Shared {
            id,
            traced,
            remote: SegQueue::new(),
            main_woken: AtomicBool::new(true),
            parked: ParkFlag::new(),
            closed: CloseFlag::new(),
            unpark_fd: RwLock::new(Some(sys::eventfd()?)),
            unpark_writes: AtomicU64::new(0),
        })
    }

    /// Runs `f` with the eventfd, unless it is closed.
    pub(crate) fn with_unpark_fd<R>(&self, f: impl FnOnce(BorrowedFd<'_>) -> R) -> Option<R> {
        let fd = self
            .unpark_fd
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        fd.as_ref().map(|fd| f(fd.as_fd()))
    }

    /// Closes the eventfd (runtime shutdown): no waker can be parked-on any
    /// more, and the process gets its fd back even while handles and
    /// wakers of the dead runtime live on.
    pub(crate) fn close_unpark_fd(&self) {
        let fd = self
            .unpark_fd
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(fd);
    }

    /// Queues a task woken off the runtime's thread.
    ///
    /// After shutdown nothing drains the queue, and a task left in it would
    /// keep itself alive (`TaskRef` → `Arc<Shared>` → queue → `TaskRef`);
    /// so a push that finds the runtime closed drains the queue itself
    /// ([`CloseFlag`] says why one side always sees the other). Dropping the
    /// references here, on a foreign thread, is sound: the runtime closes
    /// only after every task's future has been dropped on its thread.
    pub(crate) fn push_remote(&self, task: TaskRef) {
        self.remote.push(task);
        if self.closed.is_closed_after_push() {
            self.drain_remote();
            return;
        }
        self.unpark();
    }

    /// Runtime shutdown, once every task's future is gone: from here on a
    /// late cross-thread wake frees its task instead of queueing it.
    pub(crate) fn close(&self) {
        self.closed.close();
        self.drain_remote();
    }

    fn drain_remote(&self) {
        while let Some(task) = self.remote.pop() {
            drop(task);
        }
    }

    /// Step 1–2 of the waker's side: interrupts `epoll_wait` if the runtime
    /// is (about to be) blocked in it.
    fn unpark(&self) {
        if self.parked.should_interrupt() {
            // An error here (EBADF is impossible while `self` lives) would
            // only mean the eventfd is full, i.e. a wake is already pending.
            let _ = self.with_unpark_fd(sys::eventfd_signal);
            self.unpark_writes.fetch_add(1, Relaxed);
        }
    }

    /// Steps 1–2 of the runtime's side. True if it may block: no work arrived.
    pub(crate) fn prepare_park(&self) -> bool {
        self.parked
            .prepare_park(|| !self.remote.is_empty() || self.main_woken.load(SeqCst))
    }

    /// Step 4 of the runtime's side.
    pub(crate) fn unparked(&self) {
        self.parked.unparked();
    }

    /// Resets the eventfd after it fired, so its next write is a new edge.
    pub(crate) fn drain_unpark(&self) {
        self.with_unpark_fd(sys::eventfd_drain);
    }
}

/// The `block_on` future's waker: sets the flag, unparks if needed.
impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.traced {
            crate::context::with_core(|core| core.trace_main_wake(self));
        }
        self.main_woken.store(true, SeqCst);
        self.unpark();
    }
}

/// Atomics the protocol uses: std's, or loom's in the model test (`cfg(loom)`
/// on the test build only: the ordinary library, which the facade links even
/// then, keeps std's).
mod sync {
    #[cfg(all(test, loom))]
    pub(crate) use loom::sync::atomic::{fence, AtomicBool};
    #[cfg(not(all(test, loom)))]
    pub(crate) use std::sync::atomic::{fence, AtomicBool};
}

/// The `parked` flag and the two halves of the protocol around it.
#[derive(Debug)]
pub(crate) struct ParkFlag {
    parked: sync::AtomicBool,
}

impl ParkFlag {
    pub(crate) fn new() -> ParkFlag {
        ParkFlag {
            parked: sync::AtomicBool::new(false),
        }
    }

    /// Runtime side, steps 1–2: announce the park, then re-check for work
    /// published by wakers (`has_work`). True if the caller may block.
    ///
    /// Every write to `parked`, here and in [`unparked`](Self::unparked), is
    /// a swap rather than a store, so all of them form one read-modify-write
    /// chain: the model checker then knows their order exactly (with plain
    /// stores it may let a waker's swap read a value older than one it must
    /// see, and report a lost wake that cannot happen). On x86 a SeqCst
    /// store is an `xchg` anyway, so this costs nothing.
    pub(crate) fn prepare_park(&self, has_work: impl FnOnce() -> bool) -> bool {
        self.parked.swap(true, SeqCst);
        sync::fence(SeqCst);
        if !has_work() {
            return true;
        }
        self.parked.swap(false, SeqCst);
        false
    }

    /// Runtime side, step 4: the wait is over.
    pub(crate) fn unparked(&self) {
        self.parked.swap(false, SeqCst);
    }

    /// Waker side, step 2, called after the work is published. True if the
    /// caller must interrupt the wait (write the eventfd).
    pub(crate) fn should_interrupt(&self) -> bool {
        sync::fence(SeqCst);
        self.parked.swap(false, SeqCst)
    }
}

/// Whether the runtime has shut down, and the handshake that keeps a
/// cross-thread wake racing the shutdown from leaking its task.
///
/// The runtime sets the flag, then drains the remote queue; a waker pushes,
/// then reads the flag and, if set, drains the queue itself. Like the park
/// protocol this is the store-buffering pattern, ordered by SeqCst fences on
/// both sides ("publish, fence, read the other's"): it cannot be that the
/// waker reads "open" *and* the runtime's drain misses the push. Both may
/// drain at once; the queue allows concurrent pops. Model-checked below.
#[derive(Debug)]
pub(crate) struct CloseFlag {
    closed: sync::AtomicBool,
}

impl CloseFlag {
    pub(crate) fn new() -> CloseFlag {
        CloseFlag {
            closed: sync::AtomicBool::new(false),
        }
    }

    /// Runtime side: closes, before the final drain.
    pub(crate) fn close(&self) {
        self.closed.swap(true, SeqCst);
        sync::fence(SeqCst);
    }

    /// Waker side, called after the push: true if the runtime has closed,
    /// and the pusher must drain the queue itself.
    pub(crate) fn is_closed_after_push(&self) -> bool {
        sync::fence(SeqCst);
        self.closed.load(SeqCst)
    }
}

/// Model check of the protocol with loom: every interleaving, and every
/// reordering the C11 memory model allows, of a runtime that parks against
/// wakers on other threads. Run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p edgeloop-runtime
/// --release --lib park::model` (one waker is explored exhaustively in a
/// second; two wakers without a preemption bound take longer than 15 min).
///
/// The queue is modelled by a counter written with `Release` and read with
/// `Acquire` (no stronger than `SegQueue` promises); the eventfd by a flag
/// under a mutex, and the blocking `epoll_wait` by a condition-variable wait
/// for that flag (consumed on return, as the runtime drains the eventfd). A
/// lost wake leaves the runtime blocked after every waker has finished:
/// loom reports a deadlock. The property checked: every published task is seen
/// by the runtime, and the eventfd is written at most once per park.
#[cfg(all(test, loom))]
mod model {
    use super::ParkFlag;
    use loom::sync::atomic::{AtomicUsize, Ordering::*};
    use loom::sync::{Arc, Condvar, Mutex};
    use loom::thread;

    fn run(wakers: usize) {
        loom::model(move || {
            let flag = Arc::new(ParkFlag::new());
            let queue = Arc::new(AtomicUsize::new(0));
            let eventfd = Arc::new((Mutex::new(false), Condvar::new()));
            let writes = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..wakers)
                .map(|_| {
                    let (flag, queue, eventfd, writes) =
                        (flag.clone(), queue.clone(), eventfd.clone(), writes.clone());
                    thread::spawn(move || {
                        queue.fetch_add(1, Release);
                        if flag.should_interrupt() {
                            writes.fetch_add(1, Relaxed);
                            *eventfd.0.lock().unwrap() = true;
                            eventfd.1.notify_one();
                        }
                    })
                })
                .collect();
            let (mut seen, mut announced) = (0, 0);
            while seen < wakers {
                seen += queue.swap(0, Acquire);
                if seen == wakers {
                    break;
                }
                announced += 1;
                if flag.prepare_park(|| queue.load(Acquire) != 0) {
                    let mut readable = eventfd.0.lock().unwrap();
                    while !*readable {
                        readable = eventfd.1.wait(readable).unwrap();
                    }
                    *readable = false;
                }
                flag.unparked();
            }
            for h in handles {
                h.join().unwrap();
            }
            assert!(
                writes.load(Relaxed) <= announced,
                "more eventfd writes than parks announced"
            );
        });
    }

    /// A wake that races the shutdown: the waker pushes while the runtime
    /// closes and drains. Whoever drains, nothing may be left in the queue
    /// once both are done (a task left there would never be freed). The
    /// queue is a counter; an empty-queue check is a plain load, as
    /// `SegQueue::pop` on an empty queue writes nothing.
    #[test]
    fn a_push_racing_shutdown_is_always_drained() {
        use super::CloseFlag;
        fn drain(queue: &AtomicUsize, freed: &AtomicUsize) {
            if queue.load(Acquire) != 0 {
                freed.fetch_add(queue.swap(0, AcqRel), Relaxed);
            }
        }
        loom::model(|| {
            let flag = Arc::new(CloseFlag::new());
            let queue = Arc::new(AtomicUsize::new(0));
            let freed = Arc::new(AtomicUsize::new(0));
            let waker = {
                let (flag, queue, freed) = (flag.clone(), queue.clone(), freed.clone());
                thread::spawn(move || {
                    queue.fetch_add(1, Release);
                    if flag.is_closed_after_push() {
                        drain(&queue, &freed);
                    }
                })
            };
            flag.close();
            drain(&queue, &freed);
            waker.join().unwrap();
            assert_eq!(queue.load(Relaxed), 0, "a task was left in the queue");
            assert_eq!(freed.load(Relaxed), 1);
        });
    }

    #[test]
    fn one_waker_is_never_lost() {
        run(1);
    }

    #[test]
    fn two_wakers_are_never_lost() {
        run(2);
    }
}
