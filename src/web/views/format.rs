//! Text for people: times, relative times, pretty and truncated JSON, excerpts, rates and
//! durations.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Data or return values larger than this are shown truncated, with a link to the raw JSON.
pub const DISPLAY_LIMIT: usize = 64 * 1024;

/// "2026-11-22 14:05:03" (UTC) for a millisecond timestamp.
pub fn format_time(ms: Option<i64>) -> String {
    ms.and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// "3m ago" / "in 2h" relative to now.
pub fn relative_time(ms: Option<i64>, now_ms: i64) -> String {
    let Some(ms) = ms else {
        return String::new();
    };
    let delta = (now_ms - ms) / 1000;
    let (amount, future) = (delta.unsigned_abs(), delta < 0);
    let text = match amount {
        0..=59 => format!("{amount}s"),
        60..=3599 => format!("{}m", amount / 60),
        3600..=86399 => format!("{}h", amount / 3600),
        _ => format!("{}d", amount / 86400),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// Pretty JSON, truncated to [`DISPLAY_LIMIT`] bytes (on a character boundary). Only the shown
/// part is ever written out: a 100 MB value costs no second 100 MB copy.
pub fn pretty(value: &Value) -> (String, bool) {
    let text = match value {
        // A field that did not parse is kept as a string: show it as stored, unquoted.
        Value::String(s) if s.len() > DISPLAY_LIMIT => {
            let mut end = DISPLAY_LIMIT;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            return (s[..end].to_string(), true);
        }
        Value::String(s) => s.clone(),
        other => {
            let mut out = Bounded(Vec::new());
            // Writing stops with an error once past the limit: that is the cut.
            let _ = serde_json::to_writer_pretty(&mut out, other);
            String::from_utf8_lossy(&out.0).into_owned()
        }
    };
    truncate(text)
}

/// A buffer that refuses to grow past one byte over [`DISPLAY_LIMIT`] (enough to tell a cut).
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = (DISPLAY_LIMIT + 1).saturating_sub(self.0.len());
        if room == 0 {
            return Err(std::io::Error::other("display limit reached"));
        }
        let n = buf.len().min(room);
        self.0.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn truncate(mut text: String) -> (String, bool) {
    if text.len() <= DISPLAY_LIMIT {
        return (text, false);
    }
    let mut cut = DISPLAY_LIMIT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    (text, true)
}

pub fn progress_text(value: &Value) -> String {
    match value {
        Value::Number(n) if n.as_f64() == Some(0.0) => String::new(),
        Value::Number(n) => format!("{n}%"),
        Value::Null => String::new(),
        other => {
            let text = other.to_string();
            excerpt(&text, 60)
        }
    }
}

pub fn excerpt(text: &str, max_chars: usize) -> String {
    let first_line = text.lines().next().unwrap_or("");
    if first_line.chars().count() > max_chars {
        let cut: String = first_line.chars().take(max_chars).collect();
        format!("{cut}…")
    } else {
        first_line.to_string()
    }
}

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// "2.5 %", or "–" when nothing finished.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(rate) if rate > 0.0 && rate < 0.1 => "< 0.1 %".into(),
        Some(rate) => format!("{rate:.1} %"),
        None => "–".into(),
    }
}

/// "850 ms", "12.3 s", "4.0 min".
pub fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        Some(ms) if ms < 3_600_000 => format!("{:.1} min", ms as f64 / 60_000.0),
        Some(ms) => format!("{:.1} h", ms as f64 / 3_600_000.0),
    }
}

/// "3 d 4 h", "5 min", "12 s".
pub fn seconds(total: u64) -> String {
    match total {
        s if s >= 86_400 => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times() {
        assert_eq!(format_time(Some(0)), "1970-01-01 00:00:00");
        assert_eq!(relative_time(Some(1_000), 61_000), "1m ago");
        assert_eq!(relative_time(Some(7_300_000), 100_000), "in 2h");
        assert_eq!(relative_time(None, 0), "");
    }

    #[test]
    fn truncates_large_values_on_char_boundaries() {
        let big = Value::String("é".repeat(DISPLAY_LIMIT));
        let (text, cut) = pretty(&big);
        assert!(cut);
        assert!(text.len() <= DISPLAY_LIMIT);
        let object = serde_json::json!({ "a": "x".repeat(DISPLAY_LIMIT * 2) });
        let (text, cut) = pretty(&object);
        assert!(cut);
        assert!(text.len() <= DISPLAY_LIMIT);
        assert!(text.starts_with("{\n  \"a\": \"xxx"), "{}", &text[..20]);
        let (text, cut) = pretty(&serde_json::json!({ "a": 1 }));
        assert_eq!((text.as_str(), cut), ("{\n  \"a\": 1\n}", false));
    }
}
