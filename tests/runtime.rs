//! The runtime as a whole: misuse outside or inside a runtime, shutdown
//! (dropping a `Runtime` with tasks still running), metrics, the builder,
//! and running one runtime several times.

mod util;

use std::cell::RefCell;
use std::future::pending;
use std::io::{ErrorKind, Read};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use edgeloop::io::{AsyncFd, AsyncReadExt, AsyncWriteExt};
use edgeloop::net::{TcpListener, TcpStream};
use edgeloop::time::{interval, sleep, timeout};
use edgeloop::{Builder, JoinHandle, Runtime};
use util::{expect_panic, poll_once, watchdog, DropFlag};

/// Asserts that a misuse panic names the runtime and says what to do.
fn assert_mentions_runtime(msg: &str, what: &str) {
    assert!(
        msg.contains("runtime"),
        "{what}: the panic message does not mention the runtime: {msg:?}"
    );
}

#[test]
fn runtime_only_calls_outside_a_runtime_panic_saying_so() {
    watchdog(|| {
        let msg = expect_panic("spawn outside a runtime", || edgeloop::spawn(async {}));
        assert_mentions_runtime(&msg, "spawn");
        // Timers may be made anywhere (they bind to the runtime that first
        // polls them); polling one outside a runtime is the mistake.
        let msg = expect_panic("sleep polled outside a runtime", || {
            poll_once(pin!(sleep(Duration::from_millis(1))))
        });
        assert_mentions_runtime(&msg, "sleep");
        let msg = expect_panic("timeout polled outside a runtime", || {
            poll_once(pin!(timeout(
                Duration::from_millis(1),
                std::future::pending::<()>()
            )))
        });
        assert_mentions_runtime(&msg, "timeout");
        let msg = expect_panic("interval polled outside a runtime", || {
            let mut every = interval(Duration::from_millis(1));
            let polled = poll_once(pin!(every.tick())).is_ready();
            polled
        });
        assert_mentions_runtime(&msg, "interval");
        let msg = expect_panic("TcpListener::bind outside a runtime", || {
            poll_once(pin!(TcpListener::bind(util::LOCALHOST_0)))
        });
        assert_mentions_runtime(&msg, "TcpListener::bind");
        let (_listener, addr) = util::std_listener();
        let msg = expect_panic("TcpStream::connect outside a runtime", || {
            poll_once(pin!(TcpStream::connect(addr)))
        });
        assert_mentions_runtime(&msg, "TcpStream::connect");
        let (r, _w) = util::pipe();
        let msg = expect_panic("AsyncFd::new outside a runtime", || AsyncFd::new(r));
        assert_mentions_runtime(&msg, "AsyncFd::new");

        // A runtime that exists but is not running is not "inside" one.
        let rt = Runtime::new().unwrap();
        let msg = expect_panic("spawn beside an idle runtime", || edgeloop::spawn(async {}));
        assert_mentions_runtime(&msg, "spawn beside an idle runtime");
        drop(rt);
    });
}

#[test]
fn block_on_inside_block_on_panics_with_a_clear_message() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let msg = expect_panic("nested free block_on", || edgeloop::block_on(async {}));
            assert_mentions_runtime(&msg, "nested block_on");
            assert!(msg.contains("block_on"), "{msg:?}");
            let msg = expect_panic("nested Runtime::block_on", || {
                rt.block_on(async {});
            });
            assert_mentions_runtime(&msg, "nested Runtime::block_on");
            let other = Runtime::new().unwrap();
            let msg = expect_panic("another runtime's block_on", || other.block_on(async {}));
            assert_mentions_runtime(&msg, "another runtime's block_on");

            // From inside a task, the panic becomes that task's JoinError.
            let err = edgeloop::spawn(async { edgeloop::block_on(async {}) })
                .await
                .expect_err("block_on in a task did not panic");
            assert!(err.is_panic());
            assert_mentions_runtime(&err.to_string(), "block_on in a task");

            // The outer runtime is unharmed.
            let task = edgeloop::spawn(async {
                sleep(Duration::from_millis(1)).await;
                "fine"
            });
            assert_eq!(task.await.unwrap(), "fine");
        });
    });
}

