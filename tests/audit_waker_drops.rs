//! Wakers the runtime lets go of at shutdown — a timer's, an fd waiter's —
//! are user code: one whose drop panics must not unwind out of
//! `Runtime::drop`, cutting the shutdown short, and two of them must not
//! abort the process. (Found by a review of the audit's fixes.)

mod util;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Context;
use std::time::Duration;

use edgeloop::io::AsyncFd;
use edgeloop::time::sleep;
use edgeloop::Runtime;
use util::{is_child_for, run_test_in_child, silence_expected_panics, waker_panicking_on_drop};

/// Two armed timers and an fd reader, each holding the only clone of a
/// waker that panics when dropped, and the runtime dropped while they wait:
/// the drop must return normally. In a child, because before the fix the
/// second panic came during the first one's unwind and aborted the process.
#[test]
fn wakers_that_panic_when_dropped_at_shutdown_do_not_unwind_or_abort() {
    const NAME: &str = "wakers_that_panic_when_dropped_at_shutdown_do_not_unwind_or_abort";
    if !is_child_for(NAME) {
        run_test_in_child(NAME, util::WATCHDOG);
        return;
    }
    silence_expected_panics();
    let rt = Runtime::new().unwrap();
    let (reader, _writer) = util::pipe();
    let mut timers = [
        sleep(Duration::from_secs(60)),
        sleep(Duration::from_secs(61)),
    ];
    let fd = rt.block_on(async {
        for timer in &mut timers {
            let waker = waker_panicking_on_drop();
            let mut timer = std::pin::pin!(timer);
            assert!(timer
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending());
        }
        let fd = AsyncFd::new(reader).unwrap();
        // The pipe is empty: clear the readiness a new registration starts
        // with, and the next check parks the waker in the fd's `poll_*` slot.
        fd.readable().await.unwrap().clear_ready();
        let waker = waker_panicking_on_drop();
        assert!(fd
            .poll_read_ready(&mut Context::from_waker(&waker))
            .is_pending());
        fd
    });
    let dropped = catch_unwind(AssertUnwindSafe(|| drop(rt)));
    assert!(
        dropped.is_ok(),
        "a waker's drop panic unwound out of Runtime::drop"
    );
    // Kept past the runtime so that only shutdown releases their wakers.
    drop(timers);
    drop(fd);
}
