//! The single-threaded scheduler: run queues, the loop that drives them,
//! and shutdown.
//!
//! One tick of [`Core::block_on`]:
//! 1. poll the `block_on` future if it was woken;
//! 2. move tasks woken from other threads onto the local queue, then poll
//!    tasks from it until `event_interval` polls have run since the last
//!    driver check (or the `block_on` future is woken);
//! 3. turn the driver — without blocking if work is waiting, otherwise parked
//!    in `epoll_wait` until the earliest timer. Skipped when the `block_on`
//!    future was just woken and the driver is not yet due, so awaiting a
//!    task that just finished costs no syscall;
//! 4. fire due timers, then wake the tasks that called `yield_now` (so a
//!    yielding task runs again only after I/O has been looked at).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::context;
use crate::coop::{self, Budget, RuntimeId};
use crate::driver::Driver;
use crate::park::Shared;
use crate::runtime::RuntimeMetrics;
use crate::sys;
use crate::task::{self, JoinHandle, RunQueue, TaskRef};
use crate::time::Timers;
use crate::trace::{TaskOutcome, TraceEvent, TraceSink, Tracer, WakeCause};
use crate::util::{drop_wakers, wake_all};

/// Tunables, set through [`crate::Builder`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    pub(crate) event_interval: u32,
    pub(crate) io_budget: u32,
    pub(crate) max_events: usize,
    /// The thread's timer slack while `block_on` runs (`None`: leave it).
    pub(crate) timer_slack: Option<Duration>,
    /// Records the flight recorder keeps (`None`: no recorder).
    pub(crate) flight_recorder: Option<usize>,
}

/// Where the flight recorder writes (stderr unless a file is set).
pub(crate) type DumpTo = Option<std::path::PathBuf>;

/// The runtime-thread half of a runtime.
#[derive(Debug)]
pub(crate) struct Core {
    /// This runtime's number, for misuse checks (and, later, traces).
    pub(crate) id: RuntimeId,
    pub(crate) shared: Arc<Shared>,
    pub(crate) driver: Rc<Driver>,
    pub(crate) timers: Rc<Timers>,
    local: RefCell<RunQueue>,
    owned: RefCell<OwnedTasks>,
    /// Wakers of tasks in `yield_now`, woken after the next driver check.
    deferred: RefCell<Vec<Waker>>,
    /// Set at shutdown: tasks spawned from then on are cancelled at once.
    closed: Cell<bool>,
    /// Task polls so far (the `block_on` future's not counted).
    polls: Cell<u64>,
    /// Turns that blocked (parked) rather than peeked.
    parks: Cell<u64>,
    /// Polls (tasks and the `block_on` future) since the driver was checked.
    since_driver: Cell<u32>,
    /// Panics caught from wakers the runtime invoked.
    waker_panics: Cell<u64>,
    /// The task (or `block_on` future) being polled.
    current: Cell<Option<task::Id>>,
    /// The trace recorder, if tracing is on (also held by the driver and
    /// the timers).
    pub(crate) trace: Option<Rc<Tracer>>,
    /// Whether the last turn saw the eventfd fire (for the trace's wakes).
    unparked: Cell<bool>,
    /// The running `block_on` future's id (for the trace's wakes).
    main_task: Cell<Option<task::Id>>,
    /// Counters for the metrics that live here.
    counts: CoreCounts,
    /// The lost-wake detector's state (tracing only).
    lost: RefCell<LostWakes>,
    config: Config,
}

