//! The closed-loop echo load generator: one thread, edge-triggered epoll.
//!
//! Each connection sends a message, waits for the whole echo, checks every
//! byte, and sends the next. After a warm-up a measured window opens (the
//! caller's [`Window`] hooks run at its edges, with no message in progress
//! on the client side), and it closes after a duration or a message count,
//! whichever comes first.
//!
//! The client makes about one `send` and one `read` per message, like the
//! servers: it never reads more than the echo still owed, so a read that
//! completes the message needs no second read for the `EAGAIN`, and a short
//! read is trusted (a later arrival queues a new edge).

use std::io;
use std::net::SocketAddrV4;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

mod conn;

use conn::{Conn, Payload, State};
use hdrhistogram::Histogram;

use crate::connect::{connect_many, Sources};
use crate::sys;

/// Longest `epoll_wait`, so the clock is looked at even with no traffic.
const MAX_WAIT_MS: i32 = 100;
/// A run stops after this many failed connections.
const MAX_ERRORS: u64 = 1000;
/// Longest wait for the echoes owed when the window opens or closes.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);
/// Time allowed to set up the connections before the warm-up.
const CONNECT_LIMIT: Duration = Duration::from_secs(60);
/// The latency histogram's resolution: two significant digits (under 1 %
/// error) in 36 KiB of buckets, so every message is recorded.
const LATENCY_DIGITS: u8 = 2;
/// The longest round trip the histogram tells apart, in nanoseconds (one
/// hour); longer ones are recorded as this.
const LATENCY_MAX_NS: u64 = 3_600_000_000_000;

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// The echo server.
    pub server: SocketAddrV4,
    /// Connections, each with one message in flight.
    pub connections: usize,
    /// Bytes per message.
    pub message_size: usize,
    /// Load before the window opens.
    pub warmup: Duration,
    /// The window closes after this long ...
    pub duration: Duration,
    /// ... or after this many messages in it.
    pub max_messages: u64,
    /// Close each connection after one message and open a new one (the
    /// latency then includes the connect).
    pub reconnect: bool,
}

/// Hooks at the measured window's edges.
pub trait Window {
    /// The window is about to open; nothing is in flight.
    fn opening(&mut self) {}
    /// The window has just closed; nothing is in flight.
    fn closed(&mut self) {}
}

impl Window for () {}

/// What the window saw.
#[derive(Clone)]
pub struct LoadReport {
    /// Echoes completed and verified.
    pub messages: u64,
    /// The window's length.
    pub elapsed: Duration,
    /// Round trips of the messages started in the window, in nanoseconds.
    pub latency: Histogram<u64>,
    /// Connections lost: resets, early EOF, a wrong byte, a failed connect.
    pub errors: u64,
    /// The load generator's own CPU time in the window.
    pub client_cpu: Duration,
    /// Bytes per message.
    pub message_size: usize,
}

impl LoadReport {
    /// Echoes per second.
    pub fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Payload megabytes (10^6) per second, counted one way.
    pub fn megabytes_per_sec(&self) -> f64 {
        self.rate() * self.message_size as f64 / 1e6
    }

    /// The share of one CPU the load generator used (1.0 = saturated).
    pub fn client_cpu_share(&self) -> f64 {
        self.client_cpu.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Load, not counted.
    Warmup,
    /// No new messages; waiting for the last echoes before the window opens.
    DrainBeforeWindow,
    /// Load, counted.
    Window,
    /// No new messages; the echoes still owed are counted as they arrive.
    DrainAfterWindow,
}

/// A run in progress.
struct Run<'a> {
    cfg: &'a LoadConfig,
    payload: Payload,
    epoll: OwnedFd,
    sources: Sources,
    conns: Vec<Conn>,
    phase: Phase,
    warm_until: Instant,
    /// When a drain gives up.
    drain_deadline: Instant,
    window_start: Instant,
    /// The load generator's CPU clock when the window opened.
    cpu_at_start: Duration,
    in_flight: usize,
    messages: u64,
    errors: u64,
    all_errors: u64,
    latency: Histogram<u64>,
}

