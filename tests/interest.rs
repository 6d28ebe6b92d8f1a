//! Combined interests: `Interest::READABLE | Interest::WRITABLE` waits for
//! either direction, says which is ready, is woken by an event in either,
//! and a guard's clear forgets only what it should.

mod util;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use edgeloop::io::{AsyncFd, Interest, Ready};
use edgeloop::time::timeout;
use util::watchdog;

/// A socket pair, ours registered, with our send buffer filled so that
/// neither direction is ready.
fn stuck_pair() -> (AsyncFd<UnixStream>, UnixStream) {
    let (ours, peer) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let chunk = [0u8; 4096];
    while (&ours).write(&chunk).is_ok() {}
    (AsyncFd::new(ours).unwrap(), peer)
}

#[test]
fn a_combined_wait_reports_which_direction_is_ready() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (ours, mut peer) = UnixStream::pair().unwrap();
            ours.set_nonblocking(true).unwrap();
            let ours = AsyncFd::new(ours).unwrap();
            let both = Interest::READABLE | Interest::WRITABLE;
            // Nothing to read yet: clear the readiness a registration starts
            // with, then only the write side is ready.
            ours.readable().await.unwrap().clear_ready();
            let first = ours.ready(both).await.unwrap().ready();
            assert!(first.is_writable() && !first.is_readable(), "{first:?}");
            peer.write_all(b"x").unwrap();
            let mut seen = Ready::EMPTY;
            for _ in 0..100 {
                seen = ours.ready(both).await.unwrap().ready();
                if seen.is_readable() {
                    break;
                }
                edgeloop::time::sleep(Duration::from_millis(1)).await;
            }
            assert!(seen.is_readable() && seen.is_writable(), "{seen:?}");
        });
    });
}

/// A task waiting in both directions is woken by an event in either.
#[test]
fn a_combined_wait_is_woken_by_either_direction() {
    watchdog(|| {
        edgeloop::block_on(async {
            for wake_by_read in [true, false] {
                let (ours, mut peer) = stuck_pair();
                ours.readable().await.unwrap().clear_ready();
                ours.writable().await.unwrap().clear_ready();
                let both = Interest::READABLE | Interest::WRITABLE;
                let parked = timeout(Duration::from_millis(20), ours.ready(both)).await;
                assert!(parked.is_err(), "neither direction is ready");
                let thread = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(10));
                    if wake_by_read {
                        peer.write_all(b"data").unwrap();
                    } else {
                        let mut sink = vec![0; 1 << 20];
                        let _ = peer.read(&mut sink).unwrap();
                    }
                    peer
                });
                let ready = ours.ready(both).await.unwrap().ready();
                if wake_by_read {
                    assert!(ready.is_readable(), "{ready:?}");
                } else {
                    assert!(ready.is_writable(), "{ready:?}");
                }
                drop(thread.join().unwrap());
            }
        });
    });
}

/// `clear_ready_matching` forgets one direction and keeps the other.
#[test]
fn clearing_one_direction_of_a_combined_guard_keeps_the_other() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (ours, _peer) = UnixStream::pair().unwrap();
            ours.set_nonblocking(true).unwrap();
            let ours = AsyncFd::new(ours).unwrap();
            // A new registration is presumed ready both ways.
            let mut guard = ours
                .ready(Interest::READABLE | Interest::WRITABLE)
                .await
                .unwrap();
            assert!(guard.ready().is_readable() && guard.ready().is_writable());
            guard.clear_ready_matching(Ready::READABLE);
            let readiness = ours.readiness();
            assert!(
                !readiness.is_readable() && readiness.is_writable(),
                "{readiness:?}"
            );
        });
    });
}
