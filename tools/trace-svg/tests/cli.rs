//! The tool as a user runs it: on hand-written traces (a whole one, one
//! without its closing bracket, one cut off mid-event as a killed run
//! leaves it) and on bad input. The SVG is read back with an XML parser
//! and its parts counted.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A driver and two tasks: 5 polls (3 `Pending`, 2 `Ready`), 3 wakes (two
/// from the driver, one task to task), one `EAGAIN`, one idle wait to cut.
const SMALL: &str = include_str!("fixtures/small.json");

/// The first 19 events of `SMALL` and half of the 20th: the third wake's
/// start and end and the last poll never made it to the file.
const KILLED: &str = include_str!("fixtures/killed.json");

/// What the picture holds, counted from its XML.
#[derive(Debug, Default, PartialEq)]
struct Census {
    row_labels: Vec<String>,
    rows: usize,
    pending: usize,
    ready: usize,
    wakes: usize,
    eagain: usize,
    driver_events: usize,
    cuts: usize,
}

/// Parses `svg` as XML (which fails if it is not well formed) and counts.
fn census(svg: &str) -> Census {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let class = |node: &roxmltree::Node| node.attribute("class").unwrap_or("").to_owned();
    // The legend draws one of each kind with the same classes: not counted.
    let in_legend = |node: &roxmltree::Node| node.ancestors().any(|a| class(&a) == "legend");
    let mut census = Census::default();
    for node in root
        .descendants()
        .filter(|n| n.is_element() && !in_legend(n))
    {
        match class(&node).as_str() {
            "row" => census.rows += 1,
            "row-label" => census.row_labels.push(node.text().unwrap_or("").to_owned()),
            "poll pending" => census.pending += 1,
            "poll ready" => census.ready += 1,
            "wake" => census.wakes += 1,
            "mark eagain" => census.eagain += 1,
            "event" => census.driver_events += 1,
            "cut" => census.cuts += 1,
            _ => {}
        }
    }
    census
}

/// A scratch file path for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgeloop-trace-test-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs the tool with `args`.
fn tool(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgeloop-trace"))
        .args(args)
        .output()
        .expect("the tool runs")
}

/// Writes `trace` to a file, draws it, and returns the SVG and stderr.
fn draw(name: &str, trace: &str) -> (String, String) {
    let input = scratch(&format!("{name}.json"));
    let output = scratch(&format!("{name}.svg"));
    fs::write(&input, trace).unwrap();
    let out = tool(&[&input, Path::new("-o"), &output]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let svg = fs::read_to_string(&output).unwrap();
    clean_up(&[&input, &output]);
    (svg, stderr)
}

/// Removes scratch files, and their folder once it is empty (other tests
/// running meanwhile may still have theirs in it: then it stays).
fn clean_up(files: &[&Path]) {
    for file in files {
        let _ = fs::remove_file(file);
    }
    if let Some(dir) = files.first().and_then(|file| file.parent()) {
        let _ = fs::remove_dir(dir);
    }
}

fn labels() -> Vec<String> {
    [
        "driver (epoll_wait, events, timers)",
        "task 1 block_on",
        "task 2 echo server",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn draws_every_row_poll_wake_and_mark() {
    let (svg, stderr) = draw("small", SMALL);
    let expected = Census {
        row_labels: labels(),
        rows: 3,
        pending: 3,
        ready: 2,
        wakes: 3,
        eagain: 1,
        driver_events: 2,
        cuts: 1,
    };
    assert_eq!(census(&svg), expected);
    assert!(stderr.contains("(3 rows, 3 wakes)"), "{stderr}");
    assert!(svg.contains("edgeloop runtime #1"));
    assert!(svg.contains("read fd 6 → EAGAIN"), "marks are labelled");
    assert!(svg.contains(">idle<"), "the cut wait is said to be one");
}

#[test]
fn every_arrow_ends_at_the_start_of_a_poll() {
    let (svg, _) = draw("arrows", SMALL);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let number =
        |node: roxmltree::Node, name| node.attribute(name).unwrap().parse::<f64>().unwrap();
    let polls: Vec<(f64, f64)> = doc
        .descendants()
        .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("poll ")))
        .filter(|n| {
            !n.ancestors()
                .any(|a| a.attribute("class") == Some("legend"))
        })
        .map(|n| (number(n, "x"), number(n, "y")))
        .collect();
    let wakes: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("wake"))
        .filter(|n| {
            !n.ancestors()
                .any(|a| a.attribute("class") == Some("legend"))
        })
        .collect();
    assert_eq!(wakes.len(), 3);
    for wake in wakes {
        // "M x1,y1 C c1 c2 x2,y2": the end is the last pair.
        let d = wake.attribute("d").unwrap();
        let end = d.split_whitespace().last().unwrap();
        let (x, y) = end.split_once(',').unwrap();
        let (x, y) = (x.parse::<f64>().unwrap(), y.parse::<f64>().unwrap());
        // One pixel short of the box, at its bar's middle (the bar is 18 high).
        let hit = polls
            .iter()
            .any(|&(px, py)| (px - 1.0 - x).abs() < 0.11 && (py + 9.0 - y).abs() < 0.11);
        assert!(hit, "arrow {d} ends at no poll: {polls:?}");
    }
}

