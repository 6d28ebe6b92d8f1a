//! Which runtime, if any, is running on this thread.

use std::cell::RefCell;
use std::rc::Rc;

use crate::scheduler::Core;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Error text for runtime-only calls made outside one.
pub(crate) const NO_RUNTIME: &str = "must be called from inside an edgeloop runtime \
     (from the future given to `edgeloop::block_on` / `Runtime::block_on`, or from a task it spawned)";

const NESTED_RUNTIME: &str = "cannot start an edgeloop runtime from inside another one: \
     `block_on` was called on a thread that is already running `block_on`; \
     spawn the work with `edgeloop::spawn` and `.await` its handle instead";

/// Makes `core` current until dropped.
pub(crate) struct EnterGuard(());

/// Makes `core` the thread's runtime.
///
/// # Panics
/// If a runtime is already current on this thread.
pub(crate) fn enter(core: Rc<Core>) -> EnterGuard {
    if CURRENT.try_with(|_| ()).is_err() {
        panic!("{EXITING}");
    }
    try_enter(core).expect(NESTED_RUNTIME)
}

const EXITING: &str = "cannot run an edgeloop runtime's `block_on` while its thread is exiting \
     (from a thread-local's destructor): the runtime's thread-local state is already gone";

/// Makes `core` the thread's runtime, unless one already is (or the thread
/// is being torn down and its thread-locals are gone: a `Runtime` kept in a
/// `thread_local!` is dropped then, and must not panic in a destructor).
pub(crate) fn try_enter(core: Rc<Core>) -> Option<EnterGuard> {
    CURRENT
        .try_with(|current| {
            let mut current = current.borrow_mut();
            if current.is_some() {
                return None;
            }
            *current = Some(core);
            Some(EnterGuard(()))
        })
        .ok()
        .flatten()
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // Taken out first: dropping the `Rc` must not happen under the borrow.
        let core = CURRENT.try_with(|current| current.borrow_mut().take());
        drop(core);
    }
}

/// Makes `core` current while it shuts down, even if another runtime is
/// current (a runtime dropped from inside another's task): what its tasks'
/// destructors spawn, arm or register must land on the runtime going away,
/// not on the one that happens to be running. The previous runtime is put
/// back when the guard drops.
pub(crate) fn enter_for_shutdown(core: Rc<Core>) -> ShutdownGuard {
    let previous = CURRENT.try_with(|current| current.replace(Some(core))).ok();
    ShutdownGuard { previous }
}

/// Restores the runtime that was current before [`enter_for_shutdown`].
pub(crate) struct ShutdownGuard {
    /// `None` when the thread-local was already gone.
    previous: Option<Option<Rc<Core>>>,
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        let Some(previous) = self.previous.take() else {
            return;
        };
        let ours = CURRENT.try_with(|current| current.replace(previous));
        // Dropped outside the borrow (it may be the last `Rc` of the core).
        drop(ours);
    }
}

/// Runs `f` with the current runtime, or returns `None` outside one (and
/// during thread teardown).
pub(crate) fn with_core<R>(f: impl FnOnce(&Rc<Core>) -> R) -> Option<R> {
    CURRENT
        .try_with(|current| current.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// Like [`with_core`], but panics with a plain message outside a runtime.
/// `what` names the call (`"edgeloop::spawn"`).
///
/// `f` runs with its own handle to the core, not under the thread-local's
/// borrow: it may run user code (a future dropped by `spawn` on a closed
/// runtime), which may in turn drop another runtime.
#[track_caller]
pub(crate) fn expect_core<R>(what: &str, f: impl FnOnce(&Rc<Core>) -> R) -> R {
    let core = CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten();
    match core {
        Some(core) => f(&core),
        None => panic!("`{what}` {NO_RUNTIME}"),
    }
}
