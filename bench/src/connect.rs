//! Opening many connections at once, each confirmed by a one-byte echo, so
//! the server has accepted it (and made whatever it keeps per connection)
//! before anything is measured.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::sys;

/// Connections being set up at once: far below the listen backlog, so no
/// SYN is dropped (a dropped SYN costs a one-second retransmit).
const IN_FLIGHT: usize = 256;
/// The byte each new connection sends and expects back.
const HELLO: u8 = b'!';
/// Loopback source addresses a client spreads its connections over
/// (127.0.0.2 ..= 127.0.0.9), so ports do not run short at tens of
/// thousands of connections or with many in `TIME_WAIT`.
const SOURCE_ADDRESSES: u8 = 8;

/// Where new client sockets are bound.
#[derive(Clone, Debug)]
pub struct Sources {
    spread: bool,
    next: u8,
}

impl Sources {
    /// The kernel's choice (127.0.0.1 and an ephemeral port).
    pub fn default_address() -> Sources {
        Sources {
            spread: false,
            next: 0,
        }
    }

    /// Round-robin over 127.0.0.2 ..= 127.0.0.9, the port picked at connect
    /// time (`IP_BIND_ADDRESS_NO_PORT`), so the whole 4-tuple must be unique.
    pub fn spread() -> Sources {
        Sources {
            spread: true,
            next: 0,
        }
    }

    /// A new nonblocking socket, bound as configured, connecting to `server`.
    pub fn connect(&mut self, server: SocketAddrV4) -> io::Result<OwnedFd> {
        let fd = sys::tcp_socket()?;
        sys::set_option(fd.as_fd(), libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)?;
        if self.spread {
            let ip = Ipv4Addr::new(127, 0, 0, 2 + self.next);
            self.next = (self.next + 1) % SOURCE_ADDRESSES;
            sys::set_option(
                fd.as_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                1,
            )?;
            sys::bind(fd.as_fd(), SocketAddrV4::new(ip, 0))?;
        }
        sys::connect(fd.as_fd(), server)?;
        Ok(fd)
    }
}

/// Opens `count` connections to `server`, each of which has echoed one byte
/// back. Fails on the first error, or after `limit`.
pub fn connect_many(
    server: SocketAddrV4,
    count: usize,
    mut sources: Sources,
    limit: Duration,
) -> io::Result<Vec<OwnedFd>> {
    let deadline = Instant::now() + limit;
    let epoll = sys::epoll_create()?;
    let mut slots: Vec<Option<(OwnedFd, bool)>> = (0..IN_FLIGHT.min(count)).map(|_| None).collect();
    let mut done = Vec::with_capacity(count);
    let mut started = 0;
    let mut events = Vec::with_capacity(IN_FLIGHT);
    while done.len() < count {
        for (token, slot) in slots.iter_mut().enumerate() {
            if slot.is_none() && started < count {
                let fd = sources.connect(server)?;
                let interest = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET;
                sys::epoll_add(epoll.as_fd(), fd.as_raw_fd(), interest as u32, token as u64)?;
                *slot = Some((fd, false));
                started += 1;
            }
        }
        if Instant::now() >= deadline {
            let msg = format!(
                "{} of {count} connections to {server} set up in {limit:?}",
                done.len()
            );
            return Err(io::Error::new(io::ErrorKind::TimedOut, msg));
        }
        sys::epoll_wait(epoll.as_fd(), &mut events, 100)?;
        for ev in &events {
            let slot = &mut slots[ev.u64 as usize];
            let Some((fd, hello_sent)) = slot else {
                continue;
            };
            if ev.events & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0 {
                let err = sys::read(fd.as_raw_fd(), &mut [0]).err();
                let err = err.unwrap_or_else(|| io::Error::other("hang-up during connect"));
                return Err(io::Error::new(
                    err.kind(),
                    format!("connect to {server}: {err}"),
                ));
            }
            if !*hello_sent && ev.events & libc::EPOLLOUT as u32 != 0 {
                *hello_sent = sys::write(fd.as_raw_fd(), &[HELLO])? == 1;
            }
            if *hello_sent && ev.events & libc::EPOLLIN as u32 != 0 {
                let mut byte = [0];
                match sys::read(fd.as_raw_fd(), &mut byte) {
                    Ok(1) if byte[0] == HELLO => {
                        let (fd, _) = slot.take().expect("slot checked above");
                        sys::epoll_delete(epoll.as_fd(), fd.as_raw_fd())?;
                        done.push(fd);
                    }
                    Ok(_) => {
                        return Err(io::Error::other(format!(
                            "{server} closed or garbled the hello"
                        )))
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(done)
}
