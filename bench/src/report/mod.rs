//! The report: tables on stdout, and with `--write` the results section of
//! `BENCHMARKS.md` and the chart `bench/results/echo.svg`.
//!
//! Only the text between the two `bench:results` markers of `BENCHMARKS.md`
//! is rewritten, so prose around it (method, noise, what each optimisation
//! bought) is kept. A missing file is created from a template.

mod svg;
mod table;
mod tables;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::machine::Machine;
use crate::suite::options::Options;
use crate::suite::scenario::{EchoRow, MicroRow, Scenario};

/// Marks the start of the generated part of `BENCHMARKS.md`.
pub const BEGIN_MARKER: &str =
    "<!-- bench:results:begin (written by `cargo bench -p edgeloop-bench -- --write`) -->";
/// Marks its end.
pub const END_MARKER: &str = "<!-- bench:results:end -->";
/// The chart's path, relative to the workspace root.
pub const CHART_PATH: &str = "bench/results/echo.svg";

/// Everything one run of the suite measured.
pub struct Results {
    /// The machine.
    pub machine: Machine,
    /// When the run started (UTC date).
    pub date: String,
    /// Rounds per scenario.
    pub rounds: usize,
    /// The measured window per echo run.
    pub duration: Duration,
    /// The warm-up before it.
    pub warmup: Duration,
    /// The whole run's wall time.
    pub elapsed: Duration,
    /// The scenarios run, in order.
    pub scenarios: Vec<Scenario>,
    /// Echo rows, one per scenario and server.
    pub echo: Vec<EchoRow>,
    /// Micro-benchmark rows, one per scenario and runtime.
    pub micro: Vec<MicroRow>,
}

impl Results {
    /// Empty results for a run with `options` on `machine`.
    pub fn new(machine: Machine, options: &Options) -> Results {
        Results {
            machine,
            date: utc_date(SystemTime::now()),
            rounds: options.rounds,
            duration: options.duration,
            warmup: options.warmup,
            elapsed: Duration::ZERO,
            scenarios: Vec::new(),
            echo: Vec::new(),
            micro: Vec::new(),
        }
    }

    /// "2 × AMD EPYC, Linux 6.1, 2025-01-31".
    pub fn machine_line(&self) -> String {
        format!(
            "{} × {}, Linux {}, {}",
            self.machine.cpus, self.machine.cpu_model, self.machine.kernel, self.date
        )
    }
}

/// All tables as aligned text.
pub fn text(r: &Results) -> String {
    let mut out = format!(
        "{}; suite took {:.0} s\n",
        r.machine_line(),
        r.elapsed.as_secs_f64()
    );
    for (title, _, t) in tables::all(r) {
        out.push_str(&format!("\n{title}\n{}", t.text()));
    }
    out
}

/// Rewrites the results section of `BENCHMARKS.md` and the chart; returns
/// the paths written.
pub fn write_files(r: &Results) -> io::Result<Vec<PathBuf>> {
    let root = workspace_root();
    let mut written = Vec::new();
    if let Some(svg) = svg::chart(r) {
        let path = root.join(CHART_PATH);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&path, svg)?;
        written.push(path);
    }
    let path = root.join("BENCHMARKS.md");
    let old = fs::read_to_string(&path).unwrap_or_default();
    fs::write(&path, splice(&old, &section(r, &root)))?;
    written.push(path);
    Ok(written)
}

/// The workspace root (this crate's parent directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `old` with the text between the markers replaced by `section`; the
/// template around `section` when `old` has no markers.
fn splice(old: &str, section: &str) -> String {
    let generated = format!("{BEGIN_MARKER}\n{section}{END_MARKER}");
    match (old.find(BEGIN_MARKER), old.find(END_MARKER)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{generated}{}", &old[..b], &old[e + END_MARKER.len()..])
        }
        _ => include_str!("template.md").replace("{{RESULTS}}", &generated),
    }
}

/// The generated Markdown: the machine, the chart, every table.
fn section(r: &Results, root: &Path) -> String {
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or("rustc (unknown)".to_string(), |s| s.trim().to_string());
    let tokio = locked_version(root, "tokio").unwrap_or_else(|| "?".into());
    let mut out = format!(
        "## Latest results\n\nMeasured {} on {} CPUs ({}), Linux {}; {rustc}, tokio {tokio}. {} rounds per scenario, \
         each server once per round in turn; echo windows of {:.1} s after {:.1} s of warm-up; servers pinned to one CPU, \
         the load generator to the other. The whole run took {:.0} s.\n\n",
        r.date,
        r.machine.cpus,
        r.machine.cpu_model,
        r.machine.kernel,
        r.rounds,
        r.duration.as_secs_f64(),
        r.warmup.as_secs_f64(),
        r.elapsed.as_secs_f64(),
    );
    if !r.echo.is_empty() {
        out.push_str(&format!("![echo benchmark chart]({CHART_PATH})\n\n"));
    }
    for (title, note, t) in tables::all(r) {
        out.push_str(&format!("### {title}\n\n{note}\n\n{}\n", t.markdown()));
    }
    out
}

/// The version of `package` in the workspace's `Cargo.lock`.
fn locked_version(root: &Path, package: &str) -> Option<String> {
    let lock = fs::read_to_string(root.join("Cargo.lock")).ok()?;
    let mut lines = lock.lines();
    let name_line = format!("name = \"{package}\"");
    lines.find(|l| *l == name_line)?;
    let version = lines
        .next()?
        .strip_prefix("version = \"")?
        .strip_suffix('"')?;
    Some(version.to_string())
}

/// `YYYY-MM-DD` (UTC) of `t`.
fn utc_date(t: SystemTime) -> String {
    let days = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc_date(UNIX_EPOCH), "1970-01-01");
        assert_eq!(
            utc_date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29"
        );
        assert_eq!(
            utc_date(UNIX_EPOCH + Duration::from_secs(1_735_689_600)),
            "2025-01-01"
        );
    }

    #[test]
    fn splice_keeps_the_prose_around_the_markers() {
        let old = format!("intro\n{BEGIN_MARKER}\nold table\n{END_MARKER}\nafterword\n");
        let new = splice(&old, "new table\n");
        assert_eq!(
            new,
            format!("intro\n{BEGIN_MARKER}\nnew table\n{END_MARKER}\nafterword\n")
        );
        let fresh = splice("", "t\n");
        assert!(
            fresh.contains(BEGIN_MARKER)
                && fresh.contains("t\n")
                && fresh.starts_with("# Benchmarks")
        );
    }
}
