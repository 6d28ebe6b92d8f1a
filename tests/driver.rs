//! The epoll driver, seen through `AsyncFd` on pipes: readiness is cached and
//! cleared only by `EAGAIN`, EOF is final, several waiters are all woken,
//! a small events buffer loses nothing, and a reused fd number never gets
//! the old registration's events.

mod util;

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::atomic::Ordering::SeqCst;

use edgeloop::io::{AsyncFd, AsyncReadExt, AsyncWriteExt, Interest};
use edgeloop::{Builder, Runtime};
use util::{pipe, watchdog, CountPolls};

/// Lets the runtime turn its driver `n` times (each `yield_now` resumes only
/// after a driver check).
async fn turns(n: usize) {
    for _ in 0..n {
        edgeloop::yield_now().await;
    }
}

/// Reads once without waiting.
fn try_read(fd: &AsyncFd<File>, buf: &mut [u8]) -> std::io::Result<usize> {
    fd.try_io(Interest::READABLE, |mut f: &File| f.read(buf))
}

#[test]
fn async_fd_pipe_carries_a_mebibyte_while_both_ends_wait_on_each_other() {
    const LEN: usize = 1 << 20;
    watchdog(|| {
        edgeloop::block_on(async {
            let (r, w) = pipe();
            let mut r = AsyncFd::new(r).unwrap();
            let mut w = AsyncFd::new(w).unwrap();
            let data = util::pattern(5, LEN);
            let mut got = vec![0; LEN];
            // The pipe holds 64 KiB: the writer waits for the reader and
            // the reader for the writer, many times over.
            let (wrote, read) = util::join(
                async {
                    w.write_all(&data).await?;
                    drop(w);
                    Ok::<_, std::io::Error>(())
                },
                r.read_exact(&mut got),
            )
            .await;
            wrote.expect("write to pipe");
            read.expect("read from pipe");
            util::assert_pattern(5, 0, &got, "pipe");
            let mut rest = [0; 1];
            assert_eq!(
                r.read(&mut rest).await.unwrap(),
                0,
                "EOF once the writer is gone"
            );
        });
    });
}

#[test]
fn readiness_is_cleared_by_eagain_and_set_again_by_the_next_event() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (r, mut w) = pipe();
            let r = AsyncFd::new(r).unwrap();
            w.write_all(b"abc").unwrap();
            let ready = r.readable().await.unwrap().ready();
            assert!(ready.is_readable(), "{ready:?}");
            let mut buf = [0; 16];
            assert_eq!(try_read(&r, &mut buf).unwrap(), 3);
            let err = try_read(&r, &mut buf).expect_err("an empty pipe gave data");
            assert_eq!(err.kind(), ErrorKind::WouldBlock);
            assert!(
                !r.readiness().is_readable(),
                "EAGAIN must clear read readiness: {:?}",
                r.readiness()
            );
            let err = try_read(&r, &mut buf).expect_err("not ready");
            assert_eq!(err.kind(), ErrorKind::WouldBlock);

            // A task waiting for readability stays asleep until data comes.
            let r = Rc::new(r);
            let (wait, polls) = CountPolls::new({
                let r = r.clone();
                async move { r.readable().await.map(|g| g.ready()) }
            });
            let waiter = edgeloop::spawn(wait);
            turns(5).await;
            assert_eq!(polls.load(SeqCst), 1, "woken without an event");
            assert!(!waiter.is_finished());
            w.write_all(b"d").unwrap();
            let ready = waiter.await.unwrap().unwrap();
            assert!(ready.is_readable());
            assert_eq!(try_read(&r, &mut buf).unwrap(), 1);
            assert_eq!(&buf[..1], b"d");
        });
    });
}

#[test]
fn a_write_end_blocked_on_a_full_pipe_waits_and_resumes_when_drained() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (mut r, w) = pipe();
            let w = Rc::new(AsyncFd::new(w).unwrap());
            let chunk = [7u8; 4096];
            let mut filled = 0;
            loop {
                match w.try_io(Interest::WRITABLE, |mut f: &File| f.write(&chunk)) {
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("write: {e}"),
                }
            }
            assert!(
                !w.readiness().is_writable(),
                "EAGAIN clears write readiness"
            );
            let writer = edgeloop::spawn({
                let w = w.clone();
                async move {
                    w.async_io(Interest::WRITABLE, |mut f: &File| f.write(b"more"))
                        .await
                }
            });
            turns(3).await;
            assert!(!writer.is_finished(), "wrote to a full pipe");
            let mut drained = vec![0; filled];
            r.read_exact(&mut drained).unwrap();
            assert_eq!(writer.await.unwrap().unwrap(), 4);
        });
    });
}

