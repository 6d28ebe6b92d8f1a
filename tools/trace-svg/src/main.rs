//! `edgeloop-trace TRACE.json [-o OUT.svg]`: draws an edgeloop trace as an
//! SVG timeline (see the library's docs for what is drawn).

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// What `--help` prints.
const USAGE: &str = "\
usage: edgeloop-trace TRACE.json [-o OUT.svg]

Draws a trace written by an edgeloop runtime (EDGELOOP_TRACE=trace.json, or
Builder::trace(TraceSink::File(..))) as a self-contained SVG timeline: the
driver's epoll_waits and events, each task's polls, wakes as arrows.

  -o OUT.svg   where to write it (default: TRACE with .svg for .json; - for stdout)
  -h, --help   this text";

/// The command line, read.
#[derive(Debug)]
struct Args {
    input: PathBuf,
    output: PathBuf,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("edgeloop-trace: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("edgeloop-trace: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Reads, draws, writes; every failure as one line naming the file.
fn run(args: &Args) -> Result<(), String> {
    let input = args.input.display();
    let json = std::fs::read_to_string(&args.input)
        .map_err(|err| format!("cannot read {input}: {err}"))?;
    let svg = edgeloop_trace::render(&json).map_err(|err| format!("{input}: {err}"))?;
    if args.output.as_os_str() == "-" {
        // Not `print!`, which panics on a closed pipe.
        std::io::stdout()
            .lock()
            .write_all(svg.text.as_bytes())
            .map_err(|err| format!("cannot write the SVG to stdout: {err}"))?;
    } else {
        std::fs::write(&args.output, &svg.text)
            .map_err(|err| format!("cannot write {}: {err}", args.output.display()))?;
        eprintln!(
            "edgeloop-trace: wrote {} ({}, {})",
            args.output.display(),
            count(svg.rows, "row"),
            count(svg.wakes, "wake")
        );
    }
    if svg.unclosed {
        eprintln!("edgeloop-trace: note: {input} ends without its closing `]` (a killed run?); drew what it has");
    }
    Ok(())
}

/// The arguments after the program's name; `None` for `--help`.
fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Option<Args>, String> {
    let mut input: Option<PathBuf> = None;
    let mut output: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("-h" | "--help") => return Ok(None),
            Some("-o" | "--output") => {
                let path = args.next().ok_or("-o needs a file name")?;
                output = Some(path.into());
            }
            Some(flag) if flag.starts_with('-') && flag != "-" => {
                return Err(format!("unknown option {flag}"));
            }
            _ if input.is_some() => return Err("only one trace file, please".to_owned()),
            _ => input = Some(arg.into()),
        }
    }
    let input = input.ok_or("no trace file given")?;
    let output = output.unwrap_or_else(|| input.with_extension("svg"));
    if output == input {
        return Err(format!("{} would be overwritten: give -o", input.display()));
    }
    Ok(Some(Args { input, output }))
}

/// `1 row`, `3 rows`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
