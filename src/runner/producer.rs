//! The Rust producer API: add jobs to queues from an app, or, in inline mode, run them at once.
//!
//! ```no_run
//! # async fn demo(config: bullring::config::Config) -> Result<(), bullring::runner::ProduceError> {
//! use bullring::runner::{AddOptions, Added, Producer, RunnerJob};
//! let producer = Producer::builder(&config)
//!     .handler("send-email", |job: RunnerJob| async move { Ok(serde_json::json!({"to": job.data()["to"]})) })
//!     .build();
//! match producer.add("mail", "send-email", serde_json::json!({"to": "a@b.c"}), AddOptions::default()).await? {
//!     Added::Queued { id } => println!("queued as {id}"),
//!     Added::Ran { result, .. } => println!("ran inline: {result}"),
//! }
//! # Ok(()) }
//! ```
//!
//! - **Queue mode** (the default): `add` adds the job through the engine, with the queue's
//!   `[queues.defaults]`, and returns its id. When Redis cannot be reached it returns
//!   [`ProduceError::Unavailable`]; it never runs the job inline behind the app's back (falling
//!   back is the app's explicit choice: see `examples/inline.rs`).
//! - **Inline mode** (`BULLRING_QUEUE_ENABLED=false`, or [`ProducerBuilder::inline`]): `add` runs
//!   the handler registered for the job's name at once, in this process, with BullMQ's retry
//!   semantics (the job's or the queue's `attempts`, `fixed` / `exponential` backoff waited out,
//!   [`JobError::fatal`] ending the retries), and returns the handler's result. Nothing touches
//!   Redis. Apps use it in unit tests and when they run without a queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub use super::add::AddOptions;
use super::add::{AddJob, add};
use super::handler::{Closures, closure};
use super::job::{JobDocument, JobError, JobResult, RunnerJob};
use crate::config::Config;
use crate::queue::error::QueueError;

/// What `add` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Added {
    /// Queue mode: the job is in Redis under this id.
    Queued { id: String },
    /// Inline mode: the handler ran and completed the job.
    Ran {
        id: String,
        result: Value,
        /// Attempts it took (1 when the first one succeeded).
        attempts: u32,
        /// Lines the handler logged with `job.log`.
        logs: Vec<String>,
    },
}

/// Why `add` did not add (or, inline, did not complete) a job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProduceError {
    /// Queue mode: Redis could not be reached; the job was not added.
    #[error("the job was not added: Redis is unavailable")]
    Unavailable(#[source] QueueError),
    /// Bad input (queue or job name, options).
    #[error("the job was not added: {0}")]
    Invalid(String),
    /// Inline mode: no handler is registered for the job's name.
    #[error(
        "no handler is registered for job name {0:?} (inline mode runs jobs with the handlers given to the producer)"
    )]
    NoHandler(String),
    /// Queue mode: Redis or the queue library refused the job.
    #[error("the job was not added")]
    Queue(#[source] QueueError),
    /// Inline mode: the handler failed on its last attempt.
    #[error("job {name:?} failed after {attempts} attempt(s): {error}")]
    Failed {
        name: String,
        attempts: u32,
        error: JobError,
    },
}

impl From<QueueError> for ProduceError {
    fn from(err: QueueError) -> Self {
        match err {
            QueueError::InvalidInput(m) => ProduceError::Invalid(m.to_string()),
            err if err.is_unavailable() => ProduceError::Unavailable(err),
            other => ProduceError::Queue(other),
        }
    }
}

/// Builds a [`Producer`].
pub struct ProducerBuilder {
    config: Config,
    inline: bool,
    closures: Closures,
}

impl ProducerBuilder {
    /// Run jobs inline (`true`) or add them to Redis (`false`); the default comes from
    /// `BULLRING_QUEUE_ENABLED` (`false` means inline).
    pub fn inline(mut self, inline: bool) -> Self {
        self.inline = inline;
        self
    }

    /// The handler of jobs named `name` in inline mode (the same closures a runner takes).
    pub fn handler<F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(RunnerJob) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = JobResult> + Send + 'static,
    {
        self.closures.insert(name.to_string(), closure(f));
        self
    }

    pub fn build(self) -> Producer {
        Producer {
            config: Arc::new(self.config),
            inline: self.inline,
            closures: Arc::new(self.closures),
        }
    }
}

/// Adds jobs, or runs them inline. Cheap to clone.
#[derive(Clone)]
pub struct Producer {
    config: Arc<Config>,
    inline: bool,
    closures: Arc<Closures>,
}

