//! `JoinHandle` and `JoinError`: how a spawned task's result comes back.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::raw::TaskRef;
use super::state::CANCELLED;
use super::state::COMPLETE;
use super::waker::wake_task;
use crate::coop;

/// An owned permission to await a spawned task's output.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked or
/// was aborted. Dropping it *detaches* the task: the task keeps running and
/// its output is dropped when it finishes.
///
/// A `JoinHandle` stays on the runtime's thread (it is `!Send`), like the
/// task's future itself. Dropping it also releases the waker of whoever was
/// awaiting it, so a task that gave up on another (a `timeout` around the
/// handle) is not kept alive by it.
///
/// # Panics
/// Awaiting the handle of an unfinished task outside that task's runtime —
/// under another runtime, or outside any — panics: the task runs only while
/// its own runtime does, so the wait could never end. A finished task's
/// handle gives its result anywhere.
///
/// ```
/// edgeloop::block_on(async {
///     let handle = edgeloop::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
pub struct JoinHandle<T> {
    task: TaskRef,
    /// `!Send`/`!Sync`: the output may be `!Send`, and is read on this thread.
    _marker: PhantomData<(T, Rc<()>)>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: TaskRef) -> JoinHandle<T> {
        JoinHandle {
            task,
            _marker: PhantomData,
        }
    }

    /// Cancels the task. Its future is dropped the next time the runtime
    /// would have polled it, and awaiting this handle then gives a
    /// [`JoinError`] for which [`is_cancelled`](JoinError::is_cancelled) is
    /// true. A task that already finished keeps its output.
    pub fn abort(&self) {
        let prev = self.task.header().state.set(CANCELLED);
        if !prev.has(COMPLETE) {
            wake_task(&self.task);
        }
    }

    /// The task's [`Id`](crate::task::Id), as traces name it.
    pub fn id(&self) -> crate::task::Id {
        self.task.header().id
    }

    /// True once the task has finished: completed, panicked or cancelled.
    pub fn is_finished(&self) -> bool {
        self.task.header().state.load().has(COMPLETE)
    }
}

/// The handle holds a counted pointer, never the output in place, so it may
/// move whether or not `T` may.
impl<T> Unpin for JoinHandle<T> {}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: `JoinHandle` is `!Send`, so this is the thread that spawned
        // the task, which is the runtime's; `T` is the task's output type.
        unsafe {
            self.task.try_read_output(
                (&mut out as *mut Poll<Result<T, JoinError>>).cast(),
                cx.waker(),
            )
        };
        if out.is_pending() {
            self.check_runtime();
        }
        out
    }
}

impl<T> JoinHandle<T> {
    /// A task runs only while its own runtime runs: waiting for it from
    /// anywhere else would wait forever, so that panics (only the waiting
    /// path pays for the check).
    #[cold]
    fn check_runtime(&self) {
        let runtime = self.task.header().shared.id;
        match coop::current_runtime() {
            Some(running) if running == runtime => {}
            Some(other) => panic!(
                "a `JoinHandle` of a task of runtime #{} was awaited by another runtime \
                 (#{}): the task runs only inside its own runtime's `block_on`; await \
                 the handle there",
                runtime.get(),
                other.get()
            ),
            None => panic!(
                "a `JoinHandle` of a task of runtime #{} was polled outside any runtime: \
                 await it inside that runtime's `block_on` or one of its tasks",
                runtime.get()
            ),
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.task.drop_join_interest();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Why a task gave no output: it panicked, or it was cancelled.
///
/// It is opaque on purpose: ask [`is_panic`](JoinError::is_panic) or
/// [`is_cancelled`](JoinError::is_cancelled), and take the panic's payload
/// with [`into_panic`](JoinError::into_panic) to re-raise it with
/// `std::panic::resume_unwind`. `?` turns it into an `io::Error`.
///
/// ```
/// use std::time::Duration;
///
/// edgeloop::block_on(async {
///     let panicked = edgeloop::spawn(async { panic!("boom") });
///     let err = panicked.await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(err.to_string(), "task panicked: boom");
///
///     let sleeper = edgeloop::spawn(edgeloop::time::sleep(Duration::from_secs(60)));
///     sleeper.abort();
///     assert!(sleeper.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(payload),
        }
    }

    /// True if the task was aborted, or dropped when its runtime shut down.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// True if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic's payload, for `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the task was cancelled rather than panicked; see
    /// [`try_into_panic`](JoinError::try_into_panic).
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task's error")
    }

    /// The panic's payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(p) => p
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("task was cancelled"),
            (Repr::Panic(_), Some(msg)) => write!(f, "task panicked: {msg}"),
            (Repr::Panic(_), None) => f.write_str("task panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("JoinError::Cancelled"),
            (Repr::Panic(_), Some(msg)) => write!(f, "JoinError::Panic({msg:?})"),
            (Repr::Panic(_), None) => f.write_str("JoinError::Panic(..)"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err.to_string())
    }
}
