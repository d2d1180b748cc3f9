//! The Bull 3/4 library's actions (npm `bull`, 4.16.5): what [`super::command::Dispatcher`]
//! calls for a queue of [`Library::Bull`](super::model::Library::Bull).
//!
//! Every change follows the semantics of Bull's own method for it, in bullring's own Lua scripts
//! ([`scripts`], loaded once and called by SHA), and publishes what Bull's method publishes
//! (`waiting@<token>`, `delayed`, `paused`, `resumed`, `duplicated@<token>`), so running Bull
//! workers and `Queue` instances react as they would to their own app. Nothing here writes a
//! key only BullMQ has (`events`, `marker`, `meta.version`...). As for BullMQ queues, the job's
//! state is read first, so a refused action writes nothing; bulk moves run in batches.
//!
//! [`keys`] builds the names of a Bull queue's keys, for whoever else needs them.

pub mod add;
pub mod demo;
mod jobs;
pub mod keys;
mod queue_ops;
mod scripts;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::error::{QueueError, Result};
use super::model::{JobState, QueueRef};
use super::op::{Op, Outcome};
use super::read::Reader;
use super::refusal::{Refusal, Why};

/// Jobs moved or removed per script call by the batched actions.
pub const BATCH: u64 = 1000;

/// The write side for Bull queues, over the reader's connection. Cheap to clone.
#[derive(Clone)]
pub struct BullActions {
    inner: Arc<Inner>,
}

struct Inner {
    reader: Reader,
    /// Each declared queue's `[queues.defaults]`, as Bull job options.
    defaults: HashMap<String, Map<String, Value>>,
    /// What this process signs its `waiting@` / `duplicated@` messages with, as each Bull
    /// `Queue` signs its own with a token of its own.
    token: String,
}

impl BullActions {
    pub fn new(reader: Reader) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        BullActions {
            inner: Arc::new(Inner {
                reader,
                defaults: HashMap::new(),
                token: format!("bullring-{}-{nanos:x}", std::process::id()),
            }),
        }
    }

    /// The same actions, adding jobs over these default options (queue name -> its
    /// `[queues.defaults]`, see [`add::bull_defaults`]).
    pub fn with_defaults(self, defaults: HashMap<String, Map<String, Value>>) -> Self {
        BullActions {
            inner: Arc::new(Inner {
                reader: self.inner.reader.clone(),
                defaults,
                token: self.inner.token.clone(),
            }),
        }
    }

    /// The default options of the queue named `name` (none when it declares none).
    fn defaults_of(&self, name: &str) -> Map<String, Value> {
        self.inner.defaults.get(name).cloned().unwrap_or_default()
    }

    fn reader(&self) -> &Reader {
        &self.inner.reader
    }

    fn token(&self) -> &str {
        &self.inner.token
    }

    /// The job's state as Bull's `Job#getState` gives it (`JobNotFound` if there is no such job).
    async fn state_of(&self, queue: &QueueRef, id: &str) -> Result<Option<JobState>> {
        let (_, detail) = self.reader().job(queue, id, 1, 1).await?;
        Ok(detail.state)
    }

    /// The job's state, as Bull's `Job#getState` gives it.
    pub async fn state(&self, queue: &QueueRef, id: &str) -> Result<Option<JobState>> {
        self.state_of(queue, id).await
    }

    /// Perform one operation on a Bull queue.
    pub async fn perform(&self, queue: &QueueRef, op: Op) -> Result<Outcome> {
        match op {
            Op::Retry(id) => self.retry(queue, &id).await,
            Op::Promote(id) => self.promote(queue, &id).await,
            Op::Remove { id, .. } => self.remove(queue, &id).await,
            Op::Duplicate(id) => self.duplicate(queue, &id).await,
            Op::EditData { id, data } => self.update_data(queue, &id, data).await,
            Op::AddJob(job) => self.add(queue, job).await,
            Op::Pause => self.pause(queue, true).await,
            Op::Resume => self.pause(queue, false).await,
            Op::RetryFailed => self.retry_failed(queue).await,
            Op::PromoteDelayed => self.promote_delayed(queue).await,
            Op::Clean {
                state,
                grace_ms,
                limit,
            } => self.clean(queue, state, grace_ms, limit).await,
            Op::Drain { delayed } => self.drain(queue, delayed).await,
            Op::Obliterate { force } => self.obliterate(queue, force).await,
            Op::RemoveScheduler(key) => self.remove_repeatable(queue, &key).await,
            Op::EditScheduler { .. } | Op::RunScheduler(_) | Op::GlobalConcurrency(_) => {
                Err(QueueError::Conflict(Refusal::BullMqOnly {
                    action: op.action().name(),
                    queue: queue.name.clone(),
                }))
            }
            Op::RemoveOrphans => Err(QueueError::InvalidInput(crate::text::Said::new(
                "check.doctor_bullmq_only",
            ))),
            Op::Import(_) => Err(QueueError::Conflict(Refusal::ImportBullMqOnly {
                queue: queue.name.clone(),
            })),
        }
    }
}

/// A 409: the job is not in a state the action fits.
fn not_in_state(id: &str, state: Option<JobState>, why: Why) -> QueueError {
    QueueError::Conflict(Refusal::JobState {
        id: id.to_string(),
        state,
        why,
    })
}

/// Now, in milliseconds since the epoch (what Bull stamps `retriedOn`, `timestamp` with).
fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}
