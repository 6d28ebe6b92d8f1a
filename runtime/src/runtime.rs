//! `Runtime`, `Builder`, the free `block_on` and `metrics`.

use std::fmt;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use crate::coop::Budget;
use crate::driver::DEFAULT_MAX_EVENTS;
use crate::scheduler::{Config, Core};
use crate::task::JoinHandle;
use crate::trace::TraceSink;

/// The thread's timer slack while the runtime runs, by default. Linux's own
/// default (50 µs) would let every timed park end up to 50 µs late.
const DEFAULT_TIMER_SLACK: Duration = Duration::from_micros(1);

/// Tasks polled between two looks at the driver, by default.
const DEFAULT_EVENT_INTERVAL: u32 = 61;

/// A single-threaded runtime: an executor, an epoll driver and timers.
///
/// It is `!Send`: it runs on the thread that made it. Dropping it drops the
/// future of every task that has not finished (closing their sockets); their
/// `JoinHandle`s then report cancellation.
///
/// ```
/// let rt = edgeloop::Runtime::new()?;
/// let answer = rt.block_on(async { 40 + 2 });
/// assert_eq!(answer, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    core: Rc<Core>,
}

impl Runtime {
    /// A runtime with default settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// Runs `future` to completion on this thread, running spawned tasks,
    /// I/O and timers while it waits. Returns the future's output; a panic in
    /// `future` itself propagates to the caller.
    ///
    /// # Panics
    /// If called while a runtime is already running on this thread (from
    /// inside a task or another `block_on`).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.core.block_on(future)
    }

    /// Spawns a task on this runtime; it runs once `block_on` drives it.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        self.core.spawn(future)
    }

    /// Writes the flight recorder's records (see
    /// [`Builder::flight_recorder`]) to stderr, oldest first, and returns
    /// how many; 0 if the runtime has no flight recorder.
    pub fn dump_trace(&self) -> io::Result<usize> {
        self.core.dump_trace()
    }

    /// What the runtime holds right now, and counters of what it has done
    /// since it was made.
    ///
    /// ```
    /// let rt = edgeloop::Runtime::new()?;
    /// rt.block_on(async { edgeloop::spawn(async {}).await.unwrap() });
    /// let m = rt.metrics();
    /// assert_eq!(m.live_tasks, 0);
    /// assert_eq!(m.task_polls, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        self.core.metrics()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.core.shutdown();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("metrics", &self.metrics())
            .finish()
    }
}

