//! `Stdout` and `Stderr`: fds 1 and 2, written by a helper thread each,
//! through a bounded queue.
//!
//! The protocol, all under the stream's mutex: a writer appends to `queue`
//! (as much as fits under [`QUEUE_CAP`]) and signals the thread, or, with
//! the queue full, leaves its waker in `room_waiters`. The thread swaps the
//! whole queue out for its own empty buffer — there is room again, so it
//! wakes `room_waiters` — and writes the batch with blocking `write`s
//! outside the lock; then it adds the batch's length to `written` and wakes
//! `flush_waiters`. A handle's flush is done when `written` reaches the
//! `accepted` count its last write left: everything it queued, and
//! everything queued before, is out.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::{Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::{fmt, mem, thread};

use super::{add_waiter, copy_error, lock};
use crate::io::AsyncWrite;
use crate::sys;
use crate::util::{drop_wakers, wake_all};

/// How many bytes a stream's queue holds before writes wait. The thread
/// may be writing one more batch of up to this size, so at most twice this
/// is held in memory per stream.
const QUEUE_CAP: usize = 64 * 1024;

/// One output stream's shared half.
struct Output {
    state: Mutex<State>,
    /// Signalled when bytes are queued or the last handle goes.
    queued: Condvar,
    /// Which fd, and the helper thread's name.
    stream: Stream,
}

#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

struct State {
    /// Bytes accepted and not yet taken by the thread.
    queue: Vec<u8>,
    /// Bytes accepted, ever.
    accepted: u64,
    /// Bytes the thread is done with, ever: written, or dropped after an
    /// error. `written <= accepted`.
    written: u64,
    /// The first write error; final, returned by every later write and
    /// flush (a closed pipe does not reopen).
    error: Option<io::Error>,
    /// Writers waiting for room in the queue.
    room_waiters: Vec<Waker>,
    /// Flushes waiting for `written` to grow.
    flush_waiters: Vec<Waker>,
    /// Live handles; an idle thread exits when there are none.
    handles: usize,
    /// Whether the helper thread is running (or about to).
    running: bool,
}

macro_rules! output {
    ($stream:expr) => {
        Output {
            state: Mutex::new(State {
                queue: Vec::new(),
                accepted: 0,
                written: 0,
                error: None,
                room_waiters: Vec::new(),
                flush_waiters: Vec::new(),
                handles: 0,
                running: false,
            }),
            queued: Condvar::new(),
            stream: $stream,
        }
    };
}

static STDOUT: Output = output!(Stream::Stdout);
static STDERR: Output = output!(Stream::Stderr);

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "edgeloop-stdout",
            Stream::Stderr => "edgeloop-stderr",
        }
    }
}

/// A writing handle to one stream: the shared workings of [`Stdout`] and
/// [`Stderr`].
struct Handle {
    output: &'static Output,
    /// The `accepted` count right after this handle's last write: a flush
    /// waits for `written` to reach it.
    flush_to: u64,
}