impl Core {
    pub(crate) fn new(
        config: Config,
        trace: Option<TraceSink>,
        dump_to: DumpTo,
    ) -> io::Result<Core> {
        let id = RuntimeId::next();
        let sink = trace.unwrap_or_else(|| TraceSink::from_env(id));
        let trace = Tracer::open(sink, config.flight_recorder, dump_to, id);
        let shared = Arc::new(Shared::new(id, trace.is_some())?);
        let driver = shared
            .with_unpark_fd(|fd| Driver::new(fd, config.max_events, id, trace.clone()))
            .expect("a new runtime's eventfd is open")?;
        Ok(Core {
            id,
            shared,
            driver: Rc::new(driver),
            timers: Rc::new(Timers::new(id, trace.clone())),
            local: RefCell::new(RunQueue::default()),
            owned: RefCell::new(OwnedTasks::default()),
            deferred: RefCell::new(Vec::new()),
            closed: Cell::new(false),
            polls: Cell::new(0),
            parks: Cell::new(0),
            since_driver: Cell::new(0),
            waker_panics: Cell::new(0),
            current: Cell::new(None),
            trace,
            unparked: Cell::new(false),
            main_task: Cell::new(None),
            counts: CoreCounts::default(),
            lost: RefCell::default(),
            config,
        })
    }