/// A snapshot of what a [`Runtime`] holds and has done.
///
/// The counters cost one non-atomic increment each where they are counted
/// (on the runtime thread), except `unpark_writes`, which is counted only on
/// the slow path that already makes a syscall. What needs a clock read per
/// poll, or a look at every task, is kept only while tracing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Spawned tasks that have not finished.
    pub live_tasks: usize,
    /// File descriptors registered with the epoll driver.
    pub registrations: usize,
    /// Timers armed and not yet fired or cancelled.
    pub armed_timers: usize,
    /// Task polls (the `block_on` future's polls are not counted).
    pub task_polls: u64,
    /// `epoll_wait` calls, blocking or not.
    pub driver_turns: u64,
    /// Of those, the ones that parked (could block).
    pub parks: u64,
    /// epoll events delivered for registered fds.
    pub io_events: u64,
    /// I/O operations that hit `EAGAIN` and cleared readiness.
    pub would_block: u64,
    /// Cross-thread wakes that had to write the eventfd.
    pub unpark_writes: u64,
    /// Panics caught from wakers the runtime called itself: the waker of a
    /// task awaiting a `JoinHandle` when its task finished, and those of
    /// tasks waiting for I/O, a timer, `yield_now` or an fd to be closed. The
    /// panic hook has already run for each (by default it prints the
    /// message); the runtime counts it here and goes on.
    ///
    /// A waker of the user's own that panics, for example:
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::sync::Arc;
    /// use std::task::{Context, Wake, Waker};
    /// use std::time::Duration;
    ///
    /// struct Faulty;
    /// impl Wake for Faulty {
    ///     fn wake(self: Arc<Self>) {
    ///         panic!("a faulty waker");
    ///     }
    /// }
    ///
    /// let rt = edgeloop::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut timer = pin!(edgeloop::time::sleep(Duration::from_millis(1)));
    ///     let waker = Waker::from(Arc::new(Faulty));
    ///     assert!(timer.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    ///     // The timer fires meanwhile; the runtime wakes `Faulty` and catches its panic.
    ///     edgeloop::time::sleep(Duration::from_millis(5)).await;
    /// });
    /// assert_eq!(rt.metrics().waker_panics, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub waker_panics: u64,
    /// Tasks spawned so far.
    pub tasks_spawned: u64,
    /// Wakes made by epoll events (waiters of a ready direction).
    pub wakes_from_io: u64,
    /// Wakes made by timers whose deadline passed.
    pub wakes_from_timers: u64,
    /// Wakes deferred until after a driver check: `yield_now`, and tasks
    /// whose I/O budget ran out.
    pub wakes_deferred: u64,
    /// Tasks woken from other threads (taken from the cross-thread queue).
    pub wakes_from_other_threads: u64,
    /// The most events one `epoll_wait` returned.
    pub max_events_per_turn: u64,
    /// Readiness forgotten after a short read or write (the `EAGAIN` it
    /// saved, see `AsyncFd::clear_readiness`).
    pub short_transfer_clears: u64,
    /// Events dropped because their token named a closed fd's slot.
    pub stale_events: u64,
    /// I/O operations refused because their task's budget was spent.
    pub budget_exhaustions: u64,
    /// Timers armed so far (a `reset` counts again).
    pub timers_armed: u64,
    /// Timers fired.
    pub timers_fired: u64,
    /// Timers disarmed before they fired.
    pub timers_cancelled: u64,
    /// The longest the run queue has been.
    pub max_run_queue: u64,
    /// Tasks found `Pending` with no waker left anywhere (nobody can ever
    /// wake them); looked for only while tracing (see [`crate::trace`]).
    pub lost_wakes: u64,
    /// The longest single poll of a task or `block_on` future; measured
    /// only while tracing (it takes a clock read per poll).
    pub longest_poll: Option<Duration>,
}

impl RuntimeMetrics {
    /// Events per `epoll_wait`, on average.
    pub fn events_per_turn(&self) -> f64 {
        if self.driver_turns == 0 {
            0.0
        } else {
            self.io_events as f64 / self.driver_turns as f64
        }
    }
}

/// The metrics of the runtime running on this thread, from any code it
/// runs: a task, a `block_on` future (the free [`block_on`]'s too), a
/// destructor, a trace callback.
///
/// # Panics
/// Outside an edgeloop runtime.
///
/// ```
/// edgeloop::block_on(async {
///     edgeloop::spawn(async {}).await.unwrap();
///     let m = edgeloop::runtime::metrics();
///     assert_eq!(m.tasks_spawned, 1);
///     assert_eq!(m.live_tasks, 0);
/// });
/// ```
#[track_caller]
pub fn metrics() -> RuntimeMetrics {
    crate::context::expect_core("edgeloop::runtime::metrics", |core| core.metrics())
}

/// Runs `future` to completion on a new runtime on this thread.
///
/// # Panics
/// If the runtime cannot be created (the process is out of file descriptors
/// for its epoll instance or eventfd), or if a runtime is already running on
/// this thread.
///
/// ```
/// let n = edgeloop::block_on(async { 1 + 1 });
/// assert_eq!(n, 2);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let rt =
        Runtime::new().unwrap_or_else(|err| panic!("edgeloop: cannot create a runtime: {err}"));
    rt.block_on(future)
}

/// Configures a [`Runtime`].
///
/// ```
/// let rt = edgeloop::Builder::new().event_interval(31).build()?;
/// # drop(rt);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    config: Config,
    /// `None`: as `EDGELOOP_TRACE` says.
    trace: Option<TraceSink>,
    /// Where the flight recorder writes; `None`: stderr.
    dump_to: Option<std::path::PathBuf>,
}

