//! What an `Interval` does after it fell behind (new API:
//! `MissedTickBehavior::{Burst, Delay, Skip}`,
//! `Interval::set_missed_tick_behavior`, `Interval::missed_tick_behavior`,
//! `Interval::reset_at`, `Interval::reset_immediately`). Does not compile
//! until they exist.
//!
//! Each test ticks once, then blocks the runtime's thread for 35 ms (as a
//! busy task would), missing the ticks at +10, +20 and +30 ms. Assertions
//! check the instants the ticks report, which are computed, not measured;
//! where a measured time comes in, only an order ("not before the thread
//! woke") is checked, so a loaded machine cannot make them flake.

mod util;

use std::future::poll_fn;
use std::task::Poll;
use std::time::{Duration, Instant};

use edgeloop::time::{interval, Interval, MissedTickBehavior};
use util::watchdog;

const PERIOD: Duration = Duration::from_millis(10);
/// How long the thread is blocked after the first tick: three ticks missed.
const BEHIND: Duration = Duration::from_millis(35);

/// Takes the first tick (at once), then blocks the thread for [`BEHIND`].
/// Returns the first tick's instant and when the thread woke.
async fn tick_then_fall_behind(every: &mut Interval) -> (Instant, Instant) {
    let start = every.tick().await;
    std::thread::sleep(BEHIND);
    (start, Instant::now())
}

/// Polls for the next tick once: its instant if it is due, without waiting.
async fn tick_if_due(every: &mut Interval) -> Option<Instant> {
    poll_fn(|cx| {
        Poll::Ready(match every.poll_tick(cx) {
            Poll::Ready(at) => Some(at),
            Poll::Pending => None,
        })
    })
    .await
}

/// The behaviour can be read back after it is set; the default is `Burst`,
/// the catching-up interval documents today. Fails today to compile.
#[test]
fn the_missed_tick_behavior_defaults_to_burst_and_can_be_changed() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut every = interval(PERIOD);
            assert!(matches!(
                every.missed_tick_behavior(),
                MissedTickBehavior::Burst
            ));
            every.set_missed_tick_behavior(MissedTickBehavior::Delay);
            assert!(matches!(
                every.missed_tick_behavior(),
                MissedTickBehavior::Delay
            ));
            every.set_missed_tick_behavior(MissedTickBehavior::Skip);
            assert!(matches!(
                every.missed_tick_behavior(),
                MissedTickBehavior::Skip
            ));
            every.set_missed_tick_behavior(MissedTickBehavior::Burst);
            assert!(matches!(
                every.missed_tick_behavior(),
                MissedTickBehavior::Burst
            ));
        });
    });
}

/// `Burst`: every missed tick is returned at once, each reporting the
/// instant it was scheduled for, and the schedule is unchanged after.
/// Fails today to compile.
#[test]
fn burst_returns_the_missed_ticks_at_once_with_their_scheduled_instants() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut every = interval(PERIOD);
            every.set_missed_tick_behavior(MissedTickBehavior::Burst);
            let (start, _) = tick_then_fall_behind(&mut every).await;
            for k in 1..=3 {
                let at = tick_if_due(&mut every)
                    .await
                    .unwrap_or_else(|| panic!("missed tick {k} was not returned at once"));
                assert_eq!(at, start + PERIOD * k, "missed tick {k}");
            }
            assert_eq!(
                every.tick().await,
                start + PERIOD * 4,
                "back on the schedule"
            );
        });
    });
}

/// `Skip`: the late tick is returned at once (reporting the instant it was
/// due), the other missed ones are dropped, and the next tick is the first
/// instant of the original schedule (`start + n * period`) after the late one
/// was returned; the schedule goes on from there, phase kept.
#[test]
fn skip_drops_the_missed_ticks_and_keeps_to_the_original_schedule() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut every = interval(PERIOD);
            every.set_missed_tick_behavior(MissedTickBehavior::Skip);
            let (start, woke) = tick_then_fall_behind(&mut every).await;
            let late = tick_if_due(&mut every)
                .await
                .expect("the late tick was not returned at once");
            let late_returned = Instant::now();
            assert_eq!(
                late,
                start + PERIOD,
                "the late tick reports its own instant"
            );
            let next = every.tick().await;
            let offset = next - start;
            assert_eq!(
                offset.as_nanos() % PERIOD.as_nanos(),
                0,
                "{offset:?} after the first tick is not on the schedule"
            );
            assert!(
                offset > PERIOD * 3,
                "{offset:?}: a missed tick was returned instead of skipped"
            );
            assert!(next > woke, "the next tick is not after the thread woke");
            assert!(
                next - PERIOD <= late_returned,
                "a whole period of the schedule was skipped after the late tick"
            );
            let after = every.tick().await;
            assert_eq!(after, next + PERIOD, "the schedule goes on from there");
        });
    });
}

/// `Delay`: the missed tick is returned at once, and the schedule restarts
/// from then: the tick after comes one period after the late one, not on the
/// original schedule. (Whether a later tick counts as late again depends on
/// the machine's load, so nothing is asserted about the ticks after.) Fails
/// today to compile.
#[test]
fn delay_returns_one_tick_at_once_then_restarts_the_schedule_from_it() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut every = interval(PERIOD);
            every.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let (_start, woke) = tick_then_fall_behind(&mut every).await;
            let late = tick_if_due(&mut every)
                .await
                .expect("the missed tick was not returned at once");
            let late_returned = Instant::now();
            assert!(late <= late_returned);
            let next = every.tick().await;
            let restarted_from = next - PERIOD;
            assert!(
                restarted_from >= woke && restarted_from <= late_returned,
                "the tick after the late one must come one period after it \
                 (restarted {:?} after the thread woke, late tick returned {:?} after)",
                restarted_from.saturating_duration_since(woke),
                late_returned - woke
            );
        });
    });
}

/// `reset_at` moves the next tick to the given instant, and the schedule
/// goes on from there. Fails today to compile.
#[test]
fn reset_at_moves_the_next_tick_to_that_instant() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut every = interval(PERIOD);
            every.tick().await;
            let at = Instant::now() + Duration::from_millis(50);
            every.reset_at(at);
            assert_eq!(every.tick().await, at);
            assert_eq!(every.tick().await, at + PERIOD);
        });
    });
}

/// `reset_immediately` makes the next tick due at once, and the one after
/// a period later. Fails today to compile.
#[test]
fn reset_immediately_makes_the_next_tick_due_now() {
    const HOUR: Duration = Duration::from_secs(3600);
    watchdog(|| {
        edgeloop::block_on(async {
            let mut every = interval(HOUR);
            every.tick().await;
            let before = Instant::now();
            every.reset_immediately();
            let at = tick_if_due(&mut every)
                .await
                .expect("the tick after reset_immediately was not due at once");
            assert!(
                at >= before && at <= Instant::now(),
                "reported the reset's moment"
            );
            assert!(
                tick_if_due(&mut every).await.is_none(),
                "the next one is an hour away"
            );
        });
    });
}
