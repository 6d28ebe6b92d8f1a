//! The state both mpsc flavours share: a queue, a bound, the receiver's
//! waker and the senders waiting for room.
//!
//! # Capacity
//!
//! A bounded channel's slots are either holding a queued message or
//! *reserved* for a blocked sender that was handed one but has not run yet.
//! A slot freed by the receiver goes to the longest-waiting sender (its
//! entry becomes notified and `reserved` grows by one), so a sender that
//! arrives later cannot take it first: blocked senders are served in FIFO
//! order. A notified sender whose future is dropped gives its slot to the
//! next one. Hence the invariant: **while any sender waits, no slot is
//! free** — every free slot was handed on.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::error::{SendError, TryRecvError, TrySendError};
use crate::sync::wait_list::{Key, Polled, Removed, WaitList, Wakers};

/// One channel, shared through `Arc` by its senders and its receiver. The
/// state sits under a mutex: senders may be on other threads.
pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    queue: VecDeque<T>,
    /// `None` for an unbounded channel.
    bound: Option<usize>,
    /// Slots handed to notified senders that have not pushed yet.
    reserved: usize,
    senders: usize,
    /// The receiver was closed or dropped.
    closed: bool,
    /// The receiver's waker while it waits for a message.
    recv_waker: Option<Waker>,
    /// Senders blocked for room, in arrival order; a notified entry holds
    /// `true` if it was handed a slot, `false` if woken by the close.
    send_waiters: WaitList<bool>,
    /// Futures of `Sender::closed`.
    closed_waiters: WaitList,
}

impl<T> State<T> {
    fn has_room(&self) -> bool {
        match self.bound {
            None => true,
            Some(bound) => self.queue.len() + self.reserved < bound && self.send_waiters.is_empty(),
        }
    }

    /// Queues `value` and hands back the receiver's waker.
    fn push(&mut self, value: T) -> Option<Waker> {
        self.queue.push_back(value);
        self.recv_waker.take()
    }

    /// A slot was freed (a message taken, a reservation given back): hands
    /// it to the first blocked sender, if any.
    fn release_slot(&mut self) -> Option<Waker> {
        if self.closed {
            return None;
        }
        let waker = self.send_waiters.notify_one(true)?;
        self.reserved += 1;
        Some(waker)
    }
}

