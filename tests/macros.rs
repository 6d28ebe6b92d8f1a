//! `join!`, `try_join!`, `select!` and `task::JoinSet`.

mod util;

use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use edgeloop::task::JoinSet;
use edgeloop::time::sleep;
use util::{watchdog, DropFlag};

/// A one-shot flag a future can wait on (no channel needed).
#[derive(Clone, Default)]
struct Flag(Rc<RefCell<(bool, Option<Waker>)>>);

impl Flag {
    fn set(&self) {
        let waker = {
            let mut state = self.0.borrow_mut();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            let mut state = self.0.borrow_mut();
            if state.0 {
                return Poll::Ready(());
            }
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// The branches run concurrently: each waits for a flag the other sets.
#[test]
fn join_runs_its_futures_concurrently_and_keeps_their_order() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (a, b) = (Flag::default(), Flag::default());
            let (x, y, z) = edgeloop::join!(
                async {
                    a.set();
                    b.wait().await;
                    "first"
                },
                async {
                    a.wait().await;
                    b.set();
                    2
                },
                sleep(Duration::from_millis(1)),
            );
            assert_eq!((x, y, z), ("first", 2, ()));
        });
    });
}

/// The first error ends `try_join!` at once and drops the other futures.
#[test]
fn try_join_returns_the_first_error_and_drops_the_rest() {
    watchdog(|| {
        edgeloop::block_on(async {
            let dropped = DropFlag::new();
            let probe = dropped.probe();
            let res: Result<((), u8), &str> = edgeloop::try_join!(
                async move {
                    let _probe = probe;
                    pending::<()>().await;
                    Ok(())
                },
                async { Err("failed") },
            );
            assert_eq!(res, Err("failed"));
            assert!(dropped.is_dropped(), "the pending branch was dropped");
            let ok: Result<(u8, &str), ()> =
                edgeloop::try_join!(async { Ok(1) }, async { Ok("a") });
            assert_eq!(ok, Ok((1, "a")));
        });
    });
}

/// The first future to finish wins; the loser is dropped before `select!`
/// returns.
#[test]
fn select_runs_the_first_branch_to_finish_and_drops_the_others() {
    watchdog(|| {
        edgeloop::block_on(async {
            let dropped = DropFlag::new();
            let probe = dropped.probe();
            let got = edgeloop::select! {
                _ = async move { let _probe = probe; pending::<()>().await } => "never",
                n = async { sleep(Duration::from_millis(1)).await; 5 } => if n == 5 { "timer" } else { "?" },
            };
            assert_eq!(got, "timer");
            assert!(dropped.is_dropped());
        });
    });
}

/// An output that does not match its pattern disables the branch; with
/// every branch disabled the `else` runs; conditions disable up front.
#[test]
fn select_patterns_conditions_and_else() {
    watchdog(|| {
        edgeloop::block_on(async {
            let v = edgeloop::select! {
                Some(x) = async { None::<u8> } => x,
                Ok(y) = async { Err::<u8, ()>(()) } => y,
                else => 99,
            };
            assert_eq!(v, 99);
            let polled = Cell::new(false);
            let v = edgeloop::select! {
                _ = async { polled.set(true) }, if false => 1,
                x = async { 2 } => x,
            };
            assert_eq!(v, 2);
            assert!(!polled.get(), "a disabled branch is never polled");
        });
    });
}

/// With every branch disabled and no `else`, `select!` panics saying so.
#[test]
fn select_with_nothing_enabled_and_no_else_panics() {
    watchdog(|| {
        let msg = util::expect_panic("select! with nothing enabled", || {
            edgeloop::block_on(async {
                edgeloop::select! {
                    _ = async {}, if false => (),
                }
            })
        });
        assert!(msg.contains("no `else`"), "{msg}");
    });
}

/// Handlers run in the caller's code: `break` leaves the surrounding loop.
/// Unbiased, two always-ready branches both win over many rounds; biased,
/// the first always wins.
#[test]
fn select_handlers_may_break_and_branches_take_turns_unless_biased() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut a, mut b, mut rounds) = (0, 0, 0);
            loop {
                rounds += 1;
                edgeloop::select! {
                    _ = async {} => a += 1,
                    _ = async {} => b += 1,
                }
                if rounds == 100 {
                    break;
                }
            }
            assert!(a > 0 && b > 0, "both branches won sometimes: {a} / {b}");
            let mut firsts = 0;
            for _ in 0..50 {
                edgeloop::select! {
                    biased;
                    _ = async {} => firsts += 1,
                    _ = async {} => {},
                }
            }
            assert_eq!(firsts, 50);
            // `break` with a value, from a handler, in a loop that may run
            // more than once.
            let mut round = 0;
            let n = loop {
                round += 1;
                edgeloop::select! {
                    x = async { round } => if x == 3 { break x },
                }
            };
            assert_eq!(n, 3);
        });
    });
}

/// A `select!` in a loop over a cancel-safe wait and a timer loses nothing:
/// the flag set while the timer keeps winning is seen.
#[test]
fn select_in_a_loop_over_a_timer_and_a_cancel_safe_wait_loses_nothing() {
    watchdog(|| {
        edgeloop::block_on(async {
            let flag = Flag::default();
            let setter = edgeloop::spawn({
                let flag = flag.clone();
                async move {
                    sleep(Duration::from_millis(15)).await;
                    flag.set();
                }
            });
            let mut ticks = 0;
            loop {
                edgeloop::select! {
                    _ = flag.wait() => break,
                    _ = sleep(Duration::from_millis(2)) => ticks += 1,
                }
            }
            assert!(ticks >= 1, "the timer won a few rounds first");
            setter.await.unwrap();
        });
    });
}

#[test]
fn a_join_set_gives_outputs_in_the_order_tasks_finish() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut set = JoinSet::new();
            assert!(set.is_empty());
            for ms in [6u64, 2, 4] {
                set.spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    ms
                });
            }
            assert_eq!(set.len(), 3);
            assert!(set.try_join_next().is_none(), "nothing finished yet");
            let mut order = Vec::new();
            while let Some(done) = set.join_next().await {
                order.push(done.unwrap());
            }
            assert_eq!(order, [2, 4, 6]);
            assert!(set.join_next().await.is_none());
        });
    });
}

#[test]
fn a_join_set_reports_panics_and_aborts_and_aborts_all_on_drop() {
    watchdog(|| {
        edgeloop::block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { panic!("on purpose") });
            set.spawn(async {
                pending::<()>().await;
            });
            let first = set.join_next().await.unwrap();
            assert!(first.unwrap_err().is_panic());
            set.abort_all();
            let second = set.join_next().await.unwrap();
            assert!(second.unwrap_err().is_cancelled());

            let dropped = DropFlag::new();
            let probe = dropped.probe();
            let mut doomed = JoinSet::new();
            doomed.spawn(async move {
                let _probe = probe;
                pending::<()>().await;
            });
            edgeloop::yield_now().await;
            drop(doomed);
            edgeloop::yield_now().await;
            assert!(dropped.is_dropped(), "dropping the set aborted its task");
        });
    });
}
