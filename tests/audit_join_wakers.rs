//! The join waker — the waker of whoever awaits a task's `JoinHandle` — is
//! user code held inside the task's cell: it must be released when the
//! handle goes (not when the cell is freed, wherever that happens), a panic
//! from its drop must not unwind out of the runtime, two tasks that gave up
//! on each other must not keep each other alive, and a handle awaited where
//! its task can never run must say so instead of waiting forever.
//! (Found by a review of the audit's fixes; each failed before its fix.)

mod util;

use std::cell::RefCell;
use std::future::{pending, poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use edgeloop::{JoinHandle, Runtime};
use util::{
    expect_panic, is_child_for, run_test_in_child, silence_expected_panics,
    waker_panicking_on_drop, watchdog,
};

/// Polls `handle` once with `waker` (the cell keeps a clone as its join
/// waker), lets go of the caller's own clone, then drops the handle: the
/// cell's clone is the last one.
fn give_up_on<T>(handle: JoinHandle<T>, waker: Waker) {
    let mut handle = std::pin::pin!(handle);
    let polled = handle.as_mut().poll(&mut Context::from_waker(&waker));
    assert!(polled.is_pending(), "the task finished too early");
    drop(waker);
}

/// A handle dropped with a join waker whose drop panics: the handle's drop
/// releases the waker and catches its panic, so `block_on` goes on. (Before
/// the fix the waker stayed in the cell until it was freed, inside the
/// scheduler's loop, and the panic unwound out of `block_on`.)
#[test]
fn a_join_waker_that_panics_when_dropped_does_not_unwind_block_on() {
    silence_expected_panics();
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let out = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async {
                let task = edgeloop::spawn(async { edgeloop::yield_now().await });
                give_up_on(task, waker_panicking_on_drop());
                // Until the task has finished (and its join waker gone).
                while edgeloop::runtime::metrics().live_tasks > 0 {
                    edgeloop::yield_now().await;
                }
            })
        }));
        assert!(out.is_ok(), "a waker's drop panic unwound out of block_on");
    });
}

/// Two such handles, and the runtime dropped with both tasks unfinished:
/// before the fix the first panic unwound out of shutdown and the second,
/// during that unwind, aborted the process. Run in a child for that reason.
#[test]
fn join_wakers_that_panic_when_dropped_do_not_abort_the_runtime_drop() {
    const NAME: &str = "join_wakers_that_panic_when_dropped_do_not_abort_the_runtime_drop";
    if !is_child_for(NAME) {
        run_test_in_child(NAME, util::WATCHDOG);
        return;
    }
    silence_expected_panics();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for _ in 0..2 {
            give_up_on(edgeloop::spawn(pending::<()>()), waker_panicking_on_drop());
        }
    });
    let dropped = catch_unwind(AssertUnwindSafe(|| drop(rt)));
    assert!(
        dropped.is_ok(),
        "a waker's drop panic unwound out of Runtime::drop"
    );
}

/// A waker that forwards to `inner` and counts its own drop, as combinators
/// that wrap the task's waker (`FuturesUnordered` and the like) do.
struct Wrap {
    inner: Waker,
    dropped: Arc<AtomicUsize>,
}

impl Wake for Wrap {
    fn wake(self: Arc<Self>) {
        self.inner.wake_by_ref();
    }
}

impl Drop for Wrap {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, SeqCst);
    }
}

type Slot = Rc<RefCell<Option<JoinHandle<()>>>>;

/// Polls the other task's handle once (it has not finished), then drops it,
/// as a `timeout` around the handle or a `select!` that lost does.
async fn give_up_on_other(other: Slot, dropped: Arc<AtomicUsize>, extra_yields: usize) {
    edgeloop::yield_now().await;
    let mut handle = other.borrow_mut().take().expect("the other handle");
    poll_fn(|cx| {
        let wrapped = Waker::from(Arc::new(Wrap {
            inner: cx.waker().clone(),
            dropped: dropped.clone(),
        }));
        let polled = Pin::new(&mut handle).poll(&mut Context::from_waker(&wrapped));
        assert!(polled.is_pending());
        Poll::Ready(())
    })
    .await;
    drop(handle);
    for _ in 0..extra_yields {
        edgeloop::yield_now().await;
    }
}

/// Two tasks that each gave up awaiting the other's handle. Before the fix
/// each cell kept the other's (wrapped) waker after its handle was dropped,
/// so the two cells held each other and neither was ever freed, even after
/// the runtime was dropped. Both wrapped wakers must be gone by then.
#[test]
fn two_tasks_that_gave_up_joining_each_other_are_both_freed() {
    watchdog(|| {
        let dropped = Arc::new(AtomicUsize::new(0));
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (slot_a, slot_b): (Slot, Slot) = Default::default();
            let a = edgeloop::spawn(give_up_on_other(slot_b.clone(), dropped.clone(), 2));
            let b = edgeloop::spawn(give_up_on_other(slot_a.clone(), dropped.clone(), 1));
            *slot_a.borrow_mut() = Some(a);
            *slot_b.borrow_mut() = Some(b);
            // Until both have finished; the watchdog bounds the wait.
            while edgeloop::runtime::metrics().live_tasks > 0 {
                edgeloop::yield_now().await;
            }
        });
        assert_eq!(rt.metrics().live_tasks, 0, "both tasks finished");
        drop(rt);
        assert_eq!(
            dropped.load(SeqCst),
            2,
            "the two task cells (and the wakers they hold) were never freed"
        );
    });
}

/// A task of runtime A (alive, not running) awaited under runtime B can
/// never finish: A's tasks run only inside A's `block_on`. The handle panics
/// saying so (before the fix it waited forever, silently).
#[test]
fn a_join_handle_awaited_by_another_runtime_panics_saying_so() {
    watchdog(|| {
        let a = Runtime::new().unwrap();
        let handle = a.spawn(async {});
        let b = Runtime::new().unwrap();
        let msg = expect_panic("awaiting runtime A's task under runtime B", || {
            b.block_on(handle)
        });
        assert!(
            msg.contains("JoinHandle") && msg.contains("another runtime"),
            "the panic does not name the mistake: {msg}"
        );
        // Once its own runtime has run it, the same kind of handle is fine.
        let handle = a.spawn(async { 5 });
        assert_eq!(a.block_on(handle).unwrap(), 5);
    });
}
