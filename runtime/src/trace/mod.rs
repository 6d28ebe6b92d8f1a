//! The runtime's own trace: every step from `epoll_wait` to a task's poll
//! and back to `EAGAIN`, recorded where it happens.
//!
//! Switch it on with the environment variable, or in code:
//!
//! - `EDGELOOP_TRACE=stderr`: one readable line per record;
//! - `EDGELOOP_TRACE=trace.json`: Chrome's trace-event JSON, which Perfetto
//!   (<https://ui.perfetto.dev>) and `chrome://tracing` open; one file per
//!   runtime, named `trace.<pid>.<runtime>.json`, since a variable may be
//!   seen by several runtimes and processes;
//! - [`Builder::trace`](crate::Builder::trace) with a [`TraceSink`], which
//!   wins over the variable, and can also hand each record to a callback.
//!
//! A line of the `stderr` form, and what it says:
//!
//! ```text
//! edgeloop#1        430.4 µs  epoll_wait → 1 event (blocked 812 µs, parked)
//! edgeloop#1        431.0 µs  fd 7 token 2:0 IN OUT
//! edgeloop#1        433.4 µs  wake task 2 (event on fd 7: IN OUT)
//! edgeloop#1        450.0 µs  poll task 2 "echo server"
//! edgeloop#1        452.2 µs  fd 7 token 2:0: read readiness cleared (short transfer)
//! edgeloop#1        458.4 µs  task 2 → Pending (8 µs)
//! ```
//!
//! The bits an event line shows are the readiness they mean to the cache,
//! named after the epoll flags behind them (`EPOLLHUP` sets `IN OUT RDHUP
//! HUP`: both directions are ready, to report the hang-up).
//!
//! Records are kept in a buffer while the runtime works and handed to the
//! sink at safe points (after each poll, after each driver turn), outside
//! the runtime's internal borrows: a callback may call `spawn` or read the
//! metrics. Off, tracing costs one well-predicted branch at each seam.
//!
//! **The lost-wake detector.** While tracing (or with a flight recorder),
//! each time the runtime is about to park — at most every 10 ms — it looks
//! for tasks that are `Pending`, not queued, and of which no waker is left
//! anywhere: nothing can ever run them again, the classic bug of a future
//! that returns `Pending` without arranging a wake. Each is reported once,
//! as a [`TraceEvent::LostWake`] record naming the task, and counted in
//! [`RuntimeMetrics::lost_wakes`](crate::RuntimeMetrics::lost_wakes). A task
//! awaiting `std::future::pending()` is such a task, by design.
//!
//! **The flight recorder** ([`Builder::flight_recorder`](crate::Builder::flight_recorder))
//! keeps the last records in memory, with or without a sink, and writes
//! them to stderr when a task panics, or when asked ([`dump`],
//! [`Runtime::dump_trace`](crate::Runtime::dump_trace)).
//!
//! A bad `EDGELOOP_TRACE` (an unknown word, a path that cannot be created)
//! gives one line on stderr and the program runs untraced; a sink that
//! fails later (a full disk) says so once, and the records it could not
//! take are counted ([`TraceEvent::Dropped`]).

mod chrome;
mod event;
mod text;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::fs::File;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

pub use event::{ClearCause, TaskOutcome, TraceEvent, TraceRecord, TraceToken, WakeCause};

use crate::coop::RuntimeId;
use crate::task::Id;
use chrome::ChromeSink;
use text::TextSink;

/// Writes the flight recorder's records of the runtime running on this
/// thread to stderr (see [`Builder::flight_recorder`](crate::Builder::flight_recorder))
/// and returns how many; 0 without a flight recorder.
///
/// # Panics
/// Outside an edgeloop runtime.
#[track_caller]
pub fn dump() -> io::Result<usize> {
    crate::context::expect_core("edgeloop::trace::dump", |core| core.dump_trace())
}

/// The environment variable read when a runtime is built.
pub const ENV_VAR: &str = "EDGELOOP_TRACE";

/// Records kept between two safe points, at most.
const MAX_PENDING: usize = 1 << 20;

/// The buffer's capacity kept after a flush.
const KEPT_CAPACITY: usize = 1024;

