//! edgeloop's runtime: a single-threaded executor driven by an edge-triggered
//! epoll loop, with timers, I/O traits and [`io::AsyncFd`].
//!
//! This crate is part of the layout, not what users depend on: depend on the
//! `edgeloop` crate, which re-exports everything here at its root and adds
//! the sockets as `edgeloop::net`. Its front page tells how a waker maps to
//! epoll; `docs/architecture.md` in the repository tells it at length, file
//! by file.
//!
//! ```
//! use std::time::Duration;
//!
//! let out = edgeloop::block_on(async {
//!     let task = edgeloop::spawn(async {
//!         edgeloop::time::sleep(Duration::from_millis(1)).await;
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
mod scheduler;
mod sys;
mod util;

pub mod io;
#[doc(hidden)]
pub mod macros;
pub mod runtime;
pub mod sync;
pub mod task;
pub mod time;
pub mod trace;

pub use runtime::{block_on, Builder, Runtime, RuntimeMetrics};
pub use task::{spawn, yield_now, JoinError, JoinHandle};
