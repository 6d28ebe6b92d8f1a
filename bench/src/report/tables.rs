//! The report's tables, built once from the results and rendered as text
//! (stdout) or Markdown (BENCHMARKS.md).

use super::table::{count, num, percent, times, Table};
use super::Results;
use crate::suite::scenario::{EchoRow, EchoSample, MicroRow, Plan};

/// Idle connections the per-connection memory is projected to.
const PROJECTED_IDLE: f64 = 100_000.0;

/// Notes under the echo table.
const ECHO_NOTE: &str = "Medians over rounds. ×tokio and ×epoll: the median over rounds of this \
row's figure divided by the tokio or epoll row's in the same round (servers of one round run \
back to back, so drift slower than a round cancels). CPU µs/msg is the server's own CPU time per \
echo; client CPU near 100 % means the load generator set the pace. Other load: CPU used by \
everything else on the server's / load generator's CPU (from /proc/stat), a noise indicator. \
Spread: (max − min) / median of msg/s over rounds. ×tokio 95 % CI: the confidence \
interval of the CPU ratio to tokio, from the per-round ratios (a t interval on their logarithms: \
the interval of their geometric mean).";
/// Notes under the syscalls table.
const SYSCALLS_NOTE: &str = "One extra window per server (not one of the timed rounds). EAGAIN: \
calls that returned it (perf) or that failed (strace). Ctx switches: context switches of the \
server, about one per blocking wait that slept.";
/// Notes under the idle table.
const IDLE_NOTE: &str = "RSS growth per idle connection: the server's VmRSS from the 100th to \
the last idle connection, divided by their number; projected linearly to 100,000. The rates are \
those of the 10 active connections on the same server process, first before the idle \
connections are opened, then with them; each change is the median over rounds of that pair's \
ratio. Server CPU per echo is less disturbed by other load on the machine than the rate.";
/// Notes under the micro-benchmark table.
const MICRO_NOTE: &str = "In-process, one child process per runtime and round, pinned like the \
servers. std is the operating system's own primitive (thread::sleep; a thread parked on a futex).";

/// Every table the results have data for: a title, a note, the table.
pub fn all(r: &Results) -> Vec<(&'static str, &'static str, Table)> {
    let mut out = Vec::new();
    if !r.echo.is_empty() {
        out.push(("Echo", ECHO_NOTE, echo(r)));
    }
    if r.echo.iter().any(|row| row.syscalls.is_some()) {
        out.push(("Syscalls per echoed message", SYSCALLS_NOTE, syscalls(r)));
    }
    let has_idle = |row: &EchoRow| row.samples.iter().any(|s| s.rss_per_idle.is_some());
    if r.echo.iter().any(has_idle) {
        out.push(("Idle connections", IDLE_NOTE, idle(r)));
    }
    if !r.micro.is_empty() {
        out.push(("Micro-benchmarks", MICRO_NOTE, micro(r)));
    }
    out
}

/// The row of `server` in the same scenario as `row`.
pub fn peer<'a>(r: &'a Results, row: &EchoRow, server: &str) -> Option<&'a EchoRow> {
    r.echo
        .iter()
        .find(|p| p.scenario == row.scenario && p.server == server)
}

fn echo(r: &Results) -> Table {
    let mut t = Table::new(
        &[
            "scenario",
            "server",
            "msg/s",
            "×tokio",
            "×epoll",
            "MB/s",
            "CPU µs/msg",
            "×tokio",
            "×tokio 95 % CI",
            "×epoll",
            "p50 µs",
            "p99 µs",
            "p99.9 µs",
            "syscalls/msg",
            "peak RSS MiB",
            "server CPU",
            "client CPU",
            "other load",
            "errors",
            "spread",
        ],
        2,
    );
    for row in &r.echo {
        let m = |f: fn(&EchoSample) -> f64| row.median(f);
        let vs = |server: &str, f: fn(&EchoSample) -> f64| {
            peer(r, row, server).map_or("–".to_string(), |p| times(row.ratio_to(p, f)))
        };
        let rate = |s: &EchoSample| s.rate;
        let cpu = |s: &EchoSample| s.cpu_per_msg_us;
        t.push(vec![
            row.scenario.to_string(),
            row.server.to_string(),
            count(m(rate)),
            vs("tokio", rate),
            vs("epoll", rate),
            num(m(|s| s.megabytes), 1),
            num(m(cpu), 2),
            vs("tokio", cpu),
            peer(r, row, "tokio")
                .filter(|_| row.server != "tokio")
                .and_then(|p| row.ratio_ci(p, cpu))
                .map_or("–".to_string(), |(lo, hi)| format!("{lo:.2}–{hi:.2}×")),
            vs("epoll", cpu),
            num(m(|s| s.p50_us), 1),
            num(m(|s| s.p99_us), 1),
            num(m(|s| s.p999_us), 1),
            row.syscalls
                .as_ref()
                .map_or("–".to_string(), |s| num(s.per_message()[0], 2)),
            num(m(|s| s.peak_rss) / (1024.0 * 1024.0), 1),
            percent(m(|s| s.server_cpu)),
            percent(m(|s| s.client_cpu)),
            format!(
                "{} / {}",
                percent(m(|s| s.other_load_server_cpu)),
                percent(m(|s| s.other_load_client_cpu))
            ),
            count(row.samples.iter().map(|s| s.errors).sum()),
            percent(row.spread(rate)),
        ]);
    }
    t
}

