//! The epoll driver: registrations, the readiness cache, and the turn that
//! turns kernel events into wakes.
//!
//! One read, end to end:
//!
//! 1. `epoll_wait` returns an event whose `u64` is a [`Token`] (slot index +
//!    generation), never the fd.
//! 2. [`Driver::turn`] looks the token up in the [`Slab`]; a stale generation
//!    (the fd was closed, its slot reused) is ignored.
//! 3. The event's bits are OR-ed into that registration's [`ScheduledIo`]
//!    readiness cache, and the wakers waiting in the ready direction are
//!    taken out. A waker of one of this runtime's own tasks is queued on the
//!    spot (that runs no foreign code); any other is woken once the slab is
//!    no longer borrowed.
//! 4. A woken task is polled; its operation tries the syscall; on `EAGAIN` it
//!    calls [`Driver::clear_ready`] for that direction and parks its waker with
//!    [`Driver::poll_ready`], returning `Pending`. The `AsyncFd` holds its
//!    `ScheduledIo` itself, so these calls need no slab lookup.
//!
//! A waiter is released when its operation ends, not only when an event
//! comes (see `waiters.rs`); and a waker is parked only by a poll of the
//! runtime that owns the registration, since no other runtime would ever
//! turn this driver to wake it.
//!
//! Each fd is registered once, edge-triggered, for both directions; nothing
//! is re-armed per wait.

mod ready;
mod scheduled_io;
mod slab;
mod token;
mod waiters;

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

pub use ready::{Interest, Ready};
pub(crate) use scheduled_io::{ScheduledIo, WaitAs, WaiterKeys};
pub(crate) use token::Token;
pub(crate) use waiters::WaiterKey;
use waiters::WakeSink;

use crate::coop::{self, PollBudget, RuntimeId};
use crate::park::Shared;
use crate::sys;
use crate::task::{self, RunQueue};
use crate::trace::{ClearCause, TraceEvent, Tracer, WakeCause};
use crate::util::{drop_wakers, wake_all, wake_caught};
use slab::Slab;
use waiters::Keyed;

/// Every fd is registered for both directions, edge-triggered, once.
/// `EPOLLPRI` is there so urgent TCP data is seen: a read stops short at the
/// urgent mark, and the driver must know not to trust that short read.
const REGISTER_EVENTS: u32 =
    (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLPRI | libc::EPOLLET) as u32;

/// The message of the error a socket gives once its runtime has shut down.
const SHUTDOWN_MSG: &str = "the edgeloop runtime this I/O object was registered with has shut down";

/// Default size of the events buffer handed to `epoll_wait` (reused forever).
pub(crate) const DEFAULT_MAX_EVENTS: usize = 1024;

/// A turn's sink for released wakers (untraced): this runtime's own tasks
/// go straight onto its run queue, any other waker is set aside to be
/// woken once the borrows are released. Nothing here calls into a waker.
struct QueueLocal<'a> {
    local: std::cell::RefMut<'a, RunQueue>,
    shared: &'a Arc<Shared>,
    foreign: &'a mut Vec<Waker>,
    /// Own tasks' wakers taken (queued now, or already queued).
    queued: u64,
}

impl WakeSink for QueueLocal<'_> {
    #[inline(always)]
    fn take(&mut self, waker: Waker) {
        match task::into_local_task(waker, self.shared) {
            Ok(task) => {
                self.queued += 1;
                // The waker's reference becomes the queue's. If the task is
                // queued already (or finished), it is just released: its
                // cell's stage is empty by then, so that runs no user code.
                if task.header().state.transition_to_scheduled() {
                    self.local.push_back(task);
                }
            }
            Err(waker) => self.foreign.push(waker),
        }
    }
}

/// What one turn saw.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Turn {
    /// Events for registrations (the eventfd's is not counted).
    pub(crate) io_events: usize,
    /// Whether the cross-thread eventfd fired.
    pub(crate) unparked: bool,
}

