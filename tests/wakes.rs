//! Wakes from other threads: none is lost, whether the runtime is busy or
//! parked in `epoll_wait`, for spawned tasks and for the `block_on` future.
//!
//! The ping-pong tests make every wake necessary: a thread hands over one
//! message and wakes the task, then waits until the task has taken it, so a
//! single lost wake stops the whole exchange (and the watchdog reports it).

mod util;

use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Poll, Waker};
use std::thread;

use edgeloop::Runtime;
use util::watchdog;

/// A one-slot mailbox between a sending thread and a receiving task.
#[derive(Default)]
struct Mailbox {
    state: Mutex<MailboxState>,
    taken: Condvar,
}

#[derive(Default)]
struct MailboxState {
    /// A message is waiting.
    full: bool,
    /// The receiving task's waker, stored whenever it goes to sleep.
    waker: Option<Waker>,
    received: u64,
}

impl Mailbox {
    /// Sends `n` messages, each with one wake, each only after the previous
    /// one was taken and the task went back to sleep.
    fn send(&self, n: u64) {
        for _ in 0..n {
            let waker = {
                let state = self.state.lock().unwrap();
                let mut state = self
                    .taken
                    .wait_while(state, |s| s.full || s.waker.is_none())
                    .unwrap();
                state.full = true;
                state.waker.take().unwrap()
            };
            waker.wake();
        }
    }

    /// Receives until `n` messages have arrived.
    async fn receive(&self, n: u64) -> u64 {
        poll_fn(|cx| {
            let mut state = self.state.lock().unwrap();
            if state.full {
                state.full = false;
                state.received += 1;
            }
            if state.received == n {
                return Poll::Ready(state.received);
            }
            // Stored under the same lock that emptied the box: the sender
            // can only send the next message once this waker is there.
            state.waker = Some(cx.waker().clone());
            self.taken.notify_one();
            Poll::Pending
        })
        .await
    }
}

#[test]
fn a_hundred_thousand_wakes_from_four_threads_reach_their_tasks() {
    const THREADS: usize = 4;
    const PER_THREAD: u64 = 25_000;
    watchdog(|| {
        let mailboxes: Vec<Arc<Mailbox>> = (0..THREADS).map(|_| Arc::default()).collect();
        let senders: Vec<_> = mailboxes
            .iter()
            .map(|mailbox| {
                let mailbox = mailbox.clone();
                thread::spawn(move || mailbox.send(PER_THREAD))
            })
            .collect();
        let received = edgeloop::block_on(async {
            let tasks: Vec<_> = mailboxes
                .iter()
                .map(|mailbox| {
                    let mailbox = mailbox.clone();
                    edgeloop::spawn(async move { mailbox.receive(PER_THREAD).await })
                })
                .collect();
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            total
        });
        assert_eq!(received, THREADS as u64 * PER_THREAD);
        for s in senders {
            s.join().unwrap();
        }
    });
}

#[test]
fn wakes_from_another_thread_reach_the_block_on_future() {
    const MESSAGES: u64 = 25_000;
    watchdog(|| {
        let mailbox = Arc::new(Mailbox::default());
        let sender = thread::spawn({
            let mailbox = mailbox.clone();
            move || mailbox.send(MESSAGES)
        });
        let received = edgeloop::block_on(mailbox.receive(MESSAGES));
        assert_eq!(received, MESSAGES);
        sender.join().unwrap();
    });
}

#[test]
fn a_storm_of_unsynchronised_wakes_ends_with_the_task_seeing_every_count() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 25_000;
    watchdog(|| {
        let count = Arc::new(AtomicU64::new(0));
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let rt = Runtime::new().unwrap();
        let task = rt.spawn({
            let (count, slot) = (count.clone(), slot.clone());
            let mut polls = 0u64;
            poll_fn(move |cx| {
                polls += 1;
                // Store the waker first, then look: a wake after the store
                // cannot be missed.
                *slot.lock().unwrap() = Some(cx.waker().clone());
                if count.load(SeqCst) == THREADS * PER_THREAD {
                    Poll::Ready(polls)
                } else {
                    Poll::Pending
                }
            })
        });
        let wakers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (count, slot) = (count.clone(), slot.clone());
                thread::spawn(move || {
                    for i in 0..PER_THREAD {
                        count.fetch_add(1, SeqCst);
                        let waker = slot.lock().unwrap().clone();
                        if let Some(waker) = waker {
                            if i % 2 == 0 {
                                waker.wake();
                            } else {
                                waker.wake_by_ref();
                            }
                        }
                    }
                })
            })
            .collect();
        let polls = rt.block_on(task).unwrap();
        for w in wakers {
            w.join().unwrap();
        }
        assert!(polls >= 1);
        assert_eq!(count.load(SeqCst), THREADS * PER_THREAD);
    });
}

#[test]
fn waking_a_task_after_its_runtime_is_gone_is_harmless() {
    watchdog(|| {
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let slot = slot.clone();
            edgeloop::spawn(poll_fn(move |cx| {
                *slot.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            }));
            edgeloop::yield_now().await;
        });
        drop(rt);
        let waker = slot
            .lock()
            .unwrap()
            .take()
            .expect("the task stored its waker");
        let clone = waker.clone();
        thread::spawn(move || {
            clone.wake_by_ref();
            clone.wake();
        })
        .join()
        .unwrap();
        waker.wake_by_ref();
        waker.wake();
    });
}

#[test]
fn a_wake_that_arrives_between_two_block_ons_runs_the_task_in_the_next() {
    watchdog(|| {
        let mailbox = Arc::new(Mailbox::default());
        let rt = Runtime::new().unwrap();
        let task = rt.spawn({
            let mailbox = mailbox.clone();
            async move { mailbox.receive(1).await }
        });
        // Runs the task until it sleeps on the mailbox, then returns.
        rt.block_on(edgeloop::yield_now());
        assert!(!task.is_finished());
        // The runtime is not running now: the wake has to wait in its queue.
        let sender = thread::spawn({
            let mailbox = mailbox.clone();
            move || mailbox.send(1)
        });
        sender.join().unwrap();
        assert_eq!(rt.block_on(task).unwrap(), 1);
    });
}
