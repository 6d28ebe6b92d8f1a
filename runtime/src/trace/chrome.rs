//! The file sink: Chrome's trace-event JSON, which Perfetto
//! (ui.perfetto.dev) and `chrome://tracing` open.
//!
//! One track (thread id 0) for the driver, with each `epoll_wait` as a slice
//! and each event as a short slice in it; one track per task (thread id =
//! task id), with each poll as a slice and `EAGAIN`s as instant marks; each
//! wake as a flow arrow from what caused it to the poll that followed. The
//! file is written through a buffer as the run goes (a JSON array whose
//! closing bracket, written when the runtime is dropped, the format allows
//! to be missing, so a killed run still loads).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::Duration;

use super::event::{ClearCause, TaskOutcome, TraceEvent, TraceRecord, WakeCause};
use super::text::EpollBits;
use crate::driver::Interest;
use crate::task::Id;

/// The driver's track.
const DRIVER: u64 = 0;

/// Writes one runtime's records as trace events.
#[derive(Debug)]
pub(crate) struct ChromeSink {
    out: BufWriter<File>,
    pid: u32,
    /// Whether an event has been written (for the separating commas).
    written: bool,
    /// When the `epoll_wait` under way began.
    wait_started: Option<Duration>,
    /// When each task's poll under way began.
    polls: HashMap<Id, Duration>,
    /// The task being polled, for marks made during its poll.
    current: Option<Id>,
    /// The last driver slice per fd (its events), and the last timer and
    /// eventfd slices: where a wake's arrow starts.
    fd_slices: HashMap<i32, Duration>,
    timer_slice: Option<Duration>,
    unpark_slice: Option<Duration>,
    /// Arrows not yet ended, per woken task: ended at its next poll.
    pending_flows: HashMap<Id, Vec<u64>>,
    next_flow: u64,
}

impl ChromeSink {
    /// Starts the file: the array, the process's and the driver's names.
    pub(crate) fn create(file: File, runtime: u64) -> io::Result<ChromeSink> {
        let mut sink = ChromeSink {
            out: BufWriter::with_capacity(64 * 1024, file),
            pid: std::process::id(),
            written: false,
            wait_started: None,
            polls: HashMap::new(),
            current: None,
            fd_slices: HashMap::new(),
            timer_slice: None,
            unpark_slice: None,
            pending_flows: HashMap::new(),
            next_flow: 1,
        };
        sink.out.write_all(b"[\n")?;
        let pid = sink.pid;
        sink.event(format_args!(
            r#"{{"ph":"M","name":"process_name","pid":{pid},"args":{{"name":"edgeloop runtime #{runtime}"}}}}"#
        ))?;
        sink.thread_name(DRIVER, "driver (epoll_wait, events, timers)")?;
        sink.out.flush()?;
        Ok(sink)
    }

    /// Appends `records` (buffered; flushed at each `epoll_wait`).
    pub(crate) fn write(&mut self, records: &[TraceRecord]) -> io::Result<()> {
        for record in records {
            self.record(record)?;
        }
        Ok(())
    }

