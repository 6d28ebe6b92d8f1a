//! In-process micro-benchmarks, each printed as `key value` lines:
//!
//! - `tasks`: spawn and complete tasks (in batches of 1,000, each batch
//!   awaited through its `JoinHandle`s);
//! - `timers`: set timers, cancel 99 % of them (1-10 s deadlines, dropped
//!   after one poll), let the rest (1-10 ms) fire;
//! - `sleep`: how late `sleep(1ms)` wakes (`std`: `thread::sleep`);
//! - `wake`: from a `Waker::wake` on another thread (on the other CPU) to
//!   the woken task's poll, the runtime parked in between (`std`: a thread
//!   parked on a futex, woken by `unpark`).
//!
//! The edgeloop and tokio versions are one body, instantiated by a macro
//! with each runtime's `spawn` or `sleep`, so they do the same work.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use edgeloop_bench::sys;

/// Tasks spawned before the batch is awaited.
const TASK_BATCH: u64 = 1000;
/// One timer in this many is kept and fires; the rest are cancelled.
const KEEP_EVERY: u64 = 100;
/// The sleep whose overshoot is measured.
const SLEEP: Duration = Duration::from_millis(1);
/// How long the waking thread waits after the task registered its waker,
/// so the runtime has parked.
const WAKE_GAP: Duration = Duration::from_micros(200);

/// Runs micro-benchmark `bench` on runtime `kind`.
pub fn run(bench: &str, kind: &str, count: u64, other_cpu: Option<usize>) -> io::Result<()> {
    match (bench, kind) {
        ("tasks", "edgeloop") => {
            let rt = edgeloop::Runtime::new()?;
            let start = Instant::now();
            let sum = rt.block_on(tasks!(edgeloop::spawn, count));
            report_rate(count, start.elapsed(), sum);
            let m = rt.metrics();
            println!("polls_per_task {:.3}", m.task_polls as f64 / count as f64);
            println!("driver_turns {}", m.driver_turns);
        }
        ("tasks", "tokio") => {
            let rt = tokio_runtime()?;
            let start = Instant::now();
            let sum = rt.block_on(tasks!(tokio::spawn, count));
            report_rate(count, start.elapsed(), sum);
        }
        ("timers", "edgeloop") => {
            let (set, total) =
                edgeloop::Runtime::new()?.block_on(timers!(edgeloop::time::sleep, count));
            report_timers(count, set, total);
        }
        ("timers", "tokio") => {
            let (set, total) = tokio_runtime()?.block_on(timers!(tokio::time::sleep, count));
            report_timers(count, set, total);
        }
        ("sleep", "edgeloop") => report_latency(
            edgeloop::Runtime::new()?.block_on(sleeps!(edgeloop::time::sleep, count)),
        ),
        ("sleep", "tokio") => {
            report_latency(tokio_runtime()?.block_on(sleeps!(tokio::time::sleep, count)))
        }
        ("sleep", "std") => report_latency(
            (0..count)
                .map(|_| {
                    let deadline = Instant::now() + SLEEP;
                    thread::sleep(SLEEP);
                    Instant::now().saturating_duration_since(deadline)
                })
                .collect(),
        ),
        ("wake", kind) => {
            let (tx, waker_thread) = spawn_waker_thread(other_cpu);
            let samples = match kind {
                "edgeloop" => edgeloop::Runtime::new()?.block_on(async move {
                    edgeloop::spawn(wake_samples(count, tx))
                        .await
                        .expect("wake task")
                }),
                "tokio" => tokio_runtime()?.block_on(async move {
                    tokio::spawn(wake_samples(count, tx))
                        .await
                        .expect("wake task")
                }),
                "std" => park_on(wake_samples(count, tx)),
                _ => return Err(io::Error::other(format!("no wake benchmark for {kind}"))),
            };
            waker_thread
                .join()
                .map_err(|_| io::Error::other("waker thread panicked"))?;
            report_latency(samples);
        }
        _ => {
            return Err(io::Error::other(format!(
                "no micro-benchmark {bench} for {kind}"
            )))
        }
    }
    Ok(())
}

fn tokio_runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Spawns `$n` trivial tasks in batches and awaits each batch; the sum of
/// their outputs keeps the work from being optimised away.
macro_rules! tasks {
    ($spawn:path, $n:expr) => {
        async move {
            let n: u64 = $n;
            let mut handles = Vec::with_capacity(TASK_BATCH as usize);
            let (mut spawned, mut sum) = (0u64, 0u64);
            while spawned < n {
                let batch = TASK_BATCH.min(n - spawned);
                for i in 0..batch {
                    handles.push($spawn(async move { std::hint::black_box(i) }));
                }
                for h in handles.drain(..) {
                    sum += h.await.expect("a benchmark task failed");
                }
                spawned += batch;
            }
            sum
        }
    };
}
use tasks;

