//! A slow reader: a client that sends without ever reading its echo. The
//! `echo_server` example, run as a child, must not buffer without bound
//! (its writes to that client return `Pending`, so it stops reading from
//! it); other clients keep getting their echoes meanwhile; and when the
//! slow client goes, its socket and task go too.

mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use util::{fd_count_of, rss_kib_of, wait_until, watchdog, ChildServer};

/// What the slow client tries to push at a server that echoes to it.
const PUSH: u64 = 64 << 20;

/// How long the slow client pushes while the server's memory is watched.
const WINDOW: Duration = Duration::from_secs(1);

/// How often the server's RSS is sampled in the window.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// How far the server's RSS may grow above its warmed-up baseline: its
/// bounded per-connection backlog is one 64 KiB read, far below this.
const RSS_GROWTH_BOUND_KIB: u64 = 4 * 1024;

/// Round trips the other clients make while the slow one is stuck.
const BYSTANDER_ROUND_TRIPS: u64 = 20;

/// Sends `len` pattern bytes while reading the echo on another thread and
/// checks every byte. Leaves the connection open.
fn echo_round_trip(stream: &mut TcpStream, seed: u64, len: usize) {
    let mut writer = stream.try_clone().unwrap();
    let sending = thread::spawn(move || writer.write_all(&util::pattern(seed, len)));
    let mut got = vec![0; len];
    stream.read_exact(&mut got).expect("read the echo");
    sending.join().unwrap().expect("write");
    util::assert_pattern(seed, 0, &got, "echo");
}

fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).expect("connect to echo_server")
}

#[test]
fn a_client_that_never_reads_cannot_grow_the_servers_memory_or_stall_others() {
    watchdog(|| {
        let mut command = Command::new(util::example_path("echo_server"));
        command.arg(util::LOCALHOST_0).stdin(Stdio::null());
        let mut server = ChildServer::start(command);
        let (pid, addr) = (server.pid(), server.addr);
        let base_fds = fd_count_of(pid);

        // Warm up (first connection, the shared scratch buffer, a held-back
        // write) so the baseline is a server that has served.
        let mut warm = connect(addr);
        echo_round_trip(&mut warm, 1, 4 << 20);
        drop(warm);
        wait_until("the warm-up connection to be closed", || {
            fd_count_of(pid) == base_fds
        });
        let base_rss = rss_kib_of(pid);

        let mut bystander = connect(addr);
        echo_round_trip(&mut bystander, 2, 1024);

        // The slow client: a thread keeps writing; nobody reads the echo.
        let slow = connect(addr);
        let sent = Arc::new(AtomicU64::new(0));
        let pusher = thread::spawn({
            let mut slow = slow.try_clone().unwrap();
            let sent = sent.clone();
            move || {
                let chunk = vec![0xa5; 64 * 1024];
                while sent.load(SeqCst) < PUSH {
                    match slow.write(&chunk) {
                        Ok(n) => sent.fetch_add(n as u64, SeqCst),
                        Err(_) => return, // the test shut it down
                    };
                }
            }
        });

        let start = Instant::now();
        let mut peak_rss = base_rss;
        while start.elapsed() < WINDOW {
            peak_rss = peak_rss.max(rss_kib_of(pid));
            thread::sleep(SAMPLE_EVERY);
        }
        let sent_in_window = sent.load(SeqCst);

        // Other clients, old and new, are served while the slow one is stuck.
        let mut newcomer = connect(addr);
        for i in 0..BYSTANDER_ROUND_TRIPS {
            echo_round_trip(&mut bystander, 100 + i, 16 * 1024);
            echo_round_trip(&mut newcomer, 200 + i, 16 * 1024);
        }
        peak_rss = peak_rss.max(rss_kib_of(pid));
        let sent_after = sent.load(SeqCst);
        println!(
            "slow reader: pushed {} KiB in {WINDOW:?}, {} KiB by the end; server RSS \
             baseline {base_rss} KiB, peak {peak_rss} KiB (+{} KiB)",
            sent_in_window >> 10,
            sent_after >> 10,
            peak_rss - base_rss
        );
        assert!(
            sent_after < PUSH,
            "the server took all {} MiB from a client that reads none of its echo",
            PUSH >> 20
        );
        assert!(
            peak_rss - base_rss < RSS_GROWTH_BOUND_KIB,
            "the server's RSS grew by {} KiB while a client would not read",
            peak_rss - base_rss
        );

        // The slow client goes; its connection's fd and task go with it.
        slow.shutdown(Shutdown::Write).unwrap(); // fails the pusher's write
        pusher.join().unwrap();
        drop(slow); // unread data: the kernel resets the connection
        drop(bystander);
        drop(newcomer);
        wait_until(
            &format!("the server's fds to be back to {base_fds}"),
            || fd_count_of(pid) == base_fds,
        );
        println!(
            "slow reader gone: server fds back to {base_fds}, RSS {} KiB",
            rss_kib_of(pid)
        );
        server.assert_running();
    });
}
