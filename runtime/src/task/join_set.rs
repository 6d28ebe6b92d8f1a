//! `JoinSet`: a set of spawned tasks, awaited in the order they finish.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{Id, JoinError, JoinHandle};

/// A set of tasks spawned on the current runtime, whose outputs are taken in
/// the order the tasks finish. Dropping the set aborts every task still in
/// it.
///
/// Tasks need not be `Send` (as with [`spawn`](crate::spawn)). The set is
/// runtime-local: it stays on the runtime's thread.
///
/// ```
/// use std::time::Duration;
/// use edgeloop::task::JoinSet;
///
/// edgeloop::block_on(async {
///     let mut set = JoinSet::new();
///     for ms in [30u64, 10, 20] {
///         set.spawn(async move {
///             edgeloop::time::sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(done) = set.join_next().await {
///         order.push(done.unwrap());
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub struct JoinSet<T> {
    /// Handles of the tasks in the set, by task id.
    handles: HashMap<Id, JoinHandle<T>>,
    /// Shared with the tasks' completion hooks.
    finished: Rc<RefCell<Finished>>,
}

/// Which tasks have finished and not been taken, and who waits for one.
#[derive(Default)]
struct Finished {
    ids: VecDeque<Id>,
    waker: Option<Waker>,
}

impl<T: 'static> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            handles: HashMap::new(),
            finished: Rc::default(),
        }
    }

    /// Spawns `future` as a task on the current runtime, in this set.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> Id
    where
        F: Future<Output = T> + 'static,
    {
        let slot: Rc<std::cell::Cell<Option<Id>>> = Rc::default();
        // Made here, not inside the task: a task aborted before its first
        // poll drops its future unpolled, and the hook must still be told.
        let notify = Notify {
            finished: self.finished.clone(),
            slot: slot.clone(),
        };
        let handle = crate::spawn(async move {
            // Told on drop, so that a panic or an abort is noticed too.
            let _notify = notify;
            future.await
        });
        let id = handle.id();
        slot.set(Some(id));
        if handle.is_finished() {
            // Spawned on a runtime that is shutting down: cancelled already,
            // before its hook knew its id.
            self.finished.borrow_mut().ids.push_back(id);
        }
        self.handles.insert(id, handle);
        id
    }

    /// Waits for the next task to finish and returns its output (or why it
    /// has none); `None` once the set is empty.
    ///
    /// Cancel-safe: dropped before it completes, no output is lost.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Like [`join_next`](Self::join_next), with the finished task's id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Takes the output of a task that has finished, without waiting.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        let id = self.finished.borrow_mut().ids.pop_front()?;
        Some(self.take(id).map(|(_, out)| out))
    }

    /// Polls for the next finished task.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|done| done.map(|res| res.map(|(_, out)| out)))
    }

    fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if self.handles.is_empty() {
            return Poll::Ready(None);
        }
        let mut finished = self.finished.borrow_mut();
        match finished.ids.pop_front() {
            Some(id) => {
                drop(finished);
                Poll::Ready(Some(self.take(id)))
            }
            None => {
                let waker = cx.waker();
                if !finished.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    finished.waker = Some(waker.clone());
                }
                Poll::Pending
            }
        }
    }

    /// The output of task `id`, which has finished.
    fn take(&mut self, id: Id) -> Result<(Id, T), JoinError> {
        let mut handle = self
            .handles
            .remove(&id)
            .expect("a finished task of the set has its handle in it");
        let waker = noop_waker();
        match Pin::new(&mut handle).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(res) => res.map(|out| (id, out)),
            Poll::Pending => unreachable!("a task that told the set it finished is complete"),
        }
    }

    /// Aborts every task in the set; their outputs then come out of
    /// [`join_next`](Self::join_next) as cancelled (those that already
    /// finished keep theirs).
    pub fn abort_all(&mut self) {
        for handle in self.handles.values() {
            handle.abort();
        }
    }

    /// Removes every task from the set without aborting any: they run on,
    /// detached, and their outputs are dropped when they finish.
    pub fn detach_all(&mut self) {
        self.handles.clear();
        self.finished.borrow_mut().ids.clear();
    }

    /// How many tasks are in the set (finished ones not yet taken included).
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// True if the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }
}

impl<T: 'static> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        for handle in self.handles.values() {
            handle.abort();
        }
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet")
            .field("len", &self.handles.len())
            .finish()
    }
}

/// Tells the set its task finished (completed, panicked or aborted: the
/// future is dropped in every case).
struct Notify {
    finished: Rc<RefCell<Finished>>,
    slot: Rc<std::cell::Cell<Option<Id>>>,
}

impl Drop for Notify {
    fn drop(&mut self) {
        let Some(id) = self.slot.get() else { return };
        let waker = {
            let mut finished = self.finished.borrow_mut();
            finished.ids.push_back(id);
            finished.waker.take()
        };
        // Woken after the borrow is released.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

fn noop_waker() -> Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    Waker::from(std::sync::Arc::new(Noop))
}
