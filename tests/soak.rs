//! Soak: the `echo_server` example, run as a child, serves a few hundred
//! clients at once for a fixed time. Each client connects, echoes a few
//! messages of random size (1 B to 64 KiB) checking every byte, and
//! disconnects (FIN after a half-close, a plain close, or RST), over and
//! over. At the end no byte differed, the server has exactly the fds it
//! started with, and its RSS grew by less than a small bound.
//!
//! Runs for 3 s by default; set `EDGELOOP_SOAK_SECS` for a longer run by
//! hand (`EDGELOOP_SOAK_SECS=600 cargo test --release --test soak --
//! --nocapture`). The figures are printed at the end.

mod util;

use std::cell::Cell;
use std::net::{Shutdown, SocketAddr};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::TcpStream;
use edgeloop::Runtime;
use util::{fd_count_of, join, pattern, rss_kib_of, wait_until, ChildServer, Prng};

/// How long the soak runs unless `EDGELOOP_SOAK_SECS` says otherwise.
const DEFAULT_SECS: u64 = 3;
/// Clients connected at once (each reconnects as soon as it disconnects).
const CLIENTS: u64 = 256;
/// Messages per connection: 1 to this many.
const MAX_MESSAGES: usize = 4;
/// Message sizes: 1 byte to this many.
const MAX_MESSAGE: usize = 64 * 1024;
/// Connections per client at most, however long the soak runs.
const MAX_CONNECTIONS: u64 = 1_000_000;
/// How far the server's RSS may grow over the soak.
const RSS_GROWTH_BOUND_KIB: u64 = 16 * 1024;

/// What the clients did, summed.
#[derive(Default)]
struct Totals {
    connections: Cell<u64>,
    messages: Cell<u64>,
    bytes: Cell<u64>,
    mismatches: Cell<u64>,
    errors: Cell<u64>,
}

fn add(counter: &Cell<u64>, n: u64) {
    counter.set(counter.get() + n);
}

fn soak_duration() -> Duration {
    let secs = match std::env::var("EDGELOOP_SOAK_SECS") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("EDGELOOP_SOAK_SECS={s:?}: expected whole seconds")),
        Err(_) => DEFAULT_SECS,
    };
    Duration::from_secs(secs)
}

/// Echoes one message on `stream`, writing and reading at once; false if
/// the echo differed.
async fn echo_message(stream: &TcpStream, seed: u64, len: usize, totals: &Totals) -> bool {
    let msg = pattern(seed, len);
    let mut got = vec![0; len];
    let mut reader = stream;
    let mut writer = stream;
    let (wrote, read) = join(writer.write_all(&msg), reader.read_exact(&mut got)).await;
    if let Err(e) = wrote.and(read) {
        eprintln!("soak: message {seed:#x} ({len} bytes): {e}");
        add(&totals.errors, 1);
        return false;
    }
    if got != msg {
        let at = got.iter().zip(&msg).position(|(a, b)| a != b).unwrap();
        eprintln!("soak: message {seed:#x} ({len} bytes) differs at byte {at}");
        add(&totals.mismatches, 1);
    }
    add(&totals.messages, 1);
    add(&totals.bytes, len as u64);
    true
}

/// One client: connect, echo, disconnect, until `until`.
async fn client(id: u64, addr: SocketAddr, until: Instant, totals: Rc<Totals>) {
    let mut rng = Prng::new(id);
    for conn in 0..MAX_CONNECTIONS {
        if Instant::now() >= until {
            return;
        }
        let stream = match TcpStream::connect(addr).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("soak: client {id}: connect: {e}");
                add(&totals.errors, 1);
                return;
            }
        };
        for msg in 0..rng.in_range(1..=MAX_MESSAGES) as u64 {
            let seed = id << 48 | conn << 8 | msg;
            let len = rng.in_range(1..=MAX_MESSAGE);
            if !echo_message(&stream, seed, len, &totals).await {
                return;
            }
        }
        match rng.below(3) {
            0 => {
                // Half-close: the server sees EOF, finishes, and closes.
                stream.shutdown(Shutdown::Write).unwrap();
                let mut rest = [0; 1];
                let mut reader = &stream;
                match reader.read(&mut rest).await {
                    Ok(0) => {}
                    other => {
                        eprintln!("soak: client {id}: after half-close: {other:?}");
                        add(&totals.errors, 1);
                    }
                }
            }
            1 => drop(stream),
            _ => util::set_linger_zero(&stream), // closed with RST below
        }
        add(&totals.connections, 1);
    }
}

#[test]
fn hundreds_of_clients_echo_random_messages_and_the_server_ends_where_it_began() {
    let soak = soak_duration();
    util::run_with_timeout(soak + util::WATCHDOG, move || {
        let mut command = Command::new(util::example_path("echo_server"));
        command.arg(util::LOCALHOST_0).stdin(Stdio::null());
        let mut server = ChildServer::start(command);
        let (pid, addr) = (server.pid(), server.addr);
        let (base_fds, base_rss) = (fd_count_of(pid), rss_kib_of(pid));

        // The server's peak RSS while the soak runs, sampled every 10 ms.
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = thread::spawn({
            let stop = stop.clone();
            move || {
                let mut peak = 0;
                while !stop.load(SeqCst) {
                    peak = peak.max(rss_kib_of(pid));
                    thread::sleep(Duration::from_millis(10));
                }
                peak
            }
        });

        let totals = Rc::new(Totals::default());
        let start = Instant::now();
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let until = start + soak;
            let clients: Vec<_> = (0..CLIENTS)
                .map(|id| edgeloop::spawn(client(id, addr, until, totals.clone())))
                .collect();
            for c in clients {
                c.await.expect("client task");
            }
        });
        drop(rt);
        let ran = start.elapsed();
        stop.store(true, SeqCst);
        let peak_rss = sampler.join().unwrap();
        wait_until(
            &format!("the server's fds to be back to {base_fds}"),
            || fd_count_of(pid) == base_fds,
        );
        let rss = rss_kib_of(pid);

        println!(
            "soak: {CLIENTS} clients for {ran:.1?}: {} connections, {} messages, {} MiB each \
             way; {} mismatches, {} errors",
            totals.connections.get(),
            totals.messages.get(),
            totals.bytes.get() >> 20,
            totals.mismatches.get(),
            totals.errors.get()
        );
        println!(
            "soak: server fds {base_fds} before, {} after; RSS {base_rss} KiB before, \
             {peak_rss} KiB at most during the soak, {rss} KiB once every connection closed (+{} KiB)",
            fd_count_of(pid),
            rss.saturating_sub(base_rss)
        );
        assert_eq!(totals.mismatches.get(), 0, "echoed bytes differed");
        assert_eq!(totals.errors.get(), 0, "connections failed");
        assert!(totals.connections.get() >= CLIENTS, "each client connected");
        assert!(
            rss.saturating_sub(base_rss) < RSS_GROWTH_BOUND_KIB,
            "the server's RSS grew by {} KiB",
            rss - base_rss
        );
        server.assert_running();
    });
}
