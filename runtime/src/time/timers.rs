//! The deadline-ordered timer store the driver's park timeout comes from.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::coop::RuntimeId;
use crate::trace::{TraceEvent, Tracer, WakeCause};
use crate::util::{drop_wakers, wake_all};

/// Names one armed timer: ordered by deadline, ties broken by arming order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    deadline: Instant,
    seq: u64,
}

/// Armed timers of one runtime. A B-tree keyed by (deadline, sequence) gives
/// insert, cancel and pop-earliest in O(log n), and frees its nodes as timers
/// go, so a burst of timers does not pin memory afterwards.
#[derive(Debug)]
pub(crate) struct Timers {
    armed: RefCell<BTreeMap<TimerKey, Waker>>,
    next_seq: Cell<u64>,
    /// Reused between `fire` calls.
    due: RefCell<Vec<Waker>>,
    /// The runtime these timers belong to.
    owner: RuntimeId,
    /// Set when that runtime shuts down: nothing will fire them any more.
    closed: Cell<bool>,
    /// The runtime's trace recorder, if tracing is on.
    trace: Option<Rc<Tracer>>,
    /// Timers armed, fired and cancelled so far (for the metrics).
    pub(crate) counts: TimerCounts,
}

/// What the timers have done (runtime thread only).
#[derive(Debug, Default)]
pub(crate) struct TimerCounts {
    pub(crate) armed: Cell<u64>,
    pub(crate) fired: Cell<u64>,
    pub(crate) cancelled: Cell<u64>,
}

fn bump(counter: &Cell<u64>, by: u64) {
    counter.set(counter.get().wrapping_add(by));
}

impl Timers {
    pub(crate) fn new(owner: RuntimeId, trace: Option<Rc<Tracer>>) -> Timers {
        Timers {
            armed: RefCell::default(),
            next_seq: Cell::new(0),
            due: RefCell::default(),
            owner,
            closed: Cell::new(false),
            trace,
            counts: TimerCounts::default(),
        }
    }

    fn trace_deadline(&self, deadline: Instant, event: fn(Duration) -> TraceEvent) {
        if let Some(trace) = &self.trace {
            trace.record(event(deadline.saturating_duration_since(Instant::now())));
        }
    }

    pub(crate) fn owner(&self) -> RuntimeId {
        self.owner
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Arms a timer that wakes `waker` once `deadline` has passed.
    pub(crate) fn insert(&self, deadline: Instant, waker: &Waker) -> TimerKey {
        let seq = self.next_seq.get();
        self.next_seq.set(seq + 1);
        let key = TimerKey { deadline, seq };
        self.armed.borrow_mut().insert(key, waker.clone());
        bump(&self.counts.armed, 1);
        self.trace_deadline(deadline, |deadline_in| TraceEvent::TimerArmed {
            deadline_in,
        });
        key
    }

    /// Points an armed timer at `waker`; false if it has fired already.
    pub(crate) fn update(&self, key: TimerKey, waker: &Waker) -> bool {
        let mut armed = self.armed.borrow_mut();
        match armed.get_mut(&key) {
            Some(w) => {
                if !w.will_wake(waker) {
                    let old = std::mem::replace(w, waker.clone());
                    drop(armed);
                    drop(old);
                }
                true
            }
            None => false,
        }
    }

    /// Moves an armed timer to `deadline`, keeping its waker: the task that
    /// waits on it is woken at the new time without polling again. `None`
    /// if it had fired already (its task is awake and will re-arm).
    pub(crate) fn reset(&self, key: TimerKey, deadline: Instant) -> Option<TimerKey> {
        let waker = self.armed.borrow_mut().remove(&key)?;
        let seq = self.next_seq.get();
        self.next_seq.set(seq + 1);
        let key = TimerKey { deadline, seq };
        self.armed.borrow_mut().insert(key, waker);
        bump(&self.counts.armed, 1);
        self.trace_deadline(deadline, |deadline_in| TraceEvent::TimerReset {
            deadline_in,
        });
        Some(key)
    }

    /// Disarms a timer (a no-op if it already fired).
    pub(crate) fn cancel(&self, key: TimerKey) {
        let removed = self.armed.borrow_mut().remove(&key);
        if removed.is_some() {
            bump(&self.counts.cancelled, 1);
        }
        if let (Some(trace), Some(_)) = (&self.trace, &removed) {
            trace.record(TraceEvent::TimerCancelled);
        }
        drop(removed);
    }

    /// The earliest armed deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.armed
            .borrow()
            .first_key_value()
            .map(|(k, _)| k.deadline)
    }

