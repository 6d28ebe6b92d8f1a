//! Dropping a runtime at scale: thousands of tasks parked on thousands of
//! sockets (reading, writing to full buffers, accepting), asleep, awaiting
//! each other, never polled, or holding a future whose `Drop` panics. After
//! the drop every future has been dropped, every handle reports how its task
//! ended, and the process has exactly the fds it had before.
//!
//! The only test in this binary: it counts the whole process's fds, so no
//! other test may open any meanwhile.

mod util;

use std::collections::BTreeMap;
use std::future::{pending, Future};
use std::io::ErrorKind;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use edgeloop::io::{AsyncReadExt, AsyncWriteExt};
use edgeloop::net::{TcpListener, TcpStream};
use edgeloop::time::sleep;
use edgeloop::{JoinHandle, Runtime};
use util::{open_fds, poll_once, watchdog, DropFlag, DropProbe};

/// Connected socket pairs, each end owned by a task blocked reading it.
const READING_PAIRS: usize = 2_000;
/// Pairs whose one end is blocked writing to the other, which never reads.
const WRITING_PAIRS: usize = 20;
/// Tasks parked in `accept` on the shared listener.
const ACCEPTORS: usize = 10;
/// Tasks asleep for an hour.
const SLEEPERS: usize = 500;
/// Tasks each awaiting the previous one's `JoinHandle`.
const JOINERS: usize = 200;
/// Tasks holding a socket in a future whose `Drop` panics.
const PANICKY: usize = 50;
/// Tasks spawned after `block_on` returned, holding a socket, never polled.
const NEVER_POLLED: usize = 300;

const EVENTFD: &str = "anon_inode:[eventfd]";

/// This process's open fds, counted by what they are: `socket`, `pipe`,
/// `anon_inode:[eventpoll]`, `anon_inode:[eventfd]`, or a file's path.
fn open_fds_by_kind() -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for entry in std::fs::read_dir("/proc/self/fd").expect("list /proc/self/fd") {
        let Ok(target) = entry.and_then(|e| std::fs::read_link(e.path())) else {
            continue; // the listing's own fd, closed by now
        };
        let target = target.to_string_lossy().into_owned();
        let kind = match target.split_once(":[") {
            Some((kind @ ("socket" | "pipe"), _)) => kind.to_owned(),
            _ => target,
        };
        *kinds.entry(kind).or_insert(0) += 1;
    }
    kinds
}

/// A task handle and whether the task's future panics when dropped.
struct Spawned {
    handle: JoinHandle<()>,
    drop_panics: bool,
}

/// Holds a socket and a probe; panics when dropped. Its fields are still
/// dropped as the panic unwinds.
struct PanicOnDrop {
    _stream: TcpStream,
    _probe: DropProbe,
}

const DROP_PANIC: &str = "a future's Drop panics during runtime shutdown";

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{DROP_PANIC}");
    }
}

/// Keeps the expected drop panics out of the output, so a failure reads
/// clearly; any other panic is reported as usual.
fn silence_drop_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<String>().map(String::as_str) != Some(DROP_PANIC) {
            report(info);
        }
    }));
}

/// A connected pair: (client end, server end).
async fn socket_pair(listener: &TcpListener, addr: std::net::SocketAddr) -> (TcpStream, TcpStream) {
    let client = TcpStream::connect(addr).await.expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    (client, server)
}

/// Fills `stream`'s send path until the kernel says `EAGAIN`.
fn fill(stream: &TcpStream) {
    let chunk = [0x5a; 64 * 1024];
    loop {
        match stream.try_write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => panic!("try_write: {e}"),
        }
    }
}

