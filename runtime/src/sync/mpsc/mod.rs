//! Multi-producer, single-consumer queues: [`channel`] (bounded, senders
//! wait for room) and [`unbounded_channel`].
//!
//! The halves are `Send` (for `T: Send`) and share one `Arc`, the state
//! under a mutex, as tokio's do: a thread can feed the runtime (`try_send`,
//! `blocking_send`, or the unbounded `send`) or be fed by it
//! (`blocking_recv`), and a task can hold them across an `.await`.
//!
//! - **Cancel safety.** `recv` is cancel-safe: a `recv` future dropped
//!   (under a `timeout`, a `select!`) loses no message. A `send` future
//!   dropped before it completed sent nothing, and gives up its place in
//!   the line of blocked senders — including a slot it was handed but had
//!   not used yet, which goes to the next sender in line.
//! - **Fairness.** Blocked senders get room in the order they started
//!   waiting; `try_send` does not overtake them.
//! - **Waiters are released.** A dropped future leaves no waker behind.
//!
//! ```
//! use edgeloop::sync::mpsc;
//!
//! edgeloop::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(2);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         edgeloop::spawn(async move { tx.send(id).await.unwrap() });
//!     }
//!     drop(tx);
//!     let mut got = Vec::new();
//!     while let Some(id) = rx.recv().await {
//!         got.push(id);
//!     }
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

mod bounded;
mod chan;
pub mod error;
mod unbounded;

pub use bounded::{channel, Receiver, Sender};
pub use error::{SendError, TryRecvError, TrySendError};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender};
