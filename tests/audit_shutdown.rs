//! Dropping a runtime: a panicking join waker must not cut shutdown short
//! (leaving futures to be dropped by whichever thread frees the task last),
//! a wake from another thread racing the drop must not leak the task, and a
//! destructor that spawns must not put its task on another runtime.

#[path = "util/live_blocks.rs"]
mod live_blocks;
mod util;

use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

use edgeloop::time::sleep;
use edgeloop::Runtime;
use live_blocks::live_blocks;
use util::{is_child_for, panicking_waker, run_test_in_child, silence_expected_panics, watchdog};

/// Records which thread dropped it.
struct RecordDropThread(Arc<Mutex<Option<ThreadId>>>);

impl Drop for RecordDropThread {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(thread::current().id());
    }
}

/// Shutdown cancels the tasks one by one, and cancelling wakes each task's
/// join waker. If that waker panics and the panic unwinds out of the loop,
/// the tasks not yet cancelled lose the runtime's reference without their
/// futures being dropped; the last reference may be a waker on another
/// thread, which then drops a `!Send` future there. Task 1's handle holds a
/// panicking waker; task 2 holds an `Rc` and a probe, and another thread
/// holds its waker. Fails today: `drop(rt)` panics and task 2's future is
/// dropped later, on the waker's thread.
#[test]
fn a_panicking_join_waker_at_shutdown_still_drops_every_future_on_the_runtime_thread() {
    silence_expected_panics();
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let mut first = rt.spawn(pending::<()>());
        let dropped_on: Arc<Mutex<Option<ThreadId>>> = Arc::default();
        let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
        let second = rt.spawn({
            let probe = RecordDropThread(dropped_on.clone());
            let not_send = Rc::new(());
            async move {
                let _held = (probe, not_send);
                poll_fn(|cx| {
                    let _ = waker_tx.send(cx.waker().clone());
                    Poll::<()>::Pending
                })
                .await
            }
        });
        rt.block_on(async {
            let bomb = panicking_waker();
            let polled = Pin::new(&mut first).poll(&mut Context::from_waker(&bomb));
            assert!(polled.is_pending());
            edgeloop::yield_now().await; // task 2 runs and hands out its waker
        });
        drop(second);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let holder = thread::spawn(move || {
            let waker = waker_rx.recv().expect("task 2's waker");
            let _ = release_rx.recv();
            drop(waker);
        });

        let runtime_thread = thread::current().id();
        let shutdown = catch_unwind(AssertUnwindSafe(|| drop(rt)));
        let when_dropped = *dropped_on.lock().unwrap();
        release_tx.send(()).unwrap();
        holder.join().expect("the waker's thread");
        drop(first);

        assert_eq!(
            when_dropped,
            Some(runtime_thread),
            "task 2's future was not dropped by `drop(rt)` on the runtime's thread; it was \
             dropped later, by the thread that freed the task: {:?}",
            *dropped_on.lock().unwrap()
        );
        if let Err(payload) = shutdown {
            panic!(
                "dropping the runtime panicked: {}",
                util::panic_message(&*payload)
            );
        }
    });
}

/// Tasks in one round of the shutdown race.
const RACE_TASKS: usize = 3_000;
/// Threads waking every task while the runtime is dropped: more than the
/// cores, so that some are preempted in the middle of a wake.
const RACE_WAKER_THREADS: usize = 16;
/// Rounds of the race; the test stops at the first leak.
const RACE_ROUNDS: usize = 60;

/// One round: tasks whose wakers other threads hammer with `wake_by_ref`
/// from just before the runtime is dropped until after. Returns how many
/// more heap blocks are alive once every thread, waker and the runtime are
/// gone than before the round began: a task cell kept alive by the
/// cross-thread queue it sits in keeps that queue (and the runtime's shared
/// half) alive too, three blocks at least.
fn wake_during_shutdown_round() -> isize {
    let before = live_blocks();
    let collected: Rc<RefCell<Vec<Waker>>> = Rc::default();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for _ in 0..RACE_TASKS {
            let collected = collected.clone();
            let mut handed_out = false;
            drop(edgeloop::spawn(poll_fn(move |cx| {
                if !handed_out {
                    handed_out = true;
                    collected.borrow_mut().push(cx.waker().clone());
                }
                Poll::<()>::Pending
            })));
        }
        while collected.borrow().len() < RACE_TASKS {
            edgeloop::yield_now().await;
        }
    });
    let wakers = collected.take();
    let start = Arc::new(Barrier::new(RACE_WAKER_THREADS + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..RACE_WAKER_THREADS)
        .map(|_| {
            let (wakers, start, stop) = (wakers.clone(), start.clone(), stop.clone());
            thread::spawn(move || {
                start.wait();
                // Last task first: shutdown cancels the first first, so
                // these wakes meet tasks it has not reached yet.
                while !stop.load(SeqCst) {
                    for waker in wakers.iter().rev() {
                        waker.wake_by_ref();
                    }
                }
            })
        })
        .collect();
    drop(wakers);
    start.wait();
    drop(rt);
    stop.store(true, SeqCst);
    for t in threads {
        t.join().expect("a waker thread");
    }
    drop((collected, start, stop));
    live_blocks() - before
}

