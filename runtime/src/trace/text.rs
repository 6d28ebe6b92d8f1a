//! The `stderr` sink: one line per record, for a person following one
//! request from `epoll_wait` to the task's poll and back to `EAGAIN`.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use super::event::{ClearCause, TaskOutcome, TraceEvent, TraceRecord, WakeCause};
use crate::driver::{Interest, Ready};
use crate::task::Id;

/// Writes records as lines; remembers task names for the poll lines.
#[derive(Debug, Default)]
pub(crate) struct TextSink {
    pub(crate) names: HashMap<Id, Arc<str>>,
}

impl TextSink {
    /// Writes `records` to stderr in one go (one lock, one write).
    pub(crate) fn write(&mut self, runtime: u64, records: &[TraceRecord]) -> io::Result<()> {
        let text = self.render(runtime, records)?;
        io::stderr().lock().write_all(&text)
    }

    /// The lines for `records`.
    pub(crate) fn render(&mut self, runtime: u64, records: &[TraceRecord]) -> io::Result<Vec<u8>> {
        let mut text = Vec::with_capacity(records.len() * 64);
        for record in records {
            self.line(&mut text, runtime, record)?;
        }
        Ok(text)
    }

    fn line(&mut self, out: &mut Vec<u8>, runtime: u64, record: &TraceRecord) -> io::Result<()> {
        let micros = record.at.as_secs_f64() * 1e6;
        write!(out, "edgeloop#{runtime} {micros:>12.1} µs  ")?;
        match &record.event {
            TraceEvent::WaitStart { timeout } => match timeout {
                None => writeln!(out, "epoll_wait (no timeout)"),
                Some(d) => writeln!(out, "epoll_wait (timeout {})", Micros(*d)),
            },
            TraceEvent::WaitEnd {
                events,
                blocked,
                parked,
            } => writeln!(
                out,
                "epoll_wait → {events} event{} (blocked {}{})",
                if *events == 1 { "" } else { "s" },
                Micros(*blocked),
                if *parked { ", parked" } else { "" }
            ),
            TraceEvent::IoEvent { token, fd, ready } => {
                writeln!(out, "fd {fd} token {token} {}", EpollBits(*ready))
            }
            TraceEvent::StaleEvent { token } => writeln!(
                out,
                "token {token}: stale event dropped (its fd was closed, the slot reused)"
            ),
            TraceEvent::Unpark => writeln!(out, "eventfd fired: a wake from another thread"),
            TraceEvent::ReadinessCleared {
                token,
                fd,
                interest,
                cause,
            } => writeln!(
                out,
                "fd {fd} token {token}: {} readiness cleared ({})",
                Direction(*interest),
                match cause {
                    ClearCause::WouldBlock => "EAGAIN",
                    ClearCause::ShortTransfer => "short transfer",
                }
            ),
            TraceEvent::WouldBlock { fd, interest } => {
                writeln!(out, "{} fd {fd} → EAGAIN: Pending", Direction(*interest))
            }
            TraceEvent::Wake { task, cause } => {
                writeln!(out, "wake task {task} ({})", Cause(*cause))
            }
            TraceEvent::PollStart { task } => match self.names.get(task) {
                Some(name) => writeln!(out, "poll task {task} {name:?}"),
                None => writeln!(out, "poll task {task}"),
            },
            TraceEvent::PollEnd { task, ready, took } => writeln!(
                out,
                "task {task} → {} ({})",
                if *ready { "Ready" } else { "Pending" },
                Micros(*took)
            ),
            TraceEvent::Spawn { task, name } => {
                if let Some(name) = name {
                    self.names.insert(*task, name.clone());
                    writeln!(out, "spawn task {task} {name:?}")
                } else {
                    writeln!(out, "spawn task {task}")
                }
            }
            TraceEvent::TaskDone { task, outcome } => {
                self.names.remove(task);
                let how = match outcome {
                    TaskOutcome::Completed => "completed",
                    TaskOutcome::Panicked => "panicked",
                    TaskOutcome::Cancelled => "cancelled",
                };
                writeln!(out, "task {task} {how}")
            }
            TraceEvent::Register { token, fd } => {
                writeln!(out, "register fd {fd} as token {token}")
            }
            TraceEvent::Deregister { token, fd } => {
                writeln!(out, "deregister fd {fd} (token {token})")
            }
            TraceEvent::TimerArmed { deadline_in } => {
                writeln!(out, "timer armed, due in {}", Micros(*deadline_in))
            }
            TraceEvent::TimerReset { deadline_in } => {
                writeln!(out, "timer reset, due in {}", Micros(*deadline_in))
            }
            TraceEvent::TimerCancelled => writeln!(out, "timer cancelled"),
            TraceEvent::TimersFired { count } => writeln!(out, "{count} timer(s) fired"),
            TraceEvent::LostWake {
                task,
                name,
                last_poll,
            } => {
                write!(out, "WARNING: task {task}")?;
                if let Some(name) = name {
                    write!(out, " {name:?}")?;
                }
                write!(
                    out,
                    " is Pending and no waker of it is left: it can never run again"
                )?;
                match last_poll {
                    Some(at) => writeln!(out, " (last polled at {:.1} µs)", at.as_secs_f64() * 1e6),
                    None => writeln!(out),
                }
            }
            TraceEvent::Dropped { records } => {
                writeln!(out, "{records} trace records were lost (the sink failed)")
            }
        }
    }
}

/// A duration in µs (or ms past 10 ms), as the lines show it.
struct Micros(Duration);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.as_secs_f64() * 1e6;
        if us >= 10_000.0 {
            write!(f, "{:.1} ms", us / 1000.0)
        } else {
            write!(f, "{us:.0} µs")
        }
    }
}

/// `read` or `write`.
struct Direction(Interest);

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(direction_name(self.0))
    }
}

/// `read`, `write`, or `read/write` for a combined interest.
pub(crate) fn direction_name(interest: Interest) -> &'static str {
    match (interest.is_readable(), interest.is_writable()) {
        (true, true) => "read/write",
        (false, true) => "write",
        _ => "read",
    }
}

/// Readiness bits by the names of the epoll flags behind them.
pub(crate) struct EpollBits(pub(crate) Ready);

impl fmt::Display for EpollBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Ready::READABLE, "IN"),
            (Ready::WRITABLE, "OUT"),
            (Ready::READ_CLOSED, "RDHUP"),
            (Ready::WRITE_CLOSED, "HUP"),
            (Ready::ERROR, "ERR"),
            (Ready::PRIORITY, "PRI"),
        ];
        let mut first = true;
        for (bit, name) in names {
            if self.0.intersects(bit) {
                if !first {
                    f.write_str(" ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// The part of a wake line that says who woke the task.
struct Cause(WakeCause);

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            WakeCause::Io { fd, ready } => write!(f, "event on fd {fd}: {}", EpollBits(ready)),
            WakeCause::Timer => f.write_str("timer"),
            WakeCause::Task(id) => write!(f, "by task {id}"),
            WakeCause::OtherThread { eventfd: true } => {
                f.write_str("another thread, through the eventfd")
            }
            WakeCause::OtherThread { eventfd: false } => {
                f.write_str("another thread, while the runtime was awake")
            }
            WakeCause::Deferred => f.write_str("yield_now or spent budget"),
            WakeCause::Other => f.write_str("other"),
        }
    }
}
