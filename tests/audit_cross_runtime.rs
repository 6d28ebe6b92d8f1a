//! Objects of one runtime used under another: a timer or a socket is bound
//! to the runtime that made it, and using it under another runtime must be
//! loud (a panic for a timer, an `io::Error` for a socket), never a silent
//! wait for a runtime that is not turning. A `timeout` made before any
//! runtime exists is not such a mix-up: it must work once awaited.

mod util;

use std::future::pending;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use edgeloop::io::{AsyncFd, Interest};
use edgeloop::net::TcpListener;
use edgeloop::time::{sleep, timeout, Elapsed, Sleep};
use edgeloop::Runtime;
use util::{expect_panic, run_with_timeout, LOCALHOST_0};

/// How long these tests may take; a hang today ends here.
const LIMIT: Duration = Duration::from_secs(10);

/// True if a panic message says a runtime other than the running one is
/// involved (or that the object's runtime is gone).
fn names_the_other_runtime(msg: &str) -> bool {
    let msg = msg.to_lowercase();
    msg.contains("runtime")
        && ["another", "different", "other", "shut down", "dropped"]
            .iter()
            .any(|word| msg.contains(word))
}

/// An hour's sleep made inside `rt` (its timer store), not polled there.
fn sleep_made_in(rt: &Runtime) -> Sleep {
    // In a tuple: the block's output is a future not meant to be awaited.
    let (nap,) = rt.block_on(async { (sleep(Duration::from_secs(3600)),) });
    nap
}

/// A sleep created in runtime A arms its timer in A's timer store, which
/// runtime B never fires: polled under B it must panic and say why. Fails
/// today: it waits forever (the watchdog fires after 10 s).
#[test]
fn a_sleep_made_in_one_runtime_panics_when_polled_in_another() {
    run_with_timeout(LIMIT, || {
        let a = Runtime::new().unwrap();
        let nap = sleep_made_in(&a);
        let b = Runtime::new().unwrap();
        let msg = expect_panic("polling runtime A's sleep in runtime B", || b.block_on(nap));
        assert!(
            names_the_other_runtime(&msg),
            "the panic does not name the mix-up: {msg}"
        );
        drop(a);
    });
}

/// As above, after runtime A was dropped. Fails today: it waits forever
/// (the watchdog fires after 10 s).
#[test]
fn a_sleep_whose_runtime_was_dropped_panics_when_polled_in_another() {
    run_with_timeout(LIMIT, || {
        let nap = sleep_made_in(&Runtime::new().unwrap());
        let b = Runtime::new().unwrap();
        let msg = expect_panic("polling a dropped runtime's sleep in runtime B", || {
            b.block_on(nap)
        });
        assert!(
            names_the_other_runtime(&msg),
            "the panic does not name the mix-up: {msg}"
        );
    });
}

/// A listener registered with runtime A (alive, but not running) gets its
/// events only when A turns its driver; awaited under B, `accept` must fail
/// with an `io::Error` instead of waiting. Fails today: it waits (here until
/// B's 2 s timeout).
#[test]
fn a_listener_made_in_one_runtime_gives_an_error_when_awaited_in_another() {
    run_with_timeout(LIMIT, || {
        let a = Runtime::new().unwrap();
        let listener = a.block_on(async { TcpListener::bind(LOCALHOST_0).await.unwrap() });
        let b = Runtime::new().unwrap();
        let accepted =
            b.block_on(async { timeout(Duration::from_secs(2), listener.accept()).await });
        match accepted {
            Ok(Err(_)) => {}
            Ok(Ok((_, peer))) => {
                panic!("nobody connects, yet accept gave a connection from {peer}")
            }
            Err(_) => panic!(
                "accept on a listener registered with runtime A waited under runtime B \
                 instead of failing"
            ),
        }
        drop(listener);
        drop(a);
    });
}

/// The same for a plain `AsyncFd` (the read end of an empty pipe), made in
/// runtime A and read under B. Fails today: the read waits (until B's 2 s
/// timeout).
#[test]
fn an_async_fd_made_in_one_runtime_gives_an_error_when_read_in_another() {
    run_with_timeout(LIMIT, || {
        let (r, _w) = util::pipe();
        let a = Runtime::new().unwrap();
        let fd = a.block_on(async { AsyncFd::new(r).unwrap() });
        let b = Runtime::new().unwrap();
        let mut buf = [0; 8];
        let read = b.block_on(async {
            let read = fd.async_io(Interest::READABLE, |mut f| f.read(&mut buf));
            timeout(Duration::from_secs(2), read).await
        });
        match read {
            Ok(Err(_)) => {}
            Ok(Ok(n)) => panic!("read {n} bytes from an empty pipe"),
            Err(_) => panic!(
                "a read on an AsyncFd registered with runtime A waited under runtime B \
                 instead of failing"
            ),
        }
        drop(fd);
        drop(a);
    });
}

/// `timeout(..)` evaluated before `block_on` runs (as in
/// `block_on(timeout(d, f))`) is made outside any runtime; it must bind to
/// the runtime that first polls it, not panic. Fails today: `timeout`
/// panics, saying `edgeloop::time::sleep` must be called inside a runtime.
#[test]
fn a_timeout_made_outside_any_runtime_works_in_the_runtime_that_awaits_it() {
    run_with_timeout(LIMIT, || {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            edgeloop::block_on(timeout(Duration::from_millis(5), pending::<()>()))
        }));
        match outcome {
            Ok(out) => {
                let _: Elapsed = out.expect_err("a pending future finished");
            }
            Err(payload) => panic!(
                "block_on(timeout(..)) panicked: {}",
                util::panic_message(&*payload)
            ),
        }
    });
}