/// The epoll instance, its registrations, and the buffers one turn reuses.
#[derive(Debug)]
pub(crate) struct Driver {
    epoll: OwnedFd,
    events: RefCell<Vec<libc::epoll_event>>,
    slab: RefCell<Slab>,
    /// Wakers collected during a turn; kept to reuse its allocation.
    woken: RefCell<Vec<Waker>>,
    /// Deregistrations so far: each (but `AsyncFd::into_inner`'s) is an fd
    /// about to be closed, which is what a task out of fds waits for.
    releases: Cell<u64>,
    /// Tasks waiting for the next deregistration ([`crate::io::FdReleased`]).
    release_waiters: RefCell<Keyed>,
    /// Set when the runtime is dropped: nothing will turn this driver again.
    shut_down: Cell<bool>,
    /// The runtime this driver belongs to.
    owner: RuntimeId,
    /// Whether that runtime's `block_on` is running (on this thread, then:
    /// the driver is `!Send`). While it is, every poll on the thread is
    /// that runtime's — runtimes do not nest — so this stands for "the poll
    /// under way is ours", without the thread-local read.
    running: Cell<bool>,
    /// `running && !shut_down`: the one test an operation's fast path makes
    /// before it trusts the readiness cache (either failing, it takes the
    /// slow path, which says which).
    usable: Cell<bool>,
    /// The I/O budget of the poll under way (see `coop`).
    budget: PollBudget,
    /// The runtime's trace recorder, if tracing is on.
    trace: Option<Rc<Tracer>>,
    /// Wakers collected during a traced turn, with what woke each (the fd
    /// and bits of its event); only used while tracing.
    woken_by: RefCell<Vec<(RawFd, Ready)>>,
    counters: DriverCounters,
}

/// What the driver has done since it was made (runtime thread only).
#[derive(Debug, Default)]
pub(crate) struct DriverCounters {
    /// `epoll_wait` calls.
    pub(crate) turns: Cell<u64>,
    /// Events delivered for registrations.
    pub(crate) io_events: Cell<u64>,
    /// Operations that hit `EAGAIN` and cleared readiness.
    pub(crate) would_block: Cell<u64>,
    /// Wakers woken by events.
    pub(crate) wakes: Cell<u64>,
    /// The most events one turn delivered.
    pub(crate) max_events: Cell<u64>,
    /// Readiness cleared after a short transfer.
    pub(crate) short_transfer_clears: Cell<u64>,
    /// Events for a former tenant of a slot, dropped.
    pub(crate) stale_events: Cell<u64>,
    /// Operations refused because the task's budget was spent.
    pub(crate) budget_exhaustions: Cell<u64>,
}

fn bump(counter: &Cell<u64>, by: u64) {
    counter.set(counter.get().wrapping_add(by));
}

impl Driver {
    /// Creates the epoll instance and registers `unpark_fd` (the runtime's
    /// eventfd) under [`Token::WAKER`].
    pub(crate) fn new(
        unpark_fd: BorrowedFd<'_>,
        max_events: usize,
        owner: RuntimeId,
        trace: Option<Rc<Tracer>>,
    ) -> io::Result<Driver> {
        let epoll = sys::epoll_create()?;
        sys::epoll_ctl(
            epoll.as_fd(),
            libc::EPOLL_CTL_ADD,
            unpark_fd.as_raw_fd(),
            (libc::EPOLLIN | libc::EPOLLET) as u32,
            Token::WAKER,
        )?;
        Ok(Driver {
            epoll,
            events: RefCell::new(Vec::with_capacity(max_events.max(1))),
            slab: RefCell::new(Slab::default()),
            woken: RefCell::new(Vec::new()),
            releases: Cell::new(0),
            release_waiters: RefCell::new(Keyed::default()),
            shut_down: Cell::new(false),
            owner,
            running: Cell::new(false),
            usable: Cell::new(false),
            budget: PollBudget::default(),
            trace,
            woken_by: RefCell::new(Vec::new()),
            counters: DriverCounters::default(),
        })
    }

