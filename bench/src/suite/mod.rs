//! The suite's driver: parses the command line, runs the selected scenarios
//! and prints (and optionally writes) the report.
//!
//! This process is the load generator; it pins itself to the second allowed
//! CPU and every server or micro-benchmark child to the first.

mod echo;
mod micro;
pub mod options;
pub mod scenario;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::machine::Machine;
use crate::report::{self, Results};
use crate::sys;
use options::{Options, USAGE};
use scenario::Plan;

/// What every scenario run needs to know.
pub struct Context {
    /// The command line.
    pub options: Options,
    /// The CPU servers and micro-benchmarks are pinned to (None: one CPU).
    pub server_cpu: Option<usize>,
    /// The CPU this process (the load generator) runs on.
    pub client_cpu: Option<usize>,
    /// Where strace writes its summaries.
    pub scratch_dir: PathBuf,
}

/// Runs the suite with `args` (the arguments after the program name).
pub fn main(args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    if options.help {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let scenarios: Vec<_> = scenario::all(&options)
        .into_iter()
        .filter(|s| options.selects(s.name))
        .collect();
    if options.list || scenarios.is_empty() {
        for s in scenario::all(&options) {
            println!("{:<14} {}", s.name, s.title);
        }
        return if options.list {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let machine = Machine::detect();
    let cpus = sys::allowed_cpus().unwrap_or_default();
    let (server_cpu, client_cpu) = match cpus.as_slice() {
        [first, second, ..] => (Some(*first), Some(*second)),
        _ => (None, None),
    };
    if let Some(cpu) = client_cpu {
        if let Err(e) = sys::pin_to_cpu(cpu) {
            eprintln!("cannot pin the load generator to CPU {cpu}: {e}");
        }
    }
    if let Err(e) = sys::raise_fd_limit() {
        eprintln!("cannot raise RLIMIT_NOFILE: {e}");
    }
    let scratch_dir = std::env::temp_dir().join("edgeloop-bench");
    if let Err(e) = std::fs::create_dir_all(&scratch_dir) {
        eprintln!("cannot create {}: {e}", scratch_dir.display());
    }
    let ctx = Context {
        options,
        server_cpu,
        client_cpu,
        scratch_dir,
    };
    println!(
        "edgeloop bench: {} CPUs ({}), servers on CPU {}, load generator on CPU {}; {} rounds, {:?} windows after {:?} warm-up",
        machine.cpus,
        machine.cpu_model,
        server_cpu.map_or("any".into(), |c| c.to_string()),
        client_cpu.map_or("any".into(), |c| c.to_string()),
        ctx.options.rounds,
        ctx.options.duration,
        ctx.options.warmup,
    );
    let started = Instant::now();
    let mut results = Results::new(machine, &ctx.options);
    for sc in &scenarios {
        println!("\n{} — {}", sc.name, sc.title);
        match &sc.plan {
            Plan::Echo(plan) => results.echo.extend(echo::run(sc, plan, &ctx)),
            Plan::Micro(plan) => results.micro.extend(micro::run(sc, plan, &ctx)),
        }
        results.scenarios.push(sc.clone());
    }
    results.elapsed = started.elapsed();
    println!("\n{}", report::text(&results));
    if ctx.options.write {
        if !ctx.options.filters.is_empty() {
            println!("note: --write with filters: BENCHMARKS.md now shows only the scenarios run");
        }
        match report::write_files(&results) {
            Ok(paths) => {
                for p in paths {
                    println!("wrote {}", p.display());
                }
            }
            Err(e) => {
                eprintln!("cannot write the report: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
