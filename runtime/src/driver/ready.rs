//! Readiness bits and the interest a caller waits for.

use std::fmt;
use std::ops;

/// What an fd is ready for, as last reported by epoll and not yet cleared.
///
/// An event sets bits; they are cleared in two ways, one direction at a time:
///
/// - an operation hits `EAGAIN`: the kernel has just said that direction
///   would block, so every bit of it goes — ready, closed, urgent data and
///   `ERROR`. Neither an error nor a hang-up is final: the syscall that
///   reports a pending error consumes it, and the hang-up epoll reports for
///   a socket that is not yet connected ends when it connects. (A direction
///   that really is closed never answers `EAGAIN`: a read there returns EOF
///   and a write `EPIPE`, so its bit survives.)
/// - a short read or write on a stream proves the direction drained
///   ([`crate::io::AsyncFd::clear_readiness`]): only `READABLE` or
///   `WRITABLE` goes; the closed and error bits, which a syscall has not
///   consumed yet, stay, and `READABLE` stays while urgent data is pending.
///
/// A new registration starts out `READABLE | WRITABLE`, so the first
/// operation is tried at once; if the guess was wrong, its `EAGAIN` clears
/// it. Read it with [`AsyncFd::readiness`](crate::io::AsyncFd::readiness) or
/// [`ReadyGuard::ready`](crate::io::ReadyGuard::ready).
///
/// ```
/// use edgeloop::io::Ready;
///
/// // What a peer's FIN (`EPOLLRDHUP`) sets:
/// let r = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(r.is_readable() && r.is_read_closed() && !r.is_writable());
/// // A read-closed direction stays readable (a read returns EOF at once)
/// // even when the ready bit goes.
/// assert!((r - Ready::READABLE).is_readable());
/// assert!(Ready::EMPTY.is_empty() && !r.is_priority());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready(u8);

/// The six epoll bits that matter, packed into a table index: `EPOLLIN`,
/// `EPOLLPRI`, `EPOLLOUT`, `EPOLLERR` and `EPOLLHUP` are bits 0-4 already,
/// and `EPOLLRDHUP` (bit 13) moves down to bit 5.
const fn epoll_index(events: u32) -> usize {
    const LOW: u32 =
        (libc::EPOLLIN | libc::EPOLLPRI | libc::EPOLLOUT | libc::EPOLLERR | libc::EPOLLHUP) as u32;
    const RDHUP_SHIFT: u32 = (libc::EPOLLRDHUP as u32).trailing_zeros() - 5;
    ((events & LOW) | ((events >> RDHUP_SHIFT) & (1 << 5))) as usize
}

/// The epoll bits the driver reads, in [`epoll_index`]'s order.
const EPOLL_BITS: [libc::c_int; 6] = [
    libc::EPOLLIN,
    libc::EPOLLPRI,
    libc::EPOLLOUT,
    libc::EPOLLERR,
    libc::EPOLLHUP,
    libc::EPOLLRDHUP,
];

/// [`translate`] of every combination of the six bits, by [`epoll_index`].
static FROM_EPOLL: [u8; 64] = {
    let mut table = [0u8; 64];
    let bits = EPOLL_BITS;
    let mut index = 0;
    while index < 64 {
        let mut events = 0u32;
        let mut bit = 0;
        while bit < bits.len() {
            if index & (1 << bit) != 0 {
                events |= bits[bit] as u32;
            }
            bit += 1;
        }
        table[index] = translate(events).0;
        index += 1;
    }
    table
};

