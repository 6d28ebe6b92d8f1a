//! The task waker: a `RawWaker` whose data pointer is the task cell.
//!
//! Waking sets `SCHEDULED` in the state word; only the caller that set it
//! (the task was neither queued nor finished) enqueues the task, so a task is
//! never queued twice and a finished or aborted task is never queued at all.
//! Where it is queued — the runtime's local queue or the cross-thread queue —
//! is the scheduler's business ([`crate::scheduler::schedule`]).

use std::mem::ManuallyDrop;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::{Header, TaskRef};
use crate::park::Shared;
use crate::scheduler;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for the task at `ptr` that borrows the caller's reference instead
/// of counting one of its own.
///
/// # Safety
/// `ptr` is a live task cell, and stays so while the returned waker is used.
pub(crate) unsafe fn waker_ref(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(ptr.as_ptr() as *const (), &VTABLE);
    // SAFETY: the vtable's functions uphold the RawWaker contract for a data
    // pointer to a live task cell; ManuallyDrop keeps the borrowed reference
    // from being released.
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

/// Enqueues the task if this wake is the one that scheduled it.
pub(crate) fn wake_task(task: &TaskRef) {
    if task.header().state.transition_to_scheduled() {
        scheduler::schedule(task.clone());
    }
}

/// The task `waker` wakes, with the waker's reference, if it is a task of
/// the runtime `shared` belongs to; otherwise the waker, untouched.
///
/// This is how the driver queues its own runtime's tasks without calling
/// into a waker: no foreign code runs, so it may do so under its borrows.
#[inline]
pub(crate) fn into_local_task(waker: Waker, shared: &Arc<Shared>) -> Result<TaskRef, Waker> {
    // `VTABLE` is a static, so its address names it: only `waker_ref` and
    // `clone` make wakers with it.
    if !ptr::eq(waker.vtable(), &VTABLE) {
        return Err(waker);
    }
    let ptr = header_ptr(waker.data());
    // SAFETY: a waker with our vtable holds a counted reference to the
    // task cell its data points at, so the header is alive.
    let header = unsafe { ptr.as_ref() };
    if !Arc::ptr_eq(&header.shared, shared) {
        return Err(waker);
    }
    // The waker's counted reference becomes the `TaskRef`'s: not dropped.
    let _moved = ManuallyDrop::new(waker);
    // SAFETY: `ptr` is live and one counted reference is handed over.
    Ok(unsafe { TaskRef::from_raw(ptr) })
}

/// Enqueues the task if this wake is the one that scheduled it, handing the
/// queue `task`'s own reference (no count is taken or dropped for it).
pub(crate) fn wake_task_by_value(task: TaskRef) {
    if task.header().state.transition_to_scheduled() {
        scheduler::schedule(task);
    }
}

fn header_ptr(data: *const ()) -> NonNull<Header> {
    // SAFETY (for all the functions below): wakers are only made by
    // `waker_ref` or `clone`, whose data pointer is a live, non-null task cell.
    NonNull::new(data as *mut Header).expect("task waker with a null pointer")
}

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds (or borrows) a reference, so the
    // cell is alive; the clone counts one of its own.
    let header = unsafe { header_ptr(data).as_ref() };
    header.state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: a by-value wake consumes the waker's counted reference.
    let task = unsafe { TaskRef::from_raw(header_ptr(data)) };
    wake_task_by_value(task);
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker's reference keeps the cell alive for this call;
    // ManuallyDrop leaves that reference to the waker.
    let task = ManuallyDrop::new(unsafe { TaskRef::from_raw(header_ptr(data)) });
    wake_task(&task);
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: dropping the waker releases its counted reference.
    drop(unsafe { TaskRef::from_raw(header_ptr(data)) });
}
