//! One client connection of the load generator, and the messages it sends.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

use crate::sys;

/// Distinct message contents: message `k` of connection `c` starts at offset
/// `(17c + 31k) % PATTERN_OFFSETS` of one pseudo-random pattern, so a byte
/// echoed from the wrong place or the wrong message is caught.
const PATTERN_OFFSETS: usize = 256;

/// How far a connection's current message has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// No message in flight.
    Idle,
    /// Connecting, the message to follow (a new connection per message).
    Connecting,
    /// Message sent or being sent; echo being read.
    Busy,
}

/// One client connection.
pub(super) struct Conn {
    pub(super) fd: Option<OwnedFd>,
    pub(super) state: State,
    /// Failed and not to be replaced.
    pub(super) dead: bool,
    pub(super) seq: u64,
    pub(super) sent: usize,
    pub(super) received: usize,
    pub(super) started: Instant,
}

/// Every message's bytes: windows into one pattern.
pub(super) struct Payload {
    pattern: Vec<u8>,
    pub(super) size: usize,
}

impl Payload {
    pub(super) fn new(size: usize) -> Payload {
        Payload {
            pattern: make_pattern(size + PATTERN_OFFSETS),
            size,
        }
    }

    /// Message `seq` of connection `index`.
    pub(super) fn message(&self, index: usize, seq: u64) -> &[u8] {
        let offset = (index * 17 + seq as usize * 31) % PATTERN_OFFSETS;
        &self.pattern[offset..offset + self.size]
    }
}

impl Conn {
    /// Writes what is left of the message until done or `EAGAIN`.
    pub(super) fn send(&mut self, index: usize, payload: &Payload) -> io::Result<()> {
        let Some(fd) = &self.fd else {
            return Err(io::Error::from(io::ErrorKind::NotConnected));
        };
        let msg = payload.message(index, self.seq);
        while self.sent < msg.len() {
            match sys::write(fd.as_raw_fd(), &msg[self.sent..]) {
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Handles one event; `Ok(true)` when the message's echo is complete.
    pub(super) fn on_event(
        &mut self,
        flags: u32,
        index: usize,
        payload: &Payload,
        scratch: &mut [u8],
    ) -> io::Result<bool> {
        let Some(fd) = &self.fd else { return Ok(false) };
        let fd = fd.as_raw_fd();
        if self.state == State::Idle {
            return Ok(false);
        }
        if flags & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0 {
            return Err(io::Error::other("connection error or hang-up"));
        }
        if self.state == State::Connecting {
            if flags & libc::EPOLLOUT as u32 == 0 {
                return Ok(false);
            }
            self.state = State::Busy;
        }
        let size = payload.size;
        if self.sent < size {
            self.send(index, payload)?;
        }
        // Nothing can be owed beyond what was sent.
        if flags & (libc::EPOLLIN | libc::EPOLLRDHUP) as u32 == 0 || self.received == self.sent {
            return Ok(false);
        }
        let want = size - self.received;
        let n = match sys::read(fd, &mut scratch[..want]) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        };
        let msg = payload.message(index, self.seq);
        if scratch[..n] != msg[self.received..self.received + n] {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "echo differs from what was sent",
            ));
        }
        self.received += n;
        Ok(self.received == size)
    }
}

/// Pseudo-random bytes (xorshift), the same on every run.
fn make_pattern(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect()
}
