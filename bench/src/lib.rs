//! edgeloop's benchmark suite, the parts that need no peer runtime.
//!
//! `cargo bench -p edgeloop-bench` runs the `suite` bench target
//! (`benches/suite/`), which starts itself again in other roles: each echo
//! server (edgeloop's own, tokio's program on edgeloop, tokio's
//! current-thread runtime, and the hand-written [`epoll_server`]) in its own
//! process pinned to one CPU, and each micro-benchmark likewise; the first
//! process is the [`loadgen`], pinned to another CPU. Servers run in turn,
//! A B C D A B C D, so drift in the machine touches each alike; the report
//! gives medians over rounds and ratios.
//!
//! ```text
//! suite (load generator, CPU 1) ──spawn──► suite --role server edgeloop (CPU 0) ── prints "port N"
//!   │  connect N sockets, closed loop:                ▲
//!   │  send S bytes → read the echo → verify → repeat ┘
//!   ├─ server CPU: clock_getcpuclockid(pid) at the window's edges
//!   ├─ peak RSS: VmHWM from /proc/<pid>/status
//!   └─ syscalls: perf stat (or strace -c -f) -p <pid> for one extra window
//! ```
//!
//! Tokio and edgeloop reach only the bench target (dev-dependencies). This
//! library is a workspace tool and uses crates where they do the job:
//! `libc` (every system call, through the [`sys`] module), `hdrhistogram` (the load generator's
//! latencies), `lexopt` (the command line) and `procfs` (the [`machine`]
//! readings).

#![deny(unsafe_op_in_unsafe_fn)]

/// How many bytes every echo server reads at most per `read`: the same for
/// all four (tokio's idiomatic 4 KiB), so that a comparison measures the
/// runtimes, not their buffer sizes — at 16 KiB a message, a 64 KiB buffer
/// takes one read where a 4 KiB one takes four.
pub const ECHO_BUFFER: usize = 4096;

pub mod child;
pub mod connect;
pub mod epoll_server;
pub mod loadgen;
pub mod machine;
pub mod report;
pub mod suite;
pub mod sys;
pub mod syscount;