/// A callback sink (see [`TraceSink::callback`]).
type Callback = Rc<RefCell<dyn FnMut(&TraceRecord)>>;

/// Where a runtime's trace goes.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use edgeloop::trace::{TraceEvent, TraceSink};
///
/// let polls = Rc::new(RefCell::new(0));
/// let rt = edgeloop::Builder::new()
///     .trace(TraceSink::callback({
///         let polls = polls.clone();
///         move |record| {
///             if let TraceEvent::PollStart { .. } = record.event {
///                 *polls.borrow_mut() += 1;
///             }
///         }
///     }))
///     .build()?;
/// rt.block_on(async { edgeloop::spawn(async {}).await.unwrap() });
/// assert!(*polls.borrow() >= 2, "block_on's future and the task");
/// # Ok::<_, std::io::Error>(())
/// ```
#[derive(Clone, Default)]
pub enum TraceSink {
    /// No trace (the default when `EDGELOOP_TRACE` is unset).
    #[default]
    Off,
    /// One line per record on stderr.
    Stderr,
    /// Chrome trace-event JSON, written to this path (created or truncated).
    File(PathBuf),
    /// Each record handed to a function, on the runtime's thread.
    Callback(Callback),
}

impl TraceSink {
    /// A sink that hands each record to `f`.
    pub fn callback(f: impl FnMut(&TraceRecord) + 'static) -> TraceSink {
        TraceSink::Callback(Rc::new(RefCell::new(f)))
    }

    /// The sink `EDGELOOP_TRACE` asks for: `Off` if it is unset or empty
    /// (or says `off`), or — after one line on stderr — if it is not
    /// understood. A path gets the pid and `runtime`'s number put before its
    /// extension, since a variable may be seen by many runtimes and processes.
    pub(crate) fn from_env(runtime: RuntimeId) -> TraceSink {
        let Some(value) = std::env::var_os(ENV_VAR) else {
            return TraceSink::Off;
        };
        let Some(value) = value.to_str() else {
            eprintln!("edgeloop: {ENV_VAR} is not valid UTF-8; running without a trace");
            return TraceSink::Off;
        };
        match value {
            "" | "off" | "0" => TraceSink::Off,
            "stderr" => TraceSink::Stderr,
            path if path.contains('/') || path.ends_with(".json") => {
                TraceSink::File(per_runtime_path(Path::new(path), runtime))
            }
            other => {
                eprintln!(
                    "edgeloop: {ENV_VAR}={other:?} is not understood (expected `stderr`, `off`, \
                     or a path ending in .json); running without a trace"
                );
                TraceSink::Off
            }
        }
    }
}

impl fmt::Debug for TraceSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceSink::Off => f.write_str("Off"),
            TraceSink::Stderr => f.write_str("Stderr"),
            TraceSink::File(path) => f.debug_tuple("File").field(path).finish(),
            TraceSink::Callback(_) => f.write_str("Callback(..)"),
        }
    }
}

/// `dir/trace.json` → `dir/trace.<pid>.<runtime>.json`.
fn per_runtime_path(path: &Path, runtime: RuntimeId) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "trace".into(), |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map_or_else(|| "json".into(), |e| e.to_string_lossy().into_owned());
    let name = format!("{stem}.{}.{}.{ext}", std::process::id(), runtime.get());
    path.with_file_name(name)
}

/// Where records go, once opened.
enum Output {
    /// Nowhere but the flight recorder's ring.
    Nothing,
    Text(TextSink),
    Chrome(ChromeSink),
    Callback(Callback),
    /// The sink failed; records are only counted.
    Failed,
}

/// A runtime's recorder, shared by its scheduler, driver and timers.
pub(crate) struct Tracer {
    runtime: RuntimeId,
    start: Instant,
    pending: RefCell<Vec<TraceRecord>>,
    output: RefCell<Output>,
    /// Who is waking tasks right now (set by the seam doing it).
    cause: Cell<WakeCause>,
    /// Records the sink could not take.
    dropped: Cell<u64>,
    /// The flight recorder: the last records, kept to be dumped on a panic
    /// or when asked.
    ring: Option<RefCell<Ring>>,
    /// Where the recorder's dumps go; `None`: stderr.
    dump_to: Option<PathBuf>,
    /// Task names, and when each task's last poll ended (for the lost-wake
    /// warning, which must name the task).
    names: RefCell<HashMap<Id, Arc<str>>>,
    last_polls: RefCell<HashMap<Id, Duration>>,
}

