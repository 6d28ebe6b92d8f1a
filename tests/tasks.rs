//! Spawned tasks: join, panic isolation, abort, detaching, and how often a
//! task is polled. Futures that count their polls and flag their drops make
//! the runtime's decisions visible.

mod util;

use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Poll, Waker};
use std::time::Duration;

use edgeloop::io::AsyncReadExt;
use edgeloop::net::TcpStream;
use edgeloop::time::sleep;
use edgeloop::{JoinHandle, Runtime};
use util::{expect_panic, watchdog, CountPolls, DropFlag};

/// Yields until `handle` reports finished (bounded by the watchdog).
async fn until_finished<T>(handle: &JoinHandle<T>) {
    while !handle.is_finished() {
        edgeloop::yield_now().await;
    }
}

#[test]
fn spawned_tasks_run_without_being_awaited_and_join_gives_their_output() {
    watchdog(|| {
        edgeloop::block_on(async {
            let ran = Rc::new(Cell::new(0));
            let handles: Vec<_> = (0..100u64)
                .map(|i| {
                    let ran = ran.clone();
                    edgeloop::spawn(async move {
                        edgeloop::yield_now().await;
                        ran.set(ran.get() + 1);
                        i * i
                    })
                })
                .collect();
            until_finished(handles.last().unwrap()).await;
            assert_eq!(ran.get(), 100, "every task ran before any was awaited");
            for (i, handle) in handles.into_iter().enumerate() {
                assert!(handle.is_finished());
                assert_eq!(handle.await.unwrap(), (i * i) as u64);
            }
        });
    });
}

#[test]
fn ten_thousand_tasks_all_complete() {
    watchdog(|| {
        let sum = edgeloop::block_on(async {
            let handles: Vec<_> = (0..10_000u64)
                .map(|i| {
                    edgeloop::spawn(async move {
                        if i % 3 == 0 {
                            edgeloop::yield_now().await;
                        }
                        i
                    })
                })
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..10_000u64).sum::<u64>());
    });
}

#[test]
fn a_panicking_task_gives_a_join_error_with_its_payload_and_others_finish() {
    watchdog(|| {
        edgeloop::block_on(async {
            let others: Vec<_> = (0..10u32)
                .map(|i| {
                    edgeloop::spawn(async move {
                        edgeloop::yield_now().await;
                        sleep(Duration::from_millis(1)).await;
                        i
                    })
                })
                .collect();
            let formatted = edgeloop::spawn(async {
                edgeloop::yield_now().await;
                panic!("task {} failed", 7);
            });
            let typed = edgeloop::spawn(async {
                std::panic::panic_any(42u32);
            });
            let sibling_flag = DropFlag::new();
            let probe = sibling_flag.probe();
            let sibling = edgeloop::spawn(async move {
                let _probe = probe;
                sleep(Duration::from_millis(5)).await;
                "sibling"
            });

            let err = formatted.await.expect_err("a panicking task gave Ok");
            assert!(err.is_panic() && !err.is_cancelled());
            assert!(err.to_string().contains("task 7 failed"), "display: {err}");
            let payload = err.into_panic();
            assert_eq!(util::panic_message(&*payload), "task 7 failed");
            let err = typed.await.expect_err("a panicking task gave Ok");
            assert_eq!(err.into_panic().downcast_ref::<u32>(), Some(&42));

            for (i, other) in others.into_iter().enumerate() {
                assert_eq!(other.await.unwrap(), i as u32, "task {i} after a panic");
            }
            assert_eq!(sibling.await.unwrap(), "sibling");
            assert!(sibling_flag.is_dropped());
        });
    });
}

#[test]
fn a_panic_in_the_block_on_future_propagates_and_the_runtime_stays_usable() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let msg = expect_panic("block_on of a panicking future", || {
            rt.block_on(async {
                edgeloop::yield_now().await;
                panic!("main future failed");
            })
        });
        assert_eq!(msg, "main future failed");
        let out = rt.block_on(async {
            let task = edgeloop::spawn(async {
                sleep(Duration::from_millis(1)).await;
                5
            });
            task.await.unwrap()
        });
        assert_eq!(out, 5, "the runtime runs again after a panic");

        let msg = expect_panic("free block_on of a panicking future", || {
            edgeloop::block_on(async { panic!("free block_on failed") })
        });
        assert_eq!(msg, "free block_on failed");
    });
}

#[test]
fn aborting_a_task_parked_on_io_cancels_it_drops_its_future_and_closes_its_socket() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let flag = DropFlag::new();
            let probe = flag.probe();
            let (reader, polls) = CountPolls::new(async move {
                let _probe = probe;
                let mut server = server;
                let mut buf = [0; 16];
                server.read(&mut buf).await
            });
            let task = edgeloop::spawn(reader);
            edgeloop::yield_now().await;
            assert_eq!(polls.load(SeqCst), 1, "the reader is parked after one poll");
            assert!(!task.is_finished());
            task.abort();
            let err = task.await.expect_err("an aborted task gave Ok");
            assert!(err.is_cancelled() && !err.is_panic(), "{err:?}");
            assert!(flag.is_dropped(), "the aborted future was not dropped");
            assert_eq!(polls.load(SeqCst), 1, "an aborted task is not polled again");
            let mut buf = [0; 1];
            assert_eq!(
                client.read(&mut buf).await.unwrap(),
                0,
                "the socket owned by the aborted task was closed"
            );
        });
    });
}

