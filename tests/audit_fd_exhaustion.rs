//! A listener in an out-of-fds episode (it reported `EMFILE` once and now
//! waits for an fd to be closed) still follows the rule for I/O objects:
//! awaited under another runtime, or after its own was dropped, it returns
//! an `io::Error` — not a wait, and not a panic about a timer the user never
//! made. (Found by a review of the audit's fixes.) Each test lowers
//! `RLIMIT_NOFILE`, so it runs alone in a child process.

mod util;

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use edgeloop::net::TcpListener;
use edgeloop::time::timeout;
use edgeloop::Runtime;
use util::{is_child_for, panic_message, run_test_in_child};

/// Lowers this process's soft `RLIMIT_NOFILE` to `soft`.
fn set_open_file_limit(soft: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid `struct rlimit` for the kernel to fill.
    let res = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(res, 0, "getrlimit: {}", io::Error::last_os_error());
    limit.rlim_cur = soft.min(limit.rlim_max);
    // SAFETY: as above; `limit` is read by the kernel.
    let res = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(res, 0, "setrlimit: {}", io::Error::last_os_error());
}

/// Duplicates stdin until the fd table is full; returns the copies.
fn fill_fd_table() -> Vec<std::os::fd::OwnedFd> {
    use std::os::fd::AsFd;
    let stdin = io::stdin();
    let mut held = Vec::new();
    while let Ok(fd) = stdin.as_fd().try_clone_to_owned() {
        held.push(fd);
    }
    held
}

/// Binds a listener in `rt`, queues one connection, fills the fd table and
/// lets `rt` see the `EMFILE` (which starts the episode); then frees the
/// table again. Returns the listener and the queued client.
fn listener_in_an_episode(rt: &Runtime) -> (TcpListener, std::net::TcpStream) {
    let listener = rt.block_on(async { TcpListener::bind(util::LOCALHOST_0).await.unwrap() });
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    set_open_file_limit(util::open_fds() as u64 + 8);
    let held = fill_fd_table();
    let first = rt.block_on(async { timeout(Duration::from_secs(5), listener.accept()).await });
    match first {
        Ok(Err(e)) => assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}"),
        Ok(Ok(_)) => panic!("accepted with a full fd table"),
        Err(_) => panic!("the first EMFILE was not reported"),
    }
    drop(held);
    (listener, client)
}

/// Awaits `listener.accept()` under `rt` and checks it fails with an error
/// at once, rather than waiting, accepting, or panicking.
fn assert_accept_errs_under(rt: &Runtime, listener: &TcpListener, what: &str) {
    let second = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { timeout(Duration::from_secs(5), listener.accept()).await })
    }));
    match second {
        Ok(Ok(Err(_))) => {}
        Ok(Ok(Ok(_))) => panic!("accepted {what}"),
        Ok(Err(_)) => panic!("accept {what} waited silently"),
        Err(p) => panic!("accept {what} panicked: {}", panic_message(&*p)),
    }
}

#[test]
fn an_exhausted_listener_awaited_by_another_runtime_returns_an_error() {
    const NAME: &str = "an_exhausted_listener_awaited_by_another_runtime_returns_an_error";
    if !is_child_for(NAME) {
        run_test_in_child(NAME, util::WATCHDOG);
        return;
    }
    let a = Runtime::new().unwrap();
    let (listener, _client) = listener_in_an_episode(&a);
    let b = Runtime::new().unwrap();
    assert_accept_errs_under(&b, &listener, "under another runtime");
}

#[test]
fn an_exhausted_listener_outliving_its_runtime_returns_an_error() {
    const NAME: &str = "an_exhausted_listener_outliving_its_runtime_returns_an_error";
    if !is_child_for(NAME) {
        run_test_in_child(NAME, util::WATCHDOG);
        return;
    }
    let a = Runtime::new().unwrap();
    let (listener, _client) = listener_in_an_episode(&a);
    drop(a);
    let b = Runtime::new().unwrap();
    assert_accept_errs_under(&b, &listener, "after its runtime was dropped");
}
