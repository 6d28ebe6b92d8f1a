//! The scenarios, and what their runs produce.

use std::collections::BTreeMap;

use super::options::Options;
use crate::syscount::{Method, SyscallCounts};

/// The echo servers, in the order each round runs them (A B C D A B C D ...):
/// edgeloop's own echo, tokio's program on edgeloop, tokio, the epoll loop.
pub const SERVERS: [&str; 4] = ["edgeloop", "edgeloop-rw", "tokio", "epoll"];

/// One scenario of the suite.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Short name, matched by the command-line filters.
    pub name: &'static str,
    /// What it shows, for the tables.
    pub title: String,
    /// How it runs.
    pub plan: Plan,
}

/// How a scenario runs.
#[derive(Clone, Debug)]
pub enum Plan {
    /// Echo servers in their own processes, loaded by this one.
    Echo(EchoPlan),
    /// An in-process micro-benchmark, one child process per runtime and round.
    Micro(MicroPlan),
}

/// An echo load.
#[derive(Clone, Debug)]
pub struct EchoPlan {
    /// Active connections.
    pub connections: usize,
    /// Bytes per message.
    pub size: usize,
    /// A new connection per message.
    pub reconnect: bool,
    /// Idle connections held open during the run.
    pub idle: usize,
    /// Whether an extra run counts syscalls per message.
    pub count_syscalls: bool,
}

/// A micro-benchmark: the role name its child runs, the runtimes it compares
/// and its size.
#[derive(Clone, Debug)]
pub struct MicroPlan {
    /// The `--role micro <bench>` name.
    pub bench: &'static str,
    /// Runtimes compared (`std` is the operating system's own primitive).
    pub kinds: &'static [&'static str],
    /// Tasks, timers or samples.
    pub count: u64,
    /// The figure the tables lead with, and whether higher is better.
    pub headline: (&'static str, bool),
}

/// Every scenario, sized by the options.
pub fn all(o: &Options) -> Vec<Scenario> {
    let echo = |name, title: &str, connections, size, count_syscalls| Scenario {
        name,
        title: title.to_string(),
        plan: Plan::Echo(EchoPlan {
            connections,
            size,
            reconnect: false,
            idle: 0,
            count_syscalls,
        }),
    };
    let micro = |name, title: String, bench, kinds, count, headline| Scenario {
        name,
        title,
        plan: Plan::Micro(MicroPlan {
            bench,
            kinds,
            count,
            headline,
        }),
    };
    const RUNTIMES: &[&str] = &["edgeloop", "tokio"];
    const WITH_OS: &[&str] = &["edgeloop", "tokio", "std"];
    vec![
        echo("echo-1x64", "1 conn x 64 B (latency)", 1, 64, true),
        echo("echo-10x64", "10 conns x 64 B", 10, 64, true),
        echo(
            "echo-100x64",
            "100 conns x 64 B (throughput)",
            100,
            64,
            true,
        ),
        echo(
            "echo-1000x64",
            "1,000 conns x 64 B (throughput)",
            1000,
            64,
            true,
        ),
        echo(
            "echo-100x16k",
            "100 conns x 16 KiB (bandwidth)",
            100,
            16 * 1024,
            true,
        ),
        Scenario {
            name: "accept-32",
            title: "new connection per 64 B message, 32 at a time (accept rate)".to_string(),
            plan: Plan::Echo(EchoPlan {
                connections: 32,
                size: 64,
                reconnect: true,
                idle: 0,
                count_syscalls: true,
            }),
        },
        Scenario {
            name: "idle",
            title: format!("10 active conns x 64 B + {} idle", thousands(o.idle as u64)),
            plan: Plan::Echo(EchoPlan {
                connections: 10,
                size: 64,
                reconnect: false,
                idle: o.idle,
                count_syscalls: false,
            }),
        },
        micro(
            "tasks",
            format!("spawn + complete {} tasks", thousands(o.tasks)),
            "tasks",
            RUNTIMES,
            o.tasks,
            ("rate", true),
        ),
        micro(
            "timers",
            format!("set {} timers, 99 % cancelled", thousands(o.timers)),
            "timers",
            RUNTIMES,
            o.timers,
            ("rate", true),
        ),
        micro(
            "sleep-1ms",
            "sleep(1ms) overshoot".to_string(),
            "sleep",
            WITH_OS,
            o.samples,
            ("p50_us", false),
        ),
        micro(
            "wake",
            "wake latency from another thread".to_string(),
            "wake",
            WITH_OS,
            o.samples,
            ("p50_us", false),
        ),
    ]
}

