//! The suite's command line.

use std::time::Duration;

use crate::syscount::Method;

/// Usage, printed by `--help`.
pub const USAGE: &str = "\
edgeloop's benchmark suite

usage: cargo bench -p edgeloop-bench -- [FILTER...] [OPTIONS]

FILTER          run only scenarios whose name contains one of these
                (see --list); all scenarios when none is given
--list          list the scenarios and exit
--rounds N      rounds per scenario, servers alternating in each (default 5)
--duration S    measured seconds per echo run (default 1.0)
--warmup S      load before each measured window, seconds (default 0.3)
--idle N        idle connections in the idle scenario (default 19000)
--tasks N       tasks spawned in the tasks scenario (default 1000000)
--timers N      timers set in the timers scenario (default 1000000)
--samples N     samples in the sleep and wake scenarios (default 500)
--syscalls M    how syscalls per message are counted, in one extra window
                per server: perf (default), strace, or off
--write         rewrite BENCHMARKS.md's results section and bench/results/echo.svg
--help          this text
";

/// What the command line asked for.
#[derive(Clone, Debug)]
pub struct Options {
    /// Scenario name filters (substring match); empty means all.
    pub filters: Vec<String>,
    /// Rounds per scenario.
    pub rounds: usize,
    /// Measured window per echo run.
    pub duration: Duration,
    /// Warm-up before each window.
    pub warmup: Duration,
    /// Idle connections in the idle scenario.
    pub idle: usize,
    /// Tasks in the tasks scenario.
    pub tasks: u64,
    /// Timers in the timers scenario.
    pub timers: u64,
    /// Samples in the sleep and wake scenarios.
    pub samples: u64,
    /// How syscalls are counted.
    pub syscalls: Method,
    /// Rewrite BENCHMARKS.md and the chart.
    pub write: bool,
    /// List scenarios only.
    pub list: bool,
    /// Print usage only.
    pub help: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            filters: Vec::new(),
            rounds: 5,
            duration: Duration::from_secs(1),
            warmup: Duration::from_millis(300),
            idle: 19_000,
            tasks: 1_000_000,
            timers: 1_000_000,
            samples: 500,
            syscalls: Method::Perf,
            write: false,
            list: false,
            help: false,
        }
    }
}

impl Options {
    /// Parses the arguments after the program name (cargo's `--bench` is ignored).
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match arg.as_str() {
                "--bench" => {}
                "--list" => o.list = true,
                "--help" | "-h" => o.help = true,
                "--write" => o.write = true,
                "--rounds" => o.rounds = number(&value(arg)?, arg)?.max(1.0) as usize,
                "--duration" => o.duration = seconds(&value(arg)?, arg)?,
                "--warmup" => o.warmup = seconds(&value(arg)?, arg)?,
                "--syscalls" => {
                    let v = value(arg)?;
                    o.syscalls = Method::parse(&v)
                        .ok_or_else(|| format!("--syscalls: `{v}` is not perf, strace or off"))?;
                }
                "--idle" => o.idle = number(&value(arg)?, arg)? as usize,
                "--tasks" => o.tasks = number(&value(arg)?, arg)?.max(1.0) as u64,
                "--timers" => o.timers = number(&value(arg)?, arg)?.max(1.0) as u64,
                "--samples" => o.samples = number(&value(arg)?, arg)?.max(1.0) as u64,
                flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
                filter => o.filters.push(filter.to_string()),
            }
        }
        Ok(o)
    }

    /// Whether scenario `name` passes the filters.
    pub fn selects(&self, name: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str()))
    }
}

fn number(s: &str, name: &str) -> Result<f64, String> {
    s.replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("{name}: `{s}` is not a number"))
}

fn seconds(s: &str, name: &str) -> Result<Duration, String> {
    Ok(Duration::from_secs_f64(number(s, name)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn filters_and_options() {
        let o = Options::parse(&args(
            "echo-1x --rounds 5 --duration 0.5 --bench --idle 1_000 --write",
        ))
        .unwrap();
        assert_eq!(o.filters, ["echo-1x"]);
        assert_eq!(o.rounds, 5);
        assert_eq!(o.duration, Duration::from_millis(500));
        assert_eq!(o.idle, 1000);
        assert!(o.write && o.selects("echo-1x64") && !o.selects("echo-100x64"));
        assert!(Options::parse(&args("--rounds")).is_err());
        assert!(Options::parse(&args("--frobnicate")).is_err());
    }
}
