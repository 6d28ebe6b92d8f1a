//! The timeline drawn as SVG: a title and legend, a time axis, one row per
//! track, the cut idle stretches, and the wakes as arrows over everything.
//!
//! The file is self-contained (its styles inline, no fonts or scripts to
//! fetch) and has a white background, so it reads the same in a browser,
//! on a dark-themed page, and in an image converter.

mod doc;
mod lanes;
mod legend;
mod rows;

use doc::{duration, escape, fit, text_width, tick_label, Doc, FONT_PX};
use rows::{RowPlan, BAR_PX};

use crate::axis::Axis;
use crate::timeline::{MarkKind, Timeline};

/// Space around the picture (px).
const MARGIN_PX: f64 = 16.0;

/// The row label column's width, at most; longer names are cut.
const MAX_LABEL_PX: f64 = 300.0;

/// Height of the title line, and of the axis band above the rows.
const TITLE_PX: f64 = 22.0;
const AXIS_PX: f64 = 34.0;

/// Room left of the first instant and right of the last, so the boxes
/// and arrows at the ends stand clear of the label column and the edge.
const PLOT_PAD_PX: f64 = 8.0;

/// The plot is at least this wide (px).
const MIN_PLOT_PX: f64 = 900.0;

/// Room under the rows for the cut stretches' lengths.
const FOOTER_PX: f64 = 40.0;

