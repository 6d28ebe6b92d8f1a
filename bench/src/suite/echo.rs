//! Running an echo scenario: every server once per round, alternating, each
//! in a fresh process pinned to its own CPU; then, optionally, one more
//! window per server in which its syscalls are counted (see `syscount`).

use std::io;
use std::time::Duration;

use super::scenario::{EchoPlan, EchoRow, EchoSample, Scenario, SyscallRun, SERVERS};
use super::Context;
use crate::child::ServerProcess;
use crate::connect::{connect_many, Sources};
use crate::loadgen::{self, LoadConfig, Window};
use crate::syscount::{Counter, Method, SyscallCounts};
use crate::{machine, sys};

/// Idle connections opened before the baseline RSS is read, so one-time
/// growth (buffers, tables) is not charged to the idle connections.
const IDLE_WARM: usize = 100;
/// Time allowed to open the idle connections.
const IDLE_CONNECT_LIMIT: Duration = Duration::from_secs(120);
/// The counting run: warm-up, window, and a message bound.
const COUNT_WARMUP: Duration = Duration::from_millis(200);
const COUNT_WINDOW: Duration = Duration::from_millis(500);
const COUNT_MAX_MESSAGES: u64 = 1_000_000;
/// Every echo window also stops at this many messages (a bound on the loop).
const MAX_MESSAGES: u64 = 100_000_000;

/// Runs `sc` (`plan` is its echo plan) and returns one row per server.
pub fn run(sc: &Scenario, plan: &EchoPlan, ctx: &Context) -> Vec<EchoRow> {
    let mut rows: Vec<EchoRow> = SERVERS
        .iter()
        .map(|server| EchoRow {
            scenario: sc.name,
            server,
            samples: Vec::new(),
            rounds: Vec::new(),
            syscalls: None,
        })
        .collect();
    for round in 1..=ctx.options.rounds {
        for row in &mut rows {
            match run_once(row.server, plan, ctx) {
                Ok(s) => {
                    println!(
                        "  round {round}/{} {:<11} {:>9.0} msg/s {:>7.2} us/msg  srv cpu {:>3.0}%  cli cpu {:>3.0}%  other load {:>3.0}%/{:>3.0}%  p50 {:>7.1} us  p99 {:>7.1} us  err {}{}",
                        ctx.options.rounds,
                        row.server,
                        s.rate,
                        s.cpu_per_msg_us,
                        s.server_cpu * 100.0,
                        s.client_cpu * 100.0,
                        s.other_load_server_cpu * 100.0,
                        s.other_load_client_cpu * 100.0,
                        s.p50_us,
                        s.p99_us,
                        s.errors,
                        s.rss_per_idle.map_or(String::new(), |b| format!(
                            "  {b:.0} B/idle conn; before the idle ones {:.0} msg/s, {:.2} us/msg",
                            s.rate_without_idle.unwrap_or(f64::NAN),
                            s.cpu_per_msg_without_idle_us.unwrap_or(f64::NAN)
                        )),
                    );
                    row.samples.push(s);
                    row.rounds.push(round);
                }
                Err(e) => println!(
                    "  round {round}/{} {:<11} FAILED: {e}",
                    ctx.options.rounds, row.server
                ),
            }
        }
    }
    let method = ctx.options.syscalls;
    if plan.count_syscalls && method != Method::Off {
        for row in &mut rows {
            match count_syscalls(row.server, plan, ctx) {
                Ok(run) => {
                    let [total, r, w, e, o, failed] = run.per_message();
                    println!(
                        "  {:<9} {:<11} {total:.2} syscalls/msg (read {r:.2}, write {w:.2}, epoll_wait {e:.2}, other {o:.2}; failed {failed:.2}) over {} msgs",
                        method.name(),
                        row.server,
                        run.messages
                    );
                    row.syscalls = Some(run);
                }
                Err(e) => println!("  {:<9} {:<11} FAILED: {e}", method.name(), row.server),
            }
        }
    }
    rows
}

/// Samples the server's CPU clock, and every CPU's busy time, at the
/// window's edges.
struct CpuWindow {
    pid: u32,
    start: Duration,
    end: Duration,
    busy_start: Vec<f64>,
    busy_end: Vec<f64>,
}

impl Window for CpuWindow {
    fn opening(&mut self) {
        self.busy_start = machine::cpu_busy().unwrap_or_default();
        self.start = sys::process_cpu_time(self.pid).unwrap_or_default();
    }

    fn closed(&mut self) {
        self.end = sys::process_cpu_time(self.pid).unwrap_or_default();
        self.busy_end = machine::cpu_busy().unwrap_or_default();
    }
}

impl CpuWindow {
    fn new(pid: u32) -> CpuWindow {
        CpuWindow {
            pid,
            start: Duration::ZERO,
            end: Duration::ZERO,
            busy_start: Vec::new(),
            busy_end: Vec::new(),
        }
    }

