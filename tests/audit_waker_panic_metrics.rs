//! `RuntimeMetrics::waker_panics` (new API): how many panics the runtime
//! caught from wakers it invoked itself. Does not compile until the field
//! exists.

mod util;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::Context;

use edgeloop::Runtime;
use util::{panicking_waker, silence_expected_panics, watchdog};

/// A task completes while its handle holds a waker that panics: the runtime
/// wakes it, catches the panic, counts it, and runs the other tasks as
/// usual. Fails today to compile (no `waker_panics`); with the field but
/// without the catch, `block_on` unwinds.
#[test]
fn a_panicking_join_waker_is_caught_and_counted_in_the_metrics() {
    silence_expected_panics();
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        assert_eq!(rt.metrics().waker_panics, 0);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async {
                let mut finishing = edgeloop::spawn(async {
                    edgeloop::yield_now().await;
                    1
                });
                let bomb = panicking_waker();
                let polled = Pin::new(&mut finishing).poll(&mut Context::from_waker(&bomb));
                assert!(polled.is_pending());
                let other = edgeloop::spawn(async {
                    for _ in 0..5 {
                        edgeloop::yield_now().await;
                    }
                    2
                });
                (other.await.unwrap(), finishing.await.unwrap())
            })
        }));
        let out = outcome.unwrap_or_else(|payload| {
            panic!("block_on unwound: {}", util::panic_message(&*payload))
        });
        assert_eq!(out, (2, 1));
        assert_eq!(
            rt.metrics().waker_panics,
            1,
            "the one panic of the join waker is counted"
        );
    });
}
