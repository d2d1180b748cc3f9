//! The BullMQ library's actions: retry, promote, remove, duplicate, edit, add, pause, clean,
//! drain, obliterate, remove a scheduler. [`Actions::perform`] is what
//! [`super::command::Dispatcher`] calls for a queue of [`super::model::Library::BullMq`].
//!
//! Every state change goes through the engine (`bullmq::Queue` / `bullmq::Job`), so Node's BullMQ
//! and Bull Board see exactly what they would have produced themselves. The engine connection is
//! opened on the first action only, so a read-only dashboard never opens one (and never writes the
//! `meta` hash that creating a `Queue` writes). Before acting, the job's state is read to refuse,
//! with a reason, what does not fit (409): BullMQ's scripts would refuse most of it too, with less
//! helpful messages. Bulk moves run in batches, never with every job in memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bullmq::redis_connection::RedisConnection;
use bullmq::{Queue, QueueOptions};
use serde_json::Value;
use tokio::sync::Mutex;

use super::action::Action;
pub use super::action::{CLEANABLE, check_cleanable};
use super::connection::RedisSettings;
use super::error::{QueueError, Result};
use super::model::{JobState, QueueRef};
use super::ndjson::{Line, add_all};
use super::op::Op;
pub use super::op::{NewJob, Outcome, QUEUE_KEY_NAMES, check_job_id, parse_options};
use super::read::Reader;
use super::refusal::{Refusal, Why};
use crate::text::Said;

/// Jobs moved per script call by the bulk actions (retry-all, promote-all, clean).
pub const BATCH: u32 = 1000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The write side. Cheap to clone.
#[derive(Clone)]
pub struct Actions {
    inner: Arc<Inner>,
}

struct Inner {
    settings: RedisSettings,
    reader: Reader,
    /// The engine connection, with the master address it was opened for (Sentinel only).
    conn: Mutex<Option<(Option<String>, RedisConnection)>>,
    queues: Mutex<HashMap<QueueRef, Arc<Queue>>>,
}

