//! A plain table, rendered as aligned text or as Markdown.

/// Rows of cells under a header; the first `left` columns align left, the
/// rest (numbers) right.
#[derive(Clone, Debug)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Cells, one `Vec` per row.
    pub rows: Vec<Vec<String>>,
    /// How many leading columns are text.
    pub left: usize,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(header: &[&str], left: usize) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            left,
        }
    }

    /// Adds a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Aligned text, columns two spaces apart.
    pub fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                let cells = self.rows.iter().filter_map(|r| r.get(c));
                cells
                    .chain([&self.header[c]])
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (c, w) in widths.iter().enumerate() {
                let cell = cells.get(c).map_or("", String::as_str);
                let pad = w.saturating_sub(cell.chars().count());
                if c > 0 {
                    out.push_str("  ");
                }
                if c < self.left {
                    out.push_str(cell);
                    out.push_str(&" ".repeat(pad));
                } else {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                }
            }
            out.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        out.push_str(&line(
            &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
        ));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }

    /// A Markdown table.
    pub fn markdown(&self) -> String {
        let mut out = format!("| {} |\n|", self.header.join(" | "));
        for c in 0..self.header.len() {
            out.push_str(if c < self.left { "---|" } else { "---:|" });
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        out
    }
}

/// `v` with `decimals` places; "–" for NaN or infinity.
pub fn num(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "–".to_string()
    }
}

/// A whole number with thousands separators; "–" for NaN.
pub fn count(v: f64) -> String {
    if v.is_finite() && v >= 0.0 {
        super::super::suite::scenario::thousands(v.round() as u64)
    } else {
        "–".to_string()
    }
}

/// A ratio as `1.23×`; "–" when it is missing.
pub fn times(r: f64) -> String {
    if r.is_finite() {
        format!("{r:.2}×")
    } else {
        "–".to_string()
    }
}

/// A share as a whole percentage.
pub fn percent(v: f64) -> String {
    if v.is_finite() {
        format!("{:.0}%", v * 100.0)
    } else {
        "–".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_markdown() {
        let mut t = Table::new(&["name", "value"], 1);
        t.push(vec!["a".into(), "1.00".into()]);
        t.push(vec!["long name".into(), "12".into()]);
        assert_eq!(
            t.text(),
            "name       value\n---------  -----\na           1.00\nlong name     12\n"
        );
        assert_eq!(
            t.markdown(),
            "| name | value |\n|---|---:|\n| a | 1.00 |\n| long name | 12 |\n"
        );
        assert_eq!(times(1.0 / 0.0), "–");
        assert_eq!(times(1.234), "1.23×");
        assert_eq!(count(1234.4), "1,234");
    }
}