impl<T> Chan<T> {
    /// The state. A panic while it was held (a `Waker::clone` in a
    /// registration, say) leaves it consistent — every change is completed
    /// before any foreign code runs — so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A channel holding at most `bound` messages (`None`: no limit), with
    /// one sender.
    pub(super) fn new(bound: Option<usize>) -> Chan<T> {
        Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                bound,
                reserved: 0,
                senders: 1,
                closed: false,
                recv_waker: None,
                send_waiters: WaitList::new(),
                closed_waiters: WaitList::new(),
            }),
        }
    }

    pub(super) fn add_sender(&self) {
        self.lock().senders += 1;
    }

    /// The last sender going away wakes the receiver, which then sees the
    /// end of the stream.
    pub(super) fn drop_sender(&self) {
        let waker = {
            let mut state = self.lock();
            state.senders -= 1;
            match state.senders {
                0 => state.recv_waker.take(),
                _ => None,
            }
        };
        wake(waker);
    }

    pub(super) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut state = self.lock();
            if state.closed {
                return Err(TrySendError::Closed(value));
            }
            if !state.has_room() {
                return Err(TrySendError::Full(value));
            }
            state.push(value)
        };
        wake(waker);
        Ok(())
    }

    /// One poll of a `send` future owning `key` and `value`. On `Ready`
    /// both are `None`: the entry is freed and the value sent or returned.
    pub(super) fn poll_send(
        &self,
        key: &mut Option<Key>,
        value: &mut Option<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        let (result, waker) = {
            let mut state = self.lock();
            if let Some(k) = *key {
                match state.send_waiters.poll(k, cx.waker()) {
                    Polled::Waiting(displaced) => {
                        drop(state);
                        drop(displaced);
                        return Poll::Pending;
                    }
                    Polled::Notified(handed_slot) => {
                        *key = None;
                        state.reserved -= usize::from(handed_slot);
                    }
                }
            } else if !state.closed && !state.has_room() {
                *key = Some(state.send_waiters.push_back(cx.waker()));
                return Poll::Pending;
            }
            let value = value
                .take()
                .expect("a send future polled after it finished");
            match state.closed {
                true => (Err(SendError(value)), None),
                false => (Ok(()), state.push(value)),
            }
        };
        wake(waker);
        Poll::Ready(result)
    }

    /// A `send` future owning `key` was dropped before it finished: leaves
    /// the queue, giving on the slot it was handed, if any.
    pub(super) fn cancel_send(&self, key: Key) {
        let (stale, waker) = {
            let mut state = self.lock();
            match state.send_waiters.remove(key) {
                Removed::Waiting(waker) => (Some(waker), None),
                Removed::Notified(true) => {
                    state.reserved -= 1;
                    (None, state.release_slot())
                }
                Removed::Notified(false) | Removed::Gone => (None, None),
            }
        };
        drop(stale);
        wake(waker);
    }

    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let (value, waker) = {
            let mut state = self.lock();
            match state.queue.pop_front() {
                Some(value) => {
                    let waker = state.release_slot();
                    (value, waker)
                }
                None if state.senders == 0 || state.closed => return Poll::Ready(None),
                None => {
                    let displaced = match &state.recv_waker {
                        Some(old) if old.will_wake(cx.waker()) => None,
                        _ => state.recv_waker.replace(cx.waker().clone()),
                    };
                    drop(state);
                    drop(displaced);
                    return Poll::Pending;
                }
            }
        };
        wake(waker);
        Poll::Ready(Some(value))
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let (value, waker) = {
            let mut state = self.lock();
            match state.queue.pop_front() {
                Some(value) => {
                    let waker = state.release_slot();
                    (value, waker)
                }
                None if state.senders == 0 || state.closed => {
                    return Err(TryRecvError::Disconnected)
                }
                None => return Err(TryRecvError::Empty),
            }
        };
        wake(waker);
        Ok(value)
    }

    /// A `recv` future was dropped: its waker goes with it.
    pub(super) fn clear_recv_waker(&self) {
        let stale = self.lock().recv_waker.take();
        drop(stale);
    }

    /// Closes the receiving side: every blocked sender and every
    /// `closed()` future is woken to see it.
    pub(super) fn close(&self) {
        let mut wakers = Wakers::default();
        {
            let mut state = self.lock();
            state.closed = true;
            state.send_waiters.notify_all(false, &mut wakers);
            state.closed_waiters.notify_all((), &mut wakers);
        }
        wakers.wake();
    }

    /// The receiver is dropped: closes, then drops the queued messages with
    /// the borrow released (their destructors may use the channel).
    pub(super) fn drop_receiver(&self) {
        let stale = self.lock().recv_waker.take();
        drop(stale);
        self.close();
        let queue = std::mem::take(&mut self.lock().queue);
        drop(queue);
    }

    pub(super) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// One poll of a `closed()` future owning `key`.
    pub(super) fn poll_closed(&self, key: &mut Option<Key>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        let displaced = match *key {
            Some(k) => match state.closed_waiters.poll(k, cx.waker()) {
                Polled::Notified(()) => {
                    *key = None;
                    return Poll::Ready(());
                }
                Polled::Waiting(displaced) => displaced,
            },
            None if state.closed => return Poll::Ready(()),
            None => {
                *key = Some(state.closed_waiters.push_back(cx.waker()));
                None
            }
        };
        drop(state);
        drop(displaced);
        Poll::Pending
    }

    /// A `closed()` future owning `key` was dropped.
    pub(super) fn cancel_closed(&self, key: Key) {
        let removed = self.lock().closed_waiters.remove(key);
        drop(removed);
    }

    /// Free slots: the bound less queued messages and reserved slots
    /// (`usize::MAX` for an unbounded channel).
    pub(super) fn capacity(&self) -> usize {
        let state = self.lock();
        match state.bound {
            None => usize::MAX,
            Some(bound) => bound - state.queue.len() - state.reserved,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.lock().queue.len()
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The future of `recv`: holds nothing but the receiver, so dropping it
/// loses no message (its waker is released).
pub(super) struct Recv<'a, T> {
    pub(super) chan: &'a Chan<T>,
}

impl<T> std::future::Future for Recv<'_, T> {
    type Output = Option<T>;
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        self.chan.clear_recv_waker();
    }
}

/// The future of `Sender::closed`; its entry leaves the list when dropped.
pub(super) struct Closed<'a, T> {
    pub(super) chan: &'a Chan<T>,
    pub(super) key: Option<Key>,
}

impl<T> std::future::Future for Closed<'_, T> {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.chan.poll_closed(&mut this.key, cx)
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_closed(key);
        }
    }
}
