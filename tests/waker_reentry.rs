//! Wakers whose `clone` or `drop` come back into the registration they are
//! being parked in or released from: the registration must stay whole (no
//! "already borrowed" panic, no waker lost or kept). Its own binary: the
//! hook waker counts live clones in statics.

mod util;

use std::cell::RefCell;
use std::future::Future;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Wake, Waker};

use edgeloop::io::{AsyncFd, Interest};

struct Count(AtomicUsize);
impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

type Hook = Box<dyn FnOnce()>;
thread_local! {
    static ON_CLONE: RefCell<Option<Hook>> = RefCell::new(None);
    static ON_DROP: RefCell<Option<Hook>> = RefCell::new(None);
}
static HOOK_WAKES: AtomicUsize = AtomicUsize::new(0);
static HOOK_LIVE: AtomicUsize = AtomicUsize::new(0);

fn run(slot: &'static std::thread::LocalKey<RefCell<Option<Hook>>>) {
    if let Some(h) = slot.with(|s| s.borrow_mut().take()) {
        h()
    }
}
unsafe fn h_clone(_: *const ()) -> RawWaker {
    HOOK_LIVE.fetch_add(1, Ordering::SeqCst);
    run(&ON_CLONE);
    RawWaker::new(std::ptr::null(), &VT)
}
unsafe fn h_wake(_: *const ()) {
    HOOK_WAKES.fetch_add(1, Ordering::SeqCst);
    release();
}
unsafe fn h_wake_ref(_: *const ()) {
    HOOK_WAKES.fetch_add(1, Ordering::SeqCst);
}
unsafe fn h_drop(_: *const ()) {
    release();
}
fn release() {
    HOOK_LIVE.fetch_sub(1, Ordering::SeqCst);
    run(&ON_DROP);
}
static VT: RawWakerVTable = RawWakerVTable::new(h_clone, h_wake, h_wake_ref, h_drop);
fn hook_waker() -> Waker {
    HOOK_LIVE.fetch_add(1, Ordering::SeqCst);
    // SAFETY: the vtable's functions never touch the (null) data pointer;
    // each clone counts itself in HOOK_LIVE and each drop or wake uncounts.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VT)) }
}

type Fut = Pin<Box<dyn Future<Output = ()>>>;
fn ready_fut(fd: &'static AsyncFd<UnixStream>) -> Fut {
    Box::pin(async move {
        let _ = fd.readable().await;
    })
}
fn poll_with(f: &mut Fut, c: &Arc<Count>) -> Poll<()> {
    let w = Waker::from(c.clone());
    f.as_mut().poll(&mut Context::from_waker(&w))
}

#[test]
fn clone_and_drop_reentering_the_registration() {
    util::watchdog(|| edgeloop::block_on(reentering()));
}

async fn reentering() {
    {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let fd: &'static AsyncFd<UnixStream> = Box::leak(Box::new(AsyncFd::new(a).unwrap()));
        // Empty the read readiness (cache starts full).
        assert!(fd
            .try_io(Interest::READABLE, |mut s| s.read(&mut [0u8; 8]))
            .is_err());

        let c2 = Arc::new(Count(AtomicUsize::new(0)));
        let c3 = Arc::new(Count(AtomicUsize::new(0)));
        let c4 = Arc::new(Count(AtomicUsize::new(0)));
        // F2: keyed, with c2.
        let mut f2 = ready_fut(fd);
        assert!(poll_with(&mut f2, &c2).is_pending());
        assert_eq!(Arc::strong_count(&c2), 2);
        let f2 = std::rc::Rc::new(RefCell::new(Some(f2)));

        // 1. Keyed wait whose clone drops F2 (its Waiter removes its key) and
        //    registers c3 through the poll_* slot.
        {
            let (f2, c3) = (f2.clone(), c3.clone());
            ON_CLONE.with(|s| {
                *s.borrow_mut() = Some(Box::new(move || {
                    drop(f2.borrow_mut().take());
                    let w = Waker::from(c3.clone());
                    assert!(fd
                        .poll_read_ready(&mut Context::from_waker(&w))
                        .is_pending());
                }))
            });
        }
        let h = hook_waker();
        let mut f1 = ready_fut(fd);
        assert!(f1.as_mut().poll(&mut Context::from_waker(&h)).is_pending());
        assert_eq!(Arc::strong_count(&c2), 1, "F2's waker was released");
        assert_eq!(Arc::strong_count(&c3), 2, "c3 parked in the slot");

        // 2. poll_* wait with the hook waker displacing c3... then a poll_*
        //    wait with c4 drops the hook's clone, whose drop registers a
        //    keyed wait (F5 with c3) on the same registration.
        let f5 = std::rc::Rc::new(RefCell::new(ready_fut(fd)));
        assert!(fd
            .poll_read_ready(&mut Context::from_waker(&h))
            .is_pending());
        assert_eq!(Arc::strong_count(&c3), 1, "c3 displaced by the hook waker");
        {
            let (f5, c3) = (f5.clone(), c3.clone());
            ON_DROP.with(|s| {
                *s.borrow_mut() = Some(Box::new(move || {
                    assert!(poll_with(&mut f5.borrow_mut(), &c3).is_pending());
                }))
            });
        }
        let w4 = Waker::from(c4.clone());
        assert!(fd
            .poll_read_ready(&mut Context::from_waker(&w4))
            .is_pending());
        assert_eq!(Arc::strong_count(&c3), 2, "F5 keyed with c3");
        assert_eq!(Arc::strong_count(&c4), 3, "c4 in the slot");

        // An event wakes: f1 (hook), f5 (c3), slot (c4). Each yield lets the
        // runtime turn its driver once; the watchdog bounds the wait.
        b.write_all(b"x").unwrap();
        while c4.0.load(Ordering::SeqCst) == 0 {
            edgeloop::yield_now().await;
        }
        assert_eq!(
            HOOK_WAKES.load(Ordering::SeqCst),
            1,
            "f1's hook waker woken"
        );
        assert_eq!(c3.0.load(Ordering::SeqCst), 1, "F5 woken");
        assert_eq!(c4.0.load(Ordering::SeqCst), 1, "slot woken");
        assert_eq!(c2.0.load(Ordering::SeqCst), 0, "dropped F2 not woken");
        drop(f1);
        drop(f5);
        drop(h);
        assert_eq!(HOOK_LIVE.load(Ordering::SeqCst), 0, "no hook waker kept");
    }
}
