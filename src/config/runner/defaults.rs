//! `[queues.defaults]`: the default options of the jobs bullring adds to a queue, checked, and
//! [`merge_defaults`], which fills a job's missing options from them.

use bullmq::JobOptions;
use bullmq::types::{BackoffStrategy, KeepJobs, RemoveOnFinish};

use super::file::{BackoffFile, KeepFile, QueueDefaultsFile};
use crate::config::error::{ConfigError, bad};

fn keep(policy: &KeepFile) -> RemoveOnFinish {
    match policy {
        KeepFile::Flag(flag) => RemoveOnFinish::Bool(*flag),
        KeepFile::Count(count) => RemoveOnFinish::Count(*count),
        KeepFile::Policy(p) => RemoveOnFinish::Options(KeepJobs {
            // BullMQ's scripts read `age` in seconds.
            age: p.age_secs,
            count: p.count,
            limit: None,
        }),
    }
}

pub(super) fn job_defaults(
    setting: &str,
    file: &QueueDefaultsFile,
) -> Result<JobOptions, ConfigError> {
    if file.attempts == Some(0) {
        return Err(bad(&format!("{setting} attempts"), "must be at least 1"));
    }
    if file.priority.is_some_and(|p| p > 2_097_152) {
        return Err(bad(&format!("{setting} priority"), "at most 2097152"));
    }
    if let Some(KeepFile::Policy(p)) = &file.remove_on_complete
        && p.count.is_none()
        && p.age_secs.is_none()
    {
        return Err(bad(
            &format!("{setting} remove_on_complete"),
            "give count, age_secs or both",
        ));
    }
    Ok(JobOptions {
        attempts: file.attempts,
        backoff: file.backoff.as_ref().map(|b| match b {
            BackoffFile::Fixed { delay_ms } => BackoffStrategy::Fixed(*delay_ms),
            BackoffFile::Exponential { delay_ms } => BackoffStrategy::Exponential(*delay_ms),
        }),
        remove_on_complete: file.remove_on_complete.as_ref().map(keep),
        remove_on_fail: file.remove_on_fail.as_ref().map(keep),
        priority: file.priority,
        delay: file.delay_ms,
        keep_logs: file.keep_logs,
        stack_trace_limit: file.stack_trace_limit,
        ..JobOptions::default()
    })
}

/// Fill the options a job was not given from the queue's defaults.
pub fn merge_defaults(mut opts: JobOptions, defaults: &JobOptions) -> JobOptions {
    macro_rules! fill {
        ($($field:ident),*) => {$(
            if opts.$field.is_none() {
                opts.$field = defaults.$field.clone();
            }
        )*};
    }
    fill!(
        attempts,
        backoff,
        remove_on_complete,
        remove_on_fail,
        priority,
        delay,
        keep_logs,
        stack_trace_limit
    );
    opts
}