/// One echo run's figures.
#[derive(Clone, Debug, Default)]
pub struct EchoSample {
    /// Echoes per second.
    pub rate: f64,
    /// Payload MB/s, one way.
    pub megabytes: f64,
    /// Server CPU time per echo, microseconds.
    pub cpu_per_msg_us: f64,
    /// Server CPU used over the window, in CPUs.
    pub server_cpu: f64,
    /// Round-trip quantiles, microseconds.
    pub p50_us: f64,
    /// 99th percentile round trip, microseconds.
    pub p99_us: f64,
    /// 99.9th percentile round trip, microseconds.
    pub p999_us: f64,
    /// Connection errors.
    pub errors: f64,
    /// Load generator CPU used over the window, in CPUs.
    pub client_cpu: f64,
    /// Server peak RSS, bytes.
    pub peak_rss: f64,
    /// CPU used by everything else on the server's CPU, in CPUs (noise).
    pub other_load_server_cpu: f64,
    /// CPU used by everything else on the load generator's CPU, in CPUs.
    pub other_load_client_cpu: f64,
    /// Server RSS growth per idle connection, bytes (idle scenario only).
    pub rss_per_idle: Option<f64>,
    /// The same load's echoes per second on the same server just before the
    /// idle connections were opened (idle scenario only).
    pub rate_without_idle: Option<f64>,
    /// Its server CPU time per echo, microseconds (idle scenario only).
    pub cpu_per_msg_without_idle_us: Option<f64>,
}

/// Syscalls counted over one window of echoes.
#[derive(Clone, Debug)]
pub struct SyscallRun {
    /// How they were counted.
    pub method: Method,
    /// Echoes completed in the window.
    pub messages: u64,
    /// What was counted.
    pub counts: SyscallCounts,
}

impl SyscallRun {
    /// Per echo: all calls, reads, writes, epoll waits, other calls, and
    /// calls that failed (with `EAGAIN` under perf; any error under strace).
    pub fn per_message(&self) -> [f64; 6] {
        let m = self.messages.max(1) as f64;
        let [r, w, e, o] = self.counts.groups();
        let c = &self.counts;
        [
            c.total as f64 / m,
            r as f64 / m,
            w as f64 / m,
            e as f64 / m,
            o as f64 / m,
            c.failed as f64 / m,
        ]
    }

    /// Context switches per echo, if counted.
    pub fn switches_per_message(&self) -> Option<f64> {
        self.counts
            .context_switches
            .map(|s| s as f64 / self.messages.max(1) as f64)
    }
}

/// One server's results in one echo scenario.
#[derive(Clone, Debug)]
pub struct EchoRow {
    /// The scenario's name.
    pub scenario: &'static str,
    /// The server.
    pub server: &'static str,
    /// One sample per successful round.
    pub samples: Vec<EchoSample>,
    /// The round each sample comes from (1-based), in step with `samples`.
    pub rounds: Vec<usize>,
    /// The syscall-counting run, if there was one.
    pub syscalls: Option<SyscallRun>,
}

impl EchoRow {
    /// The median over rounds of one figure (NaN with no samples).
    pub fn median(&self, f: impl Fn(&EchoSample) -> f64) -> f64 {
        median(self.samples.iter().map(f).collect())
    }

    /// (max - min) / median of one figure over rounds.
    pub fn spread(&self, f: impl Fn(&EchoSample) -> f64) -> f64 {
        spread(self.samples.iter().map(f).collect())
    }

    /// The median over rounds of this row's figure divided by `other`'s in
    /// the same round: servers of one round run back to back, so drift
    /// slower than a round cancels. NaN when no round has both.
    pub fn ratio_to(&self, other: &EchoRow, f: impl Fn(&EchoSample) -> f64) -> f64 {
        paired_ratio(self.by_round(&f), other.by_round(&f))
    }

    /// The 95 % confidence interval of [`ratio_to`](Self::ratio_to)'s
    /// per-round ratios (see [`paired_ratio_ci`]).
    pub fn ratio_ci(&self, other: &EchoRow, f: impl Fn(&EchoSample) -> f64) -> Option<(f64, f64)> {
        paired_ratio_ci(self.by_round(&f), other.by_round(&f))
    }

    /// One figure per round, with its round's number.
    fn by_round<'a>(
        &'a self,
        f: &'a impl Fn(&EchoSample) -> f64,
    ) -> impl Iterator<Item = (usize, f64)> + 'a {
        self.rounds.iter().copied().zip(self.samples.iter().map(f))
    }
}

/// One runtime's results in one micro-benchmark.
#[derive(Clone, Debug)]
pub struct MicroRow {
    /// The scenario's name.
    pub scenario: &'static str,
    /// The runtime (or `std`).
    pub kind: &'static str,
    /// The figures each round printed.
    pub samples: Vec<BTreeMap<String, f64>>,
    /// The round each sample comes from (1-based), in step with `samples`.
    pub rounds: Vec<usize>,
}