    /// Writes out what is buffered.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Ends the array and the file.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(b"\n]\n")?;
        self.out.flush()
    }

    fn record(&mut self, record: &TraceRecord) -> io::Result<()> {
        let ts = micros(record.at);
        let pid = self.pid;
        match &record.event {
            TraceEvent::WaitStart { .. } => self.wait_started = Some(record.at),
            TraceEvent::WaitEnd {
                events,
                blocked,
                parked,
            } => {
                let start = self.wait_started.take().unwrap_or(record.at);
                let dur = micros(*blocked).max(micros(record.at.saturating_sub(start)));
                self.event(format_args!(
                    r#"{{"ph":"X","name":"epoll_wait","cat":"driver","pid":{pid},"tid":{DRIVER},"ts":{:.3},"dur":{dur:.3},"args":{{"events":{events},"parked":{parked}}}}}"#,
                    micros(start)
                ))?;
            }
            TraceEvent::IoEvent { token, fd, ready } => {
                self.fd_slices.insert(*fd, record.at);
                let name = format!("fd {fd} {}", EpollBits(*ready));
                self.driver_slice(&name, ts, &format!(r#""token":"{token}""#))?;
            }
            TraceEvent::StaleEvent { token } => {
                self.driver_slice("stale event dropped", ts, &format!(r#""token":"{token}""#))?;
            }
            TraceEvent::Unpark => {
                self.unpark_slice = Some(record.at);
                self.driver_slice("eventfd: wake from another thread", ts, "")?;
            }
            TraceEvent::TimersFired { count } => {
                self.timer_slice = Some(record.at);
                self.driver_slice("timers fired", ts, &format!(r#""count":{count}"#))?;
            }
            TraceEvent::Wake { task, cause } => self.wake(*task, *cause, record.at)?,
            TraceEvent::PollStart { task } => {
                self.polls.insert(*task, record.at);
                self.current = Some(*task);
                for flow in self.pending_flows.remove(task).unwrap_or_default() {
                    self.event(format_args!(
                        r#"{{"ph":"f","bp":"e","name":"wake","cat":"wake","id":{flow},"pid":{pid},"tid":{task},"ts":{ts:.3}}}"#
                    ))?;
                }
            }
            TraceEvent::PollEnd { task, ready, took } => {
                let start = self.polls.remove(task).unwrap_or(record.at);
                self.current = None;
                let result = if *ready { "Ready" } else { "Pending" };
                self.event(format_args!(
                    r#"{{"ph":"X","name":"poll → {result}","cat":"poll","pid":{pid},"tid":{task},"ts":{:.3},"dur":{:.3}}}"#,
                    micros(start),
                    micros(*took).max(0.001)
                ))?;
            }
            TraceEvent::Spawn { task, name } => {
                let label = match name {
                    Some(name) => format!("task {task} {name}"),
                    None => format!("task {task}"),
                };
                self.thread_name(task.as_u64(), &label)?;
            }
            TraceEvent::TaskDone { task, outcome } => {
                let how = match outcome {
                    TaskOutcome::Completed => "completed",
                    TaskOutcome::Panicked => "panicked",
                    TaskOutcome::Cancelled => "cancelled",
                };
                self.mark(task.as_u64(), how, ts)?;
            }
            TraceEvent::WouldBlock { fd, interest } => {
                let name = format!("{} fd {fd} → EAGAIN", direction(*interest));
                self.mark(self.here(), &name, ts)?;
            }
            TraceEvent::ReadinessCleared {
                fd,
                interest,
                cause,
                ..
            } => {
                let why = match cause {
                    ClearCause::WouldBlock => "EAGAIN",
                    ClearCause::ShortTransfer => "short transfer",
                };
                let name = format!("fd {fd} {} readiness cleared ({why})", direction(*interest));
                self.mark(self.here(), &name, ts)?;
            }
            TraceEvent::Register { token, fd } => {
                self.mark(self.here(), &format!("register fd {fd} as {token}"), ts)?;
            }
            TraceEvent::Deregister { token, fd } => {
                self.mark(self.here(), &format!("deregister fd {fd} ({token})"), ts)?;
            }
            TraceEvent::TimerArmed { deadline_in } => {
                let name = format!("timer armed (+{:.0} µs)", micros(*deadline_in));
                self.mark(self.here(), &name, ts)?;
            }
            TraceEvent::TimerReset { deadline_in } => {
                let name = format!("timer reset (+{:.0} µs)", micros(*deadline_in));
                self.mark(self.here(), &name, ts)?;
            }
            TraceEvent::TimerCancelled => self.mark(self.here(), "timer cancelled", ts)?,
            TraceEvent::LostWake { task, .. } => {
                let name = "LOST WAKE: Pending with no waker left";
                self.mark(task.as_u64(), name, ts)?;
            }
            TraceEvent::Dropped { records } => {
                self.mark(DRIVER, &format!("{records} records lost"), ts)?;
            }
        }
        Ok(())
    }

    /// A wake: an arrow from its cause to the woken task's next poll.
    fn wake(&mut self, task: Id, cause: WakeCause, at: Duration) -> io::Result<()> {
        let (tid, from) = match cause {
            WakeCause::Io { fd, .. } => (DRIVER, self.fd_slices.get(&fd).copied()),
            WakeCause::Timer => (DRIVER, self.timer_slice),
            WakeCause::OtherThread { .. } => (DRIVER, self.unpark_slice),
            WakeCause::Task(waker) => (waker.as_u64(), Some(at)),
            WakeCause::Deferred | WakeCause::Other => (DRIVER, None),
        };
        let from = match from {
            Some(from) => from,
            None => {
                // No slice to start from: make a short one here.
                let name = match cause {
                    WakeCause::Deferred => "deferred wake (yield_now or spent budget)",
                    WakeCause::OtherThread { .. } => "wake from another thread",
                    _ => "wake",
                };
                self.driver_slice(name, micros(at), "")?;
                at
            }
        };
        let flow = self.next_flow;
        self.next_flow += 1;
        let pid = self.pid;
        self.event(format_args!(
            r#"{{"ph":"s","name":"wake","cat":"wake","id":{flow},"pid":{pid},"tid":{tid},"ts":{:.3}}}"#,
            micros(from)
        ))?;
        self.pending_flows.entry(task).or_default().push(flow);
        Ok(())
    }

    /// The track marks go on: the task being polled, else the driver's.
    fn here(&self) -> u64 {
        self.current.map_or(DRIVER, Id::as_u64)
    }

    /// A short slice on the driver's track (something a wake can start from).
    fn driver_slice(&mut self, name: &str, ts: f64, args: &str) -> io::Result<()> {
        let pid = self.pid;
        let name = escape(name);
        self.event(format_args!(
            r#"{{"ph":"X","name":"{name}","cat":"driver","pid":{pid},"tid":{DRIVER},"ts":{ts:.3},"dur":1,"args":{{{args}}}}}"#
        ))
    }

    /// An instant mark on track `tid`.
    fn mark(&mut self, tid: u64, name: &str, ts: f64) -> io::Result<()> {
        let pid = self.pid;
        let name = escape(name);
        self.event(format_args!(
            r#"{{"ph":"i","s":"t","name":"{name}","pid":{pid},"tid":{tid},"ts":{ts:.3}}}"#
        ))
    }

    fn thread_name(&mut self, tid: u64, name: &str) -> io::Result<()> {
        let pid = self.pid;
        let name = escape(name);
        self.event(format_args!(
            r#"{{"ph":"M","name":"thread_name","pid":{pid},"tid":{tid},"args":{{"name":"{name}"}}}}"#
        ))
    }

    fn event(&mut self, json: std::fmt::Arguments<'_>) -> io::Result<()> {
        if self.written {
            self.out.write_all(b",\n")?;
        }
        self.written = true;
        self.out.write_fmt(json)
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn direction(interest: Interest) -> &'static str {
    super::text::direction_name(interest)
}

/// `s` as the inside of a JSON string.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
