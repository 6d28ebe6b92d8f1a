//! Readiness bits and the interest a caller waits for.

use std::fmt;
use std::ops;

/// What an fd is ready for, as last reported by epoll and not yet cleared.
///
/// `READ_CLOSED`, `WRITE_CLOSED` and `ERROR` are final: once the kernel says a
/// direction is closed, a read or write there returns at once (EOF or an
/// error), so those bits are never cleared.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready(u8);

impl Ready {
    /// Nothing is ready.
    pub const EMPTY: Ready = Ready(0);
    /// A read may make progress.
    pub const READABLE: Ready = Ready(1);
    /// A write may make progress.
    pub const WRITABLE: Ready = Ready(1 << 1);
    /// The peer shut down its write side (`EPOLLRDHUP`) or the fd hung up.
    pub const READ_CLOSED: Ready = Ready(1 << 2);
    /// The fd can no longer be written (`EPOLLHUP`).
    pub const WRITE_CLOSED: Ready = Ready(1 << 3);
    /// The fd has a pending error (`EPOLLERR`).
    pub const ERROR: Ready = Ready(1 << 4);

    /// Translates an `epoll_event.events` mask.
    pub(crate) fn from_epoll(events: u32) -> Ready {
        let has = |flag: libc::c_int| events & flag as u32 != 0;
        let mut ready = Ready::EMPTY;
        if has(libc::EPOLLIN) || has(libc::EPOLLPRI) {
            ready |= Ready::READABLE;
        }
        if has(libc::EPOLLOUT) {
            ready |= Ready::WRITABLE;
        }
        if has(libc::EPOLLRDHUP) {
            ready |= Ready::READABLE | Ready::READ_CLOSED;
        }
        if has(libc::EPOLLHUP) {
            ready |= Ready::READABLE | Ready::WRITABLE | Ready::READ_CLOSED | Ready::WRITE_CLOSED;
        }
        if has(libc::EPOLLERR) {
            ready |= Ready::READABLE | Ready::WRITABLE | Ready::ERROR;
        }
        ready
    }

    /// True when no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when a read would not wait: readable, read-closed or errored.
    pub fn is_readable(self) -> bool {
        self.intersects(Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR)
    }

    /// True when a write would not wait: writable, write-closed or errored.
    pub fn is_writable(self) -> bool {
        self.intersects(Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR)
    }

    /// True when the peer will send nothing more.
    pub fn is_read_closed(self) -> bool {
        self.intersects(Ready::READ_CLOSED)
    }

    /// True when nothing more can be written.
    pub fn is_write_closed(self) -> bool {
        self.intersects(Ready::WRITE_CLOSED)
    }

    /// True when the kernel reported an error condition.
    pub fn is_error(self) -> bool {
        self.intersects(Ready::ERROR)
    }

    fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }

    /// The part of `self` that matters to `interest`.
    pub(crate) fn for_interest(self, interest: Interest) -> Ready {
        let ready = if interest == Interest::READABLE {
            self.is_readable()
        } else {
            self.is_writable()
        };
        if ready {
            self
        } else {
            Ready::EMPTY
        }
    }

    /// The bits an `EAGAIN` in `interest`'s direction clears (never the final ones).
    pub(crate) fn clearable(interest: Interest) -> Ready {
        if interest == Interest::READABLE {
            Ready::READABLE
        } else {
            Ready::WRITABLE
        }
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, rhs: Ready) {
        self.0 |= rhs.0;
    }
}

impl ops::Sub for Ready {
    type Output = Ready;
    fn sub(self, rhs: Ready) -> Ready {
        Ready(self.0 & !rhs.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Ready::READABLE, "READABLE"),
            (Ready::WRITABLE, "WRITABLE"),
            (Ready::READ_CLOSED, "READ_CLOSED"),
            (Ready::WRITE_CLOSED, "WRITE_CLOSED"),
            (Ready::ERROR, "ERROR"),
        ];
        let mut set = f.debug_set();
        for (bit, name) in names {
            if self.intersects(bit) {
                set.entry(&format_args!("{name}"));
            }
        }
        set.finish()
    }
}

/// The direction a caller waits in: each has its own waker slot.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Interest(u8);

impl Interest {
    /// Waiting to read (or accept).
    pub const READABLE: Interest = Interest(0);
    /// Waiting to write (or for a connect to finish).
    pub const WRITABLE: Interest = Interest(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangup_and_error_make_both_directions_ready() {
        let hup = Ready::from_epoll(libc::EPOLLHUP as u32);
        assert!(hup.is_readable() && hup.is_writable() && hup.is_read_closed());
        let err = Ready::from_epoll(libc::EPOLLERR as u32);
        assert!(err.is_readable() && err.is_writable() && err.is_error());
        let rdhup = Ready::from_epoll(libc::EPOLLRDHUP as u32);
        assert!(rdhup.is_readable() && !rdhup.is_writable());
    }

    #[test]
    fn clearing_after_eagain_keeps_final_bits() {
        let r = Ready::READABLE | Ready::READ_CLOSED | Ready::WRITABLE;
        let cleared = r - Ready::clearable(Interest::READABLE);
        assert!(cleared.is_readable(), "read-closed stays readable");
        assert!(cleared.is_writable());
        let w = (Ready::WRITABLE - Ready::clearable(Interest::WRITABLE))
            .for_interest(Interest::WRITABLE);
        assert!(w.is_empty());
    }
}
