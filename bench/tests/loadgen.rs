//! The load generator against the hand-written epoll server, in-process and
//! briefly: every byte verified, partial writes (messages larger than the
//! socket buffers), a connection per message, and the window's hooks.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsFd;
use std::thread;
use std::time::Duration;

use edgeloop_bench::connect::{connect_many, Sources};
use edgeloop_bench::loadgen::{self, LoadConfig, Window};
use edgeloop_bench::{epoll_server, sys};

/// Starts the epoll echo server on a thread of its own (it runs until the
/// test process exits) and returns its address.
fn epoll_server() -> SocketAddrV4 {
    let listener = sys::tcp_socket().unwrap();
    sys::bind(listener.as_fd(), SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
    sys::listen(listener.as_fd()).unwrap();
    let addr = sys::local_addr(listener.as_fd()).unwrap();
    thread::spawn(move || epoll_server::serve(listener));
    addr
}

fn config(server: SocketAddrV4, connections: usize, message_size: usize) -> LoadConfig {
    LoadConfig {
        server,
        connections,
        message_size,
        warmup: Duration::from_millis(50),
        duration: Duration::from_millis(200),
        max_messages: 1_000_000,
        reconnect: false,
    }
}

#[derive(Default)]
struct Edges {
    opened: u32,
    closed: u32,
}

impl Window for Edges {
    fn opening(&mut self) {
        self.opened += 1;
    }

    fn closed(&mut self) {
        self.closed += 1;
    }
}

#[test]
fn small_messages_echo_verified() {
    let mut edges = Edges::default();
    let report = loadgen::run(&config(epoll_server(), 8, 64), &mut edges).unwrap();
    assert_eq!((edges.opened, edges.closed), (1, 1));
    assert!(report.messages > 100, "{} messages", report.messages);
    assert_eq!(report.errors, 0);
    assert_eq!(report.latency.len(), report.messages);
    assert!(report.latency.value_at_quantile(0.5) > 0);
}

#[test]
fn messages_larger_than_socket_buffers() {
    let report = loadgen::run(&config(epoll_server(), 4, 1 << 20), &mut ()).unwrap();
    assert!(report.messages > 0);
    assert_eq!(report.errors, 0);
}

#[test]
fn a_connection_per_message() {
    let cfg = LoadConfig {
        reconnect: true,
        ..config(epoll_server(), 4, 64)
    };
    let report = loadgen::run(&cfg, &mut ()).unwrap();
    assert!(report.messages > 10, "{} messages", report.messages);
    assert_eq!(report.errors, 0);
}

#[test]
fn the_message_bound_closes_the_window() {
    let cfg = LoadConfig {
        max_messages: 50,
        duration: Duration::from_secs(30),
        ..config(epoll_server(), 2, 64)
    };
    let report = loadgen::run(&cfg, &mut ()).unwrap();
    assert!(
        (50..=52).contains(&report.messages),
        "{} messages",
        report.messages
    );
}

#[test]
fn many_connections_from_spread_sources() {
    let server = epoll_server();
    let fds = connect_many(server, 300, Sources::spread(), Duration::from_secs(30)).unwrap();
    assert_eq!(fds.len(), 300);
}

#[test]
fn a_refused_server_is_an_error() {
    let closed = {
        let fd = sys::tcp_socket().unwrap();
        sys::bind(fd.as_fd(), SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        sys::local_addr(fd.as_fd()).unwrap()
    };
    assert!(loadgen::run(&config(closed, 1, 64), &mut ()).is_err());
}
