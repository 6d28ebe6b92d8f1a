//! A runtime kept in a `thread_local!` is dropped by the thread's TLS
//! destructors when the thread exits, possibly after the runtime's own
//! thread-local state is gone. Dropping it then must still work; a failure
//! aborts the whole process, so the test runs in a child process.

mod util;

use std::cell::RefCell;
use std::thread;
use std::time::Duration;

use edgeloop::net::TcpListener;
use edgeloop::Runtime;
use util::{watchdog, LOCALHOST_0};

/// This test's name, for re-running it in a child.
const THIS_TEST: &str = "a_runtime_kept_in_a_thread_local_is_dropped_cleanly_at_thread_exit";

thread_local! {
    static KEPT: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

/// Spawns a task on `rt` that parks in `accept` on a listener it owns, so
/// that dropping the runtime has a future and a registration to release.
fn park_a_task_on_a_socket(rt: &Runtime) {
    let listener = rt.block_on(async { TcpListener::bind(LOCALHOST_0).await.unwrap() });
    drop(rt.spawn(async move {
        let _ = listener.accept().await;
    }));
    rt.block_on(edgeloop::yield_now());
}

/// Keeps a runtime with a parked task in `KEPT` until this thread exits.
/// TLS destructors run in reverse order of first use: `kept_first` touches
/// `KEPT` before the runtime touches its own thread-local (so `KEPT` is
/// destroyed after it), otherwise after.
fn keep_a_runtime_until_thread_exit(kept_first: bool) {
    if kept_first {
        KEPT.with(|kept| {
            *kept.borrow_mut() = Some(Runtime::new().unwrap());
            park_a_task_on_a_socket(kept.borrow().as_ref().unwrap());
        });
    } else {
        let rt = Runtime::new().unwrap();
        park_a_task_on_a_socket(&rt);
        KEPT.with(|kept| *kept.borrow_mut() = Some(rt));
    }
}

/// In the child: two threads each keep a runtime in a thread-local and
/// exit, in both orders of TLS first use. Fails today: the child aborts
/// (SIGABRT) — dropping the runtime in `KEPT`'s destructor reaches the
/// runtime's already-destroyed thread-local ("cannot access a Thread Local
/// Storage value during or after destruction"), and a panic in a TLS
/// destructor aborts.
#[test]
fn a_runtime_kept_in_a_thread_local_is_dropped_cleanly_at_thread_exit() {
    if util::is_child_for(THIS_TEST) {
        for kept_first in [true, false] {
            thread::spawn(move || keep_a_runtime_until_thread_exit(kept_first))
                .join()
                .expect("the thread that kept a runtime");
        }
        return;
    }
    watchdog(|| util::run_test_in_child(THIS_TEST, Duration::from_secs(30)));
}