impl MicroRow {
    /// The median over rounds of figure `key` (NaN if absent).
    pub fn median(&self, key: &str) -> f64 {
        median(
            self.samples
                .iter()
                .filter_map(|s| s.get(key).copied())
                .collect(),
        )
    }

    /// (max - min) / median of figure `key` over rounds.
    pub fn spread(&self, key: &str) -> f64 {
        spread(
            self.samples
                .iter()
                .filter_map(|s| s.get(key).copied())
                .collect(),
        )
    }

    /// The median over rounds of figure `key` divided by `other`'s in the
    /// same round (see [`EchoRow::ratio_to`]).
    pub fn ratio_to(&self, other: &MicroRow, key: &str) -> f64 {
        let figure = |s: &BTreeMap<String, f64>| s.get(key).copied().unwrap_or(f64::NAN);
        paired_ratio(
            self.rounds
                .iter()
                .copied()
                .zip(self.samples.iter().map(figure)),
            other
                .rounds
                .iter()
                .copied()
                .zip(other.samples.iter().map(figure)),
        )
    }
}

/// The median of `a / b` over the rounds both have; NaN if none.
pub fn paired_ratio(
    a: impl Iterator<Item = (usize, f64)>,
    b: impl Iterator<Item = (usize, f64)>,
) -> f64 {
    let b: BTreeMap<usize, f64> = b.collect();
    let ratios: Vec<f64> = a
        .filter_map(|(round, x)| b.get(&round).map(|y| x / y))
        .filter(|r| r.is_finite())
        .collect();
    median(ratios)
}

/// The 95 % confidence interval of the ratio of `a` to `b` (paired by
/// round, as in [`paired_ratio`]): a t interval on the logarithms of the
/// per-round ratios, turned back into ratios, so it is the interval of
/// their geometric mean. `None` with fewer than two pairs.
pub fn paired_ratio_ci(
    a: impl Iterator<Item = (usize, f64)>,
    b: impl Iterator<Item = (usize, f64)>,
) -> Option<(f64, f64)> {
    let b: BTreeMap<usize, f64> = b.collect();
    let logs: Vec<f64> = a
        .filter_map(|(round, x)| b.get(&round).map(|y| (x / y).ln()))
        .filter(|r| r.is_finite())
        .collect();
    let n = logs.len();
    if n < 2 {
        return None;
    }
    let mean = logs.iter().sum::<f64>() / n as f64;
    let var = logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t_975(n - 1) * (var / n as f64).sqrt();
    Some(((mean - half).exp(), (mean + half).exp()))
}

/// Student's t, two-sided 95 % (the 0.975 quantile), for `df` degrees of
/// freedom; the normal's 1.96 past 30.
fn t_975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    T.get(df.wrapping_sub(1)).copied().unwrap_or(1.96)
}

/// The median (the mean of the middle two for an even count); NaN if empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// (max - min) / median; NaN if empty.
pub fn spread(v: Vec<f64>) -> f64 {
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    (hi - lo) / median(v)
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_interval_brackets_a_steady_ratio_and_widens_with_noise() {
        let rounds = |v: &[f64]| v.iter().copied().enumerate().collect::<Vec<_>>();
        let a = rounds(&[9.0, 9.0, 9.0, 9.0]);
        let b = rounds(&[10.0, 10.0, 10.0, 10.0]);
        let (lo, hi) = paired_ratio_ci(a.clone().into_iter(), b.clone().into_iter()).unwrap();
        assert!((lo - 0.9).abs() < 1e-9 && (hi - 0.9).abs() < 1e-9);
        let noisy = rounds(&[8.0, 10.0, 9.0, 9.5]);
        let (lo, hi) = paired_ratio_ci(noisy.into_iter(), b.into_iter()).unwrap();
        assert!(lo < 0.9 && hi > 0.9 && hi - lo > 0.05, "{lo}..{hi}");
        assert!(paired_ratio_ci(a[..1].iter().copied(), a[..1].iter().copied()).is_none());
    }

    #[test]
    fn medians_and_spreads() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
        assert_eq!(spread(vec![90.0, 100.0, 110.0]), 0.2);
    }

    #[test]
    fn ratios_pair_rounds() {
        let a = [(1, 10.0), (2, 20.0), (3, 90.0)];
        let b = [(1, 5.0), (3, 30.0), (4, 1.0)];
        assert_eq!(paired_ratio(a.into_iter(), b.into_iter()), 2.5);
        assert!(paired_ratio(a.into_iter(), [(9, 1.0)].into_iter()).is_nan());
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(19_000_000), "19,000,000");
    }
}
