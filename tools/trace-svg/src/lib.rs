//! `edgeloop-trace`: draws an edgeloop trace as a self-contained SVG
//! timeline.
//!
//! The runtime writes Chrome's trace-event JSON when run with
//! `EDGELOOP_TRACE=trace.json` (see `edgeloop::trace`). This crate reads
//! such a file ([`parse`]), sorts it into rows — the driver's, then one per
//! task — and the wakes between them ([`timeline`]), lays time out on an
//! axis that cuts long idle waits short ([`axis`]), and draws it:
//!
//! ```
//! let trace = r#"[
//! {"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"task 2 echo server"}},
//! {"ph":"X","name":"poll → Pending","pid":1,"tid":2,"ts":10,"dur":4}
//! "#; // a killed run leaves the array open: that is accepted
//! let svg = edgeloop_trace::render(trace).unwrap();
//! assert!(svg.text.contains("task 2 echo server"));
//! assert_eq!((svg.rows, svg.wakes), (1, 0));
//! ```

pub mod axis;
mod draw;
pub mod parse;
pub mod timeline;

use std::fmt;

use timeline::Timeline;

/// What is wrong with a trace file's contents.
#[derive(Debug)]
pub enum Error {
    /// It is not JSON.
    Json(serde_json::Error),
    /// It is JSON, but not trace events; says what it is instead.
    NotTrace(&'static str),
    /// One event is malformed: its index in the file, and what is wrong.
    BadEvent {
        /// The event's index in the file's array, from 0.
        index: usize,
        /// What is wrong with it.
        what: &'static str,
    },
    /// Nothing to draw: an empty array, or only names.
    NoEvents,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Json(err) => write!(f, "not valid JSON: {err}"),
            Error::NotTrace(what) => {
                write!(
                    f,
                    "not a trace-event file: expected an array of events, found {what}"
                )
            }
            Error::BadEvent { index, what } => write!(f, "trace event {index} {what}"),
            Error::NoEvents => f.write_str("no trace events to draw (no slices, marks or wakes)"),
        }
    }
}

impl std::error::Error for Error {}

/// A drawn timeline, and what is in it.
#[derive(Debug)]
pub struct Svg {
    /// The SVG document.
    pub text: String,
    /// Rows drawn: the driver's and one per task.
    pub rows: usize,
    /// Wake arrows drawn.
    pub wakes: usize,
    /// Whether the file ended without its closing `]`.
    pub unclosed: bool,
}

/// Draws the trace in `json` (the contents of a trace file).
pub fn render(json: &str) -> Result<Svg, Error> {
    let parsed = parse::parse(json)?;
    let timeline = Timeline::build(&parsed.events)?;
    Ok(Svg {
        text: draw::render(&timeline, parsed.unclosed),
        rows: timeline.rows.len(),
        wakes: timeline.wakes.len(),
        unclosed: parsed.unclosed,
    })
}
