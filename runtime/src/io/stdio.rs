//! Standard input, output and error: [`stdin`], [`stdout`], [`stderr`].
//!
//! None of them touches epoll: each stream has a helper thread doing
//! blocking reads or writes, so that the standard fds' flags (shared with
//! the parent and children) are never changed and a regular file or
//! `/dev/null` works as stdin (epoll refuses those with `EPERM`). The
//! choice, its costs, and what dropping does are told where users read
//! them: on [`Stdin`] and [`Stdout`]. `stdin.rs` and `output.rs` each start
//! with their thread's hand-over protocol.

use std::io;

mod output;
mod stdin;

pub use output::{Stderr, Stdout};
pub use stdin::Stdin;

/// A handle to the process's standard input, an
/// [`AsyncRead`](super::AsyncRead) read by a helper thread; see [`Stdin`]
/// for why a thread, and what it costs.
///
/// Works whatever fd 0 is — a terminal, a pipe, a socket, a regular file,
/// `/dev/null` — and never changes its flags. Needs no runtime: the handle
/// can be made anywhere and read from any task.
///
/// ```no_run
/// use edgeloop::io::{stdin, AsyncBufReadExt, BufReader};
///
/// edgeloop::block_on(async {
///     let mut lines = BufReader::new(stdin()).lines();
///     while let Some(line) = lines.next_line().await? {
///         println!("you typed {line:?}");
///     }
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub fn stdin() -> Stdin {
    Stdin::new()
}

/// A handle to the process's standard output, an
/// [`AsyncWrite`](super::AsyncWrite) whose writes wait only when its
/// bounded queue is full; see [`Stdout`] for why a thread, what it costs,
/// and how it is ordered against `println!`.
///
/// Never changes fd 1's flags. Flush before exiting: queued bytes are lost
/// if the process ends first.
///
/// ```
/// use edgeloop::io::{stdout, AsyncWriteExt};
///
/// edgeloop::block_on(async {
///     let mut out = stdout();
///     out.write_all(b"hello from edgeloop\n").await?;
///     out.flush().await // written by the thread, in order
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub fn stdout() -> Stdout {
    Stdout::new()
}

/// A handle to the process's standard error; like [`stdout`], for fd 2.
///
/// ```
/// use edgeloop::io::{stderr, AsyncWriteExt};
///
/// edgeloop::block_on(async {
///     let mut err = stderr();
///     err.write_all(b"a warning\n").await?;
///     err.flush().await
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub fn stderr() -> Stderr {
    Stderr::new()
}

/// Takes the lock, shrugging off poisoning: the helpers never panic while
/// holding it (they run no user code under it), so the state is whole.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Adds `waker` to `waiters` unless a waker for the same task is there.
fn add_waiter(waiters: &mut Vec<std::task::Waker>, waker: &std::task::Waker) {
    if !waiters.iter().any(|w| w.will_wake(waker)) {
        waiters.push(waker.clone());
    }
}

/// A copy of `e` to hand to one more caller (`io::Error` is not `Clone`):
/// the same raw OS error when there is one, else the same kind and text.
fn copy_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}