/// The flight recorder's ring of records.
struct Ring {
    records: VecDeque<TraceRecord>,
    capacity: usize,
}

impl Ring {
    fn push(&mut self, record: &TraceRecord) {
        if self.records.len() == self.capacity {
            self.records.pop_front();
        }
        self.records.push_back(record.clone());
    }
}

impl Tracer {
    /// Opens `sink` for `runtime`; `None` if it is off or cannot be opened
    /// (which has been said on stderr).
    pub(crate) fn open(
        sink: TraceSink,
        flight_recorder: Option<usize>,
        dump_to: Option<PathBuf>,
        runtime: RuntimeId,
    ) -> Option<Rc<Tracer>> {
        let ring = flight_recorder.filter(|&n| n > 0).map(|capacity| {
            RefCell::new(Ring {
                records: VecDeque::with_capacity(capacity.min(1 << 16)),
                capacity,
            })
        });
        let output = match sink {
            TraceSink::Off if ring.is_some() => Output::Nothing,
            TraceSink::Off => return None,
            TraceSink::Stderr => Output::Text(TextSink::default()),
            TraceSink::Callback(f) => Output::Callback(f),
            TraceSink::File(path) => {
                match File::create(&path).and_then(|file| ChromeSink::create(file, runtime.get())) {
                    Ok(sink) => Output::Chrome(sink),
                    Err(err) => {
                        eprintln!(
                            "edgeloop: cannot write the trace to {}: {err}; running without a trace",
                            path.display()
                        );
                        ring.as_ref()?;
                        Output::Nothing
                    }
                }
            }
        };
        Some(Rc::new(Tracer {
            runtime,
            start: Instant::now(),
            pending: RefCell::new(Vec::with_capacity(256)),
            output: RefCell::new(output),
            cause: Cell::new(WakeCause::Other),
            dropped: Cell::new(0),
            ring,
            dump_to,
            names: RefCell::default(),
            last_polls: RefCell::default(),
        }))
    }

    /// Notes what the lost-wake warning needs from a record: task names
    /// and the end of each task's last poll.
    fn remember(&self, record: &TraceRecord) {
        match &record.event {
            TraceEvent::Spawn {
                task,
                name: Some(name),
            } => {
                self.names.borrow_mut().insert(*task, name.clone());
            }
            TraceEvent::PollEnd { task, .. } => {
                self.last_polls.borrow_mut().insert(*task, record.at);
            }
            TraceEvent::TaskDone { task, .. } => {
                self.names.borrow_mut().remove(task);
                self.last_polls.borrow_mut().remove(task);
            }
            _ => {}
        }
    }

    /// Records that `task` can never be woken (see [`TraceEvent::LostWake`]).
    pub(crate) fn lost_wake(&self, task: Id) {
        let name = self.names.borrow().get(&task).cloned();
        let last_poll = self.last_polls.borrow().get(&task).copied();
        self.record(TraceEvent::LostWake {
            task,
            name,
            last_poll,
        });
    }

