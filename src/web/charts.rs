//! Server-rendered SVG charts: throughput bars with axes, labels and totals, and sparklines.
//!
//! The SVG holds only numbers and fixed labels produced here (no job data), and the one text
//! value that could vary, the time labels, is built from integers; templates insert it with
//! `|safe`. Readable without JavaScript.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::queue::metrics::Series;
use crate::web::i18n::{self, Lang};

/// Sum consecutive minutes into buckets of `per_bucket` minutes (the newest bucket last).
fn buckets(values: &[u64], per_bucket: usize) -> Vec<u64> {
    let per_bucket = per_bucket.max(1);
    let skip = values.len() % per_bucket;
    values[skip..]
        .chunks(per_bucket)
        .map(|c| c.iter().sum())
        .collect()
}

/// "11-22 14:05 UTC" / "22/11 15:05 CET": in the reader's time zone, with its abbreviation.
fn time_label(ms: i64, with_date: bool) -> String {
    let locale = i18n::current();
    let pattern = match (with_date, locale.lang) {
        (false, _) => "%H:%M %Z",
        (true, Lang::En) => "%m-%d %H:%M %Z",
        (true, Lang::Fr) => "%d/%m %H:%M %Z",
    };
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&locale.tz).format(pattern).to_string())
        .unwrap_or_default()
}

/// A catalog text made safe inside the SVG's markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A stacked bar chart of completed (bottom) and failed (top) jobs per bucket.
pub fn throughput(completed: &Series, failed: &Series, per_bucket: usize, title: &str) -> String {
    let done = buckets(&completed.per_minute, per_bucket);
    let bad = buckets(&failed.per_minute, per_bucket);
    let n = done.len().max(1);
    let max = done
        .iter()
        .zip(&bad)
        .map(|(a, b)| a + b)
        .max()
        .unwrap_or(0)
        .max(1);
    let (width, height, left, bottom, top) = (720.0, 220.0, 48.0, 28.0, 14.0);
    let plot_w = width - left - 8.0;
    let plot_h = height - bottom - top;
    let bar_w = plot_w / n as f64;
    let y = |v: u64| top + plot_h - (v as f64 / max as f64) * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{}: {}, {}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title),
        escape(&i18n::tf(
            "metrics.bar_completed",
            &[("n", &completed.sum())]
        )),
        escape(&i18n::tf("metrics.bar_failed", &[("n", &failed.sum())])),
    );
    // Axes and grid.
    let _ = write!(
        svg,
        r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" class="axis"/><line x1="{left}" y1="{}" x2="{}" y2="{}" class="axis"/>"#,
        top + plot_h,
        top + plot_h,
        left + plot_w,
        top + plot_h
    );
    for step in [0u64, max / 2, max] {
        let yy = y(step);
        let _ = write!(
            svg,
            r#"<line x1="{left}" y1="{yy:.1}" x2="{}" y2="{yy:.1}" class="grid"/><text x="{}" y="{:.1}" class="label" text-anchor="end">{step}</text>"#,
            left + plot_w,
            left - 6.0,
            yy + 4.0
        );
    }
    for (i, (c, f)) in done.iter().zip(&bad).enumerate() {
        let x = left + i as f64 * bar_w + 0.5;
        let w = (bar_w - 1.0).max(0.5);
        if *c > 0 {
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" class="completed"><title>{}</title></rect>"#,
                y(*c),
                top + plot_h - y(*c),
                escape(&i18n::tf("metrics.bar_completed", &[("n", c)]))
            );
        }
        if *f > 0 {
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" class="failed"><title>{}</title></rect>"#,
                y(c + f),
                y(*c) - y(c + f),
                escape(&i18n::tf("metrics.bar_failed", &[("n", f)]))
            );
        }
    }
    // Time labels: start, middle, end of the window.
    let minutes = completed.per_minute.len() as i64;
    let end = completed.end_minute_ms + 60_000;
    let start = end - minutes * 60_000;
    let with_date = minutes > 24 * 60;
    for (frac, anchor) in [(0.0, "start"), (0.5, "middle"), (1.0, "end")] {
        let ms = start + ((end - start) as f64 * frac) as i64;
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" class="label" text-anchor="{anchor}">{}</text>"#,
            left + plot_w * frac,
            height - 8.0,
            time_label(ms, with_date)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A small line of the last hour's completed + failed jobs per minute.
pub fn sparkline(completed: &Series, failed: &Series) -> String {
    let values: Vec<u64> = completed
        .per_minute
        .iter()
        .zip(&failed.per_minute)
        .map(|(a, b)| a + b)
        .collect();
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let (width, height) = (120.0, 24.0);
    let step = width / (values.len().max(2) - 1) as f64;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                height - 2.0 - (*v as f64 / max as f64) * (height - 4.0)
            )
        })
        .collect();
    format!(
        r#"<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><polyline points="{}" fill="none"/></svg>"#,
        escape(&i18n::tf(
            "metrics.spark",
            &[("n", &values.iter().sum::<u64>())]
        )),
        points.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_bars_axes_and_totals() {
        let completed = Series {
            end_minute_ms: 120 * 60_000,
            per_minute: vec![1, 2, 3, 4],
            total: 10,
        };
        let failed = Series {
            per_minute: vec![0, 1, 0, 0],
            ..completed.clone()
        };
        let svg = throughput(&completed, &failed, 2, "Last hour");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("10 completed, 1 failed"));
        assert_eq!(svg.matches(r#"class="completed""#).count(), 2);
        assert_eq!(svg.matches(r#"class="failed""#).count(), 1);
        assert!(svg.contains("01:57 UTC") && svg.contains("02:01 UTC"));
        assert_eq!(buckets(&[1, 2, 3, 4, 5], 2), vec![5, 9]);
        assert!(sparkline(&completed, &failed).contains("polyline"));
    }
}
