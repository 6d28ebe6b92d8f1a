//! `Stdin`: fd 0, read by a helper thread on demand.
//!
//! The protocol, all under one mutex: a reader that finds the buffer empty
//! sets `wanted`, leaves its waker and returns `Pending`; the thread, idle
//! on the condition variable, sees `wanted`, lets go of the lock, does one
//! blocking `read(0)`, puts what it got (bytes, end of file or an error)
//! into the buffer, takes the wakers, lets go, and wakes them. Since the
//! reader's check and its waker's registration happen under the same lock
//! as the thread's hand-over, no wake can fall between them.

use std::io;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::{Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::{fmt, mem, thread};

use super::{add_waiter, lock};
use crate::io::AsyncRead;
use crate::sys;
use crate::util::{drop_wakers, wake_all};

/// The most one blocking `read(0)` asks for: a terminal line or a pipe's
/// worth at once, and the most edgeloop ever reads ahead.
const CHUNK: usize = 16 * 1024;

/// The name of the helper thread, as `ps -L` and debuggers show it.
const THREAD_NAME: &str = "edgeloop-stdin";

/// The process's one stdin buffer, shared by every [`Stdin`].
static SHARED: Shared = Shared {
    state: Mutex::new(State {
        buf: Vec::new(),
        pos: 0,
        end: None,
        wanted: false,
        waiters: Vec::new(),
        handles: 0,
        running: false,
    }),
    wanted: Condvar::new(),
};

struct Shared {
    state: Mutex<State>,
    /// Signalled when `wanted` is set or the last handle goes.
    wanted: Condvar,
}

struct State {
    /// Bytes read and not yet taken, from `pos`.
    buf: Vec<u8>,
    pos: usize,
    /// What the last read ended with, for exactly one `poll_read`: end of
    /// file as `Ok(())` (a terminal may give more after a `^D`), or an
    /// error. Only set while `buf` is empty, so the thread reads ahead at
    /// most one chunk.
    end: Option<io::Result<()>>,
    /// A reader found nothing and waits: the thread's cue to read.
    wanted: bool,
    /// The tasks waiting for input; all are woken when some arrives.
    waiters: Vec<Waker>,
    /// Live [`Stdin`] handles; the thread exits when there are none.
    handles: usize,
    /// Whether the helper thread is running (or about to).
    running: bool,
}

/// The process's standard input, made by [`stdin`](crate::io::stdin): an
/// [`AsyncRead`] that reads fd 0 through a helper thread.
///
/// Every handle shares one process-wide buffer, so bytes are never lost
/// between handles or read twice; tasks reading at once each get some of
/// the input, in no set order. A read returns what the buffer holds (at
/// most one blocking `read(0)`'s worth, 16 KiB); with the buffer empty it
/// sets the thread reading and returns `Pending`. `Ok(0)` is end of file,
/// once per end of file, as with `std` (a terminal may give more after a
/// `^D`). Errors are the OS's, from `read(0)`. The handle needs no
/// runtime and works under any executor.
///
/// Reads are cancel-safe: a read the thread has started completes into
/// the buffer, whatever became of the future that asked for it. Wrap the
/// handle in a [`BufReader`](crate::io::BufReader) for lines.
///
/// # Why a thread
///
/// fd 0 may be a terminal, a pipe, a socket, a regular file or
/// `/dev/null`. epoll refuses the last two (`EPERM`; see
/// [`AsyncFd::new`](crate::io::AsyncFd::new)), and watching the others
/// would need `O_NONBLOCK`, a flag of the open file description the
/// process shares with its parent and children: a shell would be left with
/// a nonblocking terminal. So fd 0's flags are never changed. One helper
/// thread per process, started by the first read that finds nothing
/// buffered, does plain blocking `read`s, one each time a task is waiting
/// for input, and hands the bytes over under a mutex; the waiting tasks'
/// `Waker`s are woken from that thread (a `Waker` may be woken from any
/// thread). One path serves every kind of fd. If something else made fd 0
/// nonblocking, the thread waits in `poll(2)` on `EAGAIN`.
///
/// The cost: a thread; a copy of every byte; two context switches per
/// chunk (thread wake, task wake), fine for people and pipelines, not the
/// path for bulk data (use a [`pipe`](crate::io::pipe) or a socket); and
/// **read-ahead of one chunk**: a read the thread has started cannot be
/// called back, so if its task gives up (a timeout, a dropped `Stdin`),
/// the next input still lands in edgeloop's buffer, where a later `Stdin`
/// finds it, and not in `std::io::stdin()`'s or a child process's.
///
/// # Dropping
///
/// The thread holds no runtime resources: no fd of its own, no
/// registration, no task. When the last `Stdin` is dropped (with its
/// runtime or not), an idle thread exits at once; a thread blocked in
/// `read(0)` stays blocked until the next input or end of file, keeps what
/// it read for a later `Stdin`, and then exits. It never keeps the process
/// alive: the process ends when `main` returns.
pub struct Stdin {
    _private: (),
}

impl Stdin {
    pub(super) fn new() -> Stdin {
        lock(&SHARED.state).handles += 1;
        Stdin { _private: () }
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut state = lock(&SHARED.state);
        if state.pos < state.buf.len() {
            let n = buf.len().min(state.buf.len() - state.pos);
            buf[..n].copy_from_slice(&state.buf[state.pos..state.pos + n]);
            state.pos += n;
            if state.pos == state.buf.len() {
                state.buf.clear();
                state.pos = 0;
            }
            return Poll::Ready(Ok(n));
        }
        if let Some(end) = state.end.take() {
            return Poll::Ready(end.map(|()| 0));
        }
        if !state.running {
            thread::Builder::new()
                .name(THREAD_NAME.into())
                .spawn(|| read_on_demand(&SHARED))?;
            state.running = true;
        }
        state.wanted = true;
        add_waiter(&mut state.waiters, cx.waker());
        drop(state);
        SHARED.wanted.notify_one();
        Poll::Pending
    }
}

impl Drop for Stdin {
    fn drop(&mut self) {
        let mut state = lock(&SHARED.state);
        state.handles -= 1;
        let stale = if state.handles == 0 {
            mem::take(&mut state.waiters)
        } else {
            Vec::new()
        };
        drop(state);
        SHARED.wanted.notify_one();
        drop_wakers(stale);
    }
}

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdin").finish_non_exhaustive()
    }
}

/// The helper thread: one blocking read per request, until no handle is
/// left. A panicking waker is caught (`wake_all`), so the thread always
/// gets back to its loop.
fn read_on_demand(shared: &'static Shared) {
    let mut chunk = vec![0; CHUNK];
    let mut wakers = Vec::new();
    loop {
        let mut state = lock(&shared.state);
        loop {
            if state.handles == 0 {
                state.running = false;
                return;
            }
            // A want is stale if bytes or an end arrived since it was
            // made: its task was woken and will look again.
            if mem::take(&mut state.wanted) && state.buf.is_empty() && state.end.is_none() {
                break;
            }
            state = shared
                .wanted
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        drop(state);

        let got = sys::read_blocking(io::stdin().as_fd(), &mut chunk);

        let mut state = lock(&shared.state);
        match got {
            Ok(0) => state.end = Some(Ok(())),
            Ok(n) => state.buf.extend_from_slice(&chunk[..n]),
            Err(e) => state.end = Some(Err(e)),
        }
        mem::swap(&mut wakers, &mut state.waiters);
        drop(state);
        wake_all(&mut wakers);
    }
}
