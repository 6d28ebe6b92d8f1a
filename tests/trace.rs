//! The runtime's trace: the causal chain epoll event → wake → poll →
//! `EAGAIN` as a callback sink sees it, timer and cross-thread wakes named
//! as such, the Chrome JSON (parsed), a sink that re-enters the runtime, and
//! a bad `EDGELOOP_TRACE`.

mod util;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::future::poll_fn;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use edgeloop::io::{AsyncFd, Interest};
use edgeloop::task::Id;
use edgeloop::trace::{TraceEvent, TraceRecord, TraceSink, WakeCause};
use edgeloop::Runtime;
use util::watchdog;

/// A runtime whose records land in the returned log.
fn traced_runtime() -> (Runtime, Rc<RefCell<Vec<TraceRecord>>>) {
    let log: Rc<RefCell<Vec<TraceRecord>>> = Rc::default();
    let rt = edgeloop::Builder::new()
        .trace(TraceSink::callback({
            let log = log.clone();
            move |record| log.borrow_mut().push(record.clone())
        }))
        .build()
        .unwrap();
    (rt, log)
}

/// The index of the first record at or after `from` that `pred` accepts.
fn find(log: &[TraceRecord], from: usize, what: &str, pred: impl Fn(&TraceEvent) -> bool) -> usize {
    log[from..]
        .iter()
        .position(|r| pred(&r.event))
        .map(|i| from + i)
        .unwrap_or_else(|| panic!("no {what} after record {from} in the trace: {log:#?}"))
}

/// A task reads a socket until `EAGAIN`; a peer thread writes one message
/// later. The trace must show, in this order: the epoll event for the
/// socket's fd, the wake of the reading task that names that fd, that task's
/// poll, and within that poll the `EAGAIN` on the fd that ends it.
#[test]
fn an_event_precedes_the_wake_it_causes_which_precedes_the_poll_and_its_eagain() {
    watchdog(|| {
        let (rt, log) = traced_runtime();
        let (ours, mut peer) = UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        let fd = ours.as_raw_fd();
        let reader = rt.block_on(async {
            let ours = AsyncFd::new(ours).unwrap();
            let reader = edgeloop::spawn(async move {
                let mut buf = [0; 64];
                let n = ours
                    .async_io(Interest::READABLE, |s| (&*s).read(&mut buf))
                    .await
                    .unwrap();
                // Read on until EAGAIN parks the task once more.
                let more = edgeloop::time::timeout(
                    Duration::from_millis(20),
                    ours.async_io(Interest::READABLE, |s| (&*s).read(&mut buf)),
                )
                .await;
                assert!(more.is_err(), "nothing more was sent");
                n
            });
            let id = reader.id();
            // The reader runs before this future resumes (it was queued
            // first), so it is parked on the socket before anything is sent.
            edgeloop::yield_now().await;
            let writer = std::thread::spawn(move || {
                peer.write_all(b"ping").unwrap();
                peer
            });
            assert_eq!(reader.await.unwrap(), 4);
            drop(writer.join().unwrap());
            id
        });
        let log = log.borrow();
        let is_ours = |task: &Id| *task == reader;
        let event = find(
            &log,
            0,
            "epoll event for the socket",
            |e| matches!(e, TraceEvent::IoEvent { fd: f, ready, .. } if *f == fd && ready.is_readable()),
        );
        let wake = find(
            &log,
            event,
            "wake of the reader by that event",
            |e| matches!(e, TraceEvent::Wake { task, cause: WakeCause::Io { fd: f, .. } } if is_ours(task) && *f == fd),
        );
        let poll = find(
            &log,
            wake,
            "poll of the reader",
            |e| matches!(e, TraceEvent::PollStart { task } if is_ours(task)),
        );
        let eagain = find(
            &log,
            poll,
            "EAGAIN on the socket",
            |e| matches!(e, TraceEvent::WouldBlock { fd: f, interest } if *f == fd && *interest == Interest::READABLE),
        );
        let end = find(
            &log,
            poll,
            "end of that poll",
            |e| matches!(e, TraceEvent::PollEnd { task, .. } if is_ours(task)),
        );
        assert!(eagain < end, "the EAGAIN happens inside the poll");
        assert!(
            log.windows(2).all(|w| w[0].at <= w[1].at),
            "times never go back"
        );
    });
}

