//! The horizontal scale: time in µs to x in pixels.
//!
//! A run of a few milliseconds is mostly waiting: the driver blocks in
//! `epoll_wait` for a timer or another thread while the polls that matter
//! take a few µs each. A linear axis would make those polls specks, so the
//! axis is piecewise: linear (one scale for the whole picture) wherever
//! something happens, and each idle stretch longer than [`IDLE_CUT_US`] —
//! time inside no slice but `epoll_wait`, with no mark or event in it — is
//! cut down to [`CUT_PX`] pixels and drawn as a break labelled with its
//! length.

use crate::timeline::{SliceKind, Timeline};

/// Idle stretches longer than this (µs) are cut.
pub const IDLE_CUT_US: f64 = 200.0;

/// How wide a cut stretch is drawn.
pub const CUT_PX: f64 = 36.0;

/// The width the linear parts aim to fill together, in pixels.
const TARGET_PX: f64 = 1000.0;

/// The scale's bounds (px per µs): not so coarse that a 5 µs poll is a
/// hairline when the run is long, not so fine that a tiny trace is huge.
const MIN_SCALE: f64 = 0.02;
const MAX_SCALE: f64 = 20.0;

/// Tick labels are at least this far apart (px).
const TICK_SPACING_PX: f64 = 90.0;

/// One stretch of the axis: linear, or cut.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Piece {
    /// Its time span, µs.
    pub t0: f64,
    /// End of the span.
    pub t1: f64,
    /// Where it starts, px from the plot's left edge.
    pub x0: f64,
    /// Where it ends.
    pub x1: f64,
    /// Whether this is an idle stretch cut to [`CUT_PX`].
    pub is_cut: bool,
}

/// Time → x.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pieces: Vec<Piece>,
    scale: f64,
}

impl Axis {
    /// The axis for `timeline`: its idle stretches cut, the rest at a scale
    /// that makes the linear parts about `TARGET_PX` (1000 px) wide.
    pub fn new(timeline: &Timeline) -> Axis {
        let (start, end) = timeline.span;
        let cuts = idle_stretches(timeline);
        let active = (end - start) - cuts.iter().map(|(a, b)| b - a).sum::<f64>();
        let scale = (TARGET_PX / active.max(1.0)).clamp(MIN_SCALE, MAX_SCALE);
        let mut pieces = Vec::with_capacity(2 * cuts.len() + 1);
        let (mut t, mut x) = (start, 0.0);
        for (a, b) in cuts.into_iter().chain([(end, end)]) {
            let linear = (a - t) * scale;
            pieces.push(Piece {
                t0: t,
                t1: a,
                x0: x,
                x1: x + linear,
                is_cut: false,
            });
            x += linear;
            if b > a {
                pieces.push(Piece {
                    t0: a,
                    t1: b,
                    x0: x,
                    x1: x + CUT_PX,
                    is_cut: true,
                });
                x += CUT_PX;
            }
            t = b;
        }
        Axis { pieces, scale }
    }

    /// Pixels per µs in the linear parts.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The plot's width in pixels.
    pub fn width(&self) -> f64 {
        self.pieces.last().map_or(0.0, |piece| piece.x1)
    }

    /// The axis's pieces, left to right.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Where time `t` (µs) is drawn. Inside a cut, time is squeezed
    /// linearly, so a slice across one (the long `epoll_wait`) stays whole.
    pub fn x(&self, t: f64) -> f64 {
        let i = self.pieces.partition_point(|piece| piece.t1 < t);
        let Some(piece) = self.pieces.get(i) else {
            return self.width();
        };
        if piece.t1 <= piece.t0 {
            return piece.x0;
        }
        let along = ((t - piece.t0) / (piece.t1 - piece.t0)).clamp(0.0, 1.0);
        piece.x0 + along * (piece.x1 - piece.x0)
    }

    /// Tick marks for the linear parts, as (x, µs, step) — the step says
    /// how many decimals the label needs. Where time resumes after a cut
    /// its first instant gets a tick (the absolute time would be lost
    /// otherwise); elsewhere ticks are at a round step, spaced at least
    /// `TICK_SPACING_PX` (90 px).
    pub fn ticks(&self) -> Vec<(f64, f64, f64)> {
        let step = round_step(TICK_SPACING_PX / self.scale);
        let mut ticks: Vec<(f64, f64, f64)> = Vec::new();
        let mut last_x = f64::NEG_INFINITY;
        for (i, piece) in self.pieces.iter().enumerate() {
            if piece.is_cut {
                continue;
            }
            let after_cut = i > 0 && self.pieces[i - 1].is_cut;
            if after_cut {
                // It matters more than a round tick just before the cut,
                // which gives way; it needs only room for its label.
                let room = TICK_SPACING_PX * 0.6;
                if ticks.last().is_some_and(|tick| piece.x0 - tick.0 < room) {
                    ticks.pop();
                }
                ticks.push((piece.x0, piece.t0, step / 10.0));
                last_x = piece.x0;
            }
            // Multiples of the step, counted (not summed, which drifts).
            let first = (piece.t0 / step).ceil() as i64;
            let last = (piece.t1 / step).floor() as i64;
            for t in (first..=last).map(|k| k as f64 * step) {
                let x = self.x(t);
                if x - last_x >= TICK_SPACING_PX {
                    ticks.push((x, t, step));
                    last_x = x;
                }
            }
        }
        ticks
    }
}

