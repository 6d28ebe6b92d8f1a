//! Timers at scale: a million sleeps armed at once, nine in ten cancelled
//! by dropping them, the rest fired by the runtime. None fires early, none
//! is lost, no cancelled one fires, none stays armed, and the memory they
//! took is given back.
//!
//! The only test in this binary: it counts the whole process's heap (this
//! binary's global allocator counts live bytes) and reads its RSS.

mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use edgeloop::time::{sleep_until, Sleep};
use util::{rss_kib, watchdog, Prng};

/// Sleeps armed at once. A debug build arms and cancels about half a
/// million a second, so it runs a fifth of them to stay within a few
/// seconds; an optimised build runs the full million.
const TIMERS: usize = if cfg!(debug_assertions) {
    200_000
} else {
    1_000_000
};
/// One in this many is kept and fires; the others are cancelled.
const KEEP_ONE_IN: usize = 10;
/// The sleeps to be cancelled get deadlines spread over this span from the
/// start, the survivors' deadlines among them: many fall due before they
/// are cancelled, which the runtime must not notice (it never turns meanwhile).
const CANCELLED_SPAN: Duration = Duration::from_secs(10);
/// The least time between computing a deadline and arming its sleep.
const LEAD: Duration = Duration::from_millis(50);
/// The survivors' deadlines are spread over this span, after the
/// cancelling is done, so they fire over many driver turns.
const SPREAD: Duration = Duration::from_millis(300);
/// The share of the heap the sleeps took that may still be allocated once
/// they are gone and the runtime still runs (its reused buffer of due
/// wakers, sized for the largest batch that fired at once).
const HEAP_KEPT_SHARE: f64 = 0.05;

/// A global allocator that counts the bytes allocated and not yet freed.
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the caller's arguments,
// so `System`'s guarantees hold; the counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, forwarded as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), SeqCst);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), SeqCst);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract: `ptr` came from
        // this allocator (so from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract, forwarded as is.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE_BYTES.fetch_add(new_size, SeqCst);
            LIVE_BYTES.fetch_sub(layout.size(), SeqCst);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_kib() -> usize {
    LIVE_BYTES.load(SeqCst) >> 10
}

/// What the survivors' wakers record: which fired and when, and the task
/// to wake each time one does.
struct FireLog {
    fired: Mutex<Vec<(u32, Instant)>>,
    waiter: Mutex<Option<Waker>>,
}

/// The waker of surviving sleep `index`.
struct SurvivorWake {
    index: u32,
    log: Arc<FireLog>,
}

impl Wake for SurvivorWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let now = Instant::now();
        self.log.fired.lock().unwrap().push((self.index, now));
        if let Some(w) = self.log.waiter.lock().unwrap().as_ref() {
            w.wake_by_ref();
        }
    }
}

/// The one waker all cancelled sleeps share: it counts wakes, which must
/// stay at zero.
struct CountWake(AtomicUsize);