    /// Writes the flight recorder's records to stderr, oldest first; how
    /// many (0 without a flight recorder).
    pub(crate) fn dump(&self) -> io::Result<usize> {
        self.flush();
        let Some(ring) = &self.ring else {
            return Ok(0);
        };
        let records: Vec<TraceRecord> = ring.borrow().records.iter().cloned().collect();
        let header = format!(
            "edgeloop: flight recorder of runtime #{}: the last {} records\n",
            self.runtime.get(),
            records.len()
        );
        let mut text = TextSink {
            names: self.names.borrow().clone(),
        };
        let lines = text.render(self.runtime.get(), &records)?;
        let mut out: Box<dyn io::Write> = match &self.dump_to {
            None => Box::new(io::stderr().lock()),
            Some(path) => match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                Ok(file) => Box::new(file),
                Err(err) => {
                    eprintln!(
                        "edgeloop: cannot write the flight recorder to {}: {err}; writing it here",
                        path.display()
                    );
                    Box::new(io::stderr().lock())
                }
            },
        };
        out.write_all(header.as_bytes())?;
        out.write_all(&lines)?;
        out.flush()?;
        Ok(records.len())
    }

    /// Records `event`, now. Past [`MAX_PENDING`] records between two
    /// safe points (a poll that arms a million timers) the rest are counted,
    /// not kept.
    pub(crate) fn record(&self, event: TraceEvent) {
        let at = self.start.elapsed();
        let mut pending = self.pending.borrow_mut();
        if pending.len() < MAX_PENDING {
            pending.push(TraceRecord { at, event });
        } else {
            self.dropped.set(self.dropped.get() + 1);
        }
    }

    /// Sets who is waking tasks from now on; returns who was.
    pub(crate) fn set_cause(&self, cause: WakeCause) -> WakeCause {
        self.cause.replace(cause)
    }

    /// Who is waking tasks right now.
    pub(crate) fn cause(&self) -> WakeCause {
        self.cause.get()
    }

    /// Hands what was recorded to the sink. Called at safe points only:
    /// never while the runtime holds a borrow a sink could run into.
    pub(crate) fn flush(&self) {
        let mut records = std::mem::take(&mut *self.pending.borrow_mut());
        if records.is_empty() {
            *self.pending.borrow_mut() = records;
            return;
        }
        let mut panicked = false;
        for record in &records {
            self.remember(record);
            if let TraceEvent::TaskDone {
                outcome: TaskOutcome::Panicked,
                ..
            } = record.event
            {
                panicked = true;
            }
        }
        if let Some(ring) = &self.ring {
            let mut ring = ring.borrow_mut();
            for record in &records {
                ring.push(record);
            }
        }
        let mut output = self.output.borrow_mut();
        let res = match &mut *output {
            Output::Nothing => Ok(()),
            Output::Text(sink) => sink.write(self.runtime.get(), &records),
            Output::Chrome(sink) => sink.write(&records),
            Output::Callback(f) => {
                // A callback that records (say, it spawns) pushes into
                // `pending`, which is free: the batch was taken out. One
                // that panics is dropped from then on, like a failed file.
                let delivered = catch_unwind(AssertUnwindSafe(|| {
                    let mut f = f.borrow_mut();
                    for record in &records {
                        f(record);
                    }
                }));
                delivered.map_err(|_| io::Error::other("the trace callback panicked"))
            }
            Output::Failed => {
                self.dropped.set(self.dropped.get() + records.len() as u64);
                Ok(())
            }
        };
        if let Err(err) = res {
            eprintln!(
                "edgeloop: the trace of runtime #{} stopped: {err}; its records are counted from now on",
                self.runtime.get()
            );
            self.dropped.set(self.dropped.get() + records.len() as u64);
            *output = Output::Failed;
        }
        drop(output);
        records.clear();
        // Keep the allocation, unless the callback recorded meanwhile, or a
        // burst made it large: it is not to pin memory after the burst.
        records.shrink_to(KEPT_CAPACITY);
        {
            let mut pending = self.pending.borrow_mut();
            if pending.is_empty() {
                *pending = records;
            }
        }
        // A task panicked: what led up to it is what the recorder is for.
        if panicked && self.ring.is_some() {
            let _ = self.dump();
        }
    }

    /// Writes out buffered file output (at each driver turn, so a killed
    /// run loses little).
    pub(crate) fn sync(&self) {
        if let Output::Chrome(sink) = &mut *self.output.borrow_mut() {
            let _ = sink.flush();
        }
    }

    /// The runtime is going away: the last records, the count of the lost
    /// ones, and the end of the file.
    pub(crate) fn close(&self) {
        if self.dropped.get() > 0 {
            self.record(TraceEvent::Dropped {
                records: self.dropped.get(),
            });
        }
        self.flush();
        if let Output::Chrome(sink) = &mut *self.output.borrow_mut() {
            if let Err(err) = sink.finish() {
                eprintln!("edgeloop: could not finish the trace file: {err}");
            }
        }
    }
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}
