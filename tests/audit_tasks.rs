//! Panics around a task's completion: a join waker that panics when its task
//! finishes, and a future or an output whose `Drop` panics right after the
//! task completed. None of them may unwind out of `block_on`; the runtime
//! and its other tasks go on, and the task's handle tells what happened.

mod util;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use edgeloop::time::sleep;
use edgeloop::Runtime;
use util::{panicking_waker, silence_expected_panics, watchdog, EXPECTED_PANIC};

/// Runs `future` on `rt`, failing the test (with the panic's message) if
/// `block_on` unwinds.
fn block_on_without_unwinding<F: Future>(rt: &Runtime, future: F) -> F::Output {
    match catch_unwind(AssertUnwindSafe(|| rt.block_on(future))) {
        Ok(out) => out,
        Err(payload) => panic!(
            "block_on unwound with a panic the runtime should have caught: {}",
            util::panic_message(&*payload)
        ),
    }
}

/// The join waker is the user's code: if its `wake` panics when the task
/// completes, the runtime must catch the panic rather than let it unwind
/// out of `block_on`, and go on running the other tasks. Fails today:
/// `block_on` unwinds with the waker's panic.
#[test]
fn a_join_waker_that_panics_when_its_task_completes_does_not_unwind_block_on() {
    silence_expected_panics();
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let out = block_on_without_unwinding(&rt, async {
            let mut finishing = edgeloop::spawn(async {
                edgeloop::yield_now().await;
                1
            });
            let bomb = panicking_waker();
            let polled = Pin::new(&mut finishing).poll(&mut Context::from_waker(&bomb));
            assert!(polled.is_pending(), "the task has not run yet");
            // Needs several more ticks, after `finishing` has completed.
            let other = edgeloop::spawn(async {
                for _ in 0..5 {
                    edgeloop::yield_now().await;
                    sleep(Duration::from_millis(1)).await;
                }
                2
            });
            let other = other.await.unwrap();
            assert!(finishing.is_finished());
            (finishing.await.unwrap(), other)
        });
        assert_eq!(out, (1, 2));
    });
}

/// Panics, with `what`, when dropped.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{EXPECTED_PANIC} {}", self.0);
    }
}

/// Ready at once with an output that panics when dropped; the future itself
/// panics when dropped too (after it has given its output away).
struct ReadyThenPanicOnDrop {
    output: Option<PanicOnDrop>,
}

impl Future for ReadyThenPanicOnDrop {
    type Output = PanicOnDrop;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<PanicOnDrop> {
        Poll::Ready(self.output.take().expect("polled after completion"))
    }
}

impl Drop for ReadyThenPanicOnDrop {
    fn drop(&mut self) {
        panic!("{EXPECTED_PANIC} the completed future's drop panics");
    }
}

/// A future that returned `Ready` and then panics in its `Drop` makes the
/// task a panicked one, so its output is thrown away; if that output's
/// `Drop` panics too, the second panic must be caught as well. Fails today:
/// the output is dropped outside any `catch_unwind`, and its panic unwinds
/// out of `block_on`.
#[test]
fn a_future_and_its_output_that_both_panic_on_drop_give_a_panicked_task() {
    silence_expected_panics();
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let joined = block_on_without_unwinding(&rt, async {
            let task = edgeloop::spawn(ReadyThenPanicOnDrop {
                output: Some(PanicOnDrop("the output's drop panics")),
            });
            let joined = task.await.map(drop);
            let other = edgeloop::spawn(async { 3 });
            assert_eq!(other.await.unwrap(), 3, "the runtime goes on");
            joined
        });
        let err = joined.expect_err("a task whose future panicked on drop gave Ok");
        assert!(err.is_panic(), "{err:?}");
    });
}

/// Panics when polled, and again when dropped.
struct PanicInPollAndDrop;

impl Future for PanicInPollAndDrop {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        panic!("{EXPECTED_PANIC} the poll panics");
    }
}

impl Drop for PanicInPollAndDrop {
    fn drop(&mut self) {
        panic!("{EXPECTED_PANIC} the drop after a panicking poll panics");
    }
}

/// A future that panics in `poll` and again in `Drop` (the runtime drops it
/// after the first panic was caught): both panics must be caught and the
/// handle report a panic. Guards the other half of the rule above.
#[test]
fn a_future_that_panics_in_poll_and_again_on_drop_gives_a_panicked_task() {
    silence_expected_panics();
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let joined = block_on_without_unwinding(&rt, async {
            let joined = edgeloop::spawn(PanicInPollAndDrop).await;
            let other = edgeloop::spawn(async { 4 });
            assert_eq!(other.await.unwrap(), 4, "the runtime goes on");
            joined
        });
        let err = joined.expect_err("a task that panicked gave Ok");
        assert!(err.is_panic(), "{err:?}");
        assert!(
            util::panic_message(&*err.into_panic()).contains("the poll panics"),
            "the handle reports the first panic, the poll's"
        );
    });
}

/// Panics when polled; its `Drop` then panics with a payload that itself
/// panics when dropped.
struct PanicInPollThenDropPanicsWithABomb;

impl Future for PanicInPollThenDropPanicsWithABomb {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        panic!("{EXPECTED_PANIC} the poll panics");
    }
}

impl Drop for PanicInPollThenDropPanicsWithABomb {
    fn drop(&mut self) {
        std::panic::panic_any(PanicOnDrop("the drop panic's payload panics when dropped"));
    }
}

/// The runtime keeps the first panic and throws the second one's payload
/// away; a payload is a value like any other and its `Drop` may panic, so
/// it must be dropped under `catch_unwind` too. Fails today: the payload is
/// dropped bare and its panic unwinds out of `block_on`.
#[test]
fn a_discarded_panic_payload_that_panics_when_dropped_does_not_unwind_block_on() {
    silence_expected_panics();
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let joined = block_on_without_unwinding(&rt, async {
            edgeloop::spawn(PanicInPollThenDropPanicsWithABomb).await
        });
        assert!(joined.expect_err("a task that panicked gave Ok").is_panic());
    });
}