/// A timer's wake names the timer, and a wake from another thread, while
/// the runtime is parked, names the eventfd.
#[test]
fn timer_and_cross_thread_wakes_name_their_cause() {
    watchdog(|| {
        let (rt, log) = traced_runtime();
        let (sleeper, woken) = rt.block_on(async {
            let slept = edgeloop::spawn(edgeloop::time::sleep(Duration::from_millis(2)));
            let sleeper = slept.id();
            slept.await.unwrap();
            let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
            let done = Arc::new(Mutex::new(false));
            let waiter = edgeloop::spawn({
                let (slot, done) = (slot.clone(), done.clone());
                poll_fn(move |cx| {
                    if *done.lock().unwrap() {
                        return Poll::Ready(());
                    }
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Pending
                })
            });
            let woken = waiter.id();
            edgeloop::yield_now().await;
            let thread = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(10));
                *done.lock().unwrap() = true;
                slot.lock()
                    .unwrap()
                    .take()
                    .expect("the waiter's waker")
                    .wake();
            });
            waiter.await.unwrap();
            thread.join().unwrap();
            (sleeper, woken)
        });
        let log = log.borrow();
        find(
            &log,
            0,
            "a timer wake of the sleeping task",
            |e| matches!(e, TraceEvent::Wake { task, cause: WakeCause::Timer } if *task == sleeper),
        );
        let unpark = find(&log, 0, "the eventfd firing", |e| {
            matches!(e, TraceEvent::Unpark)
        });
        find(
            &log,
            unpark,
            "a wake through the eventfd",
            |e| matches!(e, TraceEvent::Wake { task, cause: WakeCause::OtherThread { eventfd: true } } if *task == woken),
        );
    });
}

/// A sink may re-enter the runtime: records reach it outside the runtime's
/// borrows, so spawning from it works (and is itself traced).
#[test]
fn a_callback_sink_may_spawn() {
    watchdog(|| {
        let spawned = Rc::new(RefCell::new(0));
        let rt = edgeloop::Builder::new()
            .trace(TraceSink::callback({
                let spawned = spawned.clone();
                move |record| {
                    if let TraceEvent::PollStart { .. } = record.event {
                        if *spawned.borrow() < 3 {
                            *spawned.borrow_mut() += 1;
                            drop(edgeloop::spawn(async {}));
                        }
                    }
                }
            }))
            .build()
            .unwrap();
        rt.block_on(async {
            for _ in 0..5 {
                edgeloop::yield_now().await;
            }
        });
        assert_eq!(*spawned.borrow(), 3);
        assert_eq!(rt.metrics().live_tasks, 0, "the spawned tasks ran");
    });
}