/// What the run loop does next.
enum Next {
    /// Wait for events until this instant at the latest.
    WaitUntil(Instant),
    /// The phase changed: look again at once.
    Again,
    /// The window has closed.
    Done(LoadReport),
}

/// Runs the load described by `cfg`, calling `window` at the window's edges.
pub fn run(cfg: &LoadConfig, window: &mut dyn Window) -> io::Result<LoadReport> {
    if cfg.message_size == 0 || cfg.connections == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no connections or empty messages",
        ));
    }
    let epoll = sys::epoll_create()?;
    let conns = open(cfg, &epoll)?;
    let mut run = Run {
        cfg,
        payload: Payload::new(cfg.message_size),
        epoll,
        sources: Sources::spread(),
        conns,
        phase: Phase::Warmup,
        warm_until: Instant::now() + cfg.warmup,
        drain_deadline: Instant::now(),
        window_start: Instant::now(),
        cpu_at_start: Duration::ZERO,
        in_flight: 0,
        messages: 0,
        errors: 0,
        all_errors: 0,
        latency: latency_histogram(),
    };
    run.begin_all();
    let mut scratch = vec![0u8; cfg.message_size];
    let mut events = Vec::with_capacity(cfg.connections);
    loop {
        let now = Instant::now();
        let edge = match run.advance(now, window)? {
            Next::Again => continue,
            Next::Done(report) => return Ok(report),
            Next::WaitUntil(edge) => edge,
        };
        let wait = edge.saturating_duration_since(now).as_millis();
        let wait_ms = wait.min(MAX_WAIT_MS as u128) as i32 + 1;
        sys::epoll_wait(run.epoll.as_fd(), &mut events, wait_ms)?;
        for ev in &events {
            let i = ev.u64 as usize;
            match run.conns[i].on_event(ev.events, i, &run.payload, &mut scratch) {
                Ok(false) => {}
                Ok(true) => run.finish(i),
                Err(_) => run.fail(i),
            }
        }
    }
}

/// Opens the connections: set up and confirmed first, unless every message
/// reconnects (then each message opens its own).
fn open(cfg: &LoadConfig, epoll: &OwnedFd) -> io::Result<Vec<Conn>> {
    let new_conn = |fd| Conn {
        fd,
        state: State::Idle,
        dead: false,
        seq: 0,
        sent: 0,
        received: 0,
        started: Instant::now(),
    };
    if cfg.reconnect {
        return Ok((0..cfg.connections).map(|_| new_conn(None)).collect());
    }
    let fds = connect_many(
        cfg.server,
        cfg.connections,
        Sources::default_address(),
        CONNECT_LIMIT,
    )?;
    let mut conns = Vec::with_capacity(fds.len());
    for (i, fd) in fds.into_iter().enumerate() {
        sys::epoll_add(epoll.as_fd(), fd.as_raw_fd(), INTEREST, i as u64)?;
        conns.push(new_conn(Some(fd)));
    }
    Ok(conns)
}

/// An empty histogram for round trips.
fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_max(LATENCY_MAX_NS, LATENCY_DIGITS).expect("valid histogram bounds")
}

/// What every client socket is registered for.
const INTEREST: u32 = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