#[test]
fn dropping_a_runtime_drops_unfinished_tasks_closes_their_sockets_and_cancels_their_handles() {
    watchdog(|| {
        let (std_listener, addr) = util::std_listener();
        let flags: Vec<DropFlag> = (0..4).map(|_| DropFlag::new()).collect();
        let spawned_in_drop: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
        let spawned_in_drop_flag = DropFlag::new();

        /// Spawns a task from its destructor, which runs during shutdown.
        struct SpawnOnDrop(Rc<RefCell<Option<JoinHandle<()>>>>, DropFlag);
        impl Drop for SpawnOnDrop {
            fn drop(&mut self) {
                let probe = self.1.probe();
                *self.0.borrow_mut() = Some(edgeloop::spawn(async move {
                    let _probe = probe;
                    pending::<()>().await;
                }));
            }
        }

        let rt = Runtime::new().unwrap();
        let mut handles = rt.block_on(async {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let probe = flags[0].probe();
            let reader = edgeloop::spawn(async move {
                let _probe = probe;
                let mut stream = stream;
                let mut buf = [0; 8];
                let _ = stream.read(&mut buf).await;
            });
            let probe = flags[1].probe();
            let sleeper = edgeloop::spawn(async move {
                let _probe = probe;
                sleep(Duration::from_secs(3600)).await;
            });
            let spawner = SpawnOnDrop(spawned_in_drop.clone(), spawned_in_drop_flag.clone());
            let probe = flags[2].probe();
            let pending_forever = edgeloop::spawn(async move {
                let _probe = probe;
                let _spawner = spawner;
                pending::<()>().await;
            });
            edgeloop::yield_now().await; // all three are parked now
            vec![reader, sleeper, pending_forever]
        });
        let probe = flags[3].probe();
        handles.push(rt.spawn(async move {
            let _probe = probe;
        })); // never polled
        let (mut peer, _) = std_listener.accept().unwrap();

        drop(rt);

        for (i, flag) in flags.iter().enumerate() {
            assert!(flag.is_dropped(), "task {i}'s future outlived its runtime");
        }
        let mut buf = [0; 8];
        assert_eq!(
            peer.read(&mut buf).unwrap(),
            0,
            "the peer of a socket owned by a dropped task sees EOF"
        );
        for (i, handle) in handles.iter_mut().enumerate() {
            assert!(handle.is_finished(), "task {i}");
            match poll_once(pin!(handle)) {
                Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "task {i}: {e:?}"),
                Poll::Ready(Ok(())) => panic!("task {i} reports success"),
                Poll::Pending => panic!("task {i}'s handle is still pending"),
            }
        }
        let late = spawned_in_drop.borrow_mut().take();
        let mut late = late.expect("the destructor ran during shutdown and spawned");
        assert!(
            spawned_in_drop_flag.is_dropped(),
            "a task spawned during shutdown was leaked"
        );
        match poll_once(pin!(&mut late)) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e:?}"),
            _ => panic!("a task spawned during shutdown did not report cancellation"),
        }
    });
}

#[test]
fn a_socket_that_outlives_its_runtime_reports_an_error_instead_of_hanging() {
    watchdog(|| {
        let (_std_listener, addr) = util::std_listener();
        let rt = Runtime::new().unwrap();
        let mut stream = rt.block_on(TcpStream::connect(addr)).expect("connect");
        drop(rt);
        let rt2 = Runtime::new().unwrap();
        let mut buf = [0; 4];
        let res = rt2.block_on(stream.read(&mut buf));
        let err = res.expect_err("a read on a dead runtime's socket succeeded");
        assert_eq!(err.kind(), ErrorKind::Other, "{err}");
    });
}

#[test]
fn metrics_count_live_tasks_registrations_and_armed_timers() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let start = rt.metrics();
        assert_eq!(
            (start.live_tasks, start.registrations, start.armed_timers),
            (0, 0, 0),
            "{start:?}"
        );
        rt.block_on(async {
            let (listener, addr) = util::local_listener().await;
            assert_eq!(rt.metrics().registrations, 1, "the listener");
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            assert_eq!(rt.metrics().registrations, 3, "listener and two streams");

            let sleepers: Vec<_> = (0..5)
                .map(|_| edgeloop::spawn(sleep(Duration::from_secs(3600))))
                .collect();
            assert_eq!(rt.metrics().live_tasks, 5, "spawned, not yet polled");
            edgeloop::yield_now().await;
            let m = rt.metrics();
            assert_eq!((m.live_tasks, m.armed_timers), (5, 5), "{m:?}");
            for s in &sleepers {
                s.abort();
            }
            for s in sleepers {
                assert!(s.await.unwrap_err().is_cancelled());
            }
            let m = rt.metrics();
            assert_eq!((m.live_tasks, m.armed_timers), (0, 0), "{m:?}");

            let quick = edgeloop::spawn(async { 1 });
            assert_eq!(rt.metrics().live_tasks, 1);
            quick.await.unwrap();
            assert_eq!(rt.metrics().live_tasks, 0, "a finished task is not live");

            drop((client, server));
            assert_eq!(
                rt.metrics().registrations,
                1,
                "streams deregistered on drop"
            );
            drop(listener);
            assert_eq!(rt.metrics().registrations, 0);
        });
    });
}

