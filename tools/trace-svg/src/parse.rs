//! Reading a trace file: Chrome's trace-event JSON, as edgeloop's file sink
//! writes it (an array of events), or the object form other tools write
//! (`{"traceEvents": [...]}`).
//!
//! The runtime writes its closing `]` only when it is dropped, so a killed
//! run leaves an array that is never closed, and its last event may be cut
//! off mid-write. Both are accepted: the events before the cut are kept.

use serde_json::{Deserializer, Value};

use crate::Error;

/// What an event is, from its `ph` field. Phases the timeline does not draw
/// (`B`/`E` pairs, counters, async events) are kept as [`Phase::Other`] and
/// skipped later, as Perfetto would show them elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// `M`: names a process or a track.
    Metadata,
    /// `X`: a slice with a start and a duration.
    Complete,
    /// `i` (or the older `I`): an instant mark.
    Instant,
    /// `s`: where a flow arrow starts.
    FlowStart,
    /// `f`: where a flow arrow ends.
    FlowEnd,
    /// Anything else.
    Other,
}

/// One trace event, with the fields the timeline reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// What kind of event it is.
    pub phase: Phase,
    /// Its `name` (for metadata, what is named: `thread_name`, ...).
    pub name: String,
    /// Process id (one per runtime in edgeloop's files).
    pub pid: u64,
    /// Track id: 0 for the driver, the task id for a task.
    pub tid: u64,
    /// Start, in µs since the runtime started.
    pub ts: f64,
    /// Duration in µs (0 for anything but a slice).
    pub dur: f64,
    /// A flow's id, which pairs its `s` with its `f`.
    pub id: Option<String>,
    /// `args.name` of a metadata event: the name given to the track.
    pub label: Option<String>,
}

/// The events of a file, and whether it ended without its closing `]`.
#[derive(Debug)]
pub struct Parsed {
    /// The events, in file order.
    pub events: Vec<Event>,
    /// The array was never closed (the run was killed, or is still going).
    pub unclosed: bool,
}

/// Reads the events out of `text`.
pub fn parse(text: &str) -> Result<Parsed, Error> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.is_empty() {
        return Err(Error::NoEvents);
    }
    let (values, unclosed) = match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Array(values)) => (values, false),
        Ok(Value::Object(mut object)) => match object.remove("traceEvents") {
            Some(Value::Array(values)) => (values, false),
            _ => return Err(Error::NotTrace("an object without a \"traceEvents\" array")),
        },
        Ok(_) => return Err(Error::NotTrace("neither an array nor an object")),
        // An unclosed array fails only at its end, which is what EOF says.
        Err(err) if err.is_eof() && trimmed.starts_with('[') => (unclosed_array(trimmed), true),
        Err(err) => return Err(Error::Json(err)),
    };
    let events = values
        .iter()
        .enumerate()
        .map(|(index, value)| event(index, value))
        .collect::<Result<Vec<_>, _>>()?;
    if events.is_empty() {
        return Err(Error::NoEvents);
    }
    Ok(Parsed { events, unclosed })
}

/// The complete elements of an array that ends early: `[a, b, c` or
/// `[a, b, {"ph":"X","na` both give `a, b` and what of `c` is whole.
/// Only called once the parser has said the text ends too soon, so the
/// only flaw is at the end.
fn unclosed_array(text: &str) -> Vec<Value> {
    let mut rest = &text[1..];
    let mut values = Vec::new();
    loop {
        rest = rest.trim_start();
        let mut stream = Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => values.push(value),
            // The end, or an event cut off mid-write: keep what came before.
            Some(Err(_)) | None => break,
        }
        rest = rest[stream.byte_offset()..].trim_start();
        match rest.strip_prefix(',') {
            Some(after) => rest = after,
            None => break,
        }
    }
    values
}

/// Reads event number `index` of the file.
fn event(index: usize, value: &Value) -> Result<Event, Error> {
    let bad = |what: &'static str| Error::BadEvent { index, what };
    let object = value.as_object().ok_or(bad("is not a JSON object"))?;
    let phase = match object.get("ph").and_then(Value::as_str) {
        Some("M") => Phase::Metadata,
        Some("X") => Phase::Complete,
        Some("i" | "I") => Phase::Instant,
        Some("s") => Phase::FlowStart,
        Some("f") => Phase::FlowEnd,
        Some(_) => Phase::Other,
        None => return Err(bad("has no \"ph\" string")),
    };
    let number = |key: &str| object.get(key).and_then(Value::as_f64);
    let ts = match (phase, number("ts")) {
        (_, Some(ts)) => ts,
        (Phase::Metadata | Phase::Other, None) => 0.0,
        (_, None) => return Err(bad("has no numeric \"ts\"")),
    };
    Ok(Event {
        phase,
        name: object
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        pid: object.get("pid").and_then(Value::as_u64).unwrap_or(0),
        tid: object.get("tid").and_then(Value::as_u64).unwrap_or(0),
        ts,
        dur: number("dur").unwrap_or(0.0).max(0.0),
        // Chrome allows a flow id to be a number or a string.
        id: object.get("id").map(|id| match id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        label: object
            .get("args")
            .and_then(|args| args.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"[
{"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"task 2 echo"}},
{"ph":"X","name":"poll → Ready","pid":1,"tid":2,"ts":10.5,"dur":3}
]"#;

    #[test]
    fn reads_a_closed_array() {
        let parsed = parse(TWO).unwrap();
        assert!(!parsed.unclosed);
        assert_eq!(parsed.events.len(), 2);
        assert_eq!(parsed.events[0].label.as_deref(), Some("task 2 echo"));
        assert_eq!(parsed.events[1].phase, Phase::Complete);
        assert_eq!((parsed.events[1].ts, parsed.events[1].dur), (10.5, 3.0));
    }

    #[test]
    fn reads_an_array_without_its_bracket() {
        let open = TWO.trim_end().trim_end_matches(']');
        let parsed = parse(open).unwrap();
        assert!(parsed.unclosed);
        assert_eq!(parsed.events.len(), 2);
        // A comma written before an event that never came.
        assert_eq!(parse(&format!("{open},\n")).unwrap().events.len(), 2);
    }

    #[test]
    fn drops_an_event_cut_off_mid_write() {
        let cut = format!(
            "{},\n{{\"ph\":\"X\",\"na",
            TWO.trim_end().trim_end_matches(']')
        );
        let parsed = parse(&cut).unwrap();
        assert!(parsed.unclosed);
        assert_eq!(parsed.events.len(), 2);
    }

    #[test]
    fn reads_the_object_form() {
        let wrapped = format!(r#"{{"traceEvents": {TWO}, "displayTimeUnit": "ns"}}"#);
        assert_eq!(parse(&wrapped).unwrap().events.len(), 2);
    }

    #[test]
    fn says_what_is_wrong() {
        assert!(matches!(parse(""), Err(Error::NoEvents)));
        assert!(matches!(parse("[]"), Err(Error::NoEvents)));
        assert!(matches!(parse("["), Err(Error::NoEvents)));
        assert!(matches!(parse("[1, }"), Err(Error::Json(_))));
        assert!(matches!(parse("42"), Err(Error::NotTrace(_))));
        assert!(matches!(
            parse(r#"[{"ph":"X","ts":1}, 7]"#),
            Err(Error::BadEvent { index: 1, .. })
        ));
        assert!(matches!(
            parse(r#"[{"ph":"i"}]"#),
            Err(Error::BadEvent { index: 0, .. })
        ));
    }
}