#[test]
fn dropping_a_runtime_with_thousands_of_tasks_and_sockets_closes_every_fd() {
    silence_drop_panics();
    watchdog(|| {
        let before = open_fds_by_kind();
        let mut flags: Vec<DropFlag> = Vec::new();
        let mut probe = || {
            flags.push(DropFlag::new());
            flags.last().unwrap().probe()
        };
        let rt = Runtime::new().unwrap();
        let (mut spawned, never_polled_streams) = rt.block_on(async {
            let (listener, addr) = util::local_listener().await;
            let mut spawned = Vec::new();
            let mut spawn = |drop_panics: bool, future: Pin<Box<dyn Future<Output = ()>>>| {
                spawned.push(Spawned {
                    handle: edgeloop::spawn(future),
                    drop_panics,
                });
            };
            for _ in 0..READING_PAIRS {
                let (a, b) = socket_pair(&listener, addr).await;
                for mut stream in [a, b] {
                    let probe = probe();
                    spawn(
                        false,
                        Box::pin(async move {
                            let _probe = probe;
                            let mut buf = [0; 16];
                            let _ = stream.read(&mut buf).await;
                            unreachable!("nobody writes to these sockets");
                        }),
                    );
                }
            }
            for _ in 0..WRITING_PAIRS {
                let (mut writer, reader) = socket_pair(&listener, addr).await;
                fill(&writer);
                let (probe_w, probe_r) = (probe(), probe());
                spawn(
                    false,
                    Box::pin(async move {
                        let _probe = probe_w;
                        let _ = writer.write_all(&[1; 1024]).await;
                        unreachable!("the peer never reads");
                    }),
                );
                spawn(
                    false,
                    Box::pin(async move {
                        let _probe = probe_r;
                        let _reader = reader;
                        pending::<()>().await;
                    }),
                );
            }
            // Acceptors wait on a listener of their own, which nobody dials.
            let idle = Rc::new(util::local_listener().await.0);
            for _ in 0..ACCEPTORS {
                let (listener, probe) = (idle.clone(), probe());
                spawn(
                    false,
                    Box::pin(async move {
                        let _probe = probe;
                        let _ = listener.accept().await;
                        unreachable!("nobody connects any more");
                    }),
                );
            }
            for _ in 0..SLEEPERS {
                let probe = probe();
                spawn(
                    false,
                    Box::pin(async move {
                        let _probe = probe;
                        sleep(Duration::from_secs(3600)).await;
                    }),
                );
            }
            let mut prev: Option<JoinHandle<()>> = None;
            for _ in 0..JOINERS {
                let (probe, awaited) = (probe(), prev.take());
                prev = Some(edgeloop::spawn(async move {
                    let _probe = probe;
                    match awaited {
                        Some(h) => drop(h.await),
                        None => pending().await,
                    }
                }));
            }
            if let Some(last) = prev {
                spawn(false, Box::pin(async move { drop(last.await) }));
            }
            for _ in 0..PANICKY {
                let (stream, peer) = socket_pair(&listener, addr).await;
                let holder = PanicOnDrop {
                    _stream: stream,
                    _probe: probe(),
                };
                let probe = probe();
                spawn(
                    true,
                    Box::pin(async move {
                        let _holder = holder;
                        let _probe = probe;
                        let mut peer = peer;
                        let mut buf = [0; 16];
                        let _ = peer.read(&mut buf).await;
                    }),
                );
            }
            let mut never_polled = Vec::new();
            for _ in 0..NEVER_POLLED / 2 {
                let (a, b) = socket_pair(&listener, addr).await;
                never_polled.extend([a, b]);
            }
            // Every task so far has been polled (and parked) at least once.
            let tasks = spawned.len() + JOINERS;
            while rt.metrics().task_polls < tasks as u64 {
                edgeloop::yield_now().await;
            }
            (spawned, never_polled)
        });
        for stream in never_polled_streams {
            let probe = probe();
            spawned.push(Spawned {
                handle: rt.spawn(async move {
                    let _probe = probe;
                    let _stream = stream;
                }),
                drop_panics: false,
            });
        }

        let m = rt.metrics();
        let tasks = spawned.len() + JOINERS;
        assert_eq!(m.live_tasks, tasks, "tasks alive before the drop");
        let listeners = if ACCEPTORS > 0 { 1 } else { 0 };
        let sockets = 2 * (READING_PAIRS + WRITING_PAIRS + PANICKY) + NEVER_POLLED + listeners;
        assert_eq!(m.registrations, sockets, "sockets open before the drop");
        assert_eq!(m.armed_timers, SLEEPERS);
        println!(
            "dropping a runtime with {tasks} tasks, {sockets} sockets, {} fds open in all",
            open_fds()
        );

        drop(rt);

        let alive = flags.iter().filter(|f| !f.is_dropped()).count();
        assert_eq!(
            alive,
            0,
            "{alive} of {} futures outlived the runtime",
            flags.len()
        );
        // No socket or epoll fd is left. The runtime's eventfd may live on
        // while a handle or waker of it does (they share its wake-up state).
        let mut after = open_fds_by_kind();
        if after.get(EVENTFD) > before.get(EVENTFD) {
            *after.get_mut(EVENTFD).unwrap() -= 1;
            after.retain(|_, n| *n > 0);
        }
        assert_eq!(after, before, "fds open after the runtime is gone");
        for (i, s) in spawned.iter_mut().enumerate() {
            assert!(s.handle.is_finished(), "task {i}");
            match poll_once(pin!(&mut s.handle)) {
                Poll::Ready(Err(e)) if s.drop_panics => assert!(e.is_panic(), "task {i}: {e:?}"),
                Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "task {i}: {e:?}"),
                Poll::Ready(Ok(())) => panic!("task {i} reports success"),
                Poll::Pending => panic!("task {i}'s handle is still pending"),
            }
        }
        drop(spawned);
        assert_eq!(
            open_fds_by_kind(),
            before,
            "fds open after the runtime and its handles are gone"
        );
    });
}
