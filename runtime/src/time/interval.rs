//! `Interval`: ticks at a fixed period.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;

use super::sleep::{deadline_after, saturating_add, sleep_until, Sleep};

/// Ticks every `period`, the first tick at once.
///
/// Ticks are scheduled at `start + n * period`. What happens when the
/// program falls behind (a tick is awaited after the next one was due) is
/// set by [`MissedTickBehavior`]; the default, `Burst`, completes the missed
/// ticks at once, one per `tick()`, until the schedule is caught up.
///
/// A `period` too large for `Instant` (say `Duration::MAX`) saturates: the
/// next tick is decades away, never back to back.
///
/// The interval's timer belongs to a runtime as a [`sleep`](super::sleep)'s
/// does: the one running when it was made, or, if it was made outside any,
/// the first one that polls it.
///
/// # Panics
/// Here, if `period` is zero. Later, when the interval is polled outside a
/// runtime, by a runtime other than its timer's, or after that runtime was
/// dropped.
///
/// ```
/// use std::time::Duration;
/// edgeloop::block_on(async {
///     let mut every = edgeloop::time::interval(Duration::from_millis(2));
///     let first = every.tick().await;
///     let second = every.tick().await;
///     assert_eq!(second - first, Duration::from_millis(2));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Like [`interval`], with the first tick at `start` (at once, if `start`
/// has passed) and the next ones at `start + n * period`.
///
/// # Panics
/// As [`interval`]: here, if `period` is zero; later, when polled outside a
/// runtime, by a runtime other than its timer's, or after that runtime was
/// dropped.
///
/// ```
/// use std::time::{Duration, Instant};
/// edgeloop::block_on(async {
///     let start = Instant::now() + Duration::from_millis(5);
///     let period = Duration::from_millis(2);
///     let mut ticks = edgeloop::time::interval_at(start, period);
///     assert_eq!(ticks.tick().await, start);
///     assert_eq!(ticks.tick().await, start + period);
///     assert!(Instant::now() >= start + period);
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        period > Duration::ZERO,
        "edgeloop::time::interval: `period` must be non-zero"
    );
    Interval {
        period,
        sleep: sleep_until(start),
        missed: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does with the ticks it missed while the program was
/// busy elsewhere. A tick counts as missed when, as it is returned, the
/// next one is already due.
///
/// Say the period is 10 ms, ticks are due at 0, 10, 20, 30 …, and the tick
/// due at 10 is awaited only at 35:
///
/// | behaviour | ticks returned (scheduled instant) |
/// |---|---|
/// | `Burst` | 10, 20, 30 at once, then 40, 50 … |
/// | `Delay` | 10 at 35, then 45, 55 … (the schedule moves) |
/// | `Skip` | 10 at 35, then 40, 50 … (missed ones dropped, phase kept) |
///
/// The instant a tick returns is the one it was scheduled for, not when it
/// was awaited.
///
/// ```
/// use std::time::Duration;
/// use edgeloop::time::{interval, sleep, MissedTickBehavior};
/// edgeloop::block_on(async {
///     let period = Duration::from_millis(10);
///     let mut ticks = interval(period);
///     ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
///     let first = ticks.tick().await; // at once
///     sleep(Duration::from_millis(35)).await; // busy past the ticks due at 10, 20, 30
///     let late = ticks.tick().await; // the one due at 10, returned at once
///     let next = ticks.tick().await; // due at 40 (later on a loaded machine)
///     assert_eq!(late, first + period);
///     assert!(next - late > period, "the missed ticks were dropped");
///     assert_eq!((next - first).as_nanos() % period.as_nanos(), 0, "phase kept");
/// });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Return the missed ticks as fast as they are awaited (the default).
    #[default]
    Burst,
    /// Start the schedule afresh one period after the late tick.
    Delay,
    /// Drop the missed ticks; the next is the first one still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// When the tick after one due at `due` comes, seen at `now`.
    fn next(self, due: Instant, now: Instant, period: Duration) -> Instant {
        let on_time = saturating_add(due, period);
        if now < on_time {
            return on_time;
        }
        match self {
            MissedTickBehavior::Burst => on_time,
            MissedTickBehavior::Delay => saturating_add(now, period),
            MissedTickBehavior::Skip => {
                // The first `due + k * period` after `now`.
                let behind = now.duration_since(due).as_nanos();
                let period_ns = period.as_nanos();
                let into_period = behind % period_ns;
                let ahead = period_ns - into_period;
                match u64::try_from(ahead) {
                    Ok(ns) => saturating_add(now, Duration::from_nanos(ns)),
                    Err(_) => saturating_add(now, period),
                }
            }
        }
    }
}

/// The stream returned by [`interval`] and [`interval_at`]; see there.
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    sleep: Sleep,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        match Pin::new(&mut self.sleep).poll(cx) {
            Poll::Ready(()) => {
                let due = self.sleep.deadline();
                let next = self.missed.next(due, Instant::now(), self.period);
                self.sleep.reset(next);
                Poll::Ready(due)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What this interval does with missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets what this interval does with missed ticks. It takes effect as
    /// the next tick is returned (the tick already scheduled stays put); see
    /// [`MissedTickBehavior`] for an example.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.sleep.reset(deadline_after(self.period));
    }

    /// Restarts the schedule with the next tick at once, the ones after it
    /// a period apart from now.
    pub fn reset_immediately(&mut self) {
        self.sleep.reset(Instant::now());
    }

    /// Restarts the schedule with the next tick at `deadline` (at once, if
    /// it has passed), the ones after it a period apart from there.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// edgeloop::block_on(async {
    ///     let mut ticks = edgeloop::time::interval(Duration::from_secs(3600));
    ///     ticks.tick().await; // the first tick comes at once
    ///     ticks.reset_immediately();
    ///     ticks.tick().await; // at once again, not in an hour
    ///     let soon = Instant::now() + Duration::from_millis(5);
    ///     ticks.reset_at(soon);
    ///     assert_eq!(ticks.tick().await, soon);
    /// });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.sleep.reset(deadline);
    }
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::MissedTickBehavior::{self, *};
    use std::time::{Duration, Instant};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn each_behaviour_places_the_next_tick() {
        let t0 = Instant::now();
        let next = |b: MissedTickBehavior, now| b.next(t0 + ms(10), t0 + ms(now), ms(10));
        for b in [Burst, Delay, Skip] {
            assert_eq!(next(b, 12), t0 + ms(20), "{b:?} on time");
        }
        assert_eq!(next(Burst, 35), t0 + ms(20));
        assert_eq!(next(Delay, 35), t0 + ms(45));
        assert_eq!(next(Skip, 35), t0 + ms(40));
        assert_eq!(
            next(Skip, 40),
            t0 + ms(50),
            "exactly on a tick: the next one"
        );
    }

    #[test]
    fn a_huge_period_saturates() {
        let t0 = Instant::now();
        for b in [Burst, Delay, Skip] {
            let next = b.next(t0, t0, Duration::MAX);
            assert!(next > t0 + Duration::from_secs(86_400 * 365), "{b:?}");
        }
    }
}