#[test]
fn eof_is_final_and_reported_as_read_closed() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (r, w) = pipe();
            let mut r = AsyncFd::new(r).unwrap();
            let mut buf = [0; 4];
            let err = try_read(&r, &mut buf).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::WouldBlock);
            drop(w);
            for _ in 0..3 {
                assert_eq!(r.read(&mut buf).await.unwrap(), 0);
            }
            assert!(r.readiness().is_read_closed(), "{:?}", r.readiness());
            let guard = r.readable().await.unwrap();
            assert!(guard.ready().is_read_closed());
        });
    });
}

#[test]
fn every_task_waiting_in_one_direction_is_woken() {
    const WAITERS: usize = 6;
    watchdog(|| {
        edgeloop::block_on(async {
            let (r, mut w) = pipe();
            let r = Rc::new(AsyncFd::new(r).unwrap());
            let mut buf = [0; 1];
            assert!(try_read(&r, &mut buf).is_err());
            let waiters: Vec<_> = (0..WAITERS)
                .map(|_| {
                    let r = r.clone();
                    edgeloop::spawn(async move { r.readable().await.map(|g| g.ready()) })
                })
                .collect();
            turns(2).await;
            assert!(waiters.iter().all(|t| !t.is_finished()));
            w.write_all(b"x").unwrap();
            for (i, t) in waiters.into_iter().enumerate() {
                let ready = t.await.unwrap().unwrap();
                assert!(ready.is_readable(), "waiter {i}: {ready:?}");
            }
        });
    });
}

#[test]
fn an_events_buffer_of_one_loses_no_event() {
    const PIPES: usize = 64;
    watchdog(|| {
        let rt = Builder::new().max_events(1).build().unwrap();
        rt.block_on(async {
            let mut writers = Vec::new();
            let readers: Vec<_> = (0..PIPES)
                .map(|i| {
                    let (r, w) = pipe();
                    writers.push(w);
                    edgeloop::spawn(async move {
                        let r = AsyncFd::new(r).unwrap();
                        let mut buf = [0; 1];
                        r.async_io(Interest::READABLE, |mut f: &File| f.read(&mut buf))
                            .await
                            .unwrap();
                        assert_eq!(buf[0], i as u8);
                    })
                })
                .collect();
            turns(2).await; // every reader parked
                            // All become ready at once; epoll hands them out one per turn.
            for (i, w) in writers.iter_mut().enumerate() {
                w.write_all(&[i as u8]).unwrap();
            }
            for t in readers {
                t.await.unwrap();
            }
        });
    });
}

#[test]
fn an_fd_epoll_cannot_watch_is_refused_and_leaves_no_registration() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let path = std::env::temp_dir()
                .join(format!("edgeloop-driver-test-{}.txt", std::process::id()));
            let file = File::create(&path).unwrap();
            let err = AsyncFd::new(file).expect_err("epoll accepted a regular file");
            std::fs::remove_file(&path).unwrap();
            assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
            assert_eq!(rt.metrics().registrations, 0);
        });
    });
}

#[test]
fn into_inner_deregisters_and_returns_a_working_fd() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (r, mut w) = pipe();
            let fd = AsyncFd::new(r).unwrap();
            assert_eq!(rt.metrics().registrations, 1);
            let mut r = fd.into_inner();
            assert_eq!(rt.metrics().registrations, 0);
            w.write_all(b"ok").unwrap();
            let mut buf = [0; 2];
            r.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"ok");
            // And it can be registered again.
            let fd = AsyncFd::new(r).unwrap();
            w.write_all(b"!").unwrap();
            let mut one = [0; 1];
            let n = fd
                .async_io(Interest::READABLE, |mut f: &File| f.read(&mut one))
                .await
                .unwrap();
            assert_eq!((n, one[0]), (1, b'!'));
        });
    });
}

/// Moves the open file `from` onto the fd number `onto` (closing what `onto`
/// was), atomically, so no other thread can take the number in between.
fn dup_onto(from: OwnedFd, onto: OwnedFd) -> OwnedFd {
    // `dup3` closes the file behind `onto` itself: give up ownership of the
    // number without closing it.
    let number = onto.into_raw_fd();
    // SAFETY: `from` is open and `number` is an fd this function owns;
    // `dup3` atomically makes `number` refer to `from`'s file.
    let res = unsafe { libc::dup3(from.as_raw_fd(), number, libc::O_CLOEXEC) };
    assert_eq!(res, number, "dup3: {}", std::io::Error::last_os_error());
    // SAFETY: `number` is now an open fd for `from`'s file, owned by no one else.
    unsafe { OwnedFd::from_raw_fd(number) }
}

