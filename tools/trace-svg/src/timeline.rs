//! The trace's events sorted into what the picture draws: one row per
//! track (the driver's, then each task's), its slices and marks, and the
//! wakes between them.

use std::collections::{BTreeMap, HashMap};

use crate::parse::{Event, Phase};
use crate::Error;

/// The driver's track id in edgeloop's traces.
const DRIVER_TID: u64 = 0;

/// A track: one process's thread id (edgeloop: driver or task).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Track {
    /// The process (one per runtime).
    pub pid: u64,
    /// 0 for the driver, the task id for a task.
    pub tid: u64,
}

impl Track {
    /// Whether this is a driver's track.
    pub fn is_driver(self) -> bool {
        self.tid == DRIVER_TID
    }
}

/// What a slice is, which decides how it is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceKind {
    /// The driver blocked in `epoll_wait`.
    Wait,
    /// Something the driver handled: an fd's event, timers, the eventfd.
    DriverEvent,
    /// A poll that returned `Ready`.
    Ready,
    /// A poll that returned `Pending`.
    Pending,
    /// Any other slice.
    Other,
}

/// A span of time on a track.
#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    /// The event's name, e.g. `fd 7 IN` or `poll → Pending`.
    pub name: String,
    /// Start, µs.
    pub ts: f64,
    /// Length, µs.
    pub dur: f64,
    /// How to draw it.
    pub kind: SliceKind,
}

/// What an instant mark is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// An operation that met `EAGAIN` and made its task wait.
    WouldBlock,
    /// The runtime found the task `Pending` with no waker left anywhere:
    /// nothing can wake it again.
    LostWake,
    /// Anything else: registrations, cleared readiness, timers, completion.
    Other,
}

/// An instant on a track.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// The event's name, e.g. `read fd 7 → EAGAIN`.
    pub name: String,
    /// When, µs.
    pub ts: f64,
    /// How to draw it.
    pub kind: MarkKind,
}

/// One row of the picture.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Whose row it is.
    pub track: Track,
    /// Its `thread_name`, or a made-up one if the file has none.
    pub label: String,
    /// Its slices, by start.
    pub slices: Vec<Slice>,
    /// Its marks, by time.
    pub marks: Vec<Mark>,
}

/// A wake: from the point that caused it to the poll that followed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wake {
    /// The cause's track and time (an event's slice, or the waking task).
    pub from: (Track, f64),
    /// The woken task's track and the start of its next poll.
    pub to: (Track, f64),
}

/// Everything the picture shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// The process's name, if the file gives one (`edgeloop runtime #1`).
    pub title: Option<String>,
    /// Driver rows first, then tasks by id.
    pub rows: Vec<Row>,
    /// The wakes whose start and end are both in the file.
    pub wakes: Vec<Wake>,
    /// The first and last instants of the trace, µs.
    pub span: (f64, f64),
}

impl Timeline {
    /// Sorts `events` into rows and wakes; an error if nothing in them is
    /// in time (only names, say).
    pub fn build(events: &[Event]) -> Result<Timeline, Error> {
        let mut sorter = Sorter::default();
        for event in events {
            sorter.add(event);
        }
        sorter.finish()
    }

    /// The index of `track`'s row.
    pub fn row_of(&self, track: Track) -> Option<usize> {
        self.rows.iter().position(|row| row.track == track)
    }
}

/// What has been read so far, while the file is read.
#[derive(Default)]
struct Sorter<'a> {
    rows: BTreeMap<Track, Row>,
    title: Option<String>,
    flow_starts: HashMap<&'a str, (Track, f64)>,
    flow_ends: Vec<(&'a str, (Track, f64))>,
    span: Option<(f64, f64)>,
}

impl<'a> Sorter<'a> {
    /// Files `event` under its track.
    fn add(&mut self, event: &'a Event) {
        let track = Track {
            pid: event.pid,
            tid: event.tid,
        };
        // Names are not in time: they name the picture and its rows.
        match (event.phase, event.name.as_str()) {
            (Phase::Metadata, "process_name") => {
                self.title = self.title.take().or_else(|| event.label.clone());
                return;
            }
            (Phase::Metadata, "thread_name") => {
                row(&mut self.rows, track).label = event.label.clone().unwrap_or_default();
                return;
            }
            (Phase::Metadata | Phase::Other, _) => return,
            _ => {}
        }
        let (start, end) = self.span.unwrap_or((event.ts, event.ts));
        self.span = Some((start.min(event.ts), end.max(event.ts + event.dur)));
        let row = row(&mut self.rows, track);
        match (event.phase, event.id.as_deref()) {
            (Phase::Complete, _) => row.slices.push(slice(track, event)),
            (Phase::Instant, _) => row.marks.push(mark(event)),
            // An arrow's ends have rows (made above) even on tracks with
            // nothing else.
            (Phase::FlowStart, Some(id)) => {
                self.flow_starts.insert(id, (track, event.ts));
            }
            (Phase::FlowEnd, Some(id)) => self.flow_ends.push((id, (track, event.ts))),
            _ => {}
        }
    }