    /// Allocates a task for `future` and queues it.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        self.spawn_named(future, None)
    }

    /// [`spawn`](Self::spawn), with a name for traces.
    pub(crate) fn spawn_named<F>(&self, future: F, name: Option<&str>) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        bump(&self.counts.spawned, 1);
        let ptr = TaskRef::allocate(future, self.shared.clone(), 3);
        // SAFETY: `allocate` counted three references: one for the owned
        // list, one for the run queue, one for the join handle.
        let (owned, queued, join) = unsafe {
            (
                TaskRef::from_raw(ptr),
                TaskRef::from_raw(ptr),
                TaskRef::from_raw(ptr),
            )
        };
        if let Some(trace) = &self.trace {
            trace.record(TraceEvent::Spawn {
                task: owned.header().id,
                name: name.map(Arc::from),
            });
        }
        if self.closed.get() {
            owned.shutdown();
        } else {
            self.owned.borrow_mut().insert(owned);
            self.local.borrow_mut().push_back(queued);
        }
        JoinHandle::new(join)
    }

    /// Runs `future` to completion on this thread, driving every task.
    pub(crate) fn block_on<F: Future>(self: &Rc<Self>, future: F) -> F::Output {
        let _enter = context::enter(self.clone());
        let _running = Running::start(&self.driver);
        let _marked = coop::enter(self.id);
        let _slack = self.config.timer_slack.and_then(SlackGuard::set);
        let waker = Waker::from(self.shared.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        let main_id = task::Id::next();
        self.main_task.set(Some(main_id));
        if let Some(trace) = &self.trace {
            trace.record(TraceEvent::Spawn {
                task: main_id,
                name: Some(Arc::from("block_on")),
            });
        }
        self.shared.main_woken.store(true, Relaxed);
        loop {
            if self.shared.main_woken.swap(false, AcqRel) {
                self.since_driver.set(self.since_driver.get() + 1);
                let budget = Budget::initial(self.config.io_budget);
                let current = self.enter_task(main_id);
                let started = match self.trace {
                    None => None,
                    Some(_) => self.trace_poll_start(main_id),
                };
                let polled = self
                    .driver
                    .budget()
                    .with(budget, || future.as_mut().poll(&mut cx));
                if started.is_some() {
                    self.trace_poll_end(main_id, started, polled.is_ready());
                }
                drop(current);
                if let Poll::Ready(out) = polled {
                    return out;
                }
            }
            self.run_tasks();
            // The `block_on` future was woken by a task (say, the one it
            // awaits just finished): poll it again at once, without a trip to
            // `epoll_wait`, unless the driver is due.
            let driver_due = self.since_driver.get() >= self.config.event_interval;
            if !self.shared.main_woken.load(Relaxed) || driver_due {
                self.check_driver();
            }
        }
    }

    /// Polls queued tasks until `event_interval` polls (the `block_on`
    /// future's included) have run since the driver was last checked.
    fn run_tasks(&self) {
        {
            let mut local = self.local.borrow_mut();
            // The run queue is at its longest here, before a batch runs.
            let longest = &self.counts.max_run_queue;
            longest.set(longest.get().max(local.len() as u64));
            // Checked first: an empty `SegQueue::pop` costs several times
            // this, and there is nearly never a cross-thread wake.
            while !self.shared.remote.is_empty() {
                let Some(task) = self.shared.remote.pop() else {
                    break;
                };
                if let Some(trace) = &self.trace {
                    trace.record(TraceEvent::Wake {
                        task: task.header().id,
                        cause: WakeCause::OtherThread {
                            eventfd: self.unparked.get(),
                        },
                    });
                }
                local.push_back(task);
                bump(&self.counts.remote_wakes, 1);
            }
        }
        while self.since_driver.get() < self.config.event_interval {
            let Some(task) = self.local.borrow_mut().pop_front() else {
                break;
            };
            self.since_driver.set(self.since_driver.get() + 1);
            let budget = Budget::initial(self.config.io_budget);
            self.polls.set(self.polls.get().wrapping_add(1));
            let id = task.header().id;
            // `run` cannot unwind (see `task::raw`), so no guard is needed
            // to put the current task back.
            self.current.set(Some(id));
            let outcome = match &self.trace {
                None => self.driver.budget().with(budget, || task.run()),
                Some(trace) => self.run_traced(trace, &task, budget),
            };
            self.current.set(None);
            if outcome.is_some() {
                let owned = self.owned.borrow_mut().remove(&task);
                drop(owned);
            }
            drop(task);
            if self.shared.main_woken.load(Relaxed) {
                break;
            }
        }
    }

    /// Turns the driver: a zero-timeout peek if anything is runnable,
    /// otherwise a park until the next timer (or forever).
    fn check_driver(&self) {
        self.since_driver.set(0);
        let runnable = !self.local.borrow().is_empty()
            || !self.deferred.borrow().is_empty()
            || self.shared.main_woken.load(Relaxed);
        let timeout = if runnable {
            Some(Duration::ZERO)
        } else {
            self.timers
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()))
        };
        let park = timeout != Some(Duration::ZERO) && self.shared.prepare_park();
        if park {
            self.parks.set(self.parks.get().wrapping_add(1));
            if let Some(trace) = &self.trace {
                self.find_lost_wakes(trace);
            }
        }
        let timeout = if park { timeout } else { Some(Duration::ZERO) };
        let wait_started = self.trace.as_ref().map(|trace| {
            trace.record(TraceEvent::WaitStart { timeout });
            Instant::now()
        });
        let turn = self
            .driver
            .turn(
                timeout,
                |events| {
                    if park {
                        self.shared.unparked();
                    }
                    if let (Some(trace), Some(started)) = (&self.trace, wait_started) {
                        trace.record(TraceEvent::WaitEnd {
                            events,
                            blocked: started.elapsed(),
                            parked: park,
                        });
                    }
                },
                &self.local,
                &self.shared,
            )
            .unwrap_or_else(|err| panic!("edgeloop: epoll_wait failed: {err}"));
        self.unparked.set(turn.unparked);
        if turn.unparked {
            self.shared.drain_unpark();
        }
        if !self.timers.is_empty() {
            self.timers.fire(Instant::now());
        }
        if !self.deferred.borrow().is_empty() {
            self.wake_deferred();
        }
        if let Some(trace) = &self.trace {
            trace.flush();
            trace.sync();
        }
    }

    /// Wakes the tasks that yielded (`yield_now`, a spent budget) now that
    /// the driver has been looked at.
    fn wake_deferred(&self) {
        let mut deferred = std::mem::take(&mut *self.deferred.borrow_mut());
        bump(&self.counts.deferred_wakes, deferred.len() as u64);
        let cause = self
            .trace
            .as_ref()
            .map(|t| t.set_cause(WakeCause::Deferred));
        wake_all(&mut deferred);
        if let (Some(trace), Some(cause)) = (&self.trace, cause) {
            trace.set_cause(cause);
        }
        // Put the allocation back, unless a waker deferred another wake
        // meanwhile (its entry must wait for the next check, not be lost).
        let mut now = self.deferred.borrow_mut();
        if now.is_empty() {
            *now = deferred;
        }
    }

    /// Writes the flight recorder's records to stderr; how many.
    pub(crate) fn dump_trace(&self) -> io::Result<usize> {
        match &self.trace {
            Some(trace) => trace.dump(),
            None => Ok(0),
        }
    }

    /// Remembers a `yield_now` caller until the driver has been checked.
    pub(crate) fn defer(&self, waker: &Waker) {
        self.deferred.borrow_mut().push(waker.clone());
    }

    /// Records a wake of this runtime's `block_on` future made on its
    /// thread (`shared` says whose future it is).
    pub(crate) fn trace_main_wake(&self, shared: &Arc<Shared>) {
        let (Some(trace), Some(task)) = (&self.trace, self.main_task.get()) else {
            return;
        };
        if Arc::ptr_eq(&self.shared, shared) {
            trace.record(TraceEvent::Wake {
                task,
                cause: trace.cause(),
            });
        }
    }

    /// Queues a task woken on this thread.
    pub(crate) fn push_local(&self, task: TaskRef) {
        if let Some(trace) = &self.trace {
            trace.record(TraceEvent::Wake {
                task: task.header().id,
                cause: trace.cause(),
            });
        }
        self.local.borrow_mut().push_back(task);
    }

    /// A snapshot of the counters and sizes.
    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        let driver = self.driver.counters();
        RuntimeMetrics {
            live_tasks: self.owned.borrow().len,
            registrations: self.driver.registrations(),
            armed_timers: self.timers.len(),
            task_polls: self.polls.get(),
            driver_turns: driver.turns.get(),
            parks: self.parks.get(),
            io_events: driver.io_events.get(),
            would_block: driver.would_block.get(),
            unpark_writes: self.shared.unpark_writes.load(Relaxed),
            waker_panics: self.waker_panics.get(),
            tasks_spawned: self.counts.spawned.get(),
            wakes_from_io: driver.wakes.get(),
            wakes_from_timers: self.timers.counts.fired.get(),
            wakes_deferred: self.counts.deferred_wakes.get(),
            wakes_from_other_threads: self.counts.remote_wakes.get(),
            max_events_per_turn: driver.max_events.get(),
            short_transfer_clears: driver.short_transfer_clears.get(),
            stale_events: driver.stale_events.get(),
            budget_exhaustions: driver.budget_exhaustions.get(),
            timers_armed: self.timers.counts.armed.get(),
            timers_fired: self.timers.counts.fired.get(),
            timers_cancelled: self.timers.counts.cancelled.get(),
            max_run_queue: self.counts.max_run_queue.get(),
            lost_wakes: self.counts.lost_wakes.get(),
            longest_poll: self.counts.longest_poll.get(),
        }
    }

    /// The lost-wake detector: with nothing left to run, looks for tasks
    /// that are `Pending`, not queued, and whose only references are the
    /// owned list's and (if it lives) the `JoinHandle`'s — no waker of them
    /// exists anywhere, so nothing can ever queue them again. Each is
    /// reported once. Runs only while tracing, and at most every
    /// [`LOST_WAKE_SCAN_INTERVAL`], since it looks at every task.
    #[cold]
    fn find_lost_wakes(&self, trace: &Tracer) {
        let mut lost = self.lost.borrow_mut();
        let now = Instant::now();
        if lost
            .last_scan
            .is_some_and(|at| now - at < LOST_WAKE_SCAN_INTERVAL)
        {
            return;
        }
        lost.last_scan = Some(now);
        let owned = self.owned.borrow();
        for task in owned.slots.iter().flatten() {
            let header = task.header();
            if task.is_unwakeable() && lost.reported.insert(header.id) {
                bump(&self.counts.lost_wakes, 1);
                trace.lost_wake(header.id);
            }
        }
        // Tasks that finished since: forget them.
        lost.reported
            .retain(|id| owned.slots.iter().flatten().any(|t| t.header().id == *id));
    }

    /// One task poll while tracing: its start and end, and how it ended.
    #[cold]
    fn run_traced(&self, trace: &Tracer, task: &TaskRef, budget: Budget) -> Option<TaskOutcome> {
        let id = task.header().id;
        let started = self.trace_poll_start(id);
        let outcome = self.driver.budget().with(budget, || task.run());
        self.trace_poll_end(id, started, outcome.is_some());
        if let Some(outcome) = outcome {
            trace.record(TraceEvent::TaskDone { task: id, outcome });
            trace.flush();
        }
        outcome
    }

    /// Records the start of `id`'s poll, if tracing: its wakes are its own.
    fn trace_poll_start(&self, id: task::Id) -> Option<Instant> {
        let trace = self.trace.as_ref()?;
        trace.record(TraceEvent::PollStart { task: id });
        trace.set_cause(WakeCause::Task(id));
        Some(Instant::now())
    }

    /// Records the end of the poll [`trace_poll_start`](Self::trace_poll_start)
    /// began, and hands the records to the sink (a safe point).
    fn trace_poll_end(&self, id: task::Id, started: Option<Instant>, ready: bool) {
        let (Some(trace), Some(started)) = (&self.trace, started) else {
            return;
        };
        let took = started.elapsed();
        trace.record(TraceEvent::PollEnd {
            task: id,
            ready,
            took,
        });
        let longest = &self.counts.longest_poll;
        longest.set(Some(longest.get().map_or(took, |l| l.max(took))));
        trace.set_cause(WakeCause::Other);
        trace.flush();
    }

    /// The task (or `block_on` future) being polled, if any.
    pub(crate) fn current_task(&self) -> Option<task::Id> {
        self.current.get()
    }

    /// Marks `id` as the task being polled until the guard drops (also
    /// when the poll unwinds, as a `block_on` future's may).
    fn enter_task(&self, id: task::Id) -> CurrentTask<'_> {
        CurrentTask {
            core: self,
            outer: self.current.replace(Some(id)),
        }
    }

    /// Counts a panic caught from a waker (see `util::wake_caught`).
    pub(crate) fn note_waker_panic(&self) {
        self.waker_panics
            .set(self.waker_panics.get().wrapping_add(1));
    }

    /// Drops every unfinished task's future (closing its sockets), then
    /// releases the queues, timers and registrations.
    ///
    /// The order matters: the remote queue is closed only once every future
    /// is gone, because from then on a late wake on another thread may drop
    /// the last reference to a task there (see `Shared::push_remote`).
    pub(crate) fn shutdown(self: &Rc<Self>) {
        // Futures' destructors may spawn, arm timers or register fds: let
        // them find this runtime, even if another one is running here.
        let _enter = context::enter_for_shutdown(self.clone());
        self.closed.set(true);
        self.cancel_owned();
        self.shared.close();
        // Wakers are foreign code: each is released outside our borrows.
        let local = std::mem::take(&mut *self.local.borrow_mut());
        drop(local);
        let deferred = std::mem::take(&mut *self.deferred.borrow_mut());
        drop_wakers(deferred);
        self.timers.close();
        self.driver.shut_down();
        self.shared.close_unpark_fd();
        // A waker dropped above may have woken a task of ours once more.
        let local = std::mem::take(&mut *self.local.borrow_mut());
        drop(local);
        if let Some(trace) = &self.trace {
            trace.close();
        }
    }

    /// Cancels every owned task, dropping its future here, on the runtime
    /// thread. One task at a time is taken out of the list, and
    /// `TaskRef::shutdown` cannot unwind (see `task::raw`, "Unwinding"), so
    /// no task's reference is released with its future still inside.
    /// Destructors may spawn more tasks; those are cancelled as they come.
    fn cancel_owned(&self) {
        loop {
            let task = self.owned.borrow_mut().pop();
            let Some(task) = task else { break };
            task.shutdown();
        }
    }
}

