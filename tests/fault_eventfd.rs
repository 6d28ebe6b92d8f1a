//! Dropping a runtime closes its eventfd at once, even while a `JoinHandle`
//! or a `Waker` of one of its tasks lives on (in its own binary: it counts
//! the process's open fds).

mod util;

use std::future::poll_fn;
use std::sync::mpsc;
use std::task::Poll;

use edgeloop::Runtime;
use util::{open_fds, watchdog};

#[test]
fn a_dropped_runtime_leaves_no_fd_behind_while_handles_and_wakers_live() {
    watchdog(|| {
        let before = open_fds();
        let rt = Runtime::new().unwrap();
        let (waker_tx, waker_rx) = mpsc::channel();
        let handle = rt.spawn(poll_fn(move |cx| {
            let _ = waker_tx.send(cx.waker().clone());
            Poll::<()>::Pending
        }));
        rt.block_on(edgeloop::yield_now()); // let the task run once
        let waker = waker_rx.recv().unwrap();
        assert!(
            open_fds() > before,
            "the runtime holds its epoll fd and eventfd"
        );
        drop(rt);
        assert_eq!(
            open_fds(),
            before,
            "fds left open by a dropped runtime whose handle and waker still live"
        );
        // Waking the dead runtime's task from another thread is harmless.
        std::thread::spawn(move || waker.wake()).join().unwrap();
        assert!(handle.is_finished(), "the shutdown cancelled the task");
        assert_eq!(open_fds(), before);
        drop(handle);
    });
}