    /// The timeline, once every event is in.
    fn finish(self) -> Result<Timeline, Error> {
        let span = self.span.ok_or(Error::NoEvents)?;
        // Ends are matched after the whole file is read: the format does not
        // promise an arrow's start comes first. An end whose start was lost
        // (or a start whose poll never came) draws nothing.
        let starts = self.flow_starts;
        let wakes = self
            .flow_ends
            .into_iter()
            .filter_map(|(id, to)| {
                Some(Wake {
                    from: *starts.get(id)?,
                    to,
                })
            })
            .collect();
        let mut rows: Vec<Row> = self.rows.into_values().collect();
        for row in &mut rows {
            if row.label.is_empty() {
                row.label = default_label(row.track);
            }
            // The sink writes a poll's slice when the poll ends, after the
            // marks made during it: sort both by time for drawing.
            row.slices.sort_by(|a, b| a.ts.total_cmp(&b.ts));
            row.marks.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        }
        // A track's id orders its rows, except that drivers come first.
        rows.sort_by_key(|row| (!row.track.is_driver(), row.track));
        Ok(Timeline {
            title: self.title,
            rows,
            wakes,
            span,
        })
    }
}

/// `track`'s row, made empty if it is new.
fn row(rows: &mut BTreeMap<Track, Row>, track: Track) -> &mut Row {
    rows.entry(track).or_insert_with(|| Row {
        track,
        label: String::new(),
        slices: Vec::new(),
        marks: Vec::new(),
    })
}

/// A row's name when no `thread_name` gave it one.
fn default_label(track: Track) -> String {
    if track.is_driver() {
        "driver".to_owned()
    } else {
        format!("task {}", track.tid)
    }
}

/// A slice, its kind told by its track and name.
fn slice(track: Track, event: &Event) -> Slice {
    let kind = if track.is_driver() {
        if event.name == "epoll_wait" {
            SliceKind::Wait
        } else {
            SliceKind::DriverEvent
        }
    } else if event.name.ends_with("Ready") {
        SliceKind::Ready
    } else if event.name.ends_with("Pending") {
        SliceKind::Pending
    } else {
        SliceKind::Other
    };
    Slice {
        name: event.name.clone(),
        ts: event.ts,
        dur: event.dur,
        kind,
    }
}

/// A mark, its kind told by its name.
fn mark(event: &Event) -> Mark {
    // "read fd 7 → EAGAIN" is the operation that waits; "fd 7 read readiness
    // cleared (EAGAIN)" is its bookkeeping, drawn as a plain mark.
    let kind = if event.name.ends_with("EAGAIN") {
        MarkKind::WouldBlock
    } else if event.name.starts_with("LOST WAKE") {
        MarkKind::LostWake
    } else {
        MarkKind::Other
    };
    Mark {
        name: event.name.clone(),
        ts: event.ts,
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    const TRACE: &str = r#"[
{"ph":"M","name":"process_name","pid":9,"args":{"name":"edgeloop runtime #1"}},
{"ph":"M","name":"thread_name","pid":9,"tid":0,"args":{"name":"driver"}},
{"ph":"i","s":"t","name":"read fd 7 → EAGAIN","pid":9,"tid":4,"ts":12},
{"ph":"i","s":"t","name":"fd 7 read readiness cleared (EAGAIN)","pid":9,"tid":4,"ts":12.5},
{"ph":"X","name":"poll → Pending","pid":9,"tid":4,"ts":10,"dur":3},
{"ph":"X","name":"epoll_wait","pid":9,"tid":0,"ts":14,"dur":100},
{"ph":"X","name":"fd 7 IN","pid":9,"tid":0,"ts":115,"dur":1},
{"ph":"f","bp":"e","name":"wake","id":1,"pid":9,"tid":4,"ts":120},
{"ph":"s","name":"wake","id":1,"pid":9,"tid":0,"ts":115},
{"ph":"s","name":"wake","id":2,"pid":9,"tid":4,"ts":121},
{"ph":"X","name":"poll → Ready","pid":9,"tid":4,"ts":120,"dur":2}
]"#;

    #[test]
    fn sorts_events_into_rows_and_wakes() {
        let timeline = Timeline::build(&parse(TRACE).unwrap().events).unwrap();
        assert_eq!(timeline.title.as_deref(), Some("edgeloop runtime #1"));
        let labels: Vec<_> = timeline.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["driver", "task 4"]);
        let kinds: Vec<_> = timeline.rows[0].slices.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [SliceKind::Wait, SliceKind::DriverEvent]);
        let task = &timeline.rows[1];
        let kinds: Vec<_> = task.slices.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [SliceKind::Pending, SliceKind::Ready]);
        let marks: Vec<_> = task.marks.iter().map(|m| m.kind).collect();
        assert_eq!(marks, [MarkKind::WouldBlock, MarkKind::Other]);
        // Flow 1 is whole (its end came first); flow 2 never ended.
        let driver = Track { pid: 9, tid: 0 };
        let woken = Track { pid: 9, tid: 4 };
        assert_eq!(
            timeline.wakes,
            [Wake {
                from: (driver, 115.0),
                to: (woken, 120.0)
            }]
        );
        assert_eq!(timeline.span, (10.0, 122.0));
    }

    #[test]
    fn names_alone_are_not_a_timeline() {
        let names = r#"[{"ph":"M","name":"thread_name","tid":0,"args":{"name":"d"}}]"#;
        let events = parse(names).unwrap().events;
        assert!(matches!(Timeline::build(&events), Err(Error::NoEvents)));
    }
}
