//! What a handler sees of a job ([`RunnerJob`]) and what it answers with ([`JobResult`]):
//! the shared contract of the webhook, command and closure handlers.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// The JSON document a webhook receives as its body and a command on its standard input.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobDocument {
    pub id: String,
    pub name: String,
    pub data: Value,
    /// Attempts already made before this one (0 on the first run), as BullMQ counts them.
    pub attempts_made: u32,
    /// When the job was created, Unix milliseconds.
    pub timestamp: u64,
    pub queue: String,
}

/// A job being processed, handed to handlers and closures.
#[derive(Debug, Clone)]
pub struct RunnerJob {
    doc: JobDocument,
    backend: Backend,
}

/// Where progress and log lines go.
#[derive(Debug, Clone)]
enum Backend {
    /// A job in Redis, through the engine.
    Engine(Box<bullmq::Job>),
    /// A job run inline (`Producer` in inline mode): nothing is stored; log lines are kept for
    /// the caller.
    Inline {
        max_attempts: u32,
        logs: Arc<Mutex<Vec<String>>>,
    },
}

impl RunnerJob {
    pub(crate) fn new(job: bullmq::Job, queue: &str) -> RunnerJob {
        let doc = JobDocument {
            id: job.id().to_string(),
            name: job.name().to_string(),
            data: job.data().clone(),
            attempts_made: job.attempts_made(),
            timestamp: job.timestamp(),
            queue: queue.to_string(),
        };
        RunnerJob {
            doc,
            backend: Backend::Engine(Box::new(job)),
        }
    }

    /// A job run in this process without Redis (inline mode).
    pub(crate) fn inline(
        doc: JobDocument,
        max_attempts: u32,
        logs: Arc<Mutex<Vec<String>>>,
    ) -> RunnerJob {
        RunnerJob {
            doc,
            backend: Backend::Inline { max_attempts, logs },
        }
    }

    pub fn id(&self) -> &str {
        &self.doc.id
    }

    pub fn name(&self) -> &str {
        &self.doc.name
    }

    pub fn data(&self) -> &Value {
        &self.doc.data
    }

    pub fn queue(&self) -> &str {
        &self.doc.queue
    }

    /// Attempts made before this one (0 on the first run).
    pub fn attempts_made(&self) -> u32 {
        self.doc.attempts_made
    }

    /// This attempt's number, starting at 1.
    pub fn attempt(&self) -> u32 {
        self.doc.attempts_made + 1
    }

    /// Attempts the job may make in total (1 when not set).
    pub fn max_attempts(&self) -> u32 {
        match &self.backend {
            Backend::Engine(job) => job.opts().attempts.unwrap_or(1).max(1),
            Backend::Inline { max_attempts, .. } => *max_attempts,
        }
    }

    pub fn timestamp(&self) -> u64 {
        self.doc.timestamp
    }

    pub fn document(&self) -> &JobDocument {
        &self.doc
    }

    /// Set the job's progress (a number or any JSON value), as Node's `job.updateProgress`
    /// (inline: only logged at debug level).
    pub async fn progress(&self, progress: Value) -> Result<(), bullmq::Error> {
        let Backend::Engine(job) = &self.backend else {
            tracing::debug!(job_id = %self.doc.id, %progress, "inline job progress");
            return Ok(());
        };
        let value = match progress {
            Value::Number(n) => match n.as_f64() {
                Some(f) => bullmq::JobProgress::Number(f),
                None => bullmq::JobProgress::Object(Value::Number(n)),
            },
            other => bullmq::JobProgress::Object(other),
        };
        job.clone().update_progress(value).await
    }

    /// Add a line to the job's log, as Node's `job.log` (inline: kept for `Added::Ran`).
    pub async fn log(&self, line: &str) -> Result<(), bullmq::Error> {
        match &self.backend {
            Backend::Engine(job) => job.log(line).await.map(|_| ()),
            Backend::Inline { logs, .. } => {
                if let Ok(mut logs) = logs.lock() {
                    logs.push(line.to_string());
                }
                Ok(())
            }
        }
    }
}

/// Why a job failed: a one-line reason (BullMQ's `failedReason`), a longer description recorded
/// as a stack trace entry, and whether BullMQ's attempts and backoff apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub reason: String,
    pub detail: Option<String>,
    pub retry: bool,
}

impl JobError {
    /// A failure after which the job is retried while it has attempts left.
    pub fn retry(reason: impl Into<String>) -> JobError {
        JobError {
            reason: reason.into(),
            detail: None,
            retry: true,
        }
    }

    /// A failure that moves the job to failed at once, whatever its attempts.
    pub fn fatal(reason: impl Into<String>) -> JobError {
        JobError {
            reason: reason.into(),
            detail: None,
            retry: false,
        }
    }

    /// More lines for the stack trace entry (a response body, the tail of stderr ...).
    pub fn with_detail(mut self, detail: impl Into<String>) -> JobError {
        self.detail = Some(detail.into());
        self
    }

    /// The stack trace entry: the reason, then the detail, indented.
    pub fn stack_entry(&self, handler: &str, job: &JobDocument, elapsed: Duration) -> String {
        let mut entry = format!("Error: {}\n", self.reason);
        if let Some(detail) = &self.detail {
            for line in detail.lines() {
                entry.push_str("    ");
                entry.push_str(line);
                entry.push('\n');
            }
        }
        entry.push_str(&format!(
            "    at bullring {handler} handler (queue {}, job {}, attempt {}, after {} ms{})",
            job.queue,
            job.id,
            job.attempts_made + 1,
            elapsed.as_millis(),
            if self.retry { "" } else { ", not retried" }
        ));
        entry
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for JobError {}

impl From<bullmq::Error> for JobError {
    fn from(err: bullmq::Error) -> Self {
        JobError::retry(err.to_string())
    }
}

impl From<serde_json::Error> for JobError {
    fn from(err: serde_json::Error) -> Self {
        JobError::fatal(err.to_string())
    }
}

/// What a handler answers: the job's return value, or why it failed.
pub type JobResult = Result<Value, JobError>;

/// The last `max` bytes of `text`, cut at a character boundary, with a marker when cut.
pub fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("...{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_entries_carry_the_detail() {
        let doc = JobDocument {
            id: "7".into(),
            name: "n".into(),
            data: Value::Null,
            attempts_made: 1,
            timestamp: 0,
            queue: "q".into(),
        };
        let entry = JobError::fatal("answered 404")
            .with_detail("body: nope\nsecond")
            .stack_entry("webhook", &doc, Duration::from_millis(12));
        assert!(entry.starts_with("Error: answered 404\n    body: nope\n    second\n"));
        assert!(entry.contains("job 7, attempt 2, after 12 ms, not retried"));
        assert_eq!(tail("héllo", 4), "...llo");
        assert_eq!(tail("abc", 10), "abc");
    }
}
