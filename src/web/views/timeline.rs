//! A job's timeline on its page: added, delayed until, each attempt started and failed (with
//! its reason), finished, as far as the job's own fields tell.
//!
//! BullMQ keeps the start of the last attempt only (`processedOn`), the reason of the last
//! failure (`failedReason`) and one stack trace per failed attempt, oldest first, the oldest
//! dropped past `stackTraceLimit`; so earlier attempts have no time, and their reason is the
//! first line of their stack trace when it was kept.

use super::format::{excerpt, format_time, number};
use crate::queue::model::{Job, JobState};
use crate::web::i18n;

/// One step of the timeline. `kind` is its CSS class (`added`, `failed`, `completed` ...).
pub struct Step {
    pub kind: &'static str,
    pub what: String,
    /// "2026-01-01 10:00:00", empty when the fields do not tell.
    pub when: String,
    pub detail: String,
}

fn step(kind: &'static str, what: String, at: Option<i64>, detail: String) -> Step {
    Step {
        kind,
        what,
        when: format_time(at),
        detail,
    }
}

/// The steps of `job`, in `state`, oldest first.
pub fn timeline(job: &Job, state: Option<JobState>) -> Vec<Step> {
    let mut steps = Vec::new();
    steps.push(step(
        "added",
        i18n::t("timeline.added").into(),
        job.timestamp,
        String::new(),
    ));
    if job.delay > 0 {
        let until = job.timestamp.map(|t| t.saturating_add(job.delay));
        steps.push(step(
            "delayed",
            i18n::t("timeline.delayed_until").into(),
            until,
            i18n::tf("timeline.delay_of", &[("ms", &number(job.delay))]),
        ));
    }
    let made = job.attempts_made.max(0);
    let failed = if state == Some(JobState::Completed) {
        (made - 1).max(0)
    } else {
        made
    };
    // The attempt `processedOn` is the start of.
    let last_started = match state {
        _ if job.processed_on.is_none() => 0,
        Some(JobState::Active) => failed + 1,
        Some(JobState::Completed) => made.max(1),
        _ => failed,
    };
    let traces = &job.stacktrace;
    for attempt in 1..=failed {
        if attempt == last_started {
            steps.push(started(attempt, job.processed_on));
        }
        let last = attempt == failed;
        // Stack traces are the last failures', oldest first.
        let trace = usize::try_from(failed - attempt)
            .ok()
            .and_then(|back| traces.len().checked_sub(back + 1))
            .and_then(|i| traces.get(i));
        let reason = match (last, job.failed_reason.as_deref()) {
            (true, Some(reason)) => excerpt(reason, 300),
            _ => trace.map(|t| excerpt(t, 300)).unwrap_or_default(),
        };
        let at = (last && state == Some(JobState::Failed))
            .then_some(job.finished_on)
            .flatten();
        steps.push(step(
            "failed",
            i18n::tf("timeline.attempt_failed", &[("n", &attempt)]),
            at,
            reason,
        ));
    }
    if last_started > failed {
        steps.push(started(last_started, job.processed_on));
    }
    match state {
        Some(JobState::Completed) => steps.push(step(
            "completed",
            i18n::t("timeline.completed").into(),
            job.finished_on,
            String::new(),
        )),
        Some(JobState::Failed) => {}
        Some(other) => steps.push(step(
            "now",
            i18n::tf(
                "timeline.now",
                &[(
                    "state",
                    &i18n::catalog::lookup(
                        i18n::current().lang,
                        &format!("state.{}", other.as_str()),
                    )
                    .unwrap_or(other.as_str()),
                )],
            ),
            None,
            String::new(),
        )),
        None => {}
    }
    steps
}

fn started(attempt: i64, at: Option<i64>) -> Step {
    step(
        "started",
        i18n::tf("timeline.attempt_started", &[("n", &attempt)]),
        at,
        String::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(steps: &[Step]) -> Vec<(String, String)> {
        steps
            .iter()
            .map(|s| (s.what.clone(), s.detail.clone()))
            .collect()
    }

    #[test]
    fn a_job_that_failed_twice_then_completed() {
        let job = Job {
            timestamp: Some(1_000),
            processed_on: Some(5_000),
            finished_on: Some(6_000),
            attempts_made: 3,
            failed_reason: Some("second".into()),
            stacktrace: vec!["Error: first\n at x".into(), "Error: second\n at y".into()],
            ..Job::default()
        };
        let steps = timeline(&job, Some(JobState::Completed));
        assert_eq!(
            labels(&steps),
            vec![
                ("Added".into(), String::new()),
                ("Attempt 1 failed".into(), "Error: first".into()),
                ("Attempt 2 failed".into(), "second".into()),
                ("Attempt 3 started".into(), String::new()),
                ("Completed".into(), String::new()),
            ]
        );
        assert_eq!(steps[3].when, format_time(Some(5_000)));
    }

    #[test]
    fn a_delayed_job_that_failed_for_good() {
        let job = Job {
            timestamp: Some(1_000),
            delay: 500,
            processed_on: Some(2_000),
            finished_on: Some(3_000),
            attempts_made: 2,
            failed_reason: Some("boom".into()),
            stacktrace: vec!["Error: boom".into()],
            ..Job::default()
        };
        let steps = timeline(&job, Some(JobState::Failed));
        assert_eq!(
            labels(&steps),
            vec![
                ("Added".into(), String::new()),
                ("Delayed until".into(), "a delay of 500 ms".into()),
                ("Attempt 1 failed".into(), String::new()),
                ("Attempt 2 started".into(), String::new()),
                ("Attempt 2 failed".into(), "boom".into()),
            ]
        );
        assert_eq!(steps[1].when, format_time(Some(1_500)));
        assert_eq!(steps[4].when, format_time(Some(3_000)));
    }

    #[test]
    fn a_waiting_job_says_so() {
        let job = Job {
            timestamp: Some(1),
            ..Job::default()
        };
        let steps = timeline(&job, Some(JobState::Waiting));
        assert_eq!(
            labels(&steps),
            vec![
                ("Added".into(), String::new()),
                ("Now waiting".into(), String::new())
            ]
        );
    }
}
