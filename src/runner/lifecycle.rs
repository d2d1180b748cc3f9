//! Starting and stopping the runner: [`Runner::builder`] takes the validated configuration;
//! [`RunnerBuilder::start`] upserts the job schedulers, then starts one worker per
//! `[[workers]]` entry; [`Runner::shutdown`] stops taking jobs and waits for running ones up to
//! the configured timeout. A job still running after that keeps its lock until it expires, then
//! BullMQ's stalled-job check hands it to another worker.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bullmq::Worker;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::error::RunnerError;
use super::handler::{Closures, Handler, closure};
use super::job::{JobResult, RunnerJob};
use super::schedulers::{self, SyncReport};
use super::worker::{drain_events, start_worker};
use crate::config::Config;
use crate::config::runner::RunnerConfig;
use crate::queue::connection::{Redis, RedisSettings};

/// Builds a [`Runner`]: the configuration, optionally another Redis, and closures by job name.
pub struct RunnerBuilder {
    config: RunnerConfig,
    redis: Option<RedisSettings>,
    prefix: String,
    closures: Closures,
}

impl RunnerBuilder {
    /// Use this Redis instead of the configured one.
    pub fn redis(mut self, settings: RedisSettings) -> Self {
        self.redis = Some(settings);
        self
    }

    /// Use this key prefix instead of the configured one.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Process jobs named `name` with `f`, on every worker without a `handler` (or with
    /// `handler = { type = "closures" }`). `Ok(value)` completes the job with `value` as its
    /// return value; `Err(JobError::retry(..))` fails it and BullMQ's attempts and backoff
    /// apply; `Err(JobError::fatal(..))` fails it for good.
    pub fn handler<F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(RunnerJob) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        self.closures.insert(name.to_string(), closure(f));
        self
    }

    /// Upsert the schedulers, start the workers and return the running [`Runner`].
    pub async fn start(self) -> Result<Runner, RunnerError> {
        let settings = self.redis.ok_or(RunnerError::NoRedis)?;
        if settings.sentinel.is_some() {
            return Err(RunnerError::SentinelUnsupported);
        }
        let handlers = Handler::for_workers(&self.config.workers, self.closures)?;

        let report = schedulers::sync(&settings, &self.prefix, &self.config).await?;
        for id in &report.upserted {
            tracing::info!(scheduler = %id, "job scheduler upserted");
        }
        for id in &report.removed {
            tracing::info!(scheduler = %id, "job scheduler removed (no longer in the config)");
        }

        let stack = Redis::new(settings.clone());
        let cancel = CancellationToken::new();
        let mut workers = Vec::new();
        for (spec, handler) in self.config.workers.iter().zip(handlers) {
            let worker = start_worker(&settings, &self.prefix, spec, handler, stack.clone())
                .await
                .map_err(|source| RunnerError::Worker {
                    label: spec.label.clone(),
                    source,
                })?;
            let worker = Arc::new(worker);
            let drain = tokio::spawn(drain_events(
                worker.clone(),
                spec.queue.clone(),
                cancel.clone(),
            ));
            tracing::info!(
                queue = %spec.queue,
                handler = spec.handler.kind(),
                concurrency = spec.concurrency,
                "worker started"
            );
            workers.push(Running {
                worker,
                queue: spec.queue.clone(),
                drain,
            });
        }
        Ok(Runner {
            workers,
            cancel,
            shutdown_timeout: self.config.shutdown_timeout,
            schedulers: report,
        })
    }
}

struct Running {
    worker: Arc<Worker>,
    queue: String,
    drain: JoinHandle<()>,
}

/// Workers running in this process.
pub struct Runner {
    workers: Vec<Running>,
    cancel: CancellationToken,
    shutdown_timeout: Duration,
    schedulers: SyncReport,
}

/// How a shutdown went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs that were still running when the timeout ran out (their locks expire and the
    /// stalled-job check of another worker hands them on).
    pub abandoned: usize,
}

impl Runner {
    /// A runner for the configuration: its runner settings, Redis and first prefix.
    pub fn builder(config: &Config) -> RunnerBuilder {
        RunnerBuilder {
            config: config.runner.clone(),
            redis: config.redis.clone(),
            prefix: config.default_prefix().to_string(),
            closures: HashMap::new(),
        }
    }

    /// Number of workers running.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// What the start did to the job schedulers.
    pub fn schedulers(&self) -> &SyncReport {
        &self.schedulers
    }

    /// Jobs being processed right now, over every worker.
    pub async fn active_jobs(&self) -> usize {
        let mut total = 0;
        for running in &self.workers {
            total += running.worker.active_count().await;
        }
        total
    }

    /// Stop taking jobs, wait for running ones up to the configured timeout, close.
    pub async fn shutdown(self) -> ShutdownReport {
        let timeout = self.shutdown_timeout;
        let deadline = Instant::now() + timeout;
        let active = self.active_jobs().await;
        tracing::info!(
            running_jobs = active,
            timeout_secs = timeout.as_secs(),
            "stopping workers"
        );
        let closing = self.workers.iter().map(|running| {
            let worker = running.worker.clone();
            let queue = running.queue.clone();
            async move {
                if let Err(e) = worker.close(timeout.as_millis() as u64).await {
                    tracing::warn!(queue = %queue, error = %e, "worker did not close cleanly");
                }
            }
        });
        futures::future::join_all(closing).await;
        let mut abandoned = 0;
        for running in &self.workers {
            abandoned += running.worker.active_count().await;
        }
        if abandoned > 0 || Instant::now() > deadline {
            tracing::warn!(
                abandoned,
                "shutdown timeout reached: unfinished jobs go back to waiting once their lock expires (stalled-job check)"
            );
        }
        self.cancel.cancel();
        for running in self.workers {
            let _ = running.drain.await;
        }
        tracing::info!("workers stopped");
        ShutdownReport { abandoned }
    }
}
