//! One operation on one queue, its input and what it did: what a queue library implements
//! ([`super::actions::Actions::perform`] for BullMQ) and what [`super::command`] builds
//! commands from. A new job's Node-style options are checked here, before anything is written.

use bullmq::JobOptions;
use serde::Serialize;
use serde_json::Value;

use super::action::Action;
use super::error::{QueueError, Result};
use super::model::{DEFAULT_CONNECTION, JobState, QueueRef};
pub use super::schedule_edit::SchedulerEdit;
use crate::text::Said;

/// One operation on one queue: what a queue library implements.
#[derive(Debug, Clone)]
pub enum Op {
    Retry(String),
    Promote(String),
    Remove {
        id: String,
        children: bool,
    },
    Duplicate(String),
    EditData {
        id: String,
        data: Value,
    },
    AddJob(NewJob),
    Pause,
    Resume,
    RetryFailed,
    PromoteDelayed,
    Clean {
        state: JobState,
        grace_ms: u64,
        limit: u64,
    },
    Drain {
        delayed: bool,
    },
    Obliterate {
        force: bool,
    },
    RemoveScheduler(String),
    EditScheduler {
        id: String,
        edit: SchedulerEdit,
    },
    RunScheduler(String),
    /// Set (`Some`) or clear (`None`) the queue's global concurrency.
    GlobalConcurrency(Option<u64>),
    RemoveOrphans,
    /// Add these jobs, read and checked whole from an NDJSON text (`super::ndjson::parse`).
    Import(Vec<Line>),
}

impl Op {
    pub fn action(&self) -> Action {
        match self {
            Op::Retry(_) => Action::Retry,
            Op::Promote(_) => Action::Promote,
            Op::Remove { .. } => Action::Remove,
            Op::Duplicate(_) => Action::Duplicate,
            Op::EditData { .. } => Action::EditData,
            Op::AddJob(_) => Action::AddJob,
            Op::Pause => Action::Pause,
            Op::Resume => Action::Resume,
            Op::RetryFailed => Action::RetryFailed,
            Op::PromoteDelayed => Action::PromoteDelayed,
            Op::Clean { .. } => Action::Clean,
            Op::Drain { .. } => Action::Drain,
            Op::Obliterate { .. } => Action::Obliterate,
            Op::RemoveScheduler(_) => Action::RemoveScheduler,
            Op::EditScheduler { .. } => Action::EditScheduler,
            Op::RunScheduler(_) => Action::RunScheduler,
            Op::GlobalConcurrency(Some(_)) => Action::SetConcurrency,
            Op::GlobalConcurrency(None) => Action::ClearConcurrency,
            Op::RemoveOrphans => Action::RemoveOrphans,
            Op::Import(_) => Action::Import,
        }
    }

    /// The operation [`Action::Bulk`] performs on each ticked job (`None` for other actions).
    pub fn on_ticked_job(action: Action, id: &str) -> Option<Op> {
        let id = id.to_string();
        match action {
            Action::Retry => Some(Op::Retry(id)),
            Action::Promote => Some(Op::Promote(id)),
            // Removing a parent removes its children, as in BullMQ.
            Action::Remove => Some(Op::Remove { id, children: true }),
            _ => None,
        }
    }

    /// The job it names, if any.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            Op::Retry(id)
            | Op::Promote(id)
            | Op::Duplicate(id)
            | Op::Remove { id, .. }
            | Op::EditData { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// One job to add, read from line `line` of an NDJSON text (`super::ndjson::parse`).
#[derive(Debug, Clone)]
pub struct Line {
    pub line: usize,
    pub name: String,
    pub data: Value,
    pub opts: JobOptions,
}

/// What an action did, for the flash message and the JSON API.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Serialized as its name (`retry`, `add-job` ...).
    pub action: Action,
    /// The connection acted on (`default`, or a `[[connections]]` name).
    pub connection: String,
    pub queue: String,
    pub prefix: String,
    /// Ids of the jobs acted on (or created), when the action names jobs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<String>,
    /// How many jobs were moved, removed or added.
    pub count: u64,
    /// One line for people: "Retried job 3.", "Moved 120 failed jobs to waiting."
    pub message: String,
    /// The queue group acted on, for an action on a group.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// The names of the queues acted on, for an action on a group.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<String>,
    /// The jobs a bulk action left alone, and why (in `message` too, in English).
    #[serde(skip)]
    pub not_done: Vec<crate::text::Said>,
}

impl Outcome {
    pub fn new(
        action: Action,
        queue: &QueueRef,
        jobs: Vec<String>,
        count: u64,
        message: String,
    ) -> Self {
        Outcome {
            action,
            connection: queue.connection.clone(),
            queue: queue.name.clone(),
            prefix: queue.prefix.clone(),
            jobs,
            count,
            message,
            group: String::new(),
            queues: Vec::new(),
            not_done: Vec::new(),
        }
    }

