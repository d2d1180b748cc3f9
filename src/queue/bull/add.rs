//! Adding a job to a Bull queue as Bull's `Queue#add` does: Bull's `opts` shape (plain names,
//! `attempts` 1 and `delay` 0 by default, `timestamp`, a numeric `backoff` normalized to
//! `{type: "fixed", delay}`), the job hash Bull writes (`name`, `data`, `opts`, `timestamp`,
//! `delay`, `priority`), then `delayed` or the waiting list. Options are checked before anything
//! is written: one Bull does not have (flows, deduplication ...) is a 400 that says so.

use bullmq::JobOptions;
use bullmq::types::{BackoffStrategy, RemoveOnFinish};
use serde_json::{Map, Value, json};

use super::{BullActions, keys, now_ms, scripts};
use crate::queue::action::Action;
use crate::queue::error::{QueueError, Result};
use crate::queue::model::QueueRef;
use crate::queue::op::{NewJob, Outcome};
use crate::text::Said;
use crate::text::catalog;

/// The job options Bull 3/4 has and bullring sets when it adds a job.
const BULL_OPTIONS: [&str; 11] = [
    "priority",
    "delay",
    "attempts",
    "backoff",
    "lifo",
    "timeout",
    "jobId",
    "removeOnComplete",
    "removeOnFail",
    "stackTraceLimit",
    "preventParsingData",
];

/// Options only BullMQ has: the reason each is refused for a Bull queue.
const BULLMQ_ONLY: [(&str, &str); 11] = [
    ("parent", "flows"),
    ("failParentOnFailure", "flows"),
    ("ignoreDependencyOnFailure", "flows"),
    ("removeDependencyOnFailure", "flows"),
    ("continueParentOnFailure", "flows"),
    ("deduplication", "deduplication"),
    ("keepLogs", "log_limit"),
    ("sizeLimit", "size_limit"),
    ("telemetry", "telemetry"),
    ("repeatJobKey", "schedulers"),
    ("prevMillis", "schedulers"),
];

/// The catalog key naming the BullMQ feature an option of [`BULLMQ_ONLY`] belongs to.
fn feature_key(feature: &str) -> String {
    format!("check.bull.feature.{feature}")
}

/// Options that tie a job to its own identity or schedule: a duplicate does not copy them.
pub(super) const IDENTITY_OPTIONS: [&str; 5] =
    ["jobId", "repeat", "timestamp", "prevMillis", "debounce"];

/// A job ready for Bull's add script.
#[derive(Debug, PartialEq)]
struct Prepared {
    custom_id: String,
    opts: Map<String, Value>,
    timestamp: u64,
    delay: u64,
    priority: u64,
    lifo: bool,
}

/// A non-negative integer option (`None` when absent), or a 400 naming it.
fn whole(opts: &Map<String, Value>, name: &str) -> Result<Option<u64>> {
    match opts.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            QueueError::InvalidInput(
                Said::new("check.bull.whole")
                    .with("name", name)
                    .with("value", value),
            )
        }),
    }
}