/// A wake from another thread that starts before shutdown cancels its task
/// may queue the task on the runtime's cross-thread queue after shutdown
/// has emptied that queue; nothing ever empties it again, and the queue
/// lives in the very allocation each queued task keeps alive, so the task's
/// cell is never freed. Once the runtime and all task wakers are gone, as
/// many heap blocks must be alive as before. A race, so it runs many rounds:
/// before the fix a debug build leaked in about 7% of rounds, and this test
/// failed in nearly every run (within 60 rounds, about 1 s). It runs alone
/// in a child process, so that no other test's allocations blur the count;
/// the first round, which warms up lazily made statics, is not counted.
#[test]
fn a_wake_racing_shutdown_from_another_thread_does_not_leak_the_task() {
    const NAME: &str = "a_wake_racing_shutdown_from_another_thread_does_not_leak_the_task";
    if !is_child_for(NAME) {
        run_test_in_child(NAME, util::WATCHDOG);
        return;
    }
    watchdog(|| {
        wake_during_shutdown_round();
        for round in 2..=RACE_ROUNDS {
            let leaked = wake_during_shutdown_round();
            assert!(
                leaked <= 0,
                "round {round}: {leaked} heap blocks were never freed after the runtime \
                 was dropped and every waker released (a task cell kept alive by the \
                 cross-thread queue holds the queue and the runtime's shared half)"
            );
        }
    });
}

/// Drops the value it holds by spawning a task that records that it ran.
struct SpawnOnDrop(Rc<Cell<bool>>);

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let ran = self.0.clone();
        drop(edgeloop::spawn(async move { ran.set(true) }));
    }
}

/// A runtime dropped inside another runtime's `block_on` drops its tasks'
/// futures there; a destructor that calls `edgeloop::spawn` must get the
/// runtime being dropped (closed, so the new task is cancelled at once),
/// not the one that happens to be running. Fails today: the task lands on
/// runtime B and runs.
#[test]
fn a_task_spawned_by_a_destructor_during_shutdown_does_not_land_on_another_runtime() {
    watchdog(|| {
        let ran = Rc::new(Cell::new(false));
        let a = Runtime::new().unwrap();
        let on_drop = SpawnOnDrop(ran.clone());
        drop(a.spawn(async move {
            let _on_drop = on_drop;
            pending::<()>().await
        }));
        a.block_on(edgeloop::yield_now()); // the task runs once and parks
        let b = Runtime::new().unwrap();
        b.block_on(async move {
            drop(a);
            // Give a task spawned on B every chance to run.
            for _ in 0..10 {
                edgeloop::yield_now().await;
            }
            sleep(Duration::from_millis(5)).await;
        });
        assert!(
            !ran.get(),
            "a task spawned by runtime A's destructor ran on runtime B"
        );
    });
}

/// Runs `f` when dropped.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// A runtime dropped inside another runtime's task, whose task's destructor
/// spawns, makes a timer, registers and drops an fd, drops a handle of one
/// of the outer runtime's tasks and wakes another outer task: the spawn lands
/// on the closed inner runtime (cancelled at once), the outer task is woken,
/// and the outer runtime works on afterwards. Nothing panics on a borrow.
#[test]
fn a_runtime_dropped_inside_another_lets_its_destructors_use_both_safely() {
    watchdog(|| {
        let outer = Runtime::new().unwrap();
        outer.block_on(async {
            let woke = Rc::new(Cell::new(false));
            let waker_slot: Rc<Cell<Option<Waker>>> = Rc::default();
            let outer_task = edgeloop::spawn({
                let (woke, waker_slot) = (woke.clone(), waker_slot.clone());
                poll_fn(move |cx| {
                    if woke.get() {
                        return Poll::Ready(());
                    }
                    waker_slot.set(Some(cx.waker().clone()));
                    Poll::Pending
                })
            });
            edgeloop::yield_now().await;
            let mut outer_join = Some(edgeloop::spawn(async { 7 }));
            edgeloop::yield_now().await;
            let inner = Runtime::new().unwrap();
            let spawned_finished = Rc::new(Cell::new(None));
            let guard = OnDrop({
                let (woke, spawned_finished) = (woke.clone(), spawned_finished.clone());
                move || {
                    spawned_finished.set(Some(edgeloop::spawn(async {}).is_finished()));
                    drop(sleep(Duration::from_secs(1)));
                    let (reader, _writer) = util::pipe();
                    drop(edgeloop::io::AsyncFd::new(reader));
                    drop(outer_join.take());
                    woke.set(true);
                    if let Some(waker) = waker_slot.take() {
                        waker.wake();
                    }
                }
            });
            drop(inner.spawn(async move {
                let _guard = guard;
                pending::<()>().await
            }));
            drop(inner);
            assert_eq!(
                spawned_finished.get(),
                Some(true),
                "a task spawned during the inner runtime's shutdown is cancelled at once"
            );
            edgeloop::time::timeout(Duration::from_secs(5), outer_task)
                .await
                .expect("the outer task is woken by the inner runtime's destructor")
                .unwrap();
            sleep(Duration::from_millis(1)).await;
            drop(edgeloop::io::AsyncFd::new(util::pipe().0).unwrap());
        });
    });
}