    /// The server's CPU seconds in the window.
    fn cpu(&self) -> f64 {
        self.end.saturating_sub(self.start).as_secs_f64()
    }

    /// Seconds CPU `cpu` was busy over the window (NaN if unknown).
    fn busy(&self, cpu: Option<usize>) -> f64 {
        let Some(cpu) = cpu else { return f64::NAN };
        match (self.busy_start.get(cpu), self.busy_end.get(cpu)) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NAN,
        }
    }
}

fn run_once(server: &str, plan: &EchoPlan, ctx: &Context) -> io::Result<EchoSample> {
    let proc = ServerProcess::start(&["--role", "server", server], ctx.server_cpu)?;
    let pid = proc.pid();
    let cfg = LoadConfig {
        server: proc.addr,
        connections: plan.connections,
        message_size: plan.size,
        warmup: ctx.options.warmup,
        duration: ctx.options.duration,
        max_messages: MAX_MESSAGES,
        reconnect: plan.reconnect,
    };
    let mut idle = Vec::new();
    let mut idle_figures = None;
    if plan.idle > 0 {
        // The same load without the idle connections first, on the same
        // server, so the comparison is paired.
        let mut window = CpuWindow::new(pid);
        let report = loadgen::run(&cfg, &mut window)?;
        let without = (
            report.rate(),
            window.cpu() * 1e6 / report.messages.max(1) as f64,
        );
        let warm = plan.idle.min(IDLE_WARM);
        idle = connect_many(proc.addr, warm, Sources::spread(), IDLE_CONNECT_LIMIT)?;
        let before = machine::memory(pid)?.rss;
        let rest = connect_many(
            proc.addr,
            plan.idle - warm,
            Sources::spread(),
            IDLE_CONNECT_LIMIT,
        )?;
        idle.extend(rest);
        let after = machine::memory(pid)?.rss;
        let per_conn = after.saturating_sub(before) as f64 / (plan.idle - warm).max(1) as f64;
        idle_figures = Some((per_conn, without));
    }
    let mut window = CpuWindow::new(pid);
    let report = loadgen::run(&cfg, &mut window)?;
    let memory = machine::memory(pid)?;
    drop(idle);
    drop(proc);
    let cpu = window.cpu();
    let wall = report.elapsed.as_secs_f64();
    // /proc/stat counts in ticks, so small negative values are rounding.
    let other = |busy: f64, own: f64| ((busy - own) / wall).max(0.0);
    let us = |q: f64| report.latency.value_at_quantile(q) as f64 / 1e3;
    Ok(EchoSample {
        rate: report.rate(),
        megabytes: report.megabytes_per_sec(),
        cpu_per_msg_us: cpu * 1e6 / report.messages.max(1) as f64,
        server_cpu: cpu / wall,
        p50_us: us(0.5),
        p99_us: us(0.99),
        p999_us: us(0.999),
        errors: report.errors as f64,
        client_cpu: report.client_cpu_share(),
        peak_rss: memory.peak_rss as f64,
        other_load_server_cpu: other(window.busy(ctx.server_cpu), cpu),
        other_load_client_cpu: other(window.busy(ctx.client_cpu), report.client_cpu.as_secs_f64()),
        rss_per_idle: idle_figures.map(|(per_conn, _)| per_conn),
        rate_without_idle: idle_figures.map(|(_, (rate, _))| rate),
        cpu_per_msg_without_idle_us: idle_figures.map(|(_, (_, cpu))| cpu),
    })
}

/// Counts the server's syscalls for the window only.
struct CountingWindow {
    counter: Option<Counter>,
    result: Option<io::Result<SyscallCounts>>,
}

impl Window for CountingWindow {
    fn opening(&mut self) {
        if let Some(c) = &mut self.counter {
            if let Err(e) = c.start() {
                self.result = Some(Err(e));
                self.counter = None;
            }
        }
    }

    fn closed(&mut self) {
        if let Some(c) = self.counter.take() {
            self.result = Some(c.finish());
        }
    }
}

fn count_syscalls(server: &str, plan: &EchoPlan, ctx: &Context) -> io::Result<SyscallRun> {
    let proc = ServerProcess::start(&["--role", "server", server], ctx.server_cpu)?;
    let cfg = LoadConfig {
        server: proc.addr,
        connections: plan.connections,
        message_size: plan.size,
        warmup: COUNT_WARMUP,
        duration: COUNT_WINDOW,
        max_messages: COUNT_MAX_MESSAGES,
        reconnect: plan.reconnect,
    };
    let method = ctx.options.syscalls;
    let counter = Counter::new(method, proc.pid(), &ctx.scratch_dir)?;
    let mut window = CountingWindow {
        counter: Some(counter),
        result: None,
    };
    let report = loadgen::run(&cfg, &mut window)?;
    let counts = window
        .result
        .unwrap_or_else(|| Err(io::Error::other("the counter never ran")))?;
    Ok(SyscallRun {
        method,
        messages: report.messages,
        counts,
    })
}
