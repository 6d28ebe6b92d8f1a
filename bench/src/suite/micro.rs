//! Running a micro-benchmark: one child process per runtime and round
//! (alternating), pinned like a server; each prints `key value` lines.

use std::collections::BTreeMap;
use std::io;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::scenario::{MicroPlan, MicroRow, Scenario};
use super::Context;
use crate::child::ChildGuard;

/// Longest a micro-benchmark child may run.
const MICRO_LIMIT: Duration = Duration::from_secs(120);

/// Runs `sc` (`plan` is its micro plan) and returns one row per runtime.
pub fn run(sc: &Scenario, plan: &MicroPlan, ctx: &Context) -> Vec<MicroRow> {
    let mut rows: Vec<MicroRow> = plan
        .kinds
        .iter()
        .map(|kind| MicroRow {
            scenario: sc.name,
            kind,
            samples: Vec::new(),
            rounds: Vec::new(),
        })
        .collect();
    for round in 1..=ctx.options.rounds {
        for row in &mut rows {
            match run_once(plan, row.kind, ctx) {
                Ok(figures) => {
                    let shown: Vec<String> =
                        figures.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
                    println!(
                        "  round {round}/{} {:<9} {}",
                        ctx.options.rounds,
                        row.kind,
                        shown.join("  ")
                    );
                    row.samples.push(figures);
                    row.rounds.push(round);
                }
                Err(e) => println!(
                    "  round {round}/{} {:<9} FAILED: {e}",
                    ctx.options.rounds, row.kind
                ),
            }
        }
    }
    rows
}

fn run_once(plan: &MicroPlan, kind: &str, ctx: &Context) -> io::Result<BTreeMap<String, f64>> {
    let mut cmd = Command::new(std::env::current_exe()?);
    let other_cpu = ctx.client_cpu.map_or("-".to_string(), |c| c.to_string());
    cmd.args([
        "--role",
        "micro",
        plan.bench,
        kind,
        &plan.count.to_string(),
        &other_cpu,
    ]);
    cmd.stdout(Stdio::piped());
    let out = ChildGuard::spawn(cmd, ctx.server_cpu)?.wait_output(MICRO_LIMIT)?;
    Ok(parse_figures(&out))
}

/// `key value` lines; anything else is ignored.
pub fn parse_figures(out: &str) -> BTreeMap<String, f64> {
    out.lines()
        .filter_map(|line| {
            let (k, v) = line.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_key_value_lines() {
        let f = parse_figures("rate 123.5\nnoise here\np50_us 7\n");
        assert_eq!(f.len(), 2);
        assert_eq!(f["rate"], 123.5);
        assert_eq!(f["p50_us"], 7.0);
    }
}