    /// Adds `fd` to the epoll set; its readiness is tracked until [`deregister`].
    ///
    /// [`deregister`]: Driver::deregister
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<Rc<ScheduledIo>> {
        if self.shut_down.get() {
            return Err(io::Error::other(SHUTDOWN_MSG));
        }
        let io = self.slab.borrow_mut().insert(fd);
        let token = io.token();
        let added = sys::epoll_ctl(
            self.epoll.as_fd(),
            libc::EPOLL_CTL_ADD,
            fd,
            REGISTER_EVENTS,
            token.to_u64(),
        );
        if let Err(err) = added {
            let removed = self.slab.borrow_mut().remove(token);
            drop(removed);
            return Err(err);
        }
        if let Some(trace) = &self.trace {
            trace.record(TraceEvent::Register {
                token: token.traced(),
                fd,
            });
        }
        Ok(io)
    }

    /// Removes `fd` from the epoll set and frees its slot. Call it before the
    /// fd is closed, so the kernel forgets it while its number is still ours.
    pub(crate) fn deregister(&self, io: &ScheduledIo, fd: RawFd) -> io::Result<()> {
        let token = io.token();
        let res = sys::epoll_ctl(self.epoll.as_fd(), libc::EPOLL_CTL_DEL, fd, 0, 0);
        if let Some(trace) = &self.trace {
            trace.record(TraceEvent::Deregister {
                token: token.traced(),
                fd,
            });
        }
        // Its waiters are dropped outside the borrow, each on its own: a
        // waker's drop is foreign code and may panic.
        // The AsyncFd's own handle is drained, whether or not the slab
        // still held it: nothing may stay parked on a dead registration.
        let removed = self.slab.borrow_mut().remove(token);
        drop(removed);
        let mut waiters = Vec::new();
        io.drain_all(&mut waiters);
        drop_wakers(waiters);
        self.releases.set(self.releases.get().wrapping_add(1));
        let mut woken = Vec::new();
        self.release_waiters.borrow_mut().drain_into(&mut woken);
        wake_all(&mut woken);
        res
    }

    /// Marks the runtime's `block_on` as running or not (see `running`).
    pub(crate) fn set_running(&self, running: bool) -> bool {
        self.usable.set(running && !self.shut_down.get());
        self.running.replace(running)
    }

    /// Whether an operation may trust the readiness cache and go ahead:
    /// the runtime is running (so the poll under way is its own) and has
    /// not shut down.
    #[inline]
    pub(crate) fn is_usable(&self) -> bool {
        self.usable.get()
    }

    /// The I/O budget of the poll under way.
    #[inline]
    pub(crate) fn budget(&self) -> &PollBudget {
        &self.budget
    }

    /// True if the poll under way is this driver's runtime's, and that
    /// runtime has not shut down: a waker parked now will be woken.
    pub(crate) fn is_running_here(&self) -> bool {
        !self.shut_down.get() && coop::current_runtime() == Some(self.owner)
    }

    /// How many fds have been deregistered so far.
    pub(crate) fn releases(&self) -> u64 {
        self.releases.get()
    }

    /// Parks `cx`'s waker until the next deregistration, under `key`.
    pub(crate) fn wait_release(&self, cx: &mut Context<'_>, key: &mut Option<WaiterKey>) {
        // Cloned before, and the left-over dropped after, the borrow: a
        // waker's `clone` and `drop` are foreign code.
        let waker = cx.waker().clone();
        let left_over = self.release_waiters.borrow_mut().set(key, waker);
        drop(left_over);
    }

    /// Releases a [`wait_release`](Self::wait_release) entry.
    pub(crate) fn remove_release_waiter(&self, key: WaiterKey) {
        let removed = self.release_waiters.borrow_mut().remove(key);
        drop(removed);
    }

    /// The cached readiness in `interest`'s direction, or `Pending` with the
    /// task's waker recorded (as `how` says) for the next event there.
    ///
    /// Fails, rather than park a waker nobody would wake or run an
    /// operation whose wake would never come, when the runtime is gone or
    /// when this runtime is not the one running on this thread.
    #[inline]
    pub(crate) fn poll_ready(
        &self,
        io: &ScheduledIo,
        interest: Interest,
        cx: &mut Context<'_>,
        how: WaitAs<'_>,
    ) -> Poll<io::Result<Ready>> {
        if !self.usable.get() {
            return Poll::Ready(Err(self.unusable()));
        }
        let ready = io.ready_for(interest);
        if !ready.is_empty() {
            return Poll::Ready(Ok(ready));
        }
        io.wait(interest, how, cx.waker());
        Poll::Pending
    }

