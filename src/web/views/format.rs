//! Text for people: times, relative times, pretty and truncated JSON, excerpts, rates and
//! durations.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::web::i18n::{self, Lang};

/// Data or return values larger than this are shown truncated, with a link to the raw JSON.
pub const DISPLAY_LIMIT: usize = 64 * 1024;

/// A millisecond timestamp in the reader's time zone and date format, with the zone's
/// abbreviation: "2026-11-22 14:05:03 UTC" in English, "22/11/2026 15:05:03 CET" in French.
pub fn format_time(ms: Option<i64>) -> String {
    let locale = i18n::current();
    format_time_in(ms, locale.lang, locale.tz)
}

pub fn format_time_in(ms: Option<i64>, lang: Lang, tz: Tz) -> String {
    let Some(utc) = ms.and_then(DateTime::<Utc>::from_timestamp_millis) else {
        return String::new();
    };
    let local = utc.with_timezone(&tz);
    let pattern = match lang {
        Lang::En => "%Y-%m-%d %H:%M:%S %Z",
        Lang::Fr => "%d/%m/%Y %H:%M:%S %Z",
    };
    local.format(pattern).to_string()
}

/// "3m ago" / "in 2h" relative to now ("il y a 3 min" / "dans 2 h" in French).
pub fn relative_time(ms: Option<i64>, now_ms: i64) -> String {
    let Some(ms) = ms else {
        return String::new();
    };
    let delta = (now_ms - ms) / 1000;
    let (amount, future) = (delta.unsigned_abs(), delta < 0);
    let (n, unit) = match amount {
        0..=59 => (amount, "s"),
        60..=3599 => (amount / 60, "m"),
        3600..=86399 => (amount / 3600, "h"),
        _ => (amount / 86400, "d"),
    };
    let span = i18n::tf(&format!("time.span_{unit}"), &[("n", &n)]);
    let key = if future { "time.in" } else { "time.ago" };
    i18n::tf(key, &[("span", &span)])
}

/// An integer with the language's thousands separator: "1,234,567" / "1 234 567" (U+202F).
pub fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let separator = match i18n::current().lang {
        Lang::En => ",",
        Lang::Fr => "\u{202F}",
    };
    let mut out = String::with_capacity(digits.len() + 8);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// A decimal with `places` digits after the language's decimal mark ("12.5" / "12,5").
pub fn decimal(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    match i18n::current().lang {
        Lang::En => text,
        Lang::Fr => text.replace('.', ","),
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
        Some(rate) if rate > 0.0 && rate < 0.1 => format!("< {} %", decimal(0.1, 1)),
        Some(rate) => format!("{} %", decimal(rate, 1)),
        None => "–".into(),
    }
}

/// "850 ms", "12.3 s", "4.0 min".
pub fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) if ms < 60_000 => format!("{} s", decimal(ms as f64 / 1000.0, 1)),
        Some(ms) if ms < 3_600_000 => format!("{} min", decimal(ms as f64 / 60_000.0, 1)),
        Some(ms) => format!("{} h", decimal(ms as f64 / 3_600_000.0, 1)),
    }
}

/// "3 d 4 h", "5 min", "12 s".
pub fn seconds(total: u64) -> String {
    match total {
        s if s >= 86_400 => i18n::tf(
            "time.days_hours",
            &[("d", &(s / 86_400)), ("h", &(s % 86_400 / 3600))],
        ),
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
        assert_eq!(format_time(Some(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(relative_time(Some(1_000), 61_000), "1m ago");
        assert_eq!(relative_time(Some(7_300_000), 100_000), "in 2h");
        assert_eq!(relative_time(None, 0), "");
        assert_eq!(number(1_234_567), "1,234,567");
        assert_eq!(number(-12), "-12");
        assert_eq!(percent(Some(2.5)), "2.5 %");
    }

    #[tokio::test]
    async fn french_formats_and_time_zones() {
        let paris = i18n::Locale {
            lang: Lang::Fr,
            tz: chrono_tz::Europe::Paris,
        };
        // 2026-11-22 14:05:03 UTC.
        let ms = Some(1_795_356_303_000);
        assert_eq!(
            format_time_in(ms, Lang::En, Tz::UTC),
            "2026-11-22 14:05:03 UTC"
        );
        let (time, ago, later, n, rate, took) = i18n::run_with(paris, async move {
            (
                format_time(ms),
                relative_time(Some(1_000), 181_000),
                relative_time(Some(7_300_000), 100_000),
                number(1_234_567),
                percent(Some(2.5)),
                duration(Some(12_300)),
            )
        })
        .await;
        assert_eq!(time, "22/11/2026 15:05:03 CET");
        assert_eq!(ago, "il y a 3\u{a0}min");
        assert_eq!(later, "dans 2\u{a0}h");
        assert_eq!(n, "1\u{202F}234\u{202F}567");
        assert_eq!(rate, "2,5 %");
        assert_eq!(took, "12,3 s");
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
