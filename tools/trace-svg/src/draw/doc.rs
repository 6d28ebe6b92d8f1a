//! The SVG text being written, and the small things every part of the
//! drawing needs: escaping, a text width estimate, times as words.

use std::fmt::{self, Write};

/// Font size of row labels and the legend (px).
pub const FONT_PX: f64 = 12.0;

/// Font size of the labels on ticks and marks (px).
pub const SMALL_FONT_PX: f64 = 10.0;

/// Average glyph width over font size for the sans-serif faces SVG
/// viewers pick; a little generous, so estimated labels do not collide.
const GLYPH_WIDTH: f64 = 0.6;

/// An SVG document under construction.
#[derive(Debug, Default)]
pub struct Doc {
    out: String,
}

impl Doc {
    /// Appends one line of markup.
    pub fn line(&mut self, markup: fmt::Arguments<'_>) {
        // Writing into a String cannot fail.
        let _ = self.out.write_fmt(markup);
        self.out.push('\n');
    }

    /// A `<text>` element: `text` at (x, y), with these extra attributes.
    pub fn text(&mut self, x: f64, y: f64, attrs: &str, text: &str) {
        self.line(format_args!(
            r#"<text x="{x:.1}" y="{y:.1}" {attrs}>{}</text>"#,
            escape(text)
        ));
    }

    /// The document so far.
    pub fn finish(self) -> String {
        self.out
    }
}

/// `s` made safe for XML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // XML 1.0 has no way to write most control characters at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// About how wide `text` is at `font_px`.
pub fn text_width(text: &str, font_px: f64) -> f64 {
    text.chars().count() as f64 * font_px * GLYPH_WIDTH
}

/// `text` cut to about `max_px` at `font_px`, with an ellipsis if cut.
pub fn fit(text: &str, max_px: f64, font_px: f64) -> String {
    let max_chars = (max_px / (font_px * GLYPH_WIDTH)).floor().max(1.0) as usize;
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A length of time in words: `7.1 µs`, `168 µs`, `2.03 ms`.
pub fn duration(us: f64) -> String {
    if us < 10.0 {
        format!("{us:.1} µs")
    } else if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.3} s", us / 1e6)
    }
}

/// A moment in words, to a tenth of a µs: `310.9 µs`, `2.5045 ms`.
pub fn instant(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.4} ms", us / 1e3)
    }
}

/// A tick's time, with as many decimals as its step needs: ticks 50 µs
/// apart read `300 µs`, `2.55 ms`.
pub fn tick_label(us: f64, step: f64) -> String {
    let digits = |unit: f64| (-(step / unit).log10().floor()).max(0.0) as usize;
    if us < 1000.0 {
        format!("{us:.*} µs", digits(1.0))
    } else if us < 1_000_000.0 {
        format!("{:.*} ms", digits(1e3), us / 1e3)
    } else {
        format!("{:.*} s", digits(1e6), us / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape(r#"a<b & "c">"#), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(escape("fd 7 → EAGAIN"), "fd 7 → EAGAIN");
        assert_eq!(escape("\u{1}"), "\u{fffd}");
    }

    #[test]
    fn fits_long_labels() {
        assert_eq!(fit("task 3", 100.0, 10.0), "task 3");
        assert_eq!(fit("task 3 woken from a thread", 60.0, 10.0), "task 3 wo…");
    }

    #[test]
    fn says_times_in_words() {
        assert_eq!(duration(7.12), "7.1 µs");
        assert_eq!(duration(168.3), "168 µs");
        assert_eq!(duration(2025.3), "2.03 ms");
        assert_eq!(instant(310.88), "310.9 µs");
        assert_eq!(instant(2504.507), "2.5045 ms");
        assert_eq!(tick_label(300.0, 50.0), "300 µs");
        assert_eq!(tick_label(2550.0, 50.0), "2.55 ms");
        assert_eq!(tick_label(2600.0, 100.0), "2.6 ms");
        assert_eq!(tick_label(3000.0, 1000.0), "3 ms");
        assert_eq!(tick_label(12.5, 0.5), "12.5 µs");
    }
}