/// The shortest time between two lost-wake scans.
const LOST_WAKE_SCAN_INTERVAL: Duration = Duration::from_millis(10);

/// What the lost-wake detector remembers.
#[derive(Debug, Default)]
struct LostWakes {
    last_scan: Option<Instant>,
    /// Tasks already reported (each is reported once).
    reported: HashSet<task::Id>,
}

/// Counters kept by the scheduler (runtime thread only).
#[derive(Debug, Default)]
struct CoreCounts {
    spawned: Cell<u64>,
    remote_wakes: Cell<u64>,
    deferred_wakes: Cell<u64>,
    max_run_queue: Cell<u64>,
    lost_wakes: Cell<u64>,
    longest_poll: Cell<Option<Duration>>,
}

fn bump(counter: &Cell<u64>, by: u64) {
    counter.set(counter.get().wrapping_add(by));
}

/// Marks the driver's runtime as running while `block_on` runs (also when
/// it unwinds).
struct Running<'a> {
    driver: &'a Driver,
    before: bool,
}

impl<'a> Running<'a> {
    fn start(driver: &'a Driver) -> Running<'a> {
        Running {
            driver,
            before: driver.set_running(true),
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.driver.set_running(self.before);
    }
}

/// Puts back the task that was current before [`Core::enter_task`].
struct CurrentTask<'a> {
    core: &'a Core,
    outer: Option<task::Id>,
}

impl Drop for CurrentTask<'_> {
    fn drop(&mut self) {
        self.core.current.set(self.outer);
    }
}

