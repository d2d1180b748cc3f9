//! Job schedulers at start: every `[[schedulers]]` entry is upserted through the engine
//! (`Queue::upsert_job_scheduler`, BullMQ's own job-scheduler layout, so Node's
//! `getJobSchedulers` and the dashboard list them). With `[runner] managed_schedulers = true`,
//! schedulers of declared queues that the file no longer lists are removed.
//!
//! Upserting is idempotent: several `bullring run` processes starting with the same file leave
//! one scheduler and one next job per entry.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use bullmq::redis_connection::RedisConnection;
use bullmq::{Queue, QueueOptions};

use super::error::RunnerError;
use crate::config::runner::{RunnerConfig, SchedulerSpec};
use crate::queue::connection::RedisSettings;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What [`sync`] did, as `queue/id` strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub upserted: Vec<String>,
    pub removed: Vec<String>,
}

/// Upsert the configured schedulers (and, when managed, remove the others of declared queues).
pub async fn sync(
    settings: &RedisSettings,
    prefix: &str,
    config: &RunnerConfig,
) -> Result<SyncReport, RunnerError> {
    let mut report = SyncReport::default();
    let mut by_queue: BTreeMap<&str, Vec<&SchedulerSpec>> = BTreeMap::new();
    for spec in &config.schedulers {
        by_queue.entry(spec.queue.as_str()).or_default().push(spec);
    }
    let queues: Vec<&str> = if config.managed_schedulers {
        // A queue declared `library = "bull"` is Bull's: its repeatables are not touched.
        config
            .queues
            .iter()
            .filter(|q| !q.bull)
            .map(|q| q.name.as_str())
            .collect()
    } else {
        by_queue.keys().copied().collect()
    };
    if queues.is_empty() {
        return Ok(report);
    }
    let conn = tokio::time::timeout(
        CONNECT_TIMEOUT,
        RedisConnection::new_managed_only(&settings.engine_options()),
    )
    .await
    .map_err(|_| RunnerError::ConnectTimeout {
        redis: settings.redacted(),
    })?
    .map_err(|source| RunnerError::Queue {
        queue: queues[0].to_string(),
        source,
    })?;

    for name in queues {
        let queue_err = |source| RunnerError::Queue {
            queue: name.to_string(),
            source,
        };
        let opts = QueueOptions {
            prefix: prefix.to_string(),
            skip_version_check: true,
            ..Default::default()
        };
        let queue = Queue::with_connection(name, conn.clone(), opts)
            .await
            .map_err(queue_err)?;
        let specs = by_queue.get(name).cloned().unwrap_or_default();
        for spec in &specs {
            let opts = config.defaults(name);
            queue
                .upsert_job_scheduler(
                    &spec.id,
                    spec.repeat.clone(),
                    Some(&spec.job_name),
                    Some(spec.data.clone()),
                    Some(opts),
                )
                .await
                .map_err(|source| RunnerError::Scheduler {
                    id: spec.id.clone(),
                    queue: name.to_string(),
                    source,
                })?;
            report.upserted.push(format!("{name}/{}", spec.id));
        }
        if config.managed_schedulers {
            let wanted: HashSet<&str> = specs.iter().map(|s| s.id.as_str()).collect();
            let existing = queue
                .get_job_schedulers(0, -1, true)
                .await
                .map_err(queue_err)?;
            for scheduler in existing {
                if !wanted.contains(scheduler.key.as_str()) {
                    queue
                        .remove_job_scheduler(&scheduler.key)
                        .await
                        .map_err(queue_err)?;
                    report.removed.push(format!("{name}/{}", scheduler.key));
                }
            }
        }
    }
    Ok(report)
}