/// What an `epoll_event.events` mask means as readiness.
const fn translate(events: u32) -> Ready {
    const fn has_flag(events: u32, flag: libc::c_int) -> bool {
        events & flag as u32 != 0
    }
    let mut ready = 0;
    if has_flag(events, libc::EPOLLIN) {
        ready |= Ready::READABLE.0;
    }
    if has_flag(events, libc::EPOLLPRI) {
        ready |= Ready::READABLE.0 | Ready::PRIORITY.0;
    }
    if has_flag(events, libc::EPOLLOUT) {
        ready |= Ready::WRITABLE.0;
    }
    if has_flag(events, libc::EPOLLRDHUP) {
        ready |= Ready::READABLE.0 | Ready::READ_CLOSED.0;
    }
    if has_flag(events, libc::EPOLLHUP) {
        ready |=
            Ready::READABLE.0 | Ready::WRITABLE.0 | Ready::READ_CLOSED.0 | Ready::WRITE_CLOSED.0;
    }
    if has_flag(events, libc::EPOLLERR) {
        ready |= Ready::READABLE.0 | Ready::WRITABLE.0 | Ready::ERROR.0;
    }
    Ready(ready)
}

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
    /// Urgent (out-of-band) data is pending (`EPOLLPRI`; it comes with
    /// `READABLE`). On a TCP stream a read stops short at the urgent mark,
    /// so while this is set a short read does not clear `READABLE`; the next
    /// read that hits `EAGAIN` clears both.
    pub const PRIORITY: Ready = Ready(1 << 5);

    /// Translates an `epoll_event.events` mask: one lookup, since this is
    /// on every event (the rules are in [`translate`]).
    #[inline]
    pub(crate) fn from_epoll(events: u32) -> Ready {
        Ready(FROM_EPOLL[epoll_index(events)])
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

    /// True when urgent (out-of-band) data may be pending.
    pub fn is_priority(self) -> bool {
        self.intersects(Ready::PRIORITY)
    }

    pub(crate) fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }

    /// The bits of `self` that say a wait in `interest`'s directions is
    /// over (empty if none does).
    pub(crate) fn for_interest(self, interest: Interest) -> Ready {
        // Per direction asked for: its bits, if any of them is set.
        let read = SIDE[(interest.0 & Interest::READABLE.0) as usize] & self.0;
        let write = SIDE[(interest.0 & Interest::WRITABLE.0) as usize] & self.0;
        Ready(read | write)
    }

    /// The bits an `EAGAIN` in `interest`'s directions disproves: all of
    /// theirs, and `ERROR` (the kernel reports a pending error before it
    /// would say `EAGAIN`).
    pub(crate) fn would_block(interest: Interest) -> Ready {
        Ready(SIDE[(interest.0 & 3) as usize])
    }

    /// The bits a short transfer in `interest`'s directions disproves.
    pub(crate) fn drained(interest: Interest) -> Ready {
        // READABLE and WRITABLE sit at the bits of their interests.
        Ready(interest.0 & (Ready::READABLE.0 | Ready::WRITABLE.0))
    }
}

/// Every readiness bit that concerns a direction, indexed by interest
/// bits: `[1]` reading, `[2]` writing, `[3]` both.
const SIDE: [u8; 4] = {
    let read = Ready::READABLE.0 | Ready::READ_CLOSED.0 | Ready::PRIORITY.0 | Ready::ERROR.0;
    let write = Ready::WRITABLE.0 | Ready::WRITE_CLOSED.0 | Ready::ERROR.0;
    [0, read, write, read | write]
};

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
            (Ready::PRIORITY, "PRIORITY"),
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

