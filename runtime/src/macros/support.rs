//! What the `join!`, `try_join!` and `select!` macros expand to use. Public
//! only because macro expansions in a user's crate must reach it; not part
//! of the API.

use std::cell::Cell;
use std::future::Future;

use pin_project_lite::pin_project;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use std::future::poll_fn;
pub use std::pin::pin;
pub use std::task::Poll as PollResult;

pin_project! {
    /// A future, then its output once it finished: what `join!` keeps per
    /// branch.
    #[project = MaybeDoneProj]
    #[project_replace = MaybeDoneReplace]
    #[derive(Debug)]
    pub enum MaybeDone<F: Future> {
        /// Not finished yet.
        Pending { #[pin] future: F },
        /// Finished; the output waits to be taken.
        Done { output: F::Output },
        /// The output was taken.
        Taken,
    }
}

impl<F: Future> MaybeDone<F> {
    /// Wraps `future`.
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone::Pending { future }
    }

    /// Polls the future if it has not finished; true once it has.
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        let output = match self.as_mut().project() {
            MaybeDoneProj::Pending { future } => match future.poll(cx) {
                Poll::Ready(output) => output,
                Poll::Pending => return false,
            },
            _ => return true,
        };
        self.set(MaybeDone::Done { output });
        true
    }

    /// Takes the output.
    ///
    /// # Panics
    /// If the future has not finished, or the output was taken.
    pub fn take(self: Pin<&mut Self>) -> F::Output {
        match self.project_replace(MaybeDone::Taken) {
            MaybeDoneReplace::Done { output } => output,
            _ => panic!("edgeloop::join!: a branch's output taken before it was ready, or twice"),
        }
    }
}

impl<T, E, F: Future<Output = Result<T, E>>> MaybeDone<F> {
    /// True if the future finished with an error.
    pub fn is_err(&self) -> bool {
        matches!(self, MaybeDone::Done { output: Err(_) })
    }

    /// Takes the error of a future that finished with one.
    ///
    /// # Panics
    /// If the future did not finish with an error.
    pub fn take_err(self: Pin<&mut Self>) -> E {
        match self.take() {
            Err(err) => err,
            Ok(_) => panic!("edgeloop::try_join!: take_err on a branch that succeeded"),
        }
    }

    /// Takes the value of a future that finished with one.
    ///
    /// # Panics
    /// If the future finished with an error.
    pub fn take_ok(self: Pin<&mut Self>) -> T {
        match self.take() {
            Ok(value) => value,
            Err(_) => panic!("edgeloop::try_join!: take_ok on a branch that failed"),
        }
    }
}

thread_local! {
    static START: Cell<u32> = const { Cell::new(0) };
}

/// Where an unbiased `select!` of `branches` starts polling this time: it
/// rotates, so that no branch is always polled first (and none starves).
pub fn start_index(branches: u32) -> u32 {
    START.with(|s| {
        let n = s.get().wrapping_add(1);
        s.set(n);
        n % branches.max(1)
    })
}
