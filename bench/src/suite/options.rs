//! The suite's command line.

use std::time::Duration;

use lexopt::prelude::*;

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
    pub fn parse(args: &[String]) -> Result<Options, lexopt::Error> {
        let mut o = Options::default();
        let mut p = lexopt::Parser::from_args(args);
        while let Some(arg) = p.next()? {
            match arg {
                Long("bench") => {}
                Long("list") => o.list = true,
                Long("help") | Short('h') => o.help = true,
                Long("write") => o.write = true,
                Long("rounds") => o.rounds = number(&mut p, "--rounds")?.max(1.0) as usize,
                Long("duration") => o.duration = seconds(&mut p, "--duration")?,
                Long("warmup") => o.warmup = seconds(&mut p, "--warmup")?,
                Long("syscalls") => {
                    let v = p.value()?.string()?;
                    o.syscalls = Method::parse(&v)
                        .ok_or_else(|| format!("--syscalls: `{v}` is not perf, strace or off"))?;
                }
                Long("idle") => o.idle = number(&mut p, "--idle")? as usize,
                Long("tasks") => o.tasks = number(&mut p, "--tasks")?.max(1.0) as u64,
                Long("timers") => o.timers = number(&mut p, "--timers")?.max(1.0) as u64,
                Long("samples") => o.samples = number(&mut p, "--samples")?.max(1.0) as u64,
                Value(filter) => o.filters.push(filter.string()?),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok(o)
    }

    /// Whether scenario `name` passes the filters.
    pub fn selects(&self, name: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str()))
    }
}

/// The value of option `name`: a non-negative number, `_` allowed between
/// digits (`--tasks 1_000_000`).
fn number(p: &mut lexopt::Parser, name: &str) -> Result<f64, lexopt::Error> {
    let s = p.value()?.string()?;
    s.replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("{name}: `{s}` is not a number").into())
}

fn seconds(p: &mut lexopt::Parser, name: &str) -> Result<Duration, lexopt::Error> {
    Ok(Duration::from_secs_f64(number(p, name)?))
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
