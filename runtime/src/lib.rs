//! edgeloop's runtime: a single-threaded executor driven by an edge-triggered
//! epoll loop, with timers, I/O traits and [`io::AsyncFd`].
//!
//! # How a waker maps to epoll
//!
//! ```text
//!  kernel: data arrives on fd 7
//!     │
//!  epoll_wait ──► event { events: EPOLLIN, u64: token(slot 3, gen 12) }      driver/mod.rs
//!     │
//!  slab[3], generation 12 matches ──► ScheduledIo: readiness |= READABLE      driver/slab.rs
//!     │                                take the readers' wakers               driver/scheduled_io.rs
//!  waker.wake() ──► state |= SCHEDULED ──► local run queue                    task/waker.rs
//!     │
//!  scheduler pops the task ──► future.poll(cx)                                scheduler.rs
//!     │
//!  AsyncFd::poll_io ──► read(7) ──► n bytes: Ready(Ok(n))                     io/async_fd.rs
//!                         └──────► EAGAIN: clear READABLE, store cx.waker(),
//!                                  return Pending (the next edge wakes it)
//! ```
//!
//! Each fd is registered once for `EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET`.
//! The token in `epoll_data` is a slot index plus a generation, so an event
//! queued for a closed fd never reaches the socket that reuses its number.
//!
//! # Quick start
//!
//! ```
//! use std::time::Duration;
//!
//! let out = edgeloop_runtime::block_on(async {
//!     let task = edgeloop_runtime::spawn(async {
//!         edgeloop_runtime::time::sleep(Duration::from_millis(1)).await;
//!         "done"
//!     });
//!     task.await.unwrap()
//! });
//! assert_eq!(out, "done");
//! ```

#![deny(unsafe_op_in_unsafe_fn)]

mod context;
mod coop;
mod driver;
mod park;
mod runtime;
mod scheduler;
mod sys;
mod util;

pub mod io;
pub mod task;
pub mod time;

pub use runtime::{block_on, Builder, Runtime, RuntimeMetrics};
pub use task::{spawn, yield_now, JoinError, JoinHandle};