#[test]
fn accepts_a_file_without_its_closing_bracket() {
    let unclosed = SMALL.trim_end().strip_suffix(']').unwrap();
    let (svg, stderr) = draw("unclosed", unclosed);
    assert_eq!(census(&svg), census(&draw("closed", SMALL).0));
    assert!(stderr.contains("without its closing `]`"), "{stderr}");
    assert!(svg.contains("file not closed"));
}

#[test]
fn keeps_what_a_killed_run_wrote() {
    let (svg, _) = draw("killed", KILLED);
    let expected = Census {
        row_labels: labels(),
        rows: 3,
        pending: 3,
        ready: 1,
        wakes: 2,
        eagain: 1,
        driver_events: 2,
        cuts: 1,
    };
    assert_eq!(census(&svg), expected);
}

/// Bad input: one line on stderr naming the problem, exit status 1, no
/// panic, no output file.
fn assert_fails(name: &str, input: &Path, says: &str) {
    let output = scratch(&format!("{name}.svg"));
    let _ = fs::remove_file(&output);
    let out = tool(&[input, Path::new("-o"), &output]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: {stderr}");
    assert!(stderr.starts_with("edgeloop-trace: "), "{name}: {stderr}");
    assert!(stderr.contains(says), "{name}: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    assert!(!output.exists(), "{name}: wrote {}", output.display());
}

#[test]
fn bad_input_is_one_line_and_a_failed_exit() {
    assert_fails("missing", &scratch("no-such-trace.json"), "cannot read");
    let cases = [
        ("invalid", "[{\"ph\":\"X\",}]", "not valid JSON"),
        ("empty-array", "[]", "no trace events"),
        ("empty-file", "", "no trace events"),
        (
            "names-only",
            r#"[{"ph":"M","name":"thread_name","tid":0}]"#,
            "no trace events",
        ),
        ("not-a-trace", r#"{"hello": 1}"#, "not a trace-event file"),
        (
            "bad-event",
            r#"[{"ph":"X","name":"poll"}]"#,
            "trace event 0",
        ),
    ];
    for (name, text, says) in cases {
        let input = scratch(&format!("{name}.json"));
        fs::write(&input, text).unwrap();
        assert_fails(name, &input, says);
        clean_up(&[&input]);
    }
}

#[test]
fn usage_mistakes_exit_with_status_2() {
    let out = tool(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: edgeloop-trace"));
    let out = tool(&[Path::new("a.json"), Path::new("--frobnicate")]);
    assert_eq!(out.status.code(), Some(2));
    let out = tool(&[Path::new("--help")]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("-o OUT.svg"));
}