/// Check options given for a new job: only Bull's, each of the type Bull reads.
fn check(opts: &Map<String, Value>) -> Result<()> {
    for key in opts.keys() {
        if let Some((_, feature)) = BULLMQ_ONLY.iter().find(|(name, _)| name == key) {
            return Err(QueueError::InvalidInput(
                Said::new("check.bull.bullmq_only")
                    .with("name", key)
                    .with_each("what", |lang| {
                        catalog::text(lang, &feature_key(feature)).to_string()
                    }),
            ));
        }
        if key == "repeat" || key == "debounce" {
            return Err(QueueError::InvalidInput(
                Said::new("check.bull.no_repeat").with("name", key),
            ));
        }
        if !BULL_OPTIONS.contains(&key.as_str()) {
            return Err(QueueError::InvalidInput(
                Said::new("check.bull.unknown_option")
                    .with("name", key)
                    .with("options", BULL_OPTIONS.join(", ")),
            ));
        }
    }
    if whole(opts, "attempts")? == Some(0) {
        return Err(QueueError::InvalidInput(Said::new("check.bull.attempts")));
    }
    for name in ["priority", "timeout", "stackTraceLimit"] {
        whole(opts, name)?;
    }
    for name in ["lifo", "preventParsingData"] {
        if opts
            .get(name)
            .is_some_and(|v| !v.is_boolean() && !v.is_null())
        {
            return Err(QueueError::InvalidInput(
                Said::new("check.bull.boolean").with("name", name),
            ));
        }
    }
    for name in ["removeOnComplete", "removeOnFail"] {
        match opts.get(name) {
            None | Some(Value::Null | Value::Bool(_)) => {}
            Some(Value::Number(n)) if n.is_u64() => {}
            Some(Value::Object(keep))
                if keep
                    .iter()
                    .all(|(k, v)| (k == "age" || k == "count") && v.is_u64()) => {}
            Some(other) => {
                return Err(QueueError::InvalidInput(
                    Said::new("check.bull.remove_on")
                        .with("name", name)
                        .with("value", other),
                ));
            }
        }
    }
    match opts.get("backoff") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.is_u64() => {}
        Some(Value::Object(b))
            if matches!(
                b.get("type").and_then(Value::as_str),
                Some("fixed" | "exponential")
            ) && b.get("delay").is_none_or(Value::is_u64) => {}
        Some(other) => {
            return Err(QueueError::InvalidInput(
                Said::new("check.bull.backoff").with("value", other),
            ));
        }
    }
    match opts.get("jobId") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Number(n)) if n.is_u64() => Ok(()),
        Some(Value::String(id)) => check_job_id(id),
        Some(other) => Err(QueueError::InvalidInput(
            Said::new("check.bull.job_id_type").with("value", other),
        )),
    }
}

/// A custom id must not be empty, contain `:` (Bull's job keys are `prefix:queue:id`, and a
/// job's lock and logs hang off them), or be the name of one of the queue's own keys.
fn check_job_id(id: &str) -> Result<()> {
    if id.is_empty() || id.contains(':') {
        return Err(QueueError::InvalidInput(
            Said::new("check.bull.job_id_form").with("id", format!("{id:?}")),
        ));
    }
    if keys::OWN_KEYS.contains(&id) {
        return Err(QueueError::InvalidInput(
            Said::new("check.bull.job_id_key").with("id", format!("{id:?}")),
        ));
    }
    Ok(())
}

/// The options as Bull's `Job` stores them, and the hash fields and placement they give.
fn prepare(mut opts: Map<String, Value>, now: u64) -> Result<Prepared> {
    let attempts = whole(&opts, "attempts")?.unwrap_or(1);
    let delay = whole(&opts, "delay").unwrap_or(None).unwrap_or(0);
    opts.insert("attempts".into(), Value::from(attempts));
    opts.insert("delay".into(), Value::from(delay));
    let timestamp = now;
    opts.insert("timestamp".into(), Value::from(timestamp));
    if let Some(ms) = opts.get("backoff").and_then(Value::as_u64) {
        let mut fixed = Map::new();
        fixed.insert("type".into(), Value::from("fixed"));
        fixed.insert("delay".into(), Value::from(ms));
        opts.insert("backoff".into(), Value::Object(fixed));
    }
    let custom_id = match opts.get("jobId") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let priority = whole(&opts, "priority").unwrap_or(None).unwrap_or(0);
    let lifo = opts.get("lifo") == Some(&Value::Bool(true));
    Ok(Prepared {
        custom_id,
        opts,
        timestamp,
        delay,
        priority,
        lifo,
    })
}