/// The JSON file parses (with a JSON parser), has the driver's track and a
/// track per task, slices for waits and polls, and every wake arrow that
/// starts also ends (ids match), on a task's track.
#[test]
fn the_json_trace_parses_and_joins_events_to_polls() {
    watchdog(|| {
        let dir = std::env::temp_dir().join(format!("edgeloop-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("json_test.json");
        let rt = edgeloop::Builder::new()
            .trace(TraceSink::File(path.clone()))
            .build()
            .unwrap();
        let task_ids = rt.block_on(async {
            let (ours, mut peer) = UnixStream::pair().unwrap();
            ours.set_nonblocking(true).unwrap();
            let ours = AsyncFd::new(ours).unwrap();
            let reader = edgeloop::task::Builder::new()
                .name("reader")
                .spawn(async move {
                    let mut buf = [0; 8];
                    ours.async_io(Interest::READABLE, |s| (&*s).read(&mut buf))
                        .await
                        .unwrap()
                })
                .unwrap();
            let id = reader.id();
            edgeloop::yield_now().await;
            peer.write_all(b"x").unwrap();
            reader.await.unwrap();
            edgeloop::time::sleep(Duration::from_millis(1)).await;
            vec![id.as_u64()]
        });
        drop(rt);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let events: Vec<serde_json::Value> = serde_json::from_str(&text).expect("valid JSON");
        let names: HashMap<u64, String> = events
            .iter()
            .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
            .map(|e| {
                (
                    e["tid"].as_u64().unwrap(),
                    e["args"]["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(names[&0].starts_with("driver"), "{names:?}");
        for id in &task_ids {
            assert!(
                names[id].contains("reader"),
                "the task's track is named: {names:?}"
            );
        }
        let slices = |name: &str| {
            events
                .iter()
                .filter(|e| e["ph"] == "X" && e["name"].as_str().unwrap().starts_with(name))
                .count()
        };
        assert!(slices("epoll_wait") > 0 && slices("poll") > 0);
        let flow_ids = |ph: &str| -> HashSet<u64> {
            events
                .iter()
                .filter(|e| e["ph"] == ph)
                .map(|e| e["id"].as_u64().unwrap())
                .collect()
        };
        let (starts, ends) = (flow_ids("s"), flow_ids("f"));
        assert!(!starts.is_empty(), "wakes are drawn as arrows");
        assert!(ends.is_subset(&starts), "every arrow that ends has a start");
        let reader_end = events
            .iter()
            .any(|e| e["ph"] == "f" && task_ids.contains(&e["tid"].as_u64().unwrap()));
        assert!(reader_end, "an arrow ends at the reader's poll");
    });
}

/// `EDGELOOP_TRACE` set to something it cannot use: one clear line on
/// stderr, and the program runs to its end untraced.
#[test]
fn a_bad_edgeloop_trace_says_so_once_and_runs_untraced() {
    watchdog(|| {
        for (value, says) in [
            ("sometimes", "not understood"),
            (
                "/nonexistent-dir-of-edgeloop/t.json",
                "cannot write the trace",
            ),
        ] {
            let out = Command::new(util::example_path("trace_echo"))
                .env(edgeloop::trace::ENV_VAR, value)
                .output()
                .expect("run the trace_echo example");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{value}: {stderr}");
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{value}: one line, untraced: {stderr}");
            assert!(lines[0].contains(says), "{value}: {stderr}");
        }
    });
}

/// The lost-wake detector: a future that returns `Pending` and drops its
/// waker leaves its task unwakeable, which is reported once (naming the
/// task) and counted; a task whose waker another thread holds, and uses
/// later, is never reported.
#[test]
fn a_task_left_without_a_waker_is_reported_and_one_woken_later_is_not() {
    watchdog(|| {
        let (rt, log) = traced_runtime();
        let (lost, woken_later) = rt.block_on(async {
            let lost = edgeloop::task::Builder::new()
                .name("forgets its waker")
                .spawn(poll_fn(|_cx| Poll::<()>::Pending))
                .unwrap();
            let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
            let done = Arc::new(Mutex::new(false));
            let later = edgeloop::spawn({
                let (slot, done) = (slot.clone(), done.clone());
                poll_fn(move |cx| {
                    if *done.lock().unwrap() {
                        return Poll::Ready(());
                    }
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Pending
                })
            });
            let ids = (lost.id(), later.id());
            // Parks for a while (the detector looks when the runtime parks),
            // then the thread wakes the second task.
            let thread = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(60));
                *done.lock().unwrap() = true;
                slot.lock().unwrap().take().unwrap().wake();
            });
            for _ in 0..4 {
                edgeloop::time::sleep(Duration::from_millis(15)).await;
            }
            later.await.unwrap();
            thread.join().unwrap();
            assert_eq!(edgeloop::runtime::metrics().lost_wakes, 1);
            drop(lost);
            ids
        });
        let log = log.borrow();
        let reports: Vec<_> = log
            .iter()
            .filter_map(|r| match &r.event {
                TraceEvent::LostWake { task, name, .. } => Some((*task, name.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(reports.len(), 1, "reported once: {reports:?}");
        assert_eq!(reports[0].0, lost);
        assert_eq!(reports[0].1.as_deref(), Some("forgets its waker"));
        assert!(reports.iter().all(|(task, _)| *task != woken_later));
    });
}

/// The flight recorder keeps exactly the last n records: after a run that
/// made many more, a dump writes n.
#[test]
fn the_flight_recorder_keeps_exactly_the_last_records() {
    const KEPT: usize = 16;
    watchdog(|| {
        let rt = edgeloop::Builder::new()
            .trace(TraceSink::Off)
            .flight_recorder(KEPT)
            .build()
            .unwrap();
        rt.block_on(async {
            for _ in 0..50 {
                edgeloop::spawn(edgeloop::yield_now()).await.unwrap();
            }
        });
        assert_eq!(rt.dump_trace().unwrap(), KEPT);
        let plain = edgeloop::Builder::new()
            .trace(TraceSink::Off)
            .build()
            .unwrap();
        assert_eq!(
            plain.dump_trace().unwrap(),
            0,
            "no recorder, nothing to dump"
        );
    });
}

/// A task that panics makes the flight recorder write what led up to it,
/// the panic's own record last. Checked on the stderr of a child process.
#[test]
fn the_flight_recorder_is_dumped_when_a_task_panics() {
    const NAME: &str = "the_flight_recorder_is_dumped_when_a_task_panics";
    const KEPT: usize = 8;
    if util::is_child_for(NAME) {
        let rt = edgeloop::Builder::new()
            .trace(TraceSink::Off)
            .flight_recorder(KEPT)
            .build()
            .unwrap();
        rt.block_on(async {
            let task = edgeloop::task::Builder::new()
                .name("doomed")
                .spawn(async {
                    edgeloop::yield_now().await;
                    panic!("on purpose");
                })
                .unwrap();
            assert!(task.await.unwrap_err().is_panic());
        });
        return;
    }
    watchdog(|| {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(util::CHILD_TEST_VAR, NAME)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let dump: Vec<&str> = stderr
            .lines()
            .skip_while(|l| !l.contains("flight recorder of runtime"))
            .skip(1)
            .filter(|l| l.starts_with("edgeloop#"))
            .collect();
        assert!(!dump.is_empty() && dump.len() <= KEPT, "{stderr}");
        assert!(
            dump.last().unwrap().contains("panicked"),
            "the dump ends with the panic: {stderr}"
        );
    });
}

/// With a file set, the flight recorder appends its dump there: a header
/// and exactly the records it kept.
#[test]
fn the_flight_recorder_writes_to_its_file_when_one_is_set() {
    const KEPT: usize = 5;
    watchdog(|| {
        let dir = std::env::temp_dir().join(format!("edgeloop-flight-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("flight.txt");
        let rt = edgeloop::Builder::new()
            .trace(TraceSink::Off)
            .flight_recorder(KEPT)
            .flight_recorder_file(&path)
            .build()
            .unwrap();
        rt.block_on(async {
            for _ in 0..10 {
                edgeloop::yield_now().await;
            }
            assert_eq!(edgeloop::trace::dump().unwrap(), KEPT);
        });
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("flight recorder of runtime"), "{text}");
        assert_eq!(lines.len(), 1 + KEPT, "{text}");
    });
}