/// `BULLRING_QUEUE_ENABLED`: `false` / `0` / `no` / `off` turn inline mode on.
fn inline_from_env() -> bool {
    inline_from(std::env::var("BULLRING_QUEUE_ENABLED").ok().as_deref())
}

fn inline_from(queue_enabled: Option<&str>) -> bool {
    queue_enabled.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "false" | "0" | "no" | "off"
        )
    })
}

/// BullMQ's delay before retry number `failed + 1`, after attempt `failed` failed.
fn backoff_ms(backoff: Option<&bullmq::types::BackoffStrategy>, failed: u32) -> u64 {
    match backoff {
        Some(bullmq::types::BackoffStrategy::Fixed(ms)) => *ms,
        Some(bullmq::types::BackoffStrategy::Exponential(ms)) => 2u64
            .saturating_pow(failed.saturating_sub(1))
            .saturating_mul(*ms),
        _ => 0,
    }
}

impl Producer {
    pub fn builder(config: &Config) -> ProducerBuilder {
        ProducerBuilder {
            config: config.clone(),
            inline: inline_from_env(),
            closures: HashMap::new(),
        }
    }

    pub fn is_inline(&self) -> bool {
        self.inline
    }

    /// Add a job named `name` to `queue` (or run it inline).
    pub async fn add(
        &self,
        queue: &str,
        name: &str,
        data: Value,
        options: AddOptions,
    ) -> Result<Added, ProduceError> {
        let job = AddJob {
            queue: queue.to_string(),
            name: name.to_string(),
            data: data.to_string(),
            options,
        };
        if self.inline {
            return self.run_inline(job, data).await;
        }
        Ok(Added::Queued {
            id: add(&self.config, &job).await?,
        })
    }

    /// Run `job` (whose data is `data`) with the handler of its name, retrying as BullMQ would.
    async fn run_inline(&self, job: AddJob, data: Value) -> Result<Added, ProduceError> {
        let AddJob {
            queue,
            name,
            options,
            ..
        } = job;
        let (queue, name) = (queue.as_str(), name.as_str());
        let handler = self
            .closures
            .get(name)
            .cloned()
            .ok_or_else(|| ProduceError::NoHandler(name.to_string()))?;
        let defaults = self.config.runner.defaults(queue);
        let attempts = options.attempts.or(defaults.attempts).unwrap_or(1).max(1);
        if let Some(delay) = options.delay_ms.filter(|d| *d > 0) {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let id = options
            .job_id
            .unwrap_or_else(|| format!("inline-{}", uuid_like()));
        let timestamp = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let logs = Arc::new(Mutex::new(Vec::new()));
        let mut made = 0;
        loop {
            let doc = JobDocument {
                id: id.clone(),
                name: name.to_string(),
                data: data.clone(),
                attempts_made: made,
                timestamp,
                queue: queue.to_string(),
            };
            let job = RunnerJob::inline(doc, attempts, logs.clone());
            match handler(job).await {
                Ok(result) => {
                    let logs = logs.lock().map(|l| l.clone()).unwrap_or_default();
                    return Ok(Added::Ran {
                        id,
                        result,
                        attempts: made + 1,
                        logs,
                    });
                }
                Err(error) => {
                    made += 1;
                    tracing::info!(queue, job_id = %id, job_name = name, attempt = made, reason = %error, "inline job failed");
                    if !error.retry || made >= attempts {
                        return Err(ProduceError::Failed {
                            name: name.to_string(),
                            attempts: made,
                            error,
                        });
                    }
                    let wait = backoff_ms(defaults.backoff.as_ref(), made);
                    if wait > 0 {
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                    }
                }
            }
        }
    }
}

/// A process-unique id for inline jobs: time and a counter.
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        chrono::Utc::now().timestamp_millis(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_turns_inline_mode_on() {
        assert!(inline_from(Some("false")) && inline_from(Some(" OFF ")) && inline_from(Some("0")));
        assert!(!inline_from(Some("true")) && !inline_from(None) && !inline_from(Some("")));
    }

    #[test]
    fn backoff_is_bullmqs() {
        let exp = bullmq::types::BackoffStrategy::Exponential(100);
        assert_eq!(
            (1..=4)
                .map(|n| backoff_ms(Some(&exp), n))
                .collect::<Vec<_>>(),
            vec![100, 200, 400, 800]
        );
        assert_eq!(
            backoff_ms(Some(&bullmq::types::BackoffStrategy::Fixed(50)), 3),
            50
        );
        assert_eq!(backoff_ms(None, 2), 0);
    }
}