/// The stretches to cut: gaps longer than [`IDLE_CUT_US`] between the
/// instants where something happens (every event's start and end) that no
/// slice other than `epoll_wait` covers.
fn idle_stretches(timeline: &Timeline) -> Vec<(f64, f64)> {
    let mut covered: Vec<(f64, f64)> = Vec::new();
    for row in &timeline.rows {
        for slice in &row.slices {
            let end = slice.ts + slice.dur;
            if slice.kind == SliceKind::Wait {
                covered.extend([(slice.ts, slice.ts), (end, end)]);
            } else {
                covered.push((slice.ts, end));
            }
        }
        covered.extend(row.marks.iter().map(|mark| (mark.ts, mark.ts)));
    }
    for wake in &timeline.wakes {
        covered.extend([(wake.from.1, wake.from.1), (wake.to.1, wake.to.1)]);
    }
    covered.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut stretches = Vec::new();
    let mut reached = f64::NEG_INFINITY;
    for (start, end) in covered {
        if reached.is_finite() && start - reached > IDLE_CUT_US {
            stretches.push((reached, start));
        }
        reached = reached.max(end);
    }
    stretches
}

/// The smallest 1, 2 or 5 × 10ⁿ µs at least `min`.
fn round_step(min: f64) -> f64 {
    let decade = 10f64.powf(min.max(1e-3).log10().floor());
    // `decade` ≤ min < 10 × `decade`, so one of these is it.
    [1.0, 2.0, 5.0]
        .into_iter()
        .map(|factor| factor * decade)
        .find(|&step| step >= min)
        .unwrap_or(10.0 * decade)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    /// A poll, a 5 ms wait, an event and a second poll.
    const TRACE: &str = r#"[
{"ph":"X","name":"poll → Pending","tid":1,"ts":0,"dur":100},
{"ph":"X","name":"epoll_wait","tid":0,"ts":100,"dur":5000},
{"ph":"X","name":"fd 7 IN","tid":0,"ts":5100,"dur":1},
{"ph":"X","name":"poll → Ready","tid":1,"ts":5110,"dur":90}
]"#;

    fn axis() -> Axis {
        Axis::new(&Timeline::build(&parse(TRACE).unwrap().events).unwrap())
    }

    #[test]
    fn cuts_the_idle_wait_and_keeps_the_rest_linear() {
        let axis = axis();
        let cuts: Vec<_> = axis.pieces().iter().filter(|p| p.is_cut).collect();
        assert_eq!(cuts.len(), 1);
        assert_eq!((cuts[0].t0, cuts[0].t1), (100.0, 5100.0));
        // 200 µs of activity fill the target width, plus the cut.
        assert!((axis.scale() - TARGET_PX / 200.0).abs() < 1e-9);
        assert!((axis.width() - (TARGET_PX + CUT_PX)).abs() < 1e-6);
        assert!((axis.x(50.0) - 250.0).abs() < 1e-9);
        assert!((axis.x(5110.0) - (550.0 + CUT_PX)).abs() < 1e-6);
    }

    #[test]
    fn x_grows_with_time() {
        let axis = axis();
        let xs: Vec<f64> = (0..=52).map(|i| axis.x(f64::from(i) * 100.0)).collect();
        assert!(xs.windows(2).all(|w| w[0] <= w[1]), "{xs:?}");
        assert_eq!(axis.x(-5.0), 0.0);
        assert_eq!(axis.x(1e9), axis.width());
    }

    #[test]
    fn ticks_are_round_and_apart() {
        let ticks = axis().ticks();
        assert!(ticks.len() >= 4, "{ticks:?}");
        let apart = TICK_SPACING_PX * 0.6;
        assert!(
            ticks.windows(2).all(|w| w[1].0 - w[0].0 >= apart),
            "{ticks:?}"
        );
        // Time resumes after the cut at 5.1 ms, and says so.
        assert!(ticks.iter().any(|&(_, t, _)| t == 5100.0), "{ticks:?}");
        let round = ticks.iter().filter(|&&(_, t, _)| t != 5100.0);
        assert!(round.clone().all(|&(_, t, step)| (t / step).fract() == 0.0));
        assert_eq!(round_step(17.0), 20.0);
        assert_eq!(round_step(0.3), 0.5);
        assert_eq!(round_step(700.0), 1000.0);
    }
}
