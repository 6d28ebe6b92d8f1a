//! Waiters on one registration: a task that stops waiting (its operation
//! gave up, or ended) leaves the waiter list with it, and several tasks
//! waiting in one direction are all served.

#[path = "util/live_blocks.rs"]
mod live_blocks;
mod util;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use edgeloop::net::TcpStream;
use edgeloop::time::timeout;
use live_blocks::live_blocks;
use util::watchdog;

/// Short-lived tasks that each wait on the listener once.
const SHORT_LIVED: usize = 20_000;

/// Each task polls `accept` once (which records it as a waiter on the idle
/// listener), gives up at once (`timeout` of zero) and ends. Its waiter must
/// go away with it; otherwise every finished task's waker stays in the
/// listener's list, and with it the task's cell, until an event comes or the
/// listener is dropped. The heap's live blocks show it: 20,000 cells kept
/// are 20,000 blocks (other tests of this binary running meanwhile move the
/// count by far less). Failed before the fix: none of the 20,000 cells was
/// freed while the listener lived.
#[test]
fn tasks_that_gave_up_waiting_to_accept_do_not_stay_on_the_listener() {
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, _addr) = util::local_listener().await;
            let listener = Rc::new(listener);
            let finished = Rc::new(Cell::new(0));
            let before = live_blocks();
            for _ in 0..SHORT_LIVED {
                let (listener, finished) = (listener.clone(), finished.clone());
                drop(edgeloop::spawn(async move {
                    let gave_up = timeout(Duration::ZERO, listener.accept()).await;
                    assert!(gave_up.is_err(), "nobody connects to this listener");
                    finished.set(finished.get() + 1);
                }));
            }
            while finished.get() < SHORT_LIVED {
                edgeloop::yield_now().await;
            }
            // The runtime lets go of a task right after its last poll.
            edgeloop::yield_now().await;
            let kept = live_blocks() - before;
            assert!(
                kept < (SHORT_LIVED / 4) as isize,
                "{kept} more heap blocks are alive after {SHORT_LIVED} short-lived tasks \
                 finished than before they started: their cells are still held as the \
                 listener's waiters"
            );
            drop(listener);
        });
    });
}

/// The contract that must survive the fix: eight tasks waiting to accept on
/// one listener at once (the common "several acceptors" pattern) are all
/// woken and each gets its own connection. Passes today.
#[test]
fn eight_tasks_accepting_on_one_listener_each_get_a_connection() {
    const ACCEPTORS: usize = 8;
    watchdog(|| {
        edgeloop::block_on(async {
            let (listener, addr) = util::local_listener().await;
            let listener = Rc::new(listener);
            let acceptors: Vec<_> = (0..ACCEPTORS)
                .map(|_| {
                    let listener = listener.clone();
                    edgeloop::spawn(async move { listener.accept().await.map(|(_, peer)| peer) })
                })
                .collect();
            // All eight are waiting before the first client comes.
            for _ in 0..3 {
                edgeloop::yield_now().await;
            }
            assert!(
                acceptors.iter().all(|a| !a.is_finished()),
                "nobody connected yet"
            );
            let mut clients = Vec::new();
            for _ in 0..ACCEPTORS {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            let mut peers = BTreeSet::new();
            for (i, acceptor) in acceptors.into_iter().enumerate() {
                let peer = timeout(Duration::from_secs(5), acceptor)
                    .await
                    .unwrap_or_else(|_| panic!("acceptor {i} never got a connection"))
                    .unwrap()
                    .expect("accept");
                peers.insert(peer);
            }
            let clients: BTreeSet<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
            assert_eq!(peers, clients, "each client was accepted exactly once");
        });
    });
}