impl Run<'_> {
    /// Moves to `phase`; a drain gets [`DRAIN_LIMIT`] from now.
    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.drain_deadline = Instant::now() + DRAIN_LIMIT;
    }

    /// Moves through the phases as time and the echoes owed allow, running
    /// `window`'s hooks at the edges.
    fn advance(&mut self, now: Instant, window: &mut dyn Window) -> io::Result<Next> {
        let draining = matches!(
            self.phase,
            Phase::DrainBeforeWindow | Phase::DrainAfterWindow
        );
        if draining && self.in_flight == 0 {
            if self.phase == Phase::DrainAfterWindow {
                let elapsed = self.window_start.elapsed();
                let client_cpu = sys::thread_cpu_time()?.saturating_sub(self.cpu_at_start);
                window.closed();
                return Ok(Next::Done(self.report(elapsed, client_cpu)));
            }
            window.opening();
            self.enter(Phase::Window);
            self.window_start = Instant::now();
            self.cpu_at_start = sys::thread_cpu_time()?;
            self.begin_all();
            return Ok(Next::Again);
        }
        if draining && now >= self.drain_deadline {
            let msg = format!("{} echoes still owed after {DRAIN_LIMIT:?}", self.in_flight);
            return Err(io::Error::new(io::ErrorKind::TimedOut, msg));
        }
        if self.conns.iter().all(|c| c.dead) {
            let msg = format!("all {} connections failed", self.conns.len());
            return Err(io::Error::other(msg));
        }
        if self.all_errors > MAX_ERRORS {
            return Err(io::Error::other(format!(
                "{} connection errors",
                self.all_errors
            )));
        }
        let window_end = self.window_start + self.cfg.duration;
        Ok(match self.phase {
            Phase::Warmup if now >= self.warm_until => {
                self.enter(Phase::DrainBeforeWindow);
                Next::Again
            }
            Phase::Warmup => Next::WaitUntil(self.warm_until),
            Phase::Window if now >= window_end || self.messages >= self.cfg.max_messages => {
                self.enter(Phase::DrainAfterWindow);
                Next::Again
            }
            Phase::Window => Next::WaitUntil(window_end),
            Phase::DrainBeforeWindow | Phase::DrainAfterWindow => {
                Next::WaitUntil(self.drain_deadline)
            }
        })
    }

    /// Whether completed messages are followed by new ones.
    fn is_loading(&self) -> bool {
        matches!(self.phase, Phase::Warmup | Phase::Window)
    }

    fn begin_all(&mut self) {
        for i in 0..self.conns.len() {
            if !self.conns[i].dead && self.conns[i].state == State::Idle {
                self.begin(i);
            }
        }
    }

    /// Starts connection `i`'s next message (on a new connection if so configured).
    fn begin(&mut self, i: usize) {
        let conn = &mut self.conns[i];
        conn.seq += 1;
        conn.sent = 0;
        conn.received = 0;
        conn.started = Instant::now();
        self.in_flight += 1;
        let result = if self.cfg.reconnect {
            conn.state = State::Connecting;
            self.sources.connect(self.cfg.server).and_then(|fd| {
                sys::epoll_add(self.epoll.as_fd(), fd.as_raw_fd(), INTEREST, i as u64)?;
                conn.fd = Some(fd);
                Ok(())
            })
        } else {
            conn.state = State::Busy;
            conn.send(i, &self.payload)
        };
        if result.is_err() {
            self.fail(i);
        }
    }

    /// Connection `i`'s echo is complete and verified.
    fn finish(&mut self, i: usize) {
        self.in_flight -= 1;
        let conn = &mut self.conns[i];
        conn.state = State::Idle;
        if self.cfg.reconnect {
            conn.fd = None;
        }
        if matches!(self.phase, Phase::Window | Phase::DrainAfterWindow) {
            self.messages += 1;
            if conn.started >= self.window_start {
                let ns = conn.started.elapsed().as_nanos();
                self.latency
                    .saturating_record(u64::try_from(ns).unwrap_or(u64::MAX));
            }
            if self.messages >= self.cfg.max_messages {
                self.enter(Phase::DrainAfterWindow);
            }
        }
        if self.is_loading() {
            self.begin(i);
        }
    }

    /// Connection `i` failed: counted, closed, and replaced if each message
    /// has its own connection anyway.
    fn fail(&mut self, i: usize) {
        let conn = &mut self.conns[i];
        if conn.state != State::Idle {
            self.in_flight -= 1;
        }
        conn.state = State::Idle;
        conn.fd = None;
        conn.dead = !self.cfg.reconnect;
        self.all_errors += 1;
        if matches!(self.phase, Phase::Window | Phase::DrainAfterWindow) {
            self.errors += 1;
        }
        if self.cfg.reconnect && self.is_loading() && self.all_errors <= MAX_ERRORS {
            self.begin(i);
        }
    }

    fn report(&mut self, elapsed: Duration, client_cpu: Duration) -> LoadReport {
        LoadReport {
            messages: self.messages,
            elapsed,
            latency: std::mem::replace(&mut self.latency, latency_histogram()),
            errors: self.errors,
            client_cpu,
            message_size: self.cfg.message_size,
        }
    }
}
