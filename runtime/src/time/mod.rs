//! Timers: [`sleep`], [`timeout`] and [`interval`].
//!
//! Armed timers live in the runtime's deadline-ordered store; the earliest
//! deadline becomes the `epoll_wait` timeout when the runtime parks, and due
//! timers are fired right after each driver turn.

mod interval;
mod sleep;
mod timeout;
mod timers;

pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
pub(crate) use timers::Timers;
