//! `Id`: a task's number, for matching trace lines (and logs) to tasks.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A task's number: unique among all tasks of the process, for its whole
/// life, never reused. The future given to `block_on` gets one too, for the
/// length of that call.
///
/// Trace records name tasks by it, and [`id`](crate::task::id()) and
/// [`JoinHandle::id`](crate::JoinHandle::id) hand it out, so a program's own
/// log lines can be matched to the trace.
///
/// ```
/// edgeloop::block_on(async {
///     let handle = edgeloop::spawn(async { edgeloop::task::id() });
///     let id = handle.id();
///     assert_eq!(handle.await.unwrap(), id);
///     assert_ne!(edgeloop::task::id(), id, "block_on's future has its own");
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// The next number: 1, 2, 3, … across the process.
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Relaxed);
        Id(NonZeroU64::new(n).expect("2^64 tasks"))
    }

    /// The number, as an integer.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}