/// Styles, by the classes the parts use (the tests count those classes).
const STYLE: &str = r##"<style>
text { font-family: 'DejaVu Sans', Verdana, 'Helvetica Neue', Arial, sans-serif; font-size: 12px; fill: #222; }
.title { font-size: 15px; font-weight: bold; }
.note { fill: #555; }
.small { font-size: 10px; fill: #555; }
.small.eagain { fill: #b2182b; }
.inside { font-size: 10px; fill: #08306b; }
.inside.light { fill: #fff; }
.row-label { text-anchor: end; }
.stripe { fill: #f4f4f4; }
.grid { stroke: #e2e2e2; stroke-width: 1; }
.axis { stroke: #555; stroke-width: 1; fill: none; }
.wait { fill: #d4d4d4; stroke: #a8a8a8; stroke-width: 0.5; }
.event { stroke: #6a3d9a; stroke-width: 2; }
.poll.pending { fill: #c6dbef; stroke: #2171b5; stroke-width: 1; }
.poll.ready { fill: #238b45; stroke: #00441b; stroke-width: 1; }
.poll.other { fill: #fdd0a2; stroke: #a63603; stroke-width: 1; }
.mark.eagain { fill: #d62728; stroke: #d62728; stroke-width: 1; }
.mark.other { stroke: #777; stroke-width: 1; }
.mark.lost { fill: none; stroke: #000; stroke-width: 2; }
.small.lost { fill: #000; font-weight: bold; }
.leader { stroke: #bbb; stroke-width: 0.5; }
.wake { fill: none; stroke: #e6550d; stroke-width: 1.4; opacity: 0.85; marker-end: url(#arrow); }
.cut { fill: url(#hatch); }
.cut-label { font-size: 10px; fill: #555; text-anchor: middle; }
</style>
<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
<path d="M0,0 L10,5 L0,10 z" fill="#e6550d"/>
</marker>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="6" height="6" fill="#fafafa"/><line x1="0" y1="0" x2="0" y2="6" stroke="#cfcfcf" stroke-width="2"/>
</pattern>
</defs>"##;

/// Where things go: computed before anything is drawn, since the row
/// heights depend on their labels and the legend's on the width.
#[derive(Debug)]
struct Layout {
    width: f64,
    height: f64,
    /// Where time starts (right of the row labels, and a pad).
    plot_left: f64,
    /// Width from `plot_left` to the plot's right edge (the axis and a pad).
    plot_px: f64,
    /// Width of the row label column.
    label_px: f64,
    legend: legend::LegendPlan,
    /// Baseline of the axis.
    axis_y: f64,
    /// Each row's top, and its plan.
    rows: Vec<(f64, RowPlan)>,
    /// Bottom of the last row.
    rows_bottom: f64,
}

impl Layout {
    fn new(timeline: &Timeline, axis: &Axis) -> Layout {
        let longest = timeline
            .rows
            .iter()
            .map(|row| text_width(&row.label, FONT_PX));
        let label_px = longest.fold(80.0, f64::max).min(MAX_LABEL_PX) + 14.0;
        let plot_left = MARGIN_PX + label_px + PLOT_PAD_PX;
        // A tiny trace still gets room for the title and legend.
        let plot_px = (axis.width() + PLOT_PAD_PX).max(MIN_PLOT_PX);
        let width = plot_left + plot_px + MARGIN_PX;
        let lost_wakes = timeline
            .rows
            .iter()
            .flat_map(|row| &row.marks)
            .any(|mark| mark.kind == MarkKind::LostWake);
        let legend = legend::plan(axis, MARGIN_PX, width - MARGIN_PX, lost_wakes);
        let axis_y = MARGIN_PX + TITLE_PX + legend.height + AXIS_PX;
        let mut y = axis_y + 10.0;
        let mut rows = Vec::with_capacity(timeline.rows.len());
        for row in &timeline.rows {
            let plan = rows::plan(row, axis, plot_px);
            let height = plan.height;
            rows.push((y, plan));
            y += height;
        }
        Layout {
            width,
            height: y + FOOTER_PX + MARGIN_PX,
            plot_left,
            plot_px,
            label_px,
            legend,
            axis_y,
            rows,
            rows_bottom: y,
        }
    }

    /// The vertical middle of row `index`'s bar.
    fn bar_middle(&self, index: usize) -> f64 {
        self.rows[index].0 + BAR_PX / 2.0
    }
}

/// The SVG for `timeline`; `unclosed` says the file was cut short (noted in
/// the title, as the end of the run is missing).
pub fn render(timeline: &Timeline, unclosed: bool) -> String {
    let axis = Axis::new(timeline);
    let layout = Layout::new(timeline, &axis);
    let mut doc = Doc::default();
    doc.line(format_args!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}">"#,
        w = layout.width.ceil(),
        h = layout.height.ceil()
    ));
    doc.line(format_args!("{STYLE}"));
    doc.line(format_args!(
        r##"<rect width="100%" height="100%" fill="#fff"/>"##
    ));
    doc.text(
        MARGIN_PX,
        MARGIN_PX + 14.0,
        r#"class="title""#,
        &title(timeline, unclosed),
    );
    legend::draw(&mut doc, &layout.legend, MARGIN_PX, MARGIN_PX + TITLE_PX);
    doc.line(format_args!(
        r#"<g transform="translate({:.1},0)">"#,
        layout.plot_left
    ));
    draw_backdrop(&mut doc, &layout, &axis);
    for (row, (top, plan)) in timeline.rows.iter().zip(&layout.rows) {
        doc.text(
            -10.0 - PLOT_PAD_PX,
            top + BAR_PX / 2.0 + 4.0,
            r#"class="row-label""#,
            &fit(&row.label, layout.label_px - 14.0, FONT_PX),
        );
        rows::draw(&mut doc, row, plan, &axis, *top);
    }
    draw_wakes(&mut doc, timeline, &layout, &axis);
    doc.line(format_args!("</g>"));
    doc.line(format_args!("</svg>"));
    doc.finish()
}

/// `edgeloop runtime #1 · 8.04 ms · 3 tasks · 9 wakes`.
fn title(timeline: &Timeline, unclosed: bool) -> String {
    let tasks = timeline
        .rows
        .iter()
        .filter(|row| !row.track.is_driver())
        .count();
    let (start, end) = timeline.span;
    let mut title = format!(
        "{} · {} traced · {tasks} task{} · {} wake{}",
        timeline.title.as_deref().unwrap_or("trace"),
        duration(end - start),
        if tasks == 1 { "" } else { "s" },
        timeline.wakes.len(),
        if timeline.wakes.len() == 1 { "" } else { "s" },
    );
    if unclosed {
        title.push_str(" · file not closed (run killed?): its end is missing");
    }
    title
}

/// Under the rows' contents: stripes, grid lines and the axis with its
/// ticks, and the cut stretches with their lengths.
fn draw_backdrop(doc: &mut Doc, layout: &Layout, axis: &Axis) {
    let (top, bottom) = (layout.axis_y, layout.rows_bottom);
    // Every other row shaded, so a row's lanes of labels read as its own.
    for (row_top, plan) in layout.rows.iter().skip(1).step_by(2) {
        doc.line(format_args!(
            r#"<rect class="stripe" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"/>"#,
            -layout.label_px - PLOT_PAD_PX,
            row_top - 4.0,
            layout.label_px + PLOT_PAD_PX + layout.plot_px,
            plan.height
        ));
    }
    doc.line(format_args!(
        r#"<path class="axis" d="M{:.1},{top:.1} H{:.1}"/>"#,
        -PLOT_PAD_PX, layout.plot_px
    ));
    for (x, t, step) in axis.ticks() {
        doc.line(format_args!(
            r#"<line class="grid" x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}"/>"#
        ));
        doc.line(format_args!(
            r#"<path class="axis" d="M{x:.1},{:.1} V{top:.1}"/>"#,
            top - 5.0
        ));
        doc.text(
            x,
            top - 9.0,
            r#"class="small" text-anchor="middle""#,
            &tick_label(t, step),
        );
    }
    for piece in axis.pieces().iter().filter(|piece| piece.is_cut) {
        let width = piece.x1 - piece.x0;
        doc.line(format_args!(
            r#"<rect class="cut" x="{:.1}" y="{:.1}" width="{width:.1}" height="{:.1}"><title>idle for {}, cut</title></rect>"#,
            piece.x0,
            top - 4.0,
            bottom - top + 4.0,
            duration(piece.t1 - piece.t0)
        ));
        let middle = piece.x0 + width / 2.0;
        doc.text(middle, bottom + 14.0, r#"class="cut-label""#, "idle");
        doc.text(
            middle,
            bottom + 26.0,
            r#"class="cut-label""#,
            &duration(piece.t1 - piece.t0),
        );
    }
}

/// Each wake as an arrow from its cause (the driver's event, or the waking
/// task's poll) to the start of the poll it led to.
fn draw_wakes(doc: &mut Doc, timeline: &Timeline, layout: &Layout, axis: &Axis) {
    doc.line(format_args!(r#"<g class="wakes">"#));
    for wake in &timeline.wakes {
        let (Some(from), Some(to)) = (timeline.row_of(wake.from.0), timeline.row_of(wake.to.0))
        else {
            continue;
        };
        let (x1, y1) = (axis.x(wake.from.1), layout.bar_middle(from));
        let (x2, y2) = (axis.x(wake.to.1), layout.bar_middle(to));
        // Leaving and arriving level, like Perfetto's flow arrows; a reach
        // of at least 14 px keeps near-vertical ones from folding.
        let reach = ((x2 - x1).abs() / 2.0).max(14.0);
        let title = format!(
            "wake: {} at {} → {} polled {} later",
            timeline.rows[from].label,
            doc::instant(wake.from.1),
            timeline.rows[to].label,
            duration(wake.to.1 - wake.from.1)
        );
        doc.line(format_args!(
            r#"<path class="wake" d="M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {:.1},{y2:.1}"><title>{}</title></path>"#,
            x1 + reach,
            x2 - reach,
            x2 - 1.0,
            escape(&title)
        ));
    }
    doc.line(format_args!("</g>"));
}