fn syscalls(r: &Results) -> Table {
    let mut t = Table::new(
        &[
            "scenario",
            "server",
            "total/msg",
            "read",
            "write",
            "epoll_wait",
            "other",
            "EAGAIN",
            "ctx switches",
            "messages",
            "counted by",
        ],
        2,
    );
    for row in &r.echo {
        let Some(s) = &row.syscalls else { continue };
        let [total, reads, writes, waits, other, failed] = s.per_message();
        t.push(vec![
            row.scenario.to_string(),
            row.server.to_string(),
            num(total, 2),
            num(reads, 2),
            num(writes, 2),
            num(waits, 2),
            num(other, 2),
            num(failed, 2),
            s.switches_per_message()
                .map_or("–".to_string(), |v| num(v, 2)),
            count(s.messages as f64),
            s.method.name().to_string(),
        ]);
    }
    t
}

fn idle(r: &Results) -> Table {
    let idle_count = r.scenarios.iter().find_map(|s| match &s.plan {
        Plan::Echo(p) if p.idle > 0 => Some(p.idle),
        _ => None,
    });
    let mut t = Table::new(
        &[
            "server",
            "idle conns",
            "RSS B/idle conn",
            "at 100,000 idle (MiB)",
            "msg/s without idle",
            "msg/s with idle",
            "change",
            "CPU µs/msg without",
            "CPU µs/msg with",
            "change",
        ],
        1,
    );
    for row in r
        .echo
        .iter()
        .filter(|row| row.samples.iter().any(|s| s.rss_per_idle.is_some()))
    {
        let per_conn = row.median(|s| s.rss_per_idle.unwrap_or(f64::NAN));
        let with = row.median(|s| s.rate);
        let without = row.median(|s| s.rate_without_idle.unwrap_or(f64::NAN));
        let change = row.median(|s| s.rate / s.rate_without_idle.unwrap_or(f64::NAN) - 1.0);
        let cpu_without = row.median(|s| s.cpu_per_msg_without_idle_us.unwrap_or(f64::NAN));
        let cpu_with = row.median(|s| s.cpu_per_msg_us);
        let cpu_change = row
            .median(|s| s.cpu_per_msg_us / s.cpu_per_msg_without_idle_us.unwrap_or(f64::NAN) - 1.0);
        t.push(vec![
            row.server.to_string(),
            count(idle_count.unwrap_or(0) as f64),
            count(per_conn),
            num(per_conn * PROJECTED_IDLE / (1024.0 * 1024.0), 1),
            count(without),
            count(with),
            signed_percent(change),
            num(cpu_without, 2),
            num(cpu_with, 2),
            signed_percent(cpu_change),
        ]);
    }
    t
}

fn micro(r: &Results) -> Table {
    let mut t = Table::new(
        &[
            "scenario",
            "runtime",
            "figure",
            "median",
            "×tokio",
            "spread",
            "other figures (medians)",
        ],
        3,
    );
    for row in &r.micro {
        let Some(sc) = r.scenarios.iter().find(|s| s.name == row.scenario) else {
            continue;
        };
        let Plan::Micro(plan) = &sc.plan else {
            continue;
        };
        let (key, higher_is_better) = plan.headline;
        let value = row.median(key);
        let tokio = r
            .micro
            .iter()
            .find(|p| p.scenario == row.scenario && p.kind == "tokio");
        let name = format!(
            "{} ({} is better)",
            describe(key),
            if higher_is_better { "higher" } else { "lower" }
        );
        t.push(vec![
            row.scenario.to_string(),
            row.kind.to_string(),
            name,
            figure(value),
            tokio.map_or("–".to_string(), |p| times(row.ratio_to(p, key))),
            percent(row.spread(key)),
            others(row, key),
        ]);
    }
    t
}

fn others(row: &MicroRow, headline: &str) -> String {
    let keys = row
        .samples
        .first()
        .map(|s| s.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let parts: Vec<String> = keys
        .iter()
        .filter(|k| k.as_str() != headline)
        .map(|k| format!("{} {}", describe(k), figure(row.median(k))))
        .collect();
    parts.join(", ")
}

/// `+1.2%`; "–" when missing.
fn signed_percent(v: f64) -> String {
    if v.is_finite() {
        format!("{:+.1}%", v * 100.0)
    } else {
        "–".to_string()
    }
}

/// A micro-benchmark figure: whole and grouped from 1,000 up, else two decimals.
fn figure(v: f64) -> String {
    if v >= 1000.0 {
        count(v)
    } else {
        num(v, 2)
    }
}

/// A figure's key as the tables show it.
pub fn describe(key: &str) -> String {
    match key {
        "rate" => "per second".to_string(),
        k => k
            .replace("_us", " µs")
            .replace("_ns", " ns")
            .replace("_ms", " ms")
            .replace('_', " "),
    }
}