#[test]
fn the_builder_rejects_zero_settings() {
    for (name, mut builder) in [
        ("event_interval", {
            let mut b = Builder::new();
            b.event_interval(0);
            b
        }),
        ("io_budget", {
            let mut b = Builder::new();
            b.io_budget(0);
            b
        }),
        ("max_events", {
            let mut b = Builder::new();
            b.max_events(0);
            b
        }),
    ] {
        let err = builder.build().expect_err(name);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}: {err}");
        assert!(err.to_string().contains(name), "{name}: {err}");
        builder.event_interval(1).io_budget(1).max_events(1);
        builder.build().expect("all ones are valid");
    }
}

#[test]
fn the_smallest_settings_still_run_an_echo_server_and_timers() {
    watchdog(|| {
        let rt = Builder::new()
            .event_interval(1)
            .io_budget(1)
            .max_events(1)
            .build()
            .unwrap();
        rt.block_on(async {
            let addr = util::spawn_echo_server().await;
            let clients: Vec<_> = (0..20u64)
                .map(|id| {
                    edgeloop::spawn(async move {
                        let mut stream = TcpStream::connect(addr).await.unwrap();
                        let data = util::pattern(id, 50_000);
                        let mut got = vec![0; data.len()];
                        let (w, r) = (&stream, &stream);
                        let ((), ()) = util::join(
                            async {
                                let mut w = w;
                                w.write_all(&data).await.unwrap();
                            },
                            async {
                                let mut r = r;
                                r.read_exact(&mut got).await.unwrap();
                            },
                        )
                        .await;
                        util::assert_pattern(id, 0, &got, "echo with the smallest settings");
                        stream.close().await.unwrap();
                    })
                })
                .collect();
            sleep(Duration::from_millis(2)).await;
            for c in clients {
                c.await.unwrap();
            }
        });
    });
}

#[test]
fn one_runtime_runs_several_block_ons_and_tasks_carry_over() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        let early = rt.spawn(async { "spawned before any block_on" });
        let mut carried = None;
        rt.block_on(async {
            carried = Some(edgeloop::spawn(async {
                sleep(Duration::from_millis(5)).await;
                "finished in a later block_on"
            }));
        });
        let carried = carried.unwrap();
        assert!(!carried.is_finished(), "nothing drove it yet");
        assert_eq!(rt.block_on(early).unwrap(), "spawned before any block_on");
        assert_eq!(
            rt.block_on(carried).unwrap(),
            "finished in a later block_on"
        );
        assert_eq!(rt.block_on(async { 40 + 2 }), 42);
    });
}

#[test]
fn two_runtimes_on_two_threads_run_independently() {
    watchdog(|| {
        let threads: Vec<_> = (0..2u64)
            .map(|seed| {
                std::thread::spawn(move || {
                    edgeloop::block_on(async move {
                        let addr = util::spawn_echo_server().await;
                        let s = TcpStream::connect(addr).await.unwrap();
                        let data = util::pattern(seed, 1 << 20);
                        let mut got = Vec::new();
                        util::join(
                            async {
                                let mut w = &s;
                                w.write_all(&data).await.unwrap();
                                w.close().await.unwrap();
                            },
                            async {
                                let mut r = &s;
                                r.read_to_end(&mut got).await.unwrap();
                            },
                        )
                        .await;
                        assert_eq!(got.len(), data.len());
                        util::assert_pattern(seed, 0, &got, "echo");
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
fn dropping_a_runtime_whose_tasks_await_each_other_drops_every_one() {
    watchdog(|| {
        let flags: Vec<DropFlag> = (0..50).map(|_| DropFlag::new()).collect();
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let probe = flags[0].probe();
            let mut prev = edgeloop::spawn(async move {
                let _probe = probe;
                sleep(Duration::from_secs(3600)).await;
            });
            for flag in &flags[1..] {
                let probe = flag.probe();
                prev = edgeloop::spawn(async move {
                    let _probe = probe;
                    let _ = prev.await;
                });
            }
            drop(prev);
            edgeloop::yield_now().await;
        });
        drop(rt);
        for (i, flag) in flags.iter().enumerate() {
            assert!(flag.is_dropped(), "task {i} outlived its runtime");
        }
    });
}
