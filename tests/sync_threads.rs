//! The channels a thread uses to talk to a runtime: `mpsc` and `oneshot`
//! halves moved to plain threads, `try_send`/`blocking_send` feeding a
//! task, `blocking_recv` waiting for one, and the panic when a blocking
//! call is made on the runtime's own thread.

mod util;

use std::thread;

use edgeloop::sync::{mpsc, oneshot};
use util::watchdog;

fn assert_send<T: Send>(_: &T) {}

#[test]
fn halves_are_send() {
    let (tx, rx) = mpsc::channel::<u8>(1);
    assert_send(&tx);
    assert_send(&rx);
    let (tx, rx) = mpsc::unbounded_channel::<u8>();
    assert_send(&tx);
    assert_send(&rx);
    let (tx, rx) = oneshot::channel::<u8>();
    assert_send(&tx);
    assert_send(&rx);
}

#[test]
fn blocking_send_from_threads_waits_for_room_and_loses_nothing() {
    watchdog(|| {
        // Capacity 2 and 4 × 500 messages: the threads block on a full
        // channel most of the time, so every wake crosses threads.
        let (tx, mut rx) = mpsc::channel::<(usize, usize)>(2);
        let feeders: Vec<_> = (0..4)
            .map(|t| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..500 {
                        tx.blocking_send((t, i)).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let next = edgeloop::block_on(async move {
            let mut next = [0usize; 4];
            while let Some((t, i)) = rx.recv().await {
                assert_eq!(i, next[t], "thread {t}'s messages arrive in order");
                next[t] += 1;
            }
            next
        });
        for f in feeders {
            f.join().unwrap();
        }
        assert_eq!(next, [500; 4]);
    });
}

#[test]
fn try_send_from_a_thread_wakes_a_waiting_task() {
    watchdog(|| {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let got = edgeloop::block_on(async move {
            // The thread sends only once the task's waker is registered, so
            // the message must arrive through a wake from that thread.
            let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
            let feeder = thread::spawn(move || {
                go_rx.recv().unwrap();
                tx.send(7).unwrap();
            });
            let mut go = Some(go_tx);
            let got = std::future::poll_fn(|cx| {
                let polled = rx.poll_recv(cx);
                if polled.is_pending() {
                    if let Some(go) = go.take() {
                        go.send(()).unwrap();
                    }
                }
                polled
            })
            .await;
            assert!(go.is_none(), "the first poll found the channel empty");
            feeder.join().unwrap();
            (got, rx.recv().await)
        });
        assert_eq!(got, (Some(7), None));
    });
}

#[test]
fn blocking_recv_on_a_thread_gets_what_tasks_send() {
    watchdog(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let (done_tx, done_rx) = oneshot::channel::<&'static str>();
        let (utx, mut urx) = mpsc::unbounded_channel::<u32>();
        let reader = thread::spawn(move || {
            let mut seen = Vec::new();
            while let Some(v) = rx.blocking_recv() {
                seen.push(v);
            }
            let u = urx.blocking_recv();
            (seen, u, done_rx.blocking_recv())
        });
        edgeloop::block_on(async move {
            for i in 0..100 {
                tx.send(i).await.unwrap();
            }
            drop(tx);
            utx.send(5).unwrap();
            done_tx.send("done").unwrap();
        });
        let (seen, u, done) = reader.join().unwrap();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        assert_eq!(u, Some(5));
        assert_eq!(done, Ok("done"));
    });
}

#[test]
fn oneshot_blocking_recv_sees_a_dropped_sender() {
    watchdog(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let waiter = thread::spawn(move || rx.blocking_recv());
        // Either order must give `Err`; the pause only makes the parked
        // path the likely one, and nothing depends on it.
        thread::sleep(std::time::Duration::from_millis(10));
        drop(tx);
        assert!(waiter.join().unwrap().is_err());
    });
}

#[test]
fn blocking_calls_inside_a_runtime_panic_naming_the_call() {
    watchdog(|| {
        let msg = |r: thread::Result<()>| -> String {
            let e = r.unwrap_err();
            e.downcast_ref::<String>().cloned().unwrap_or_default()
        };
        let r = std::panic::catch_unwind(|| {
            edgeloop::block_on(async {
                let (tx, _rx) = mpsc::channel::<u8>(1);
                let _ = tx.blocking_send(1);
            })
        });
        assert!(msg(r).contains("mpsc::Sender::blocking_send"));
        let r = std::panic::catch_unwind(|| {
            edgeloop::block_on(async {
                let (_tx, mut rx) = mpsc::unbounded_channel::<u8>();
                let _ = rx.blocking_recv();
            })
        });
        assert!(msg(r).contains("mpsc::UnboundedReceiver::blocking_recv"));
        let r = std::panic::catch_unwind(|| {
            edgeloop::block_on(async {
                let (_tx, rx) = oneshot::channel::<u8>();
                let _ = rx.blocking_recv();
            })
        });
        assert!(msg(r).contains("oneshot::Receiver::blocking_recv"));
    });
}
