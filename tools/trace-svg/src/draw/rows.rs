//! One row of the picture: its bar (the driver's `epoll_wait`s shaded and
//! its events as ticks; a task's polls as boxes), its marks, and their
//! labels stacked in lanes under the bar.

use super::doc::{duration, escape, instant, text_width, Doc, SMALL_FONT_PX};
use super::lanes::{self, Want};
use crate::axis::Axis;
use crate::timeline::{Mark, MarkKind, Row, Slice, SliceKind};

/// Height of a row's bar (px).
pub const BAR_PX: f64 = 18.0;

/// Height of one lane of labels under the bar.
const LANE_PX: f64 = 12.0;

/// Space under a row's last lane.
const ROW_PAD_PX: f64 = 10.0;

/// Lanes of labels under one row, at most.
const MAX_LANES: usize = 4;

/// A poll, however short, is at least this wide, so it can be seen.
pub const MIN_BOX_PX: f64 = 3.0;

/// A label placed under a row.
#[derive(Debug)]
struct Label {
    /// The tick it belongs to.
    tick_x: f64,
    /// Where its text starts (left of the tick near the right edge).
    x: f64,
    lane: usize,
    text: String,
    class: &'static str,
}

/// A row's labels, placed, and the height that needs.
#[derive(Debug)]
pub struct RowPlan {
    labels: Vec<Label>,
    /// The row's height, bar and lanes (px).
    pub height: f64,
}

/// Places `row`'s labels (its marks, and the driver's events) inside a
/// plot `plot_px` wide.
pub fn plan(row: &Row, axis: &Axis, plot_px: f64) -> RowPlan {
    let class = |mark: &Mark| match mark.kind {
        MarkKind::WouldBlock => "small eagain",
        MarkKind::LostWake => "small lost",
        MarkKind::Other => "small",
    };
    // A task row has only marks; the driver's has its events too.
    let events = row
        .slices
        .iter()
        .filter(|s| s.kind == SliceKind::DriverEvent)
        .map(|s| (s.ts, s.name.as_str(), "small"));
    let marks = row.marks.iter().map(|m| (m.ts, m.name.as_str(), class(m)));
    let mut texts: Vec<(f64, &str, &'static str)> = events.chain(marks).collect();
    texts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let wants: Vec<Want> = texts
        .iter()
        .map(|&(ts, text, _)| {
            let width = text_width(text, SMALL_FONT_PX);
            // Kept inside the plot: a label near the right edge starts
            // left of its tick.
            let x = (axis.x(ts) + 2.0).min(plot_px - width).max(0.0);
            Want { x, width }
        })
        .collect();
    let (lanes, used) = lanes::assign(&wants, MAX_LANES);
    let labels = texts
        .iter()
        .zip(&wants)
        .zip(lanes)
        .filter_map(|((&(ts, text, class), want), lane)| {
            Some(Label {
                tick_x: axis.x(ts),
                x: want.x,
                lane: lane?,
                text: text.to_owned(),
                class,
            })
        })
        .collect();
    RowPlan {
        labels,
        height: BAR_PX + used as f64 * LANE_PX + ROW_PAD_PX,
    }
}

/// Draws `row` with its bar's top at `top`, in plot coordinates.
pub fn draw(doc: &mut Doc, row: &Row, plan: &RowPlan, axis: &Axis, top: f64) {
    let track = row.track;
    doc.line(format_args!(
        r#"<g class="row" data-track="{}:{}">"#,
        track.pid, track.tid
    ));
    for slice in &row.slices {
        draw_slice(doc, &row.label, slice, axis, top);
    }
    for mark in &row.marks {
        draw_mark(doc, &row.label, mark, axis, top);
    }
    let bottom = top + BAR_PX;
    for label in &plan.labels {
        let y = bottom + LANE_PX * (label.lane as f64 + 1.0) - 2.0;
        // A faint leader from the bar to a label pushed down a lane.
        if label.lane > 0 {
            doc.line(format_args!(
                r#"<line class="leader" x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}"/>"#,
                y - SMALL_FONT_PX + 1.0,
                x = label.tick_x,
            ));
        }
        doc.text(
            label.x,
            y,
            &format!(r#"class="{}""#, label.class),
            &label.text,
        );
    }
    doc.line(format_args!("</g>"));
}

/// A slice: shaded for `epoll_wait`, a tick for a driver event, a box
/// for a poll (light for `Pending`, dark for `Ready`).
fn draw_slice(doc: &mut Doc, owner: &str, slice: &Slice, axis: &Axis, top: f64) {
    let x = axis.x(slice.ts);
    let width = axis.x(slice.ts + slice.dur) - x;
    let title = format!(
        "{owner}: {} at {} for {}",
        slice.name,
        instant(slice.ts),
        duration(slice.dur)
    );
    let (class, inside) = match slice.kind {
        SliceKind::DriverEvent => {
            doc.line(format_args!(
                r#"<line class="event" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"><title>{}</title></line>"#,
                top - 2.0,
                top + BAR_PX + 2.0,
                escape(&title)
            ));
            return;
        }
        SliceKind::Wait => ("wait", format!("epoll_wait {}", duration(slice.dur))),
        SliceKind::Pending => ("poll pending", format!("Pending {}", duration(slice.dur))),
        SliceKind::Ready => ("poll ready", format!("Ready {}", duration(slice.dur))),
        SliceKind::Other => ("poll other", slice.name.clone()),
    };
    let width = if slice.kind == SliceKind::Wait {
        width
    } else {
        width.max(MIN_BOX_PX)
    };
    doc.line(format_args!(
        r#"<rect class="{class}" x="{x:.1}" y="{top:.1}" width="{width:.1}" height="{BAR_PX:.1}"><title>{}</title></rect>"#,
        escape(&title)
    ));
    // The kind and length inside the box, where there is room.
    if text_width(&inside, SMALL_FONT_PX) + 8.0 <= width {
        let text_class = if slice.kind == SliceKind::Ready {
            "inside light"
        } else {
            "inside"
        };
        let attrs = format!(r#"class="{text_class}""#);
        doc.text(x + 4.0, top + BAR_PX / 2.0 + 3.5, &attrs, &inside);
    }
}

/// A mark: a red triangle over the bar and a line through it for
/// `EAGAIN`; a black cross over it for a lost wake (the task can never
/// be woken: the bug the runtime's check is there to show); else a grey tick on the bar's top edge, short so that it
/// does not strike through the text inside a box.
fn draw_mark(doc: &mut Doc, owner: &str, mark: &Mark, axis: &Axis, top: f64) {
    let x = axis.x(mark.ts);
    let title = escape(&format!("{owner}: {} at {}", mark.name, instant(mark.ts)));
    match mark.kind {
        MarkKind::WouldBlock => doc.line(format_args!(
            r#"<path class="mark eagain" d="M{:.1},{:.1} h8 l-4,7 z M{x:.1},{top:.1} v{BAR_PX:.1}"><title>{title}</title></path>"#,
            x - 4.0,
            top - 6.0,
        )),
        MarkKind::LostWake => doc.line(format_args!(
            r#"<path class="mark lost" d="M{:.1},{:.1} l10,10 m0,-10 l-10,10 M{x:.1},{top:.1} v{BAR_PX:.1}"><title>{title}</title></path>"#,
            x - 5.0,
            top - 12.0,
        )),
        MarkKind::Other => doc.line(format_args!(
            r#"<line class="mark other" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"><title>{title}</title></line>"#,
            top - 3.0,
            top + 5.0,
        )),
    }
}
