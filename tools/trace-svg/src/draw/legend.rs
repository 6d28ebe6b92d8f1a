//! The legend above the timeline: a swatch and a few words per kind of
//! item, then what the horizontal scale is (it is not linear throughout,
//! and the picture says so).

use super::doc::{text_width, Doc, FONT_PX};
use super::rows::MIN_BOX_PX;
use crate::axis::{Axis, CUT_PX, IDLE_CUT_US};

/// Height of one legend line (px).
const LINE_PX: f64 = 18.0;

/// A swatch's width, and the space after its text.
const SWATCH_PX: f64 = 22.0;
const ITEM_GAP_PX: f64 = 18.0;

/// What each swatch shows, drawn with the classes the timeline uses.
const ITEMS: [Item; 8] = [
    (
        r#"<rect class="wait" x="0" y="-10" width="22" height="12"/>"#,
        "epoll_wait: the driver blocked",
    ),
    (
        r#"<line class="event" x1="11" y1="-11" x2="11" y2="3"/>"#,
        "driver event (fd readiness, timers, eventfd)",
    ),
    (
        r#"<rect class="poll pending" x="0" y="-10" width="22" height="12"/>"#,
        "poll → Pending",
    ),
    (
        r#"<rect class="poll ready" x="0" y="-10" width="22" height="12"/>"#,
        "poll → Ready",
    ),
    (
        r#"<path class="wake" d="M1,-9 C12,-9 10,1 20,1"/>"#,
        "wake: from its cause to the poll it led to",
    ),
    (
        r#"<path class="mark eagain" d="M7,-10 h8 l-4,7 z M11,-10 v13"/>"#,
        "→ EAGAIN: the task waits for the next edge",
    ),
    (
        r#"<line class="mark other" x1="11" y1="-9" x2="11" y2="1"/>"#,
        "other mark (register, readiness cleared, timer, done)",
    ),
    (
        r#"<rect class="cut" x="0" y="-10" width="22" height="12"/>"#,
        "idle stretch, cut short (its length below the rows)",
    ),
];

/// Shown only when the trace has one: the runtime's lost-wake check.
const LOST_WAKE_ITEM: (&str, &str) = (
    r#"<path class="mark lost" d="M6,-10 l10,10 m0,-10 l-10,10"/>"#,
    "LOST WAKE: Pending, and no waker left to wake it",
);

/// A swatch's markup and its words.
type Item = (&'static str, &'static str);

/// Where the legend's items and lines go, for a picture `width` wide.
#[derive(Debug)]
pub struct LegendPlan {
    /// Each item, and its position (its text's baseline on the left).
    items: Vec<(Item, f64, f64)>,
    /// The scale notes' baselines.
    notes: Vec<(f64, String)>,
    /// The legend's height.
    pub height: f64,
}

/// Lays the legend out from `left`, wrapping at `width`; `lost_wakes`
/// says whether the trace has any (most have none: no item for them).
pub fn plan(axis: &Axis, left: f64, width: f64, lost_wakes: bool) -> LegendPlan {
    let mut items = Vec::with_capacity(ITEMS.len() + 1);
    let (mut x, mut y) = (left, LINE_PX);
    for &item in ITEMS.iter().chain(lost_wakes.then_some(&LOST_WAKE_ITEM)) {
        let item_px = SWATCH_PX + 6.0 + text_width(item.1, FONT_PX) + ITEM_GAP_PX;
        if x > left && x + item_px > width {
            x = left;
            y += LINE_PX;
        }
        items.push((item, x, y));
        x += item_px;
    }
    let notes = [
        format!(
            "Time runs left to right, linear at {:.2} px per µs wherever anything happens; \
             idle stretches over {IDLE_CUT_US:.0} µs are cut to {CUT_PX:.0} px.",
            axis.scale()
        ),
        format!(
            "Polls are drawn at least {MIN_BOX_PX:.0} px wide. Hover a box, tick or mark \
             for its name and times."
        ),
    ];
    let notes: Vec<(f64, String)> = notes
        .into_iter()
        .enumerate()
        .map(|(i, note)| (y + LINE_PX * (i as f64 + 1.2), note))
        .collect();
    let height = notes.last().map_or(y, |(y, _)| *y) + 6.0;
    LegendPlan {
        items,
        notes,
        height,
    }
}

/// Draws the legend with its top at `top`.
pub fn draw(doc: &mut Doc, plan: &LegendPlan, left: f64, top: f64) {
    doc.line(format_args!(r#"<g class="legend">"#));
    for &((swatch, text), x, y) in &plan.items {
        let y = top + y;
        doc.line(format_args!(
            r#"<g transform="translate({x:.1},{y:.1})">{swatch}</g>"#
        ));
        doc.text(x + SWATCH_PX + 6.0, y, "", text);
    }
    for (y, note) in &plan.notes {
        doc.text(left, top + y, r#"class="note""#, note);
    }
    doc.line(format_args!("</g>"));
}