impl Actions {
    pub fn new(settings: RedisSettings, reader: Reader) -> Self {
        Actions {
            inner: Arc::new(Inner {
                settings,
                reader,
                conn: Mutex::new(None),
                queues: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The engine connection, opened on first use. Under Sentinel the master's address is asked
    /// of the sentinels before each action (one short round trip), and the connection and queue
    /// handles are reopened when it moved: the engine's own reconnect would keep knocking on the
    /// old, dead master.
    async fn connection(&self) -> Result<RedisConnection> {
        let settings = &self.inner.settings;
        let master = match &settings.sentinel {
            Some(sentinel) => Some(sentinel.master_address().await?),
            None => None,
        };
        let mut slot = self.inner.conn.lock().await;
        if let Some((opened_for, conn)) = slot.as_ref()
            && *opened_for == master
        {
            return Ok(conn.clone());
        }
        let opts = match &master {
            Some(address) => settings.at_master(address).engine_options(),
            None => settings.engine_options(),
        };
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, RedisConnection::new_managed_only(&opts))
            .await
            .map_err(|_| QueueError::unavailable(Said::new("error.redis.connect_timeout")))?
            .map_err(QueueError::from)?;
        if slot.is_some() {
            // The master moved: handles opened on the old connection must not be used again.
            self.inner.queues.lock().await.clear();
        }
        *slot = Some((master, conn.clone()));
        Ok(conn)
    }

    /// The engine's handle on a queue, opened once per queue.
    pub(super) async fn queue(&self, queue: &QueueRef) -> Result<Arc<Queue>> {
        // First, so a failover found here drops the handles opened before it.
        let conn = self.connection().await?;
        let mut queues = self.inner.queues.lock().await;
        if let Some(handle) = queues.get(queue) {
            return Ok(handle.clone());
        }
        let opts = QueueOptions {
            prefix: queue.prefix.clone(),
            skip_version_check: true,
            ..Default::default()
        };
        let handle = Arc::new(Queue::with_connection(&queue.name, conn, opts).await?);
        queues.insert(queue.clone(), handle.clone());
        Ok(handle)
    }

    /// The job's state as the read model sees it (`JobNotFound` if there is no such job). Read
    /// before the engine handle is opened, so a refused action writes nothing at all.
    async fn state_of(&self, queue: &QueueRef, id: &str) -> Result<Option<JobState>> {
        let (_, detail) = self.inner.reader.job(queue, id, 1, 1).await?;
        Ok(detail.state)
    }

    /// Whether the queue has a job with this id (a queue without keys yet has none).
    async fn exists(&self, queue: &QueueRef, id: &str) -> Result<bool> {
        match self.inner.reader.job(queue, id, 1, 1).await {
            Ok(_) => Ok(true),
            Err(QueueError::JobNotFound { .. } | QueueError::QueueNotFound(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    async fn engine_job(&self, queue: &QueueRef, id: &str) -> Result<(Arc<Queue>, bullmq::Job)> {
        let handle = self.queue(queue).await?;
        let job = handle
            .get_job(id)
            .await?
            .ok_or_else(|| QueueError::JobNotFound {
                queue: queue.clone(),
                id: id.to_string(),
            })?;
        Ok((handle, job))
    }

    /// Perform one operation on a BullMQ queue.
    pub async fn perform(&self, queue: &QueueRef, op: Op) -> Result<Outcome> {
        match op {
            Op::Retry(id) => self.retry(queue, &id).await,
            Op::Promote(id) => self.promote(queue, &id).await,
            Op::Remove { id, children } => self.remove(queue, &id, children).await,
            Op::Duplicate(id) => self.duplicate(queue, &id).await,
            Op::EditData { id, data } => self.update_data(queue, &id, data).await,
            Op::AddJob(job) => self.add(queue, job).await,
            Op::Pause => self.pause(queue).await,
            Op::Resume => self.resume(queue).await,
            Op::RetryFailed => self.retry_failed(queue).await,
            Op::PromoteDelayed => self.promote_delayed(queue).await,
            Op::Clean {
                state,
                grace_ms,
                limit,
            } => self.clean(queue, state, grace_ms, limit).await,
            Op::Drain { delayed } => self.drain(queue, delayed).await,
            Op::Obliterate { force } => self.obliterate(queue, force).await,
            Op::RemoveScheduler(id) => self.remove_scheduler(queue, &id).await,
            Op::EditScheduler { id, edit } => self.edit_scheduler(queue, &id, edit).await,
            Op::RunScheduler(id) => self.run_scheduler(queue, &id).await,
            Op::GlobalConcurrency(limit) => self.global_concurrency(queue, limit).await,
            Op::RemoveOrphans => {
                super::doctor::remove_orphans(self.inner.reader.redis(), queue).await
            }
            Op::Import(jobs) => self.import(queue, jobs).await,
        }
    }

    /// Add every job of a checked NDJSON text, in its order, as `bullring add --from` does.
    pub async fn import(&self, queue: &QueueRef, jobs: Vec<Line>) -> Result<Outcome> {
        let handle = self.queue(queue).await?;
        let added = add_all(&handle, jobs).await? as u64;
        Ok(Outcome::new(
            Action::Import,
            queue,
            Vec::new(),
            added,
            format!("Imported {added} job(s)."),
        ))
    }

    /// Move a failed or completed job back to waiting.
    pub async fn retry(&self, queue: &QueueRef, id: &str) -> Result<Outcome> {
        let state = match self.state_of(queue, id).await? {
            Some(s) if Action::Retry.fits(Some(s)) => s,
            other => {
                return Err(not_in_state(id, other, Why::RetryFinishedOnly));
            }
        };
        let (_, mut job) = self.engine_job(queue, id).await?;
        job.retry(state.as_str(), None).await?;
        Ok(Outcome::new(
            Action::Retry,
            queue,
            vec![id.into()],
            1,
            format!("Job {id} is waiting again."),
        ))
    }

    /// Move a delayed job to waiting now.
    pub async fn promote(&self, queue: &QueueRef, id: &str) -> Result<Outcome> {
        let state = self.state_of(queue, id).await?;
        if !Action::Promote.fits(state) {
            return Err(not_in_state(id, state, Why::PromoteDelayedOnly));
        }
        let (_, job) = self.engine_job(queue, id).await?;
        job.promote().await?;
        Ok(Outcome::new(
            Action::Promote,
            queue,
            vec![id.into()],
            1,
            format!("Job {id} was promoted to waiting."),
        ))
    }

    /// Remove a job (and, unless told otherwise, its children). A job locked by a worker stays.
    pub async fn remove(&self, queue: &QueueRef, id: &str, with_children: bool) -> Result<Outcome> {
        let state = self.state_of(queue, id).await?;
        let handle = self.queue(queue).await?;
        let removed = if with_children {
            handle.remove(id).await?
        } else {
            handle.remove_without_children(id).await?
        };
        if !removed {
            return Err(not_in_state(id, state, Why::Locked));
        }
        let what = if with_children {
            " with its children"
        } else {
            ""
        };
        Ok(Outcome::new(
            Action::Remove,
            queue,
            vec![id.into()],
            1,
            format!("Job {id} was removed{what}."),
        ))
    }

    /// Add a copy of a job: same name, data and options, a new id.
    pub async fn duplicate(&self, queue: &QueueRef, id: &str) -> Result<Outcome> {
        let (_, detail) = self.inner.reader.job(queue, id, 1, 1).await?;
        let mut opts = detail.job.opts.clone();
        if let Value::Object(map) = &mut opts {
            // What ties the job to its own identity, schedule or flow is not copied.
            for key in [
                "jobId",
                "repeat",
                "repeatJobKey",
                "prevMillis",
                "timestamp",
                "parent",
                "deduplication",
                "telemetry",
            ] {
                map.remove(key);
            }
        }
        let job = NewJob {
            name: detail.job.name.clone().unwrap_or_default(),
            data: detail.job.data.clone(),
            opts,
        };
        let mut outcome = self.add(queue, job).await?;
        outcome.action = Action::Duplicate;
        outcome.message = format!("Job {id} was duplicated as job {}.", outcome.jobs.join(""));
        Ok(outcome)
    }

    /// Replace a job's data.
    pub async fn update_data(&self, queue: &QueueRef, id: &str, data: Value) -> Result<Outcome> {
        self.state_of(queue, id).await?;
        let (_, mut job) = self.engine_job(queue, id).await?;
        job.update_data(data).await?;
        Ok(Outcome::new(
            Action::EditData,
            queue,
            vec![id.into()],
            1,
            format!("The data of job {id} was saved."),
        ))
    }

    /// Add a job with Node-style options, validated first. A job whose custom id is taken
    /// already is not added, as Node's `queue.add` returns the existing job and adds nothing.
    pub async fn add(&self, queue: &QueueRef, job: NewJob) -> Result<Outcome> {
        let opts = parse_options(job.opts)?;
        if job.name.trim().is_empty() {
            return Err(QueueError::InvalidInput(Said::new("check.job_name")));
        }
        if let Some(id) = opts.job_id.as_deref()
            && self.exists(queue, id).await?
        {
            return Ok(Outcome::new(
                Action::AddJob,
                queue,
                vec![id.to_string()],
                0,
                format!("Job {id} already exists; nothing was added."),
            ));
        }
        let handle = self.queue(queue).await?;
        let added = handle.add(&job.name, job.data).options(opts).await?;
        let id = added.id().to_string();
        Ok(Outcome::new(
            Action::AddJob,
            queue,
            vec![id.clone()],
            1,
            format!("Job {id} was added."),
        ))
    }

    pub async fn pause(&self, queue: &QueueRef) -> Result<Outcome> {
        self.queue(queue).await?.pause().await?;
        Ok(Outcome::new(
            Action::Pause,
            queue,
            vec![],
            0,
            format!("Queue {} is paused.", queue.name),
        ))
    }

    pub async fn resume(&self, queue: &QueueRef) -> Result<Outcome> {
        self.queue(queue).await?.resume().await?;
        Ok(Outcome::new(
            Action::Resume,
            queue,
            vec![],
            0,
            format!("Queue {} is running again.", queue.name),
        ))
    }

    /// Move every failed job back to waiting, in batches.
    pub async fn retry_failed(&self, queue: &QueueRef) -> Result<Outcome> {
        let before = self.inner.reader.summary(queue).await?.counts.failed;
        self.queue(queue)
            .await?
            .retry_jobs("failed", BATCH, None)
            .await?;
        let after = self.inner.reader.summary(queue).await?.counts.failed;
        let moved = before.saturating_sub(after);
        Ok(Outcome::new(
            Action::RetryFailed,
            queue,
            vec![],
            moved,
            format!("Moved {moved} failed job(s) to waiting."),
        ))
    }

    /// Promote every delayed job, in batches.
    pub async fn promote_delayed(&self, queue: &QueueRef) -> Result<Outcome> {
        let before = self.inner.reader.summary(queue).await?.counts.delayed;
        self.queue(queue).await?.promote_jobs(BATCH).await?;
        let after = self.inner.reader.summary(queue).await?.counts.delayed;
        let moved = before.saturating_sub(after);
        Ok(Outcome::new(
            Action::PromoteDelayed,
            queue,
            vec![],
            moved,
            format!("Promoted {moved} delayed job(s) to waiting."),
        ))
    }

    /// Remove jobs of `state` older than `grace_ms`, at most `limit` (0: no limit), in batches.
    pub async fn clean(
        &self,
        queue: &QueueRef,
        state: JobState,
        grace_ms: u64,
        limit: u64,
    ) -> Result<Outcome> {
        check_cleanable(state)?;
        let handle = self.queue(queue).await?;
        let mut removed: u64 = 0;
        loop {
            let batch = match limit {
                0 => BATCH as u64,
                n => (n - removed).min(BATCH as u64),
            };
            if batch == 0 {
                break;
            }
            let ids = handle
                .clean(grace_ms, batch as u32, state.key_suffix())
                .await?;
            removed += ids.len() as u64;
            if (ids.len() as u64) < batch {
                break;
            }
        }
        Ok(Outcome::new(
            Action::Clean,
            queue,
            vec![],
            removed,
            format!(
                "Removed {removed} {state} job(s) older than {}.",
                human_ms(grace_ms)
            ),
        ))
    }

    /// Empty the waiting jobs (and the delayed ones too if asked); scheduler jobs stay.
    pub async fn drain(&self, queue: &QueueRef, delayed: bool) -> Result<Outcome> {
        let counts = |c: &super::model::Counts| {
            c.waiting + c.paused + c.prioritized + if delayed { c.delayed } else { 0 }
        };
        let before = counts(&self.inner.reader.summary(queue).await?.counts);
        self.queue(queue).await?.drain(delayed).await?;
        let after = self
            .inner
            .reader
            .summary(queue)
            .await
            .map(|s| counts(&s.counts))
            .unwrap_or(0);
        let removed = before.saturating_sub(after);
        let what = if delayed {
            "waiting and delayed"
        } else {
            "waiting"
        };
        Ok(Outcome::new(
            Action::Drain,
            queue,
            vec![],
            removed,
            format!("Removed {removed} {what} job(s)."),
        ))
    }

    /// Remove a job scheduler (or legacy repeatable) and its pending next job.
    pub async fn remove_scheduler(&self, queue: &QueueRef, id: &str) -> Result<Outcome> {
        self.require_scheduler(queue, id).await?;
        let removed = self.queue(queue).await?.remove_job_scheduler(id).await?;
        if !removed {
            return Err(QueueError::SchedulerNotFound {
                queue: queue.clone(),
                id: id.to_string(),
            });
        }
        Ok(Outcome::new(
            Action::RemoveScheduler,
            queue,
            vec![],
            1,
            format!("Job scheduler {id} was removed."),
        ))
    }

    /// `SchedulerNotFound` unless the queue has the job scheduler `id`; read before the engine's
    /// handle is opened, so asking for an unknown scheduler writes nothing.
    pub(super) async fn require_scheduler(&self, queue: &QueueRef, id: &str) -> Result<()> {
        if self.inner.reader.scheduler_exists(queue, id).await? {
            Ok(())
        } else {
            Err(QueueError::SchedulerNotFound {
                queue: queue.clone(),
                id: id.to_string(),
            })
        }
    }

    /// Delete the queue and every job in it. Only on a paused queue; with active jobs only by force.
    pub async fn obliterate(&self, queue: &QueueRef, force: bool) -> Result<Outcome> {
        let summary = self.inner.reader.summary(queue).await?;
        if !summary.paused {
            return Err(QueueError::Conflict(Refusal::PauseFirst {
                queue: queue.name.clone(),
            }));
        }
        if summary.counts.active > 0 && !force {
            return Err(QueueError::Conflict(Refusal::ActiveJobs {
                queue: queue.name.clone(),
                active: summary.counts.active,
            }));
        }
        self.queue(queue)
            .await?
            .obliterate(force, BATCH as usize)
            .await?;
        self.inner.queues.lock().await.remove(queue);
        Ok(Outcome::new(
            Action::Obliterate,
            queue,
            vec![],
            summary.counts.total(),
            format!("Queue {} was obliterated.", queue.name),
        ))
    }
}

fn not_in_state(id: &str, state: Option<JobState>, why: Why) -> QueueError {
    QueueError::Conflict(Refusal::JobState {
        id: id.to_string(),
        state,
        why,
    })
}

pub(crate) fn human_ms(ms: u64) -> String {
    match ms {
        0 => "0 s".into(),
        ms if ms % 86_400_000 == 0 => format!("{} d", ms / 86_400_000),
        ms if ms % 3_600_000 == 0 => format!("{} h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{} min", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{} s", ms / 1000),
        ms => format!("{ms} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_ms(3_600_000), "1 h");
        assert_eq!(human_ms(90_000), "90 s");
        assert_eq!(human_ms(1500), "1500 ms");
        assert!(check_cleanable(JobState::Active).is_err());
    }
}