    /// Releases an `async` operation's waiters (it completed or was dropped).
    pub(crate) fn remove_waiters(&self, io: &ScheduledIo, keys: &mut WaiterKeys) {
        let (read, write) = keys.take();
        let removed = [
            read.and_then(|key| io.remove_waiter(Interest::READABLE, key)),
            write.and_then(|key| io.remove_waiter(Interest::WRITABLE, key)),
        ];
        drop(removed);
    }

    /// Why an operation may not go ahead (see [`is_usable`](Self::is_usable)).
    #[cold]
    fn unusable(&self) -> io::Error {
        if self.shut_down.get() {
            io::Error::other(SHUTDOWN_MSG)
        } else {
            self.wrong_runtime()
        }
    }

    /// The error an I/O object gives when polled outside its runtime.
    pub(crate) fn wrong_runtime(&self) -> io::Error {
        let msg = match coop::current_runtime() {
            Some(running) => format!(
                "an edgeloop I/O object registered with runtime #{} was polled by runtime #{}: \
                 I/O objects (sockets, `AsyncFd`) must be used in the runtime that created them",
                self.owner.get(),
                running.get()
            ),
            None => format!(
                "an edgeloop I/O object registered with runtime #{} was polled outside any \
                 runtime: await it inside that runtime's `block_on` or one of its tasks",
                self.owner.get()
            ),
        };
        io::Error::other(msg)
    }

    /// Forgets readiness in `interest`'s direction after an `EAGAIN`.
    pub(crate) fn clear_ready(&self, io: &ScheduledIo, interest: Interest) {
        io.clear_would_block(interest);
        if let Some(trace) = &self.trace {
            trace.record(TraceEvent::ReadinessCleared {
                token: io.token().traced(),
                fd: io.fd(),
                interest,
                cause: ClearCause::WouldBlock,
            });
        }
    }

    /// Forgets readiness in `interest`'s direction after a short transfer.
    #[inline]
    pub(crate) fn clear_drained(&self, io: &ScheduledIo, interest: Interest) {
        bump(&self.counters.short_transfer_clears, 1);
        io.clear_drained(interest);
        if let Some(trace) = &self.trace {
            trace.record(TraceEvent::ReadinessCleared {
                token: io.token().traced(),
                fd: io.fd(),
                interest,
                cause: ClearCause::ShortTransfer,
            });
        }
    }

    /// Waits for events (up to `timeout`; `None` blocks) and wakes the tasks
    /// they concern: this runtime's own tasks (whose `Shared` is `shared`)
    /// go straight onto `local`, any other waker is woken at the end.
    /// `returned` runs as soon as `epoll_wait` is back, before any waker:
    /// the scheduler leaves the parked state there, so that the wakes this
    /// turn makes are not mistaken for wakes of a parked thread.
    pub(crate) fn turn(
        &self,
        timeout: Option<Duration>,
        returned: impl FnOnce(usize),
        local: &RefCell<RunQueue>,
        shared: &Arc<Shared>,
    ) -> io::Result<Turn> {
        let mut events = self.events.borrow_mut();
        let waited = sys::epoll_wait(self.epoll.as_fd(), &mut events, timeout);
        returned(events.len());
        waited?;
        let mut woken = std::mem::take(&mut *self.woken.borrow_mut());
        let mut turn = Turn::default();
        let mut queued = 0u64;
        match &self.trace {
            None => {
                let mut sink = QueueLocal {
                    local: local.borrow_mut(),
                    shared,
                    foreign: &mut woken,
                    queued: 0,
                };
                self.dispatch(&events, &mut turn, |io, ready| io.set(ready, &mut sink));
                queued = sink.queued;
            }
            Some(trace) => {
                // Traced, every waker goes through the list, so that each
                // wake is recorded with its event as the cause.
                let mut woken_by = self.woken_by.borrow_mut();
                self.dispatch(&events, &mut turn, |io, ready| {
                    let before = woken.len();
                    io.set(ready, &mut woken);
                    trace.record(TraceEvent::IoEvent {
                        token: io.token().traced(),
                        fd: io.fd(),
                        ready,
                    });
                    woken_by.extend((before..woken.len()).map(|_| (io.fd(), ready)));
                });
            }
        }
        drop(events);
        bump(&self.counters.turns, 1);
        bump(&self.counters.io_events, turn.io_events as u64);
        bump(&self.counters.wakes, queued + woken.len() as u64);
        let max = &self.counters.max_events;
        max.set(max.get().max(turn.io_events as u64));
        if !woken.is_empty() {
            match &self.trace {
                None => wake_all(&mut woken),
                Some(trace) => self.wake_traced(trace, &mut woken),
            }
        }
        *self.woken.borrow_mut() = woken;
        Ok(turn)
    }

