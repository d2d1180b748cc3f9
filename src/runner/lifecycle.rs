//! Starting and stopping the runner: [`Runner::builder`] takes the validated configuration;
//! [`RunnerBuilder::start`] upserts the job schedulers, then starts one worker per
//! `[[workers]]` entry; [`Runner::shutdown`] stops taking jobs and waits for running ones up to
//! the configured timeout. A job still running after that keeps its lock until it expires, then
//! BullMQ's stalled-job check hands it to another worker.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::crew::{Crew, Plan};
use super::error::RunnerError;
use super::follow::Follower;
use super::handler::{Closures, Handler, closure};
use super::health::RunnerHealth;
use super::job::{JobResult, RunnerJob};
use super::schedulers::{self, SyncReport};
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

    /// Upsert the schedulers, start the workers and return the running [`Runner`]. Under
    /// Sentinel they start on the master the sentinels name, and follow it ([`super::follow`]).
    pub async fn start(self) -> Result<Runner, RunnerError> {
        let settings = self.redis.ok_or(RunnerError::NoRedis)?;
        let handlers = Handler::for_workers(&self.config.workers, self.closures)?;
        // Where the workers start: the master the sentinels name now, or the one Redis.
        let master = match &settings.sentinel {
            Some(sentinel) => Some(
                sentinel
                    .master_address()
                    .await
                    .map_err(|source| RunnerError::NoMaster { source })?,
            ),
            None => None,
        };
        let here = match &master {
            Some(address) => settings.at_master(address),
            None => settings.clone(),
        };

        let report = schedulers::sync(&here, &self.prefix, &self.config).await?;
        for id in &report.upserted {
            tracing::info!(scheduler = %id, "job scheduler upserted");
        }
        for id in &report.removed {
            tracing::info!(scheduler = %id, "job scheduler removed (no longer in the config)");
        }

        let errors = settings.sentinel.as_ref().map(|_| Arc::new(Notify::new()));
        let plan = Arc::new(Plan {
            prefix: self.prefix,
            workers: self.config.workers.iter().cloned().zip(handlers).collect(),
            stack: Redis::new(settings.clone()),
            errors: errors.clone(),
        });
        let crew = Crew::start(&plan, &here).await?;
        let worker_count = crew.len();
        let health = RunnerHealth::default();
        health.started(worker_count, master.clone());
        let crew = Arc::new(Mutex::new(Some(crew)));
        let cancel = CancellationToken::new();
        let follow = match (errors, master) {
            (Some(errors), Some(master)) => {
                tracing::info!(master = %master, "following the Sentinel master");
                let follower = Follower {
                    settings,
                    config: self.config.clone(),
                    plan,
                    crew: crew.clone(),
                    errors,
                    health: health.clone(),
                    master,
                };
                Some(tokio::spawn(follower.run(cancel.clone())))
            }
            _ => None,
        };
        Ok(Runner {
            crew,
            worker_count,
            follow,
            cancel,
            health,
            shutdown_timeout: self.config.shutdown_timeout,
            schedulers: report,
        })
    }
}

/// Workers running in this process.
pub struct Runner {
    /// The workers; empty only while a failover moves them.
    crew: Arc<Mutex<Option<Crew>>>,
    worker_count: usize,
    /// The task following the Sentinel master (Sentinel only).
    follow: Option<JoinHandle<()>>,
    cancel: CancellationToken,
    health: RunnerHealth,
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

    /// Number of workers the runner runs (also while a failover moves them).
    pub fn worker_count(&self) -> usize {
        self.worker_count
    }

    /// What the start did to the job schedulers.
    pub fn schedulers(&self) -> &SyncReport {
        &self.schedulers
    }

    /// Its state (workers, the Sentinel master, failovers followed), shared: what it says
    /// changes as the runner goes on.
    pub fn health(&self) -> RunnerHealth {
        self.health.clone()
    }

    /// Jobs being processed right now, over every worker.
    pub async fn active_jobs(&self) -> usize {
        match self.crew.lock().await.as_ref() {
            Some(crew) => crew.active_jobs().await,
            None => 0,
        }
    }

    /// Stop taking jobs, wait for running ones up to the configured timeout, close.
    pub async fn shutdown(self) -> ShutdownReport {
        // First, so no failover starts workers again; one under way finishes before the slot
        // is free.
        self.cancel.cancel();
        if let Some(follow) = self.follow {
            let _ = follow.await;
        }
        let timeout = self.shutdown_timeout;
        let deadline = Instant::now() + timeout;
        let Some(crew) = self.crew.lock().await.take() else {
            tracing::info!("workers stopped");
            return ShutdownReport::default();
        };
        tracing::info!(
            running_jobs = crew.active_jobs().await,
            timeout_secs = timeout.as_secs(),
            "stopping workers"
        );
        let abandoned = crew.close(timeout).await;
        self.health.stopped_workers();
        if abandoned > 0 || Instant::now() > deadline {
            tracing::warn!(
                abandoned,
                "shutdown timeout reached: unfinished jobs go back to waiting once their lock expires (stalled-job check)"
            );
        }
        tracing::info!("workers stopped");
        ShutdownReport { abandoned }
    }
}