    /// The outcome of an action on the queues `queues` of the group `group`.
    pub fn of_group(
        action: Action,
        group: &str,
        queues: Vec<String>,
        count: u64,
        message: String,
    ) -> Self {
        Outcome {
            group: group.to_string(),
            queues,
            ..Outcome::everywhere(action, count, message)
        }
    }

    /// The outcome of an action on every queue (no queue, no job named).
    pub fn everywhere(action: Action, count: u64, message: String) -> Self {
        Outcome {
            action,
            connection: DEFAULT_CONNECTION.to_string(),
            queue: String::new(),
            prefix: String::new(),
            jobs: Vec::new(),
            count,
            message,
            group: String::new(),
            queues: Vec::new(),
            not_done: Vec::new(),
        }
    }
}

/// A new job, as the add-job form and API give it.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub name: String,
    pub data: Value,
    /// Node-style options (`jobId`, `delay`, `priority`, `attempts`, `backoff`, `removeOnComplete` ...).
    pub opts: Value,
}

/// Node-style options into the engine's, with a message naming what is wrong.
pub fn parse_options(opts: Value) -> Result<JobOptions> {
    let opts = match opts {
        Value::Null => return Ok(JobOptions::default()),
        Value::Object(map) => Value::Object(map),
        other => {
            return Err(QueueError::InvalidInput(
                Said::new("check.opts_object").with("value", other),
            ));
        }
    };
    let parsed: JobOptions = serde_json::from_value(opts)
        .map_err(|e| QueueError::InvalidInput(Said::new("check.opts_bad").with("detail", e)))?;
    if let Some(id) = &parsed.job_id {
        check_job_id(id)?;
    }
    if parsed.priority.is_some_and(|p| p > 2_097_152) {
        return Err(QueueError::InvalidInput(Said::new("check.priority_max")));
    }
    Ok(parsed)
}

/// The names of a queue's own keys (`prefix:queue:<name>`, BullMQ's key table; `delay` is a
/// legacy key that obliterate still removes). A job with one of them as its id would have its
/// hash at that key, so Node's BullMQ and bullring would mistake one for the other.
pub const QUEUE_KEY_NAMES: [&str; 21] = [
    "id",
    "meta",
    "wait",
    "paused",
    "active",
    "prioritized",
    "pc",
    "delayed",
    "delay",
    "waiting-children",
    "completed",
    "failed",
    "marker",
    "stalled",
    "stalled-check",
    "limiter",
    "events",
    "metrics",
    "repeat",
    "de",
    "dn",
];

/// A custom job id must not be empty, an integer (BullMQ's own ids are), contain `:` (job keys
/// are `prefix:queue:id`), or be the name of one of the queue's own keys.
pub fn check_job_id(id: &str) -> Result<()> {
    if id.is_empty() || id.parse::<i64>().is_ok() || id.contains(':') {
        return Err(QueueError::InvalidInput(
            Said::new("check.job_id_form").with("id", format!("{id:?}")),
        ));
    }
    if QUEUE_KEY_NAMES.contains(&id) {
        return Err(QueueError::InvalidInput(
            Said::new("check.job_id_key")
                .with("quoted", format!("{id:?}"))
                .with("id", id),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_options() {
        assert!(parse_options(serde_json::json!({"jobId": "42"})).is_err());
        assert!(parse_options(serde_json::json!({"jobId": "a:b"})).is_err());
        for reserved in ["meta", "wait", "stalled-check", "de", "events"] {
            let err = parse_options(serde_json::json!({ "jobId": reserved })).unwrap_err();
            assert!(err.to_string().contains("own keys"), "{reserved}: {err}");
        }
        assert!(parse_options(serde_json::json!({"jobId": "metadata"})).is_ok());
        assert!(parse_options(serde_json::json!({"attempts": "three"})).is_err());
        assert!(parse_options(serde_json::json!([1])).is_err());
        let ok = parse_options(serde_json::json!({"jobId": "attachment-1", "attempts": 3, "backoff": {"type": "exponential", "delay": 5000}, "removeOnComplete": 100})).unwrap();
        assert_eq!(ok.attempts, Some(3));
    }
}