    /// Sorts one turn's events: the eventfd's sets `turn.unparked`, a stale
    /// token is counted and dropped, and each live registration's readiness
    /// goes to `on_ready` (under the slab's borrow).
    #[inline]
    fn dispatch(
        &self,
        events: &[libc::epoll_event],
        turn: &mut Turn,
        mut on_ready: impl FnMut(&ScheduledIo, Ready),
    ) {
        let slab = self.slab.borrow();
        for event in events {
            // Copied out: `epoll_event` is packed on x86_64.
            let (bits, data) = (event.events, event.u64);
            if data == Token::WAKER {
                turn.unparked = true;
                if let Some(trace) = &self.trace {
                    trace.record(TraceEvent::Unpark);
                }
                continue;
            }
            turn.io_events += 1;
            let token = Token::from_u64(data);
            match slab.get(token) {
                Some(io) => on_ready(io, Ready::from_epoll(bits)),
                None => {
                    bump(&self.counters.stale_events, 1);
                    if let Some(trace) = &self.trace {
                        trace.record(TraceEvent::StaleEvent {
                            token: token.traced(),
                        });
                    }
                }
            }
        }
    }

    /// Wakes `woken`, each waker with its event as the trace's wake cause.
    fn wake_traced(&self, trace: &Tracer, woken: &mut Vec<Waker>) {
        let causes = std::mem::take(&mut *self.woken_by.borrow_mut());
        debug_assert_eq!(causes.len(), woken.len(), "one cause per waker");
        let outer = trace.cause();
        for (i, waker) in woken.drain(..).enumerate() {
            // Never skip a waker, even were the causes short of one.
            let cause = causes
                .get(i)
                .map_or(WakeCause::Other, |&(fd, ready)| WakeCause::Io { fd, ready });
            trace.set_cause(cause);
            wake_caught(waker);
        }
        trace.set_cause(outer);
        let mut causes = causes;
        causes.clear();
        *self.woken_by.borrow_mut() = causes;
    }

    /// Counts an operation refused for a spent budget.
    pub(crate) fn note_budget_spent(&self) {
        bump(&self.counters.budget_exhaustions, 1);
    }

    /// Counts an operation that hit `EAGAIN` on `io`.
    pub(crate) fn note_would_block(&self, io: &ScheduledIo, interest: Interest) {
        bump(&self.counters.would_block, 1);
        if let Some(trace) = &self.trace {
            trace.record(TraceEvent::WouldBlock {
                fd: io.fd(),
                interest,
            });
        }
    }

    pub(crate) fn counters(&self) -> &DriverCounters {
        &self.counters
    }

    /// How many fds are registered.
    pub(crate) fn registrations(&self) -> usize {
        self.slab.borrow().len()
    }

    /// Marks the driver dead (its runtime is gone): a later poll of a socket
    /// gets an error instead of waiting for a turn that will never come. The
    /// waiters' wakers (tasks of the dead runtime) are released, not woken.
    pub(crate) fn shut_down(&self) {
        self.shut_down.set(true);
        self.usable.set(false);
        let mut released = Vec::new();
        self.slab
            .borrow()
            .for_each(|io| io.drain_all(&mut released));
        self.release_waiters.borrow_mut().drain_into(&mut released);
        drop_wakers(released);
    }
}
