//! The hand-written peer: a one-thread, edge-triggered epoll echo loop, the
//! practical limit of a readiness loop.
//!
//! Each connection is registered once for `EPOLLIN | EPOLLOUT | EPOLLRDHUP |
//! EPOLLET` (as edgeloop and tokio register theirs). On an event it reads
//! into one scratch buffer of [`ECHO_BUFFER`](crate::ECHO_BUFFER) bytes and
//! writes the bytes straight back, and it
//! **trusts a short read**: a read that fills less than the buffer drained the
//! socket, so it does not read again for the `EAGAIN` (a later arrival queues
//! a new edge). When the event carries `EPOLLRDHUP` it reads on to the EOF,
//! because no further edge would come for it. What the socket will not take
//! now waits in a per-connection `Vec` until `EPOLLOUT`, and reading stops
//! until it is written. Like the other three servers it sets `TCP_NODELAY` on
//! each accepted connection.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use crate::sys;

/// Size of the shared read buffer: the same as every server's.
const SCRATCH_SIZE: usize = crate::ECHO_BUFFER;
/// Events taken per `epoll_wait`.
const MAX_EVENTS: usize = 1024;
/// The listener's token; connections use their fd number.
const LISTENER: u64 = u64::MAX;

/// One accepted connection.
struct Conn {
    fd: OwnedFd,
    /// Bytes read but not yet written back.
    unsent: Vec<u8>,
}

/// Listens on 127.0.0.1 (port 0), prints `port N`, and serves forever.
pub fn main() -> io::Result<()> {
    let listener = sys::tcp_socket()?;
    sys::set_option(listener.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    sys::bind(listener.as_fd(), SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))?;
    sys::listen(listener.as_fd())?;
    let port = sys::local_addr(listener.as_fd())?.port();
    println!("port {port}");
    io::stdout().flush()?;
    serve(listener)
}

/// Serves echo on `listener` (bound, listening, nonblocking) until an error.
pub fn serve(listener: OwnedFd) -> io::Result<()> {
    let epoll = sys::epoll_create()?;
    sys::epoll_add(
        epoll.as_fd(),
        listener.as_raw_fd(),
        (libc::EPOLLIN | libc::EPOLLET) as u32,
        LISTENER,
    )?;
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut scratch = vec![0u8; SCRATCH_SIZE];
    let mut events = Vec::with_capacity(MAX_EVENTS);
    loop {
        sys::epoll_wait(epoll.as_fd(), &mut events, -1)?;
        for ev in &events {
            let (token, flags) = (ev.u64, ev.events);
            if token == LISTENER {
                accept_all(&listener, &epoll, &mut conns)?;
                continue;
            }
            let slot = &mut conns[token as usize];
            let Some(conn) = slot else { continue };
            if !on_event(conn, flags, &mut scratch) {
                *slot = None; // closing the fd also removes it from epoll
            }
        }
    }
}

fn accept_all(
    listener: &OwnedFd,
    epoll: &OwnedFd,
    conns: &mut Vec<Option<Conn>>,
) -> io::Result<()> {
    loop {
        let fd = match sys::accept(listener.as_fd()) {
            Ok(Some(fd)) => fd,
            Ok(None) => return Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                eprintln!("epoll server: accept: {e}; dropping the backlog until a slot frees");
                return Ok(());
            }
            Err(e) if is_peer_gone(&e) => continue,
            Err(e) => return Err(e),
        };
        let _ = sys::set_option(fd.as_fd(), libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
        let raw = fd.as_raw_fd();
        let interest = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET;
        sys::epoll_add(epoll.as_fd(), raw, interest as u32, raw as u64)?;
        let index = raw as usize;
        if conns.len() <= index {
            conns.resize_with(index + 1, || None);
        }
        conns[index] = Some(Conn {
            fd,
            unsent: Vec::new(),
        });
    }
}

/// Handles one event; returns whether the connection stays open.
fn on_event(conn: &mut Conn, flags: u32, scratch: &mut [u8]) -> bool {
    if flags & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0 {
        return false;
    }
    let fd = conn.fd.as_raw_fd();
    // Reading stopped when a write filled the socket; it resumes once the
    // backlog is written, whether or not this event says readable.
    let resumed = !conn.unsent.is_empty();
    if resumed {
        match flush(fd, &mut conn.unsent) {
            Ok(true) => {}
            Ok(false) => return true, // still full: wait for the next EPOLLOUT
            Err(_) => return false,
        }
    }
    let peer_closed = flags & libc::EPOLLRDHUP as u32 != 0;
    // The mask is taken when the event is harvested: no EPOLLIN means no data.
    if flags & libc::EPOLLIN as u32 == 0 && !resumed && !peer_closed {
        return true;
    }
    loop {
        let n = match sys::read(fd, scratch) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        };
        let mut written = 0;
        while written < n {
            match sys::write(fd, &scratch[written..n]) {
                Ok(w) => written += w,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Keep the rest and stop reading until EPOLLOUT: the
                    // socket may still hold data, which the flush resumes.
                    conn.unsent.extend_from_slice(&scratch[written..n]);
                    return true;
                }
                Err(_) => return false,
            }
        }
        if n < scratch.len() && !peer_closed {
            return true; // a short read drained the socket: trust it
        }
    }
}

/// Writes `unsent`; `Ok(true)` once all of it is gone.
fn flush(fd: RawFd, unsent: &mut Vec<u8>) -> io::Result<bool> {
    let mut written = 0;
    let result = loop {
        if written == unsent.len() {
            break Ok(true);
        }
        match sys::write(fd, &unsent[written..]) {
            Ok(w) => written += w,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(false),
            Err(e) => break Err(e),
        }
    };
    unsent.drain(..written);
    if unsent.is_empty() {
        *unsent = Vec::new(); // give the memory back: the peer caught up
    }
    result
}

fn is_peer_gone(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNABORTED | libc::EPROTO | libc::ECONNRESET)
    )
}