/// The direction a caller waits in.
///
/// Readers and writers of one fd wait apart, so one task may read while
/// another writes. In each direction, `poll_*` callers share one waker slot
/// (the last caller's waker is kept), while each `async` operation keeps an
/// entry of its own until its future ends; an event wakes all of them.
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use edgeloop::io::{AsyncFd, Interest};
///
/// edgeloop::block_on(async {
///     let (a, _b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let a = AsyncFd::new(a)?;
///     let guard = a.ready(Interest::WRITABLE).await?;
///     assert!(guard.ready().is_writable());
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// Interests combine: `Interest::READABLE | Interest::WRITABLE` waits until
/// either direction is ready (the guard's [`Ready`] says which).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    /// Waiting to read (or accept).
    pub const READABLE: Interest = Interest(1);
    /// Waiting to write (or for a connect to finish).
    pub const WRITABLE: Interest = Interest(1 << 1);

    /// True if the interest includes reading.
    pub fn is_readable(self) -> bool {
        self.0 & Interest::READABLE.0 != 0
    }

    /// True if the interest includes writing.
    pub fn is_writable(self) -> bool {
        self.0 & Interest::WRITABLE.0 != 0
    }

    /// Both interests.
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// The directions it names, read first: the driver keeps waiters per
    /// direction.
    pub(crate) fn directions(self) -> impl Iterator<Item = Interest> {
        [Interest::READABLE, Interest::WRITABLE]
            .into_iter()
            .filter(move |d| self.0 & d.0 != 0)
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        self.add(rhs)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, rhs: Interest) {
        *self = self.add(rhs);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(none)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lookup_table_agrees_with_the_rules_for_every_mask() {
        let bits = EPOLL_BITS;
        // Bits the kernel may set that mean nothing here must not disturb it.
        let noise = [
            0,
            libc::EPOLLET as u32,
            (libc::EPOLLWRNORM | libc::EPOLLRDNORM) as u32,
        ];
        for combo in 0..64u32 {
            let mut events = 0u32;
            for (i, bit) in bits.iter().enumerate() {
                if combo & (1 << i) != 0 {
                    events |= *bit as u32;
                }
            }
            for extra in noise {
                assert_eq!(
                    Ready::from_epoll(events | extra),
                    translate(events),
                    "epoll mask {:#x}",
                    events | extra
                );
            }
        }
        assert_eq!(Ready::from_epoll(libc::EPOLLIN as u32), Ready::READABLE);
        assert_eq!(
            Ready::from_epoll((libc::EPOLLIN | libc::EPOLLRDHUP) as u32),
            Ready::READABLE | Ready::READ_CLOSED
        );
    }

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
    fn eagain_clears_its_direction_and_the_error_bit() {
        let r = Ready::from_epoll((libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLERR) as u32);
        let after_read = r - Ready::would_block(Interest::READABLE);
        assert!(
            !after_read.is_readable(),
            "a stale error must not keep reads ready"
        );
        assert!(!after_read.is_error());
        assert!(
            after_read.intersects(Ready::WRITABLE),
            "the other direction stays"
        );
        let hup = Ready::from_epoll((libc::EPOLLOUT | libc::EPOLLHUP) as u32);
        let after_write = hup - Ready::would_block(Interest::WRITABLE);
        assert!(
            after_write.for_interest(Interest::WRITABLE).is_empty(),
            "an unconnected socket's hang-up is not final"
        );
    }

    #[test]
    fn a_short_transfer_keeps_final_bits() {
        let r = Ready::READABLE | Ready::READ_CLOSED | Ready::WRITABLE;
        let cleared = r - Ready::drained(Interest::READABLE);
        assert!(cleared.is_readable(), "read-closed stays readable");
        assert!(cleared.is_writable());
        let w =
            (Ready::WRITABLE - Ready::drained(Interest::WRITABLE)).for_interest(Interest::WRITABLE);
        assert!(w.is_empty());
    }

    #[test]
    fn urgent_data_is_kept_apart() {
        let pri = Ready::from_epoll(libc::EPOLLPRI as u32);
        assert!(pri.is_readable() && pri.is_priority());
        assert!(!Ready::from_epoll(libc::EPOLLIN as u32).is_priority());
    }

    #[test]
    fn combined_interests_see_either_direction() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert!(both.is_readable() && both.is_writable());
        let w = Ready::WRITABLE.for_interest(both);
        assert!(w.is_writable() && !w.is_readable());
        assert!(Ready::WRITABLE.for_interest(Interest::READABLE).is_empty());
        let cleared = (Ready::READABLE | Ready::WRITABLE) - Ready::would_block(both);
        assert!(cleared.is_empty());
        assert_eq!(both.directions().count(), 2);
    }
}