/// Keeps the thread's timer slack at the runtime's setting while it runs,
/// and puts the old value back after.
struct SlackGuard(Duration);

impl SlackGuard {
    /// `None` if the slack cannot be read or set: timers then keep the
    /// kernel's default precision, which is still correct, only later.
    fn set(slack: Duration) -> Option<SlackGuard> {
        let old = sys::timer_slack().ok()?;
        sys::set_timer_slack(slack).ok()?;
        Some(SlackGuard(old))
    }
}

impl Drop for SlackGuard {
    fn drop(&mut self) {
        let _ = sys::set_timer_slack(self.0);
    }
}

/// Queues a woken task: on the local queue if its runtime is running on this
/// thread, otherwise on the runtime's cross-thread queue (unparking it).
pub(crate) fn schedule(task: TaskRef) {
    let mut task = Some(task);
    context::with_core(|core| {
        if let Some(t) = task.take_if(|t| Arc::ptr_eq(&core.shared, &t.header().shared)) {
            core.push_local(t);
        }
    });
    if let Some(task) = task {
        // Held across the push: once queued, the task (and its `Arc`) may be
        // freed by the runtime before `push_remote` returns.
        let shared = task.header().shared.clone();
        shared.push_remote(task);
    }
}

/// Every task of this runtime that has not finished, indexed by the slot
/// stored in its header; the reference held here keeps unfinished futures
/// alive until they complete or the runtime shuts down.
#[derive(Debug, Default)]
struct OwnedTasks {
    slots: Vec<Option<TaskRef>>,
    free: Vec<usize>,
    len: usize,
}