#[test]
fn aborting_a_sleeping_task_cancels_it_and_disarms_its_timer() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let flag = DropFlag::new();
            let probe = flag.probe();
            let task = edgeloop::spawn(async move {
                let _probe = probe;
                sleep(Duration::from_secs(3600)).await;
            });
            edgeloop::yield_now().await;
            assert_eq!(rt.metrics().armed_timers, 1, "the sleep is armed");
            task.abort();
            let err = task.await.expect_err("an aborted task gave Ok");
            assert!(err.is_cancelled(), "{err:?}");
            assert!(flag.is_dropped());
            assert_eq!(
                rt.metrics().armed_timers,
                0,
                "the sleep's timer was disarmed"
            );
        });
    });
}

#[test]
fn a_task_aborted_before_its_first_poll_is_never_polled() {
    watchdog(|| {
        edgeloop::block_on(async {
            let flag = DropFlag::new();
            let probe = flag.probe();
            let (fut, polls) = CountPolls::new(async move {
                let _probe = probe;
            });
            let task = edgeloop::spawn(fut);
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
            assert_eq!(polls.load(SeqCst), 0);
            assert!(flag.is_dropped());
        });
    });
}

#[test]
fn aborting_a_finished_task_keeps_its_output() {
    watchdog(|| {
        edgeloop::block_on(async {
            let task = edgeloop::spawn(async { String::from("done") });
            until_finished(&task).await;
            task.abort();
            task.abort();
            assert_eq!(task.await.expect("output kept after abort"), "done");
        });
    });
}

#[test]
fn a_task_can_abort_itself() {
    watchdog(|| {
        edgeloop::block_on(async {
            let slot: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            let flag = DropFlag::new();
            let probe = flag.probe();
            let reached_end = Rc::new(Cell::new(false));
            let task = edgeloop::spawn({
                let (slot, reached_end) = (slot.clone(), reached_end.clone());
                async move {
                    let _probe = probe;
                    edgeloop::yield_now().await;
                    slot.borrow().as_ref().unwrap().abort();
                    edgeloop::yield_now().await;
                    reached_end.set(true);
                }
            });
            *slot.borrow_mut() = Some(task);
            while !flag.is_dropped() {
                edgeloop::yield_now().await;
            }
            let task = slot.borrow_mut().take().unwrap();
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(!reached_end.get(), "the task ran past its own abort");
        });
    });
}

#[test]
fn a_future_whose_drop_panics_on_abort_reports_a_panic() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop failed");
        }
    }
    watchdog(|| {
        edgeloop::block_on(async {
            let task = edgeloop::spawn(async {
                let _bomb = PanicOnDrop;
                pending::<()>().await;
            });
            edgeloop::yield_now().await;
            task.abort();
            let err = task.await.unwrap_err();
            assert!(err.is_panic(), "{err:?}");
            let other = edgeloop::spawn(async { 1 });
            assert_eq!(other.await.unwrap(), 1, "the runtime goes on");
        });
    });
}

#[test]
fn dropping_a_join_handle_detaches_the_task_which_keeps_running() {
    watchdog(|| {
        edgeloop::block_on(async {
            let progress = Rc::new(Cell::new(0));
            let output_flag = DropFlag::new();
            let output = output_flag.probe();
            drop(edgeloop::spawn({
                let progress = progress.clone();
                async move {
                    for _ in 0..5 {
                        sleep(Duration::from_millis(1)).await;
                        progress.set(progress.get() + 1);
                    }
                    output
                }
            }));
            while progress.get() < 5 {
                sleep(Duration::from_millis(1)).await;
            }
            // The finished task's output has no reader: it is dropped at once.
            while !output_flag.is_dropped() {
                edgeloop::yield_now().await;
            }
        });
    });
}

#[test]
fn a_join_handle_can_be_awaited_from_another_task() {
    watchdog(|| {
        edgeloop::block_on(async {
            let inner = edgeloop::spawn(async {
                sleep(Duration::from_millis(2)).await;
                21
            });
            let outer = edgeloop::spawn(async move { inner.await.unwrap() * 2 });
            assert_eq!(outer.await.unwrap(), 42);
        });
    });
}

#[test]
fn a_task_woken_while_running_is_polled_once_more_not_twice() {
    watchdog(|| {
        edgeloop::block_on(async {
            let stored: Rc<RefCell<Option<Waker>>> = Rc::default();
            let step = Rc::new(Cell::new(0));
            let (fut, polls) = CountPolls::new({
                let (stored, step) = (stored.clone(), step.clone());
                poll_fn(move |cx| {
                    step.set(step.get() + 1);
                    match step.get() {
                        1 => {
                            // Four wakes during one poll: one re-queue.
                            for _ in 0..3 {
                                cx.waker().wake_by_ref();
                            }
                            let clone = cx.waker().clone();
                            clone.wake();
                            Poll::Pending
                        }
                        2 => {
                            *stored.borrow_mut() = Some(cx.waker().clone());
                            Poll::Pending
                        }
                        _ => Poll::Ready(()),
                    }
                })
            });
            let task = edgeloop::spawn(fut);
            for _ in 0..10 {
                edgeloop::yield_now().await;
            }
            assert_eq!(
                polls.load(SeqCst),
                2,
                "woken 4 times during its first poll, the task must be polled exactly once more"
            );
            let waker = stored.borrow_mut().take().unwrap();
            waker.wake_by_ref();
            waker.wake_by_ref();
            task.await.unwrap();
            assert_eq!(polls.load(SeqCst), 3);
            waker.wake(); // waking a finished task does nothing
            for _ in 0..3 {
                edgeloop::yield_now().await;
            }
            assert_eq!(polls.load(SeqCst), 3, "a finished task is never polled");
        });
    });
}