    /// Wakes every timer whose deadline is at or before `now`; returns how many.
    pub(crate) fn fire(&self, now: Instant) -> usize {
        // Nothing due (the common case, often nothing armed): done without
        // touching the reusable list.
        if !matches!(self.next_deadline(), Some(deadline) if deadline <= now) {
            return 0;
        }
        let mut due = std::mem::take(&mut *self.due.borrow_mut());
        {
            let mut armed = self.armed.borrow_mut();
            while let Some(entry) = armed.first_entry() {
                if entry.key().deadline > now {
                    break;
                }
                due.push(entry.remove());
            }
        }
        let fired = due.len();
        bump(&self.counts.fired, fired as u64);
        match &self.trace {
            Some(trace) if fired > 0 => {
                trace.record(TraceEvent::TimersFired { count: fired });
                let outer = trace.set_cause(WakeCause::Timer);
                wake_all(&mut due);
                trace.set_cause(outer);
            }
            _ => wake_all(&mut due),
        }
        *self.due.borrow_mut() = due;
        fired
    }

    /// How many timers are armed.
    pub(crate) fn len(&self) -> usize {
        self.armed.borrow().len()
    }

    /// Whether any timer is armed (a turn with none skips the clock read).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.armed.borrow().is_empty()
    }

    /// Disarms everything for good (runtime shutdown).
    pub(crate) fn close(&self) {
        self.closed.set(true);
        let armed = std::mem::take(&mut *self.armed.borrow_mut());
        drop_wakers(armed.into_values());
    }
}

impl TimerKey {
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;
    use std::time::Duration;

    struct Order(AtomicUsize, Arc<std::sync::Mutex<Vec<usize>>>);
    impl Wake for Order {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0.load(Ordering::SeqCst));
        }
    }

    #[test]
    fn fires_in_deadline_order_and_never_early() {
        let timers = Timers::new(RuntimeId::next(), None);
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let base = Instant::now();
        for (id, ms) in [(0, 30), (1, 10), (2, 20), (3, 10)] {
            let waker = Waker::from(Arc::new(Order(AtomicUsize::new(id), log.clone())));
            timers.insert(base + Duration::from_millis(ms), &waker);
        }
        assert_eq!(timers.fire(base + Duration::from_millis(9)), 0);
        assert_eq!(timers.fire(base + Duration::from_millis(20)), 3);
        assert_eq!(
            *log.lock().unwrap(),
            vec![1, 3, 2],
            "deadline, then arming order"
        );
        assert_eq!(
            timers.next_deadline(),
            Some(base + Duration::from_millis(30))
        );
        assert_eq!(timers.fire(base + Duration::from_millis(30)), 1);
        assert_eq!(timers.len(), 0);
    }

    #[test]
    fn cancelled_timers_do_not_fire() {
        let timers = Timers::new(RuntimeId::next(), None);
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let base = Instant::now();
        let waker = Waker::from(Arc::new(Order(AtomicUsize::new(7), log.clone())));
        let keys: Vec<_> = (0..1000)
            .map(|i| timers.insert(base + Duration::from_micros(i), &waker))
            .collect();
        for key in keys.iter().step_by(2) {
            timers.cancel(*key);
        }
        assert!(!timers.update(keys[0], &waker), "a cancelled timer is gone");
        assert!(timers.update(keys[1], &waker));
        assert_eq!(timers.fire(base + Duration::from_secs(1)), 500);
        assert_eq!(log.lock().unwrap().len(), 500);
    }

    #[test]
    fn reset_moves_an_armed_timer_and_keeps_its_waker() {
        let timers = Timers::new(RuntimeId::next(), None);
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let base = Instant::now();
        let waker = Waker::from(Arc::new(Order(AtomicUsize::new(4), log.clone())));
        let key = timers.insert(base + Duration::from_secs(10), &waker);
        let moved = timers.reset(key, base + Duration::from_millis(20)).unwrap();
        assert!(!timers.update(key, &waker), "the old key is gone");
        assert_eq!(timers.fire(base + Duration::from_millis(20)), 1);
        assert_eq!(*log.lock().unwrap(), vec![4]);
        assert!(
            timers.reset(moved, base).is_none(),
            "a fired timer is not re-armed"
        );
    }
}
