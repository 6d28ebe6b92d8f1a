//! The echo results as an SVG bar chart, written by hand: three panels
//! (messages per second; server CPU per message; syscalls per message), one
//! group of bars per scenario with one bar per server, scaled within each
//! group so every scenario reads at a glance.
//!
//! Written by hand because no crate makes it shorter: the `svg` crate would
//! replace only `escape` and the tag syntax, turning each element into a
//! chain of `.set` calls that prints coordinates unrounded and still leaves
//! the layout to us; plotters keeps one scale per chart, so each scenario
//! would be a chart of its own, and it is a much larger dependency.

use std::fmt::Write;

use super::Results;
use crate::suite::scenario::{EchoRow, SERVERS};

const WIDTH: f64 = 1120.0;
const LEFT: f64 = 20.0;
const PANEL_HEIGHT: f64 = 160.0;
const PANEL_GAP: f64 = 60.0;
const TOP: f64 = 70.0;
/// One colour per server, in [`SERVERS`]' order: edgeloop's two in blues.
const COLOURS: [&str; SERVERS.len()] = ["#2b6cb0", "#7fb3e0", "#dd7b26", "#8a8a8a"];
/// Room for one server's entry in the legend.
const LEGEND_STEP: f64 = 120.0;
/// The share of a scenario's width its bars take; with [`WIDTH`], four
/// servers and seven scenarios, a bar is wide enough for a label like `1.23M`.
const GROUP_FILL: f64 = 0.85;

/// One panel: a title, a figure, and how to print a value.
struct Panel {
    title: &'static str,
    figure: fn(&EchoRow) -> f64,
    label: fn(f64) -> String,
}

/// The chart, or `None` when there are no echo results.
pub fn chart(r: &Results) -> Option<String> {
    let scenarios: Vec<&str> = r
        .scenarios
        .iter()
        .map(|s| s.name)
        .filter(|n| r.echo.iter().any(|e| e.scenario == *n))
        .collect();
    if scenarios.is_empty() {
        return None;
    }
    let panels = [
        Panel {
            title: "Echoes per second (higher is better)",
            figure: |row| row.median(|s| s.rate),
            label: short_count,
        },
        Panel {
            title: "Server CPU per echo, µs (lower is better)",
            figure: |row| row.median(|s| s.cpu_per_msg_us),
            label: |v| format!("{v:.2}"),
        },
        Panel {
            title: "Server syscalls per echo, counted in one extra window (lower is better)",
            figure: |row| {
                row.syscalls
                    .as_ref()
                    .map_or(f64::NAN, |s| s.per_message()[0])
            },
            label: |v| format!("{v:.2}"),
        },
    ];
    let panels: Vec<Panel> = panels
        .into_iter()
        .filter(|p| r.echo.iter().any(|e| (p.figure)(e).is_finite()))
        .collect();
    let height = TOP + panels.len() as f64 * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP + 45.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="22" font-size="15" font-weight="bold">edgeloop (own echo and tokio's program) vs tokio current-thread vs hand-written epoll: echo on one core</text>
<text x="{LEFT}" y="40" fill="#555">{}; medians of {} rounds; bars scaled within each scenario, labels are the values</text>
"##,
        escape(&r.machine_line()),
        r.rounds,
    );
    for (i, server) in SERVERS.iter().enumerate() {
        let x = LEFT + i as f64 * LEGEND_STEP;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="50" width="12" height="12" fill="{}"/><text x="{}" y="60">{server}</text>"#,
            COLOURS[i],
            x + 16.0
        );
    }
    for (p, panel) in panels.iter().enumerate() {
        let top = TOP + p as f64 * (PANEL_HEIGHT + PANEL_GAP) + 20.0;
        draw_panel(&mut svg, r, &scenarios, panel, top);
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

fn draw_panel(svg: &mut String, r: &Results, scenarios: &[&str], panel: &Panel, top: f64) {
    let baseline = top + PANEL_HEIGHT;
    let group_width = (WIDTH - 2.0 * LEFT) / scenarios.len() as f64;
    let servers = SERVERS.len() as f64;
    let bar = (group_width * GROUP_FILL / servers).min(60.0);
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="{}" font-size="13" font-weight="bold">{}</text>"#,
        top - 6.0,
        escape(panel.title)
    );
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" y1="{baseline}" x2="{}" y2="{baseline}" stroke="#333"/>"##,
        WIDTH - LEFT
    );
    for (g, scenario) in scenarios.iter().enumerate() {
        let values: Vec<f64> = SERVERS
            .iter()
            .map(|server| {
                r.echo
                    .iter()
                    .find(|e| e.scenario == *scenario && e.server == *server)
                    .map_or(f64::NAN, panel.figure)
            })
            .collect();
        let max = values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let group_left = LEFT + g as f64 * group_width + (group_width - servers * bar) / 2.0;
        for (i, v) in values.iter().enumerate() {
            let x = group_left + i as f64 * bar;
            if !v.is_finite() || max <= 0.0 {
                continue;
            }
            let h = (v / max * (PANEL_HEIGHT - 18.0)).max(1.0);
            let _ = writeln!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
                baseline - h,
                bar - 3.0,
                COLOURS[i],
                x + (bar - 3.0) / 2.0,
                baseline - h - 3.0,
                escape(&(panel.label)(*v)),
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            LEFT + (g as f64 + 0.5) * group_width,
            baseline + 15.0,
            escape(scenario)
        );
    }
}

/// `123456` as `123k`, `1234567` as `1.23M`.
fn short_count(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_counts() {
        assert_eq!(short_count(950.0), "950");
        assert_eq!(short_count(1234.0), "1.2k");
        assert_eq!(short_count(123_456.0), "123k");
        assert_eq!(short_count(1_234_567.0), "1.23M");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn one_bar_per_server_in_each_panel_with_data() {
        use crate::machine::Machine;
        use crate::suite::options::Options;
        use crate::suite::scenario::{self, EchoSample};
        let options = Options::default();
        let machine = Machine {
            cpus: 2,
            cpu_model: "test".into(),
            kernel: "6.1".into(),
        };
        let mut r = Results::new(machine, &options);
        r.scenarios = scenario::all(&options);
        r.echo = SERVERS
            .iter()
            .enumerate()
            .map(|(i, server)| EchoRow {
                scenario: "echo-1x64",
                server,
                samples: vec![EchoSample {
                    rate: 1000.0 * (i + 1) as f64,
                    cpu_per_msg_us: 1.0,
                    ..EchoSample::default()
                }],
                rounds: vec![1],
                syscalls: None,
            })
            .collect();
        let svg = chart(&r).unwrap();
        // The legend, then a bar in the rate and CPU panels (no syscalls
        // were counted, so that panel is left out).
        for (server, colour) in SERVERS.iter().zip(COLOURS) {
            assert!(svg.contains(&format!(">{server}</text>")), "{server}");
            assert_eq!(svg.matches(&format!("fill=\"{colour}\"")).count(), 3);
        }
    }
}