/// Sets `$n` timers, polling each once so it is armed; keeps one in
/// [`KEEP_EVERY`] (1-10 ms, awaited at the end) and cancels the rest by
/// dropping them (1-10 s deadlines). Returns (set-and-cancel time, total).
macro_rules! timers {
    ($sleep:path, $n:expr) => {
        async move {
            let n: u64 = $n;
            let mut kept = Vec::with_capacity((n / KEEP_EVERY) as usize + 1);
            let start = Instant::now();
            for i in 0..n {
                if i % KEEP_EVERY == 0 {
                    let mut s = Box::pin($sleep(Duration::from_millis(1 + i % 10)));
                    poll_once(s.as_mut()).await;
                    kept.push(s);
                } else {
                    let mut s = std::pin::pin!($sleep(Duration::from_millis(1000 + i % 9000)));
                    poll_once(s.as_mut()).await;
                }
            }
            let set = start.elapsed();
            for s in kept {
                s.await;
            }
            (set, start.elapsed())
        }
    };
}
use timers;

/// `$n` sleeps of [`SLEEP`], one after another; returns how late each woke.
macro_rules! sleeps {
    ($sleep:path, $n:expr) => {
        async move {
            let mut late = Vec::with_capacity($n as usize);
            for _ in 0..$n {
                let deadline = Instant::now() + SLEEP;
                $sleep(SLEEP).await;
                late.push(Instant::now().saturating_duration_since(deadline));
            }
            late
        }
    };
}
use sleeps;

/// Polls `f` once, whatever it returns.
async fn poll_once<F: Future + ?Sized>(mut f: Pin<&mut F>) {
    poll_fn(|cx| {
        let _ = f.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await
}

/// A one-shot signal fired from another thread.
#[derive(Default)]
struct Signal {
    state: Mutex<SignalState>,
}

#[derive(Default)]
struct SignalState {
    waker: Option<Waker>,
    fired_at: Option<Instant>,
}

/// Waits for a [`Signal`]; yields the instant it was fired.
struct Fired(Arc<Signal>);

impl Future for Fired {
    type Output = Instant;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        let mut state = self.0.state.lock().expect("signal lock");
        match state.fired_at {
            Some(at) => Poll::Ready(at),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// The waking thread: for each signal it receives, waits until the task
/// has registered its waker and [`WAKE_GAP`] has passed, then fires it.
fn spawn_waker_thread(cpu: Option<usize>) -> (mpsc::Sender<Arc<Signal>>, thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Arc<Signal>>();
    let handle = thread::spawn(move || {
        if let Some(cpu) = cpu {
            let _ = sys::pin_to_cpu(cpu);
        }
        for signal in rx {
            loop {
                thread::sleep(WAKE_GAP);
                if signal.state.lock().expect("signal lock").waker.is_some() {
                    break;
                }
            }
            let waker = {
                let mut state = signal.state.lock().expect("signal lock");
                state.fired_at = Some(Instant::now());
                state.waker.take()
            };
            waker.expect("checked above").wake();
        }
    });
    (tx, handle)
}

/// `n` cross-thread wakes; each sample runs from just before `wake()` on the
/// other thread to the woken task's poll.
async fn wake_samples(n: u64, tx: mpsc::Sender<Arc<Signal>>) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let signal = Arc::new(Signal::default());
        tx.send(signal.clone()).expect("waker thread alive");
        let fired_at = Fired(signal).await;
        out.push(fired_at.elapsed());
    }
    out
}

/// The floor: a thread that polls a future and parks on a futex between polls.
fn park_on<F: Future>(f: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

fn report_rate(count: u64, elapsed: Duration, checksum: u64) {
    std::hint::black_box(checksum);
    println!("rate {:.0}", count as f64 / elapsed.as_secs_f64());
    println!(
        "ns_per_task {:.1}",
        elapsed.as_nanos() as f64 / count as f64
    );
}

fn report_timers(count: u64, set: Duration, total: Duration) {
    println!("rate {:.0}", count as f64 / set.as_secs_f64());
    println!("ns_per_timer {:.1}", set.as_nanos() as f64 / count as f64);
    println!("fire_ms {:.2}", (total - set).as_secs_f64() * 1e3);
}

fn report_latency(mut samples: Vec<Duration>) {
    samples.sort();
    let pick =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    println!("p50_us {:.2}", pick(0.5));
    println!("p90_us {:.2}", pick(0.9));
    println!("p99_us {:.2}", pick(0.99));
    println!("max_us {:.2}", pick(1.0));
}
