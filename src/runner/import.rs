//! `bullring add QUEUE --from jobs.ndjson`: add each line of an export (or any NDJSON of
//! `{"name": ..., "data": ..., "opts": ...}`) as a new job, through the engine, so Node's BullMQ
//! sees what its own `Queue#add` would have written.
//!
//! Every line is checked before anything is written ([`crate::queue::ndjson`]): a file with a
//! bad line adds nothing and names every bad line by its number. The jobs are then added one by one, in the file's order;
//! should Redis fail on the way, the error says how many were added and from which line to
//! start again.

use bullmq::{Queue, QueueOptions};

use super::add::{CONNECT_TIMEOUT, check_queue_name, prefix, redis, refuse_bull};
use crate::config::Config;
use crate::queue::error::QueueError;
use crate::queue::ndjson::add_all;
pub use crate::queue::ndjson::{Line, parse};
use crate::text::Said;

/// Add every job of `path` to `queue`; returns what to print (how many were added).
pub async fn import(
    config: &Config,
    queue: &str,
    path: &std::path::Path,
) -> Result<String, QueueError> {
    check_queue_name(queue)?;
    let text = std::fs::read_to_string(path).map_err(|e| {
        QueueError::InvalidInput(Said::plain(format!(
            "--from {}: cannot read it: {e}",
            path.display()
        )))
    })?;
    let jobs = parse(&text)?;
    let settings = redis(config)?;
    refuse_bull(config, &settings, queue).await?;
    let queue_opts = QueueOptions {
        // Under Sentinel, the master the sentinels name now.
        connection: settings.resolve().await?.engine_options(),
        prefix: prefix(config),
        skip_version_check: true,
        ..Default::default()
    };
    let engine = tokio::time::timeout(CONNECT_TIMEOUT, Queue::with_options(queue, queue_opts))
        .await
        .map_err(|_| {
            QueueError::unavailable(Said::plain(format!(
                "timed out connecting to {}",
                settings.redacted()
            )))
        })?
        .map_err(QueueError::from)?;
    let added = add_all(&engine, jobs).await;
    engine.close().await;
    let total = added?;
    Ok(format!("added {total} job(s) to {queue}\n"))
}
