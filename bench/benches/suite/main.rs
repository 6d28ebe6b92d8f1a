//! The benchmark suite's entry point: `cargo bench -p edgeloop-bench`.
//!
//! Without `--role` this process drives the suite (see
//! `edgeloop_bench::suite`); with it, the process is one of the children the
//! suite starts: an echo server (`--role server edgeloop|edgeloop-rw|tokio|tokio-io|epoll`) or a
//! micro-benchmark (`--role micro tasks|timers|sleep|wake KIND COUNT CPU`).
//! Only this target links edgeloop and tokio, which are dev-dependencies.

mod micro;
mod servers;

use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().position(|a| a == "--role") {
        Some(i) => role(&args[i + 1..]),
        None => edgeloop_bench::suite::main(&args),
    }
}

/// Runs this process as one of the suite's children.
fn role(args: &[String]) -> ExitCode {
    if let Err(e) = edgeloop_bench::sys::raise_fd_limit() {
        eprintln!("cannot raise RLIMIT_NOFILE: {e}");
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["server", "edgeloop"] => servers::edgeloop(),
        ["server", "edgeloop-rw"] => servers::edgeloop_rw(),
        ["server", "tokio"] => servers::tokio(false),
        ["server", "tokio-io"] => servers::tokio(true),
        ["server", "epoll"] => edgeloop_bench::epoll_server::main(),
        ["micro", bench, kind, count, other_cpu] => match count.parse() {
            Ok(count) => micro::run(bench, kind, count, other_cpu.parse().ok()),
            Err(_) => Err(io::Error::other(format!("bad count {count:?}"))),
        },
        _ => Err(io::Error::other("unknown role")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("role {args:?}: {e}");
            ExitCode::FAILURE
        }
    }
}