/// The reused-fd case: an fd is closed while an event for it is pending and
/// its number is given, in the same loop iteration, to a new registration.
/// The old file is even kept open elsewhere (a `dup`), so a driver that did
/// not remove it from epoll, or that keyed events by fd number, would go on
/// receiving its events. The new registration must see none of them.
#[test]
fn a_reused_fd_number_never_gets_the_old_registrations_events() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (old_r, mut old_w) = pipe();
            let old_number = old_r.as_raw_fd();
            let old_file_kept_open = old_r.try_clone().unwrap(); // a dup: same file
            let old = AsyncFd::new(old_r).unwrap();
            let mut buf = [0; 8];
            assert!(
                try_read(&old, &mut buf).is_err(),
                "cleared: nothing to read"
            );
            turns(1).await;

            // One poll, no await: an event becomes pending for the old
            // registration, the fd is closed, and its number is reused.
            old_w.write_all(b"old").unwrap();
            let (new_r, mut new_w) = pipe();
            let reused = dup_onto(OwnedFd::from(new_r), OwnedFd::from(old.into_inner()));
            assert_eq!(reused.as_raw_fd(), old_number, "the fd number is reused");
            let new = Rc::new(AsyncFd::new(File::from(reused)).unwrap());
            let err = try_read(&new, &mut buf).expect_err("the new pipe is empty");
            assert_eq!(err.kind(), ErrorKind::WouldBlock);

            let (wait, polls) = CountPolls::new({
                let new = new.clone();
                async move { new.readable().await.map(|g| g.ready()) }
            });
            let waiter = edgeloop::spawn(wait);
            turns(3).await;
            // More events on the old file, after the new one is registered.
            old_w.write_all(b"older").unwrap();
            turns(3).await;

            assert_eq!(
                polls.load(SeqCst),
                1,
                "the new registration's task was woken by the old fd's events"
            );
            assert!(!waiter.is_finished());
            assert!(
                !new.readiness().is_readable(),
                "the new registration shows the old fd's readiness: {:?}",
                new.readiness()
            );
            let err = try_read(&new, &mut buf).expect_err("the new pipe is still empty");
            assert_eq!(err.kind(), ErrorKind::WouldBlock);

            new_w.write_all(b"new").unwrap();
            assert!(waiter.await.unwrap().unwrap().is_readable());
            let n = try_read(&new, &mut buf).unwrap();
            assert_eq!(&buf[..n], b"new", "the new fd reads its own data only");

            // The old file's data is untouched, still in the old pipe.
            let mut old_data = Vec::new();
            let mut kept = old_file_kept_open;
            drop(old_w);
            kept.read_to_end(&mut old_data).unwrap();
            assert_eq!(old_data, b"oldolder");
        });
    });
}

/// A finished task's `poll_*` waker stays in the fd's slot, and its handle
/// is gone, so that waker holds the task's last reference. The next event
/// hands it to the turn, which queues its own runtime's tasks in place,
/// under its borrows: releasing that last reference there must free the
/// cell without running anything that could re-enter the driver.
#[test]
fn an_event_may_release_a_finished_tasks_last_reference() {
    watchdog(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (reader, mut writer) = pipe();
            let fd = Rc::new(AsyncFd::new(reader).unwrap());
            fd.readable().await.unwrap().clear_ready(); // the pipe is empty
            for _ in 0..3 {
                let fd = fd.clone();
                let handle = edgeloop::spawn(std::future::poll_fn(move |cx| {
                    assert!(fd.poll_read_ready(cx).is_pending());
                    std::task::Poll::Ready(())
                }));
                handle.await.unwrap();
            }
            // The last task's waker is in the slot (the others displaced).
            writer.write_all(b"x").unwrap();
            turns(4).await;
            assert!(fd.readiness().is_readable());
        });
        let m = rt.metrics();
        assert_eq!(m.live_tasks, 0);
        assert!(m.wakes_from_io >= 1, "the event found the waker: {m:?}");
    });
}

/// Runtime B, dropped inside a task of A while B's (never run) task holds
/// a socket of A, deregisters it from A's driver from inside A's poll; A's
/// reader of another fd is still woken afterwards.
#[test]
fn a_runtime_dropped_inside_another_leaves_its_driver_working() {
    watchdog(|| {
        let a = Runtime::new().unwrap();
        a.block_on(async {
            let (r1, _w1) = pipe();
            let (r2, mut w2) = pipe();
            let fd1 = AsyncFd::new(r1).unwrap();
            let fd2 = Rc::new(AsyncFd::new(r2).unwrap());
            fd2.readable().await.unwrap().clear_ready();
            let f2 = fd2.clone();
            let reader = edgeloop::spawn(async move {
                let _ready = f2.readable().await.unwrap();
            });
            turns(1).await;
            edgeloop::spawn(async move {
                let b = Runtime::new().unwrap();
                b.spawn(async move {
                    let _ = fd1.readable().await;
                });
                drop(b);
            })
            .await
            .unwrap();
            w2.write_all(b"x").unwrap();
            reader.await.unwrap();
        });
    });
}