impl Wake for CountWake {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Arms `sleep` by polling it once with `waker`; true if it is now pending.
fn arm(sleep: &mut Sleep, waker: &Waker) -> bool {
    Pin::new(sleep)
        .poll(&mut Context::from_waker(waker))
        .is_pending()
}

#[test]
fn a_million_timers_mostly_cancelled_fire_none_early_lose_none_and_give_memory_back() {
    watchdog(|| {
        // Tracing off whatever EDGELOOP_TRACE says: this test measures the heap (trace records are on it).
        let rt = edgeloop::Builder::new()
            .trace(edgeloop::trace::TraceSink::Off)
            .build()
            .unwrap();
        let (base_heap, base_rss) = (live_kib(), rss_kib());
        let log = Arc::new(FireLog {
            fired: Mutex::new(Vec::new()),
            waiter: Mutex::new(None),
        });
        let cancelled_wakes = Arc::new(CountWake(AtomicUsize::new(0)));
        let (peak_heap, peak_rss) = rt.block_on(async {
            let cancelled_waker = Waker::from(cancelled_wakes.clone());
            let mut rng = Prng::new(8);
            let mut offset =
                |span: Duration| Duration::from_nanos(rng.below(span.as_nanos() as u64));

            // First the sleeps to be cancelled, with deadlines in no order
            // (none due yet when it is armed).
            let start = Instant::now();
            let doomed_count = TIMERS - TIMERS / KEEP_ONE_IN;
            let mut doomed = Vec::with_capacity(doomed_count);
            for _ in 0..doomed_count {
                let deadline = (start + offset(CANCELLED_SPAN)).max(Instant::now() + LEAD);
                let mut sleep = sleep_until(deadline);
                assert!(arm(&mut sleep, &cancelled_waker), "due at its first poll");
                doomed.push(sleep);
            }
            let doomed_in = start.elapsed();

            // Then the survivors, due once the cancelling (which takes
            // about as long as the arming did) is done, among the others'
            // deadlines.
            let base = Instant::now() + doomed_in * 2;
            let mut survivors = Vec::with_capacity(TIMERS / KEEP_ONE_IN);
            let mut deadlines = Vec::with_capacity(TIMERS / KEEP_ONE_IN);
            for index in 0..TIMERS / KEEP_ONE_IN {
                let deadline = base.max(Instant::now() + LEAD) + offset(SPREAD);
                let mut sleep = sleep_until(deadline);
                let waker = Waker::from(Arc::new(SurvivorWake {
                    index: index as u32,
                    log: log.clone(),
                }));
                assert!(arm(&mut sleep, &waker), "due at its first poll");
                survivors.push(sleep);
                deadlines.push(deadline);
            }
            let armed_in = start.elapsed();
            assert_eq!(rt.metrics().armed_timers, TIMERS);
            let (peak_heap, peak_rss) = (live_kib(), rss_kib());

            // Cancel nine in ten by dropping them, in arming order (no
            // order of deadlines).
            drop(doomed);
            let cancelled_in = start.elapsed() - armed_in;
            assert_eq!(
                rt.metrics().armed_timers,
                survivors.len(),
                "timers armed once the cancelled sleeps are dropped"
            );
            let now = Instant::now();
            let overdue = deadlines.iter().filter(|&&d| d <= now).count();
            println!(
                "{TIMERS} timers armed in {armed_in:?}, {doomed_count} cancelled in \
                 {cancelled_in:?}; {} left, {overdue} of them already due",
                survivors.len(),
            );

            let parks_before = rt.metrics().parks;
            // Until every survivor has fired, or none is armed any more (so a
            // lost one shows below as such, not as a hang).
            poll_fn(|cx| {
                *log.waiter.lock().unwrap() = Some(cx.waker().clone());
                let fired = log.fired.lock().unwrap().len();
                if fired < survivors.len() && rt.metrics().armed_timers > 0 {
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            })
            .await;
            println!(
                "the survivors fired over {} parks of the runtime",
                rt.metrics().parks - parks_before
            );

            let fired = std::mem::take(&mut *log.fired.lock().unwrap());
            let mut times = vec![None; survivors.len()];
            for (index, at) in fired {
                let slot = &mut times[index as usize];
                assert!(slot.is_none(), "survivor {index} fired twice");
                *slot = Some(at);
            }
            for (i, (at, deadline)) in times.iter().zip(&deadlines).enumerate() {
                let at = at.unwrap_or_else(|| panic!("survivor {i} never fired"));
                assert!(
                    at >= *deadline,
                    "survivor {i} fired {:?} before its deadline",
                    *deadline - at
                );
            }
            for (i, s) in survivors.iter_mut().enumerate() {
                assert!(!arm(s, &cancelled_waker), "survivor {i} is not complete");
            }
            assert_eq!(cancelled_wakes.0.load(SeqCst), 0, "cancelled timers fired");
            assert_eq!(rt.metrics().armed_timers, 0);
            (peak_heap, peak_rss)
        });
        *log.waiter.lock().unwrap() = None; // it holds the block_on waker

        let (heap, rss) = (live_kib(), rss_kib());
        println!(
            "heap: {base_heap} KiB before, {peak_heap} KiB with all armed, {heap} KiB after; \
             RSS: {base_rss} KiB, {peak_rss} KiB, {rss} KiB"
        );
        let taken = (peak_heap - base_heap) as f64;
        assert!(
            heap.saturating_sub(base_heap) as f64 <= taken * HEAP_KEPT_SHARE,
            "{} KiB of the {taken} KiB the timers took are still allocated",
            heap - base_heap
        );
        drop(rt);
        println!("heap after the runtime is dropped: {} KiB", live_kib());
    });
}