impl Handle {
    fn new(output: &'static Output) -> Handle {
        lock(&output.state).handles += 1;
        Handle {
            output,
            flush_to: 0,
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut state = lock(&self.output.state);
        if let Some(e) = &state.error {
            return Poll::Ready(Err(copy_error(e)));
        }
        if state.queue.len() >= QUEUE_CAP {
            add_waiter(&mut state.room_waiters, cx.waker());
            return Poll::Pending;
        }
        if !state.running {
            let output = self.output;
            thread::Builder::new()
                .name(output.stream.name().into())
                .spawn(move || write_queued(output))?;
            state.running = true;
        }
        let n = buf.len().min(QUEUE_CAP - state.queue.len());
        state.queue.extend_from_slice(&buf[..n]);
        state.accepted += n as u64;
        self.flush_to = state.accepted;
        drop(state);
        self.output.queued.notify_one();
        Poll::Ready(Ok(n))
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = lock(&self.output.state);
        if let Some(e) = &state.error {
            return Poll::Ready(Err(copy_error(e)));
        }
        if state.written >= self.flush_to {
            return Poll::Ready(Ok(()));
        }
        add_waiter(&mut state.flush_waiters, cx.waker());
        Poll::Pending
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let mut state = lock(&self.output.state);
        state.handles -= 1;
        let mut stale = Vec::new();
        if state.handles == 0 {
            stale.append(&mut state.room_waiters);
            stale.append(&mut state.flush_waiters);
        }
        drop(state);
        self.output.queued.notify_one();
        drop_wakers(stale);
    }
}

/// The helper thread: takes the whole queue, writes it, and again, until
/// the queue is empty and no handle is left. After an error it stops
/// writing and drops what was queued, so no flush waits forever. Panicking
/// wakers are caught (`wake_all`), so the thread always gets back to its
/// loop.
fn write_queued(output: &'static Output) {
    let (stdout, stderr) = (io::stdout(), io::stderr());
    let fd = match output.stream {
        Stream::Stdout => stdout.as_fd(),
        Stream::Stderr => stderr.as_fd(),
    };
    let mut batch = Vec::new();
    let mut wakers = Vec::new();
    loop {
        let mut state = lock(&output.state);
        while state.queue.is_empty() {
            if state.handles == 0 {
                state.running = false;
                return;
            }
            state = output
                .queued
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        mem::swap(&mut batch, &mut state.queue);
        let failed = state.error.is_some();
        mem::swap(&mut wakers, &mut state.room_waiters);
        drop(state);
        wake_all(&mut wakers);

        let res = if failed {
            Ok(())
        } else {
            write_all(fd, &batch)
        };

        let mut state = lock(&output.state);
        state.written += batch.len() as u64;
        if let Err(e) = res {
            state.error.get_or_insert(e);
            // Writers waiting for room must hear of the error too.
            wakers.append(&mut state.room_waiters);
        }
        wakers.append(&mut state.flush_waiters);
        drop(state);
        batch.clear();
        wake_all(&mut wakers);
    }
}

/// Writes all of `buf` to `fd`, blocking.
fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match sys::write_blocking(fd, buf)? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}

macro_rules! output_handle {
    ($(#[$doc:meta])* $name:ident, $output:ident) => {
        $(#[$doc])*
        pub struct $name {
            handle: Handle,
        }

        impl $name {
            pub(in crate::io) fn new() -> $name {
                $name {
                    handle: Handle::new(&$output),
                }
            }
        }

        impl AsyncWrite for $name {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().handle.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().handle.poll_flush(cx)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.poll_flush(cx)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

output_handle!(
    /// The process's standard output, made by [`stdout`](crate::io::stdout):
    /// an [`AsyncWrite`] whose bytes a helper thread writes to fd 1.
    ///
    /// A write copies as much as fits into a bounded queue (64 KiB per
    /// stream, shared by every handle) and returns at once; with the queue
    /// full it returns `Pending` until the thread takes the queue to write
    /// it. So a slow or stalled reader of fd 1 (a full pipe, a paused
    /// terminal) holds up only the tasks writing here, never the runtime:
    /// its other tasks and timers go on. Bytes from several handles come
    /// out in the order their writes were accepted; a `write_all` that did
    /// not fit at once may be interleaved with another task's writes.
    ///
    /// [`flush`](crate::io::AsyncWriteExt::flush) waits until the thread
    /// has written everything this handle queued (and whatever was queued
    /// before). `close` only flushes: fd 1 belongs to the process.
    ///
    /// The first error writing fd 1 is final: that write and every later
    /// write and flush, on any handle, return it, and bytes still queued
    /// are dropped. A reader of a pipe that is gone gives `EPIPE` as that
    /// error because `std` sets `SIGPIPE` to ignored before `main`; a
    /// program that restores the default is killed by it, as `println!`
    /// would be.
    ///
    /// # Why a thread
    ///
    /// Registering fd 1 with epoll would need `O_NONBLOCK` on it, and that
    /// flag lives on the open file description the process shares with its
    /// parent and children: a shell would be left with a nonblocking
    /// terminal, a pipeline's other programs with `EAGAIN`. So the flags of
    /// fd 1 are never changed; a helper thread (one per stream, per
    /// process, started by the first write) does plain blocking `write`s,
    /// and a task that must wait leaves its `Waker` for the thread to wake
    /// (wakers may be woken from any thread). The same path serves a
    /// terminal, a pipe, a socket and a regular file. If something else
    /// made fd 1 nonblocking, the thread waits in `poll(2)` on `EAGAIN`.
    ///
    /// The cost: one thread per stream in use; a copy of every byte; two
    /// context switches per batch (thread wake, task wake), fine for
    /// people and pipelines, not the path for bulk data (use a
    /// [`pipe`](crate::io::pipe) or a socket); up to twice the queue's
    /// size held in memory (a full queue and the batch being written).
    ///
    /// # Flush before exiting
    ///
    /// Bytes still queued when the process exits (returns from `main`) are
    /// lost: the thread never keeps the process alive. Dropping the last
    /// handle does not lose them while the process runs: the thread writes
    /// what was queued, then exits. It holds no runtime resources, so
    /// dropping the runtime first changes nothing.
    ///
    /// # Ordering against `println!`
    ///
    /// `println!`, `print!` and `std::io::stdout()` write through std's own
    /// buffer and lock, straight to fd 1; this handle goes through its
    /// thread. The two paths are **not ordered**: to put a `println!` after
    /// edgeloop output, `flush().await` this handle first; to put edgeloop
    /// output after a `print!`, flush `std::io::stdout()` first.
    Stdout,
    STDOUT
);

output_handle!(
    /// The process's standard error, made by [`stderr`](crate::io::stderr):
    /// like [`Stdout`] in every way (bounded queue, helper thread, flags
    /// untouched, final first error, flush before exiting), for fd 2, with
    /// a queue and a thread of its own. Not ordered with `eprintln!`, nor
    /// with [`Stdout`]: flush one before writing the other.
    Stderr,
    STDERR
);