impl OwnedTasks {
    fn insert(&mut self, task: TaskRef) {
        // `pop` shortens `slots` without pruning `free`: skip stale entries.
        let index = loop {
            match self.free.pop() {
                Some(i) if self.slots.get(i).is_some_and(Option::is_none) => break i,
                Some(_) => continue,
                None => break self.slots.len(),
            }
        };
        task.header().owned_index.set(index);
        if index == self.slots.len() {
            self.slots.push(Some(task));
        } else {
            self.slots[index] = Some(task);
        }
        self.len += 1;
    }

    fn remove(&mut self, task: &TaskRef) -> Option<TaskRef> {
        let index = task.header().owned_index.get();
        let slot = self.slots.get_mut(index)?;
        if slot.as_ref().map(TaskRef::as_ptr) != Some(task.as_ptr()) {
            return None;
        }
        self.free.push(index);
        self.len -= 1;
        slot.take()
    }

    /// Takes out any one task (the last slot in use), shortening the list.
    fn pop(&mut self) -> Option<TaskRef> {
        while let Some(slot) = self.slots.pop() {
            if let Some(task) = slot {
                self.len -= 1;
                return Some(task);
            }
        }
        self.free.clear();
        None
    }
}

/// A safety net for the Lifetime rule of `task::raw`: should a core ever be
/// dropped without `shutdown` (it is not, today), the tasks still listed are
/// cancelled here, on the runtime thread, rather than released with their
/// futures inside.
impl Drop for OwnedTasks {
    fn drop(&mut self) {
        while let Some(task) = self.pop() {
            task.shutdown();
        }
    }
}

impl std::fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TaskRef").field(&self.as_ptr()).finish()
    }
}
