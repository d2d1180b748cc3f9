//! Adding one job through the engine (BullMQ's own scripts: custom ids, deduplication, delays
//! and priorities behave as in Node), with the queue's `[queues.defaults]`: `bullring add` and
//! the producer's queue mode.

use std::time::Duration;

use bullmq::{Queue, QueueOptions};
use serde_json::{Value, json};

use crate::config::Config;
use crate::config::runner::merge_defaults;
use crate::queue::actions::parse_options;
use crate::queue::connection::{Redis, RedisSettings};
use crate::queue::error::QueueError;
use crate::queue::model::{Library, QueueRef};
use crate::queue::read::Reader;
use crate::text::Said;

pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of one added job (as `bullring add` takes them).
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    pub job_id: Option<String>,
    pub delay_ms: Option<u64>,
    pub priority: Option<u32>,
    pub attempts: Option<u32>,
    pub dedup_id: Option<String>,
    pub dedup_ttl_ms: Option<u64>,
}

/// `bullring add`: a job, its data as JSON text, and its options.
#[derive(Debug, Clone, Default)]
pub struct AddJob {
    pub queue: String,
    pub name: String,
    pub data: String,
    pub options: AddOptions,
}

pub(super) fn redis(config: &Config) -> Result<RedisSettings, QueueError> {
    config.redis.clone().ok_or_else(|| {
        QueueError::InvalidInput(Said::plain(
            "no Redis configured: pass --redis-url (or REDIS_URL, or redis_url in the config file)",
        ))
    })
}

pub(super) fn prefix(config: &Config) -> String {
    config.default_prefix().to_string()
}

pub(super) fn check_queue_name(name: &str) -> Result<(), QueueError> {
    if name.is_empty() || name.contains(':') {
        return Err(QueueError::InvalidInput(Said::plain(format!(
            "{name:?} is not a queue name (non-empty, no ':')"
        ))));
    }
    Ok(())
}

/// `Err` when `queue` is a Bull 3/4 queue (declared `library = "bull"`, or so by its keys: one
/// read round trip), before the engine opens it: the engine's writes would corrupt it.
pub(super) async fn refuse_bull(
    config: &Config,
    settings: &RedisSettings,
    queue: &str,
) -> Result<(), QueueError> {
    let refusal = |why: &str| {
        Err(QueueError::InvalidInput(Said::plain(format!(
            "queue {queue:?} is {why}: bullring adds jobs to BullMQ queues only (add to a Bull \
             queue with Bull's own Queue#add); nothing was written"
        ))))
    };
    match config.library(queue) {
        Some(Library::Bull) => return refusal("declared library = \"bull\""),
        Some(Library::BullMq) => return Ok(()),
        None => {}
    }
    let reader = Reader::new(Redis::new(settings.clone()), config.prefixes.clone());
    let found = reader
        .summaries(&[QueueRef::new(prefix(config), queue)])
        .await?;
    if found.iter().any(|s| s.detected == Some(Library::Bull)) {
        return refusal("a Bull queue (by its keys)");
    }
    Ok(())
}

/// Add one job; returns its id (the existing job's id when deduplicated).
pub async fn add(config: &Config, job: &AddJob) -> Result<String, QueueError> {
    check_queue_name(&job.queue)?;
    if job.name.trim().is_empty() {
        return Err(QueueError::InvalidInput(Said::plain(
            "NAME: a job needs a name",
        )));
    }
    let data: Value = serde_json::from_str(&job.data)
        .map_err(|e| QueueError::InvalidInput(Said::plain(format!("--data is not JSON: {e}"))))?;
    if job.options.dedup_ttl_ms.is_some() && job.options.dedup_id.is_none() {
        return Err(QueueError::InvalidInput(Said::plain(
            "--dedup-ttl-ms needs --dedup-id",
        )));
    }
    let mut opts = serde_json::Map::new();
    if let Some(id) = &job.options.job_id {
        opts.insert("jobId".into(), json!(id));
    }
    if let Some(delay) = job.options.delay_ms {
        opts.insert("delay".into(), json!(delay));
    }
    if let Some(priority) = job.options.priority {
        opts.insert("priority".into(), json!(priority));
    }
    if let Some(attempts) = job.options.attempts {
        if attempts == 0 {
            return Err(QueueError::InvalidInput(Said::plain(
                "--attempts: at least 1",
            )));
        }
        opts.insert("attempts".into(), json!(attempts));
    }
    if let Some(id) = &job.options.dedup_id {
        if id.is_empty() {
            return Err(QueueError::InvalidInput(Said::plain("--dedup-id is empty")));
        }
        let mut dedup = json!({ "id": id });
        if let Some(ttl) = job.options.dedup_ttl_ms {
            dedup["ttl"] = json!(ttl);
        }
        opts.insert("deduplication".into(), dedup);
    }
    let opts = merge_defaults(
        parse_options(Value::Object(opts))?,
        &config.runner.defaults(&job.queue),
    );
    let settings = redis(config)?;
    refuse_bull(config, &settings, &job.queue).await?;
    let queue_opts = QueueOptions {
        // Under Sentinel, the master the sentinels name now.
        connection: settings.resolve().await?.engine_options(),
        prefix: prefix(config),
        skip_version_check: true,
        ..Default::default()
    };
    let queue = tokio::time::timeout(CONNECT_TIMEOUT, Queue::with_options(&job.queue, queue_opts))
        .await
        .map_err(|_| {
            QueueError::unavailable(Said::plain(format!(
                "timed out connecting to {}",
                settings.redacted()
            )))
        })?
        .map_err(QueueError::from)?;
    let added = queue.add(&job.name, data).options(opts).await?;
    let id = added.id().to_string();
    queue.close().await;
    Ok(id)
}