/// A queue's `[queues.defaults]` as Bull job options (`keep_logs` has no Bull equivalent and a
/// custom backoff no built-in one: both are left out).
pub fn bull_defaults(defaults: &JobOptions) -> Map<String, Value> {
    let keep = |policy: &RemoveOnFinish| match policy {
        RemoveOnFinish::Bool(flag) => json!(flag),
        RemoveOnFinish::Count(count) => json!(count),
        RemoveOnFinish::Options(keep) => {
            let mut map = Map::new();
            if let Some(age) = keep.age {
                map.insert("age".into(), json!(age));
            }
            if let Some(count) = keep.count {
                map.insert("count".into(), json!(count));
            }
            Value::Object(map)
        }
    };
    let mut opts = Map::new();
    let mut set = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            opts.insert(name.into(), value);
        }
    };
    set("attempts", defaults.attempts.map(|n| json!(n)));
    set(
        "backoff",
        defaults.backoff.as_ref().and_then(|b| match b {
            BackoffStrategy::Fixed(ms) => Some(json!({"type": "fixed", "delay": ms})),
            BackoffStrategy::Exponential(ms) => Some(json!({"type": "exponential", "delay": ms})),
            BackoffStrategy::Custom(_) => None,
        }),
    );
    set(
        "removeOnComplete",
        defaults.remove_on_complete.as_ref().map(keep),
    );
    set("removeOnFail", defaults.remove_on_fail.as_ref().map(keep));
    set("priority", defaults.priority.map(|n| json!(n)));
    set("delay", defaults.delay.map(|n| json!(n)));
    set(
        "stackTraceLimit",
        defaults.stack_trace_limit.map(|n| json!(n)),
    );
    opts
}

/// The options given as an object (none: `{}`), or a 400.
fn object(opts: Value) -> Result<Map<String, Value>> {
    match opts {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        other => Err(QueueError::InvalidInput(
            Said::new("check.opts_object").with("value", other),
        )),
    }
}

impl BullActions {
    /// Add a job with Bull's options, checked first, over the queue's `[queues.defaults]`. A job
    /// whose custom id is taken already is not added, as Bull's `Queue#add` returns the existing
    /// job and adds nothing.
    pub(super) async fn add(&self, queue: &QueueRef, job: NewJob) -> Result<Outcome> {
        if job.name.trim().is_empty() {
            return Err(QueueError::InvalidInput(Said::new("check.job_name")));
        }
        let given = object(job.opts)?;
        check(&given)?;
        // As Bull's `Queue#add`: the queue's defaults, under the options given.
        let mut opts = self.defaults_of(&queue.name);
        opts.extend(given);
        self.insert(queue, &job.name, &job.data, prepare(opts, now_ms())?)
            .await
    }

    /// Add a job whose options come from a stored Bull job (a duplicate): taken as Bull stored
    /// them, without refusing options bullring would not set itself.
    pub(super) async fn add_as_stored(&self, queue: &QueueRef, job: NewJob) -> Result<Outcome> {
        let opts = object(job.opts).unwrap_or_default();
        self.insert(queue, &job.name, &job.data, prepare(opts, now_ms())?)
            .await
    }

