//! A job scheduler's new schedule, as the edit form and API give it, checked as the runner's
//! `[[schedulers]]` entries are (`crate::config::runner::schedule`): a cron pattern or an
//! interval (not both), a time zone that exists for a cron pattern only, a limit of at least 1,
//! an end date that parses and is still ahead.

use super::error::{QueueError, Result};
use crate::config::runner::schedule::{CronError, check_cron, date_text_ms};
use crate::text::Said;

/// The schedule fields an edit sets; the template (name, data, options) and the start date stay.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchedulerEdit {
    pub pattern: Option<String>,
    pub every: Option<u64>,
    pub tz: Option<String>,
    pub limit: Option<u64>,
    /// Unix milliseconds.
    pub end_date: Option<u64>,
}

/// The fields as typed (empty means not given).
#[derive(Debug, Clone, Default)]
pub struct TypedSchedule<'a> {
    pub pattern: Option<&'a str>,
    pub every: Option<&'a str>,
    pub tz: Option<&'a str>,
    pub limit: Option<&'a str>,
    pub end_date: Option<&'a str>,
}

fn given(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

fn whole(name: &str, text: Option<&str>) -> Result<Option<u64>> {
    given(text)
        .map(|t| match t.parse::<u64>() {
            Ok(0) | Err(_) => Err(QueueError::InvalidInput(
                Said::new("check.schedule.whole")
                    .with("name", name)
                    .with("text", format!("{t:?}")),
            )),
            Ok(n) => Ok(n),
        })
        .transpose()
}

/// A cron pattern the engine would not take, said as the runner's config check says it.
fn cron_refused(err: CronError) -> QueueError {
    let said = match err {
        CronError::Pattern { pattern, .. } => {
            Said::new("check.schedule.not_cron").with("pattern", format!("{pattern:?}"))
        }
        CronError::TimeZone { tz, .. } => {
            Said::new("check.schedule.unknown_tz").with("tz", format!("{tz:?}"))
        }
        CronError::NeverFires { pattern, .. } => {
            Said::new("check.schedule.never_fires").with("pattern", format!("{pattern:?}"))
        }
    };
    QueueError::InvalidInput(said)
}

impl SchedulerEdit {
    /// Check what was typed; `now_ms` is the time the end date must be after.
    pub fn parse(typed: &TypedSchedule<'_>, now_ms: u64) -> Result<SchedulerEdit> {
        let bad = |key: &'static str| QueueError::InvalidInput(Said::new(key));
        let pattern = given(typed.pattern).map(String::from);
        let every = whole("every", typed.every)?;
        let tz = given(typed.tz).map(String::from);
        match (&pattern, every) {
            (Some(_), Some(_)) => return Err(bad("check.schedule.both")),
            (None, None) => return Err(bad("check.schedule.neither")),
            (None, Some(_)) if tz.is_some() => {
                return Err(bad("check.schedule.tz_cron_only"));
            }
            (Some(pattern), None) => {
                check_cron(pattern, tz.as_deref()).map_err(cron_refused)?;
            }
            (None, Some(_)) => {}
        }
        let limit = whole("limit", typed.limit)?;
        let end_date = given(typed.end_date)
            .map(|t| {
                date_text_ms(t).map_err(|_| {
                    QueueError::InvalidInput(
                        Said::new("check.schedule.end_date_form").with("text", format!("{t:?}")),
                    )
                })
            })
            .transpose()?;
        if end_date.is_some_and(|end| end <= now_ms) {
            return Err(bad("check.schedule.end_date_past"));
        }
        Ok(SchedulerEdit {
            pattern,
            every,
            tz,
            limit,
            end_date,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        pattern: &str,
        every: &str,
        tz: &str,
        limit: &str,
        end: &str,
    ) -> Result<SchedulerEdit> {
        let typed = TypedSchedule {
            pattern: Some(pattern),
            every: Some(every),
            tz: Some(tz),
            limit: Some(limit),
            end_date: Some(end),
        };
        SchedulerEdit::parse(&typed, 1_700_000_000_000)
    }

    #[test]
    fn schedules_are_checked_as_the_runner_checks_them() {
        let edit = parse("0 3 * * *", "", "Europe/Paris", "5", "2030-01-01T00:00:00Z").unwrap();
        assert_eq!(edit.pattern.as_deref(), Some("0 3 * * *"));
        assert_eq!(edit.limit, Some(5));
        assert_eq!(edit.end_date, Some(1_893_456_000_000));
        assert_eq!(parse("", "60000", "", "", "").unwrap().every, Some(60_000));
        assert!(parse("0 3 * * *", "1000", "", "", "").is_err());
        assert!(parse("", "", "", "", "").is_err());
        assert!(parse("not cron", "", "", "", "").is_err());
        assert!(parse("0 3 * * *", "", "Mars/Olympus", "", "").is_err());
        assert!(parse("", "1000", "Europe/Paris", "", "").is_err());
        assert!(parse("", "0", "", "", "").is_err());
        assert!(parse("", "1000", "", "0", "").is_err());
        assert!(parse("", "1000", "", "", "yesterday").is_err());
        assert!(parse("", "1000", "", "", "2000-01-01T00:00:00Z").is_err());
    }
}
