//! One `[[schedulers]]` entry checked: cron or interval (not both), a cron pattern the engine
//! accepts in a time zone that exists, dates that parse and are in order.

use serde_json::Value;

use super::declared::DeclaredQueues;
use super::file::SchedulerFile;
use super::spec::SchedulerSpec;
use crate::config::error::{ConfigError, bad};

/// Why a cron pattern cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CronError {
    #[error("{pattern:?} is not a cron pattern")]
    Pattern {
        pattern: String,
        #[source]
        source: croner::errors::CronError,
    },
    #[error("unknown time zone {tz:?} (an IANA name such as Europe/Paris)")]
    TimeZone {
        tz: String,
        #[source]
        source: chrono_tz::ParseError,
    },
    #[error("{pattern:?} never fires")]
    NeverFires {
        pattern: String,
        #[source]
        source: croner::errors::CronError,
    },
}

/// Cron patterns as the engine parses them: 5 or 6 fields (seconds optional).
pub fn check_cron(pattern: &str, tz: Option<&str>) -> Result<(), CronError> {
    use croner::parser::{CronParser, Seconds, Year};
    let cron = CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(pattern)
        .map_err(|source| CronError::Pattern {
            pattern: pattern.into(),
            source,
        })?;
    let now = chrono::Utc::now();
    let next = match tz {
        Some(tz) => {
            let zone: chrono_tz::Tz = tz.parse().map_err(|source| CronError::TimeZone {
                tz: tz.into(),
                source,
            })?;
            cron.find_next_occurrence(&now.with_timezone(&zone), false)
                .map(|_| ())
        }
        None => cron.find_next_occurrence(&now, false).map(|_| ()),
    };
    next.map_err(|source| CronError::NeverFires {
        pattern: pattern.into(),
        source,
    })
}

/// A date given as text: Unix milliseconds or an RFC 3339 date such as 2026-12-01T00:00:00Z.
pub fn date_text_ms(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<u64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|date| u64::try_from(date.timestamp_millis()).ok())
        .ok_or_else(|| format!("{text:?} is not an RFC 3339 date such as 2026-12-01T00:00:00Z"))
}

/// `start_date` / `end_date`: Unix milliseconds, an RFC 3339 string, or a TOML date-time with
/// an offset.
fn date_ms(setting: &str, value: &toml::Value) -> Result<u64, ConfigError> {
    let (text, problem) = match value {
        toml::Value::Integer(ms) if *ms >= 0 => return Ok(*ms as u64),
        toml::Value::String(text) => (
            text.clone(),
            format!("{text:?} is not an RFC 3339 date such as 2026-12-01T00:00:00Z"),
        ),
        toml::Value::Datetime(date) => (
            date.to_string(),
            format!("{date} needs a time and an offset, such as 2026-12-01T00:00:00Z"),
        ),
        other => {
            return Err(bad(
                setting,
                format!("{other} is neither a date nor Unix milliseconds"),
            ));
        }
    };
    let date = chrono::DateTime::parse_from_rfc3339(&text)
        .map_err(|e| ConfigError::caused_by(setting, &problem, e))?;
    u64::try_from(date.timestamp_millis()).map_err(|e| ConfigError::caused_by(setting, problem, e))
}

pub(super) fn scheduler_spec(
    number: usize,
    file: &SchedulerFile,
    declared: &DeclaredQueues,
) -> Result<SchedulerSpec, ConfigError> {
    let label = format!("[[schedulers]] #{number} (id {:?})", file.id);
    if file.id.trim().is_empty() {
        return Err(bad(&format!("[[schedulers]] #{number} id"), "is empty"));
    }
    declared.require(&label, &file.queue)?;
    match (&file.cron, file.every_ms) {
        (Some(_), Some(_)) => return Err(bad(&label, "give cron or every_ms, not both")),
        (None, None) => return Err(bad(&label, "needs cron or every_ms")),
        (None, Some(0)) => return Err(bad(&format!("{label} every_ms"), "must be at least 1")),
        (None, Some(_)) if file.tz.is_some() => {
            return Err(bad(&format!("{label} tz"), "applies to cron only"));
        }
        (Some(cron), None) => {
            check_cron(cron, file.tz.as_deref())
                .map_err(|e| ConfigError::caused_by(format!("{label} cron"), e.to_string(), e))?;
        }
        (None, Some(_)) => {}
    }
    let start_date = file
        .start_date
        .as_ref()
        .map(|v| date_ms(&format!("{label} start_date"), v))
        .transpose()?;
    let end_date = file
        .end_date
        .as_ref()
        .map(|v| date_ms(&format!("{label} end_date"), v))
        .transpose()?;
    if let (Some(start), Some(end)) = (start_date, end_date)
        && end <= start
    {
        return Err(bad(&format!("{label} end_date"), "is not after start_date"));
    }
    if file.immediately == Some(true) && start_date.is_some() {
        return Err(bad(&label, "give immediately or start_date, not both"));
    }
    if file.limit == Some(0) {
        return Err(bad(&format!("{label} limit"), "must be at least 1"));
    }
    let data = file
        .data
        .clone()
        .unwrap_or(Value::Object(Default::default()));
    Ok(SchedulerSpec {
        id: file.id.clone(),
        queue: file.queue.clone(),
        job_name: file.job_name.clone().unwrap_or_else(|| file.id.clone()),
        repeat: bullmq::job_scheduler::RepeatOptions {
            pattern: file.cron.clone(),
            every: file.every_ms,
            limit: file.limit,
            immediately: file.immediately,
            start_date,
            end_date,
            tz: file.tz.clone(),
            ..Default::default()
        },
        data,
    })
}