impl Builder {
    /// The defaults: 61 tasks between driver checks, 128 I/O operations per
    /// task poll, 1024 events per `epoll_wait`, 1 µs timer slack.
    pub fn new() -> Builder {
        Builder {
            config: Config {
                event_interval: DEFAULT_EVENT_INTERVAL,
                io_budget: Budget::IO_OPERATIONS,
                max_events: DEFAULT_MAX_EVENTS,
                timer_slack: Some(DEFAULT_TIMER_SLACK),
                flight_recorder: None,
            },
            trace: None,
            dump_to: None,
        }
    }

    /// Where the flight recorder (see [`flight_recorder`](Self::flight_recorder))
    /// writes its records: appended to the file at `path`, instead of stderr.
    /// A file that cannot be opened when a dump is due gives one line on
    /// stderr and the records go to stderr instead.
    pub fn flight_recorder_file(&mut self, path: impl Into<std::path::PathBuf>) -> &mut Builder {
        self.dump_to = Some(path.into());
        self
    }

    /// Keeps the last `records` trace records in memory (a flight
    /// recorder), to be written to stderr when a task panics or when asked
    /// ([`Runtime::dump_trace`], [`crate::trace::dump`]): for the "my server
    /// hung, what was it doing?" case, at the cost of tracing (records are
    /// made) but not of writing them anywhere. Works with or without a sink.
    /// Also switches the lost-wake detector on (see [`crate::trace`]).
    ///
    /// ```
    /// let rt = edgeloop::Builder::new().flight_recorder(64).build()?;
    /// rt.block_on(async { edgeloop::yield_now().await });
    /// assert!(rt.dump_trace()? > 0, "the last records went to stderr");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flight_recorder(&mut self, records: usize) -> &mut Builder {
        self.config.flight_recorder = Some(records);
        self
    }

    /// Where the runtime's trace goes (see [`crate::trace`]); wins over the
    /// `EDGELOOP_TRACE` variable. [`TraceSink::Off`] turns it off whatever
    /// the variable says (for a test that counts allocations or fds).
    pub fn trace(&mut self, sink: TraceSink) -> &mut Builder {
        self.trace = Some(sink);
        self
    }

    /// How many task polls may run before the driver is checked for I/O
    /// (without blocking). Lower favours I/O latency, higher throughput.
    pub fn event_interval(&mut self, polls: u32) -> &mut Builder {
        self.config.event_interval = polls;
        self
    }

    /// How many I/O operations one task poll may complete before its
    /// operations return `Pending` and the task goes to the back of the queue.
    pub fn io_budget(&mut self, operations: u32) -> &mut Builder {
        self.config.io_budget = operations;
        self
    }

    /// The most events one `epoll_wait` returns.
    pub fn max_events(&mut self, events: usize) -> &mut Builder {
        self.config.max_events = events;
        self
    }

    /// The calling thread's timer slack while `block_on` runs — how late the
    /// kernel may end the runtime's timed `epoll_wait` to batch wake-ups.
    /// The default, 1 µs, keeps `sleep` precise (Linux's default is 50 µs);
    /// `None` leaves the thread's setting alone. The old value is restored
    /// when `block_on` returns.
    pub fn timer_slack(&mut self, slack: Option<Duration>) -> &mut Builder {
        self.config.timer_slack = slack;
        self
    }

    /// Creates the runtime: an epoll instance and an eventfd.
    ///
    /// Fails with `InvalidInput` if a setting is zero, or with the OS's
    /// error if the kernel refuses the file descriptors.
    pub fn build(&self) -> io::Result<Runtime> {
        let c = self.config;
        for (value, name) in [
            (c.event_interval as usize, "event_interval"),
            (c.io_budget as usize, "io_budget"),
            (c.max_events, "max_events"),
        ] {
            if value == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("edgeloop::Builder: `{name}` must be at least 1"),
                ));
            }
        }
        Ok(Runtime {
            core: Rc::new(Core::new(c, self.trace.clone(), self.dump_to.clone())?),
        })
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}