    async fn insert(
        &self,
        queue: &QueueRef,
        name: &str,
        data: &Value,
        job: Prepared,
    ) -> Result<Outcome> {
        let run_at = if job.delay > 0 {
            job.timestamp + job.delay
        } else {
            0
        };
        let mut call = scripts::ADD_JOB.prepare_invoke();
        call.key(keys::base(queue))
            .arg(&job.custom_id)
            .arg(name)
            .arg(data.to_string())
            .arg(Value::Object(job.opts).to_string())
            .arg(job.timestamp)
            .arg(job.delay)
            .arg(run_at)
            .arg(job.priority)
            .arg(if job.lifo { "RPUSH" } else { "LPUSH" })
            .arg(self.token());
        let (id, added): (String, u64) =
            scripts::run(self.reader().redis(), &scripts::ADD_JOB, &call).await?;
        let message = if added == 1 {
            format!("Job {id} was added.")
        } else {
            format!("Job {id} already exists; nothing was added.")
        };
        Ok(Outcome::new(
            Action::AddJob,
            queue,
            vec![id],
            added,
            message,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        object(value).unwrap()
    }

    #[test]
    fn only_bulls_options_are_taken() {
        for (opts, says) in [
            (json!({"parent": {"id": "1", "queue": "q"}}), "no flows"),
            (json!({"deduplication": {"id": "x"}}), "no deduplication"),
            (json!({"repeat": {"every": 1000}}), "repeatable"),
            (json!({"lifo": "yes"}), "true or false"),
            (json!({"attempts": 0}), "at least 1"),
            (json!({"priority": -1}), "whole number"),
            (json!({"jobId": "a:b"}), "contain ':'"),
            (json!({"jobId": "meta-paused"}), "own keys"),
            (json!({"backoff": {"type": "custom"}}), "backoff"),
            (json!({"bogus": 1}), "not a Bull job option"),
        ] {
            let err = check(&map(opts.clone())).unwrap_err().to_string();
            assert!(err.contains(says), "{opts}: {err}");
        }
        assert!(object(json!([1])).is_err());
        check(&map(
            json!({"jobId": 42, "attempts": 3, "backoff": 2000, "lifo": true,
            "removeOnComplete": {"age": 86400, "count": 1000}, "removeOnFail": 10}),
        ))
        .unwrap();
    }

    #[test]
    fn queue_defaults_become_bulls_options() {
        use bullmq::types::KeepJobs;
        let defaults = JobOptions {
            attempts: Some(3),
            backoff: Some(BackoffStrategy::Exponential(2000)),
            remove_on_complete: Some(RemoveOnFinish::Options(KeepJobs {
                age: Some(86400),
                count: Some(1000),
                limit: None,
            })),
            remove_on_fail: Some(RemoveOnFinish::Bool(false)),
            keep_logs: Some(10),
            ..JobOptions::default()
        };
        let opts = Value::Object(bull_defaults(&defaults));
        assert_eq!(
            opts,
            json!({"attempts": 3, "backoff": {"type": "exponential", "delay": 2000},
                "removeOnComplete": {"age": 86400, "count": 1000}, "removeOnFail": false})
        );
        check(&map(opts)).unwrap();
    }

    #[test]
    fn options_are_stored_as_bulls_job_stores_them() {
        let job = prepare(map(json!({"backoff": 2000, "jobId": 42, "priority": 3})), 7).unwrap();
        assert_eq!(job.custom_id, "42");
        assert_eq!(job.priority, 3);
        assert_eq!(
            Value::Object(job.opts),
            json!({"attempts": 1, "delay": 0, "timestamp": 7, "jobId": 42, "priority": 3,
                "backoff": {"type": "fixed", "delay": 2000}})
        );
        let delayed = prepare(map(json!({"delay": 5, "lifo": true})), 7).unwrap();
        assert_eq!(
            (delayed.delay, delayed.lifo, delayed.custom_id.as_str()),
            (5, true, "")
        );
    }

    /// Each BullMQ-only option names its feature in every catalog, and the English words are the
    /// ones the JSON API has always given.
    #[test]
    fn bullmq_only_options_name_their_feature_in_every_language() {
        use crate::text::Lang;
        for (name, feature) in BULLMQ_ONLY {
            for lang in Lang::ALL {
                assert!(
                    catalog::of(lang).contains_key(&feature_key(feature)),
                    "{name}: {feature} in {lang:?}"
                );
            }
        }
        let err = check(&map(json!({"keepLogs": 5}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "opts.keepLogs: Bull queues have no a per-job log limit (a BullMQ option); it cannot \
             be set on a job of a Bull queue"
        );
        let QueueError::InvalidInput(said) = err else {
            panic!("not a check of input")
        };
        assert!(said.in_lang(Lang::Fr).contains("limite de logs par job"));
    }
}
