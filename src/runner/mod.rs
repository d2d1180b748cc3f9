//! The runner: configured BullMQ workers and job schedulers in this process.
//!
//! [`Runner::builder`] takes the validated [`Config`]; [`RunnerBuilder::start`] upserts the
//! schedulers ([`schedulers`]), then starts one engine [`bullmq::Worker`] per `[[workers]]` entry
//! with its handler (webhook, command, no-op, or closures registered by job name). Every worker
//! records BullMQ metrics, retries 2 s after a Redis error (ENGINE.md gap 7), has a task draining
//! its event channel (gap 6), records each failure as a stack trace entry (gap 5) and logs each
//! job's outcome and duration. [`Runner::shutdown`] stops taking jobs and waits for running ones
//! up to the configured timeout; a job still running after that keeps its lock until it expires,
//! then BullMQ's stalled-job check hands it to another worker.
//!
//! All Redis access goes through the engine and `crate::queue`.

pub mod cli;
pub mod command;
pub mod config;
pub mod job;
pub mod producer;
pub mod schedulers;
pub mod webhook;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bullmq::worker::WorkerEvent;
use bullmq::{MetricsOptions, RateLimiterOptions, Worker, WorkerOptions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use self::config::{HandlerSpec, RunnerConfig, WorkerSpec};
pub use self::job::{JobDocument, JobError, JobResult, RunnerJob};
pub use self::producer::{AddOptions, Added, ProduceError, Producer, ProducerBuilder};
use crate::config::Config;
use crate::queue::connection::{Redis, RedisSettings};
use crate::queue::model::QueueRef;

use self::command::CommandHandler;
use self::webhook::Webhook;

/// Stack trace entries kept per job when its options set no `stackTraceLimit`.
const DEFAULT_STACK_TRACE_LIMIT: usize = 10;

/// Why the runner could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("no Redis configured for the runner (--redis-url / REDIS_URL)")]
    NoRedis,
    #[error("{0}")]
    Config(String),
    #[error("scheduler {id:?} on queue {queue:?}: {source}")]
    Scheduler {
        id: String,
        queue: String,
        source: bullmq::Error,
    },
    #[error("{label}: cannot start the worker: {source}")]
    Worker {
        label: String,
        source: bullmq::Error,
    },
    #[error("queue {queue:?}: {source}")]
    Queue {
        queue: String,
        source: bullmq::Error,
    },
}

/// A closure registered by job name.
pub type Closure =
    Arc<dyn Fn(RunnerJob) -> Pin<Box<dyn Future<Output = JobResult> + Send>> + Send + Sync>;

/// A handler ready to process jobs.
#[derive(Clone)]
enum Handler {
    Webhook(Box<Webhook>),
    Command(CommandHandler),
    Noop,
    Closures(Arc<HashMap<String, Closure>>),
}

impl Handler {
    fn kind(&self) -> &'static str {
        match self {
            Handler::Webhook(_) => "webhook",
            Handler::Command(_) => "command",
            Handler::Noop => "noop",
            Handler::Closures(_) => "closure",
        }
    }

    async fn call(&self, job: &RunnerJob) -> JobResult {
        match self {
            Handler::Webhook(webhook) => webhook.call(job.document()).await,
            Handler::Command(command) => command.call(job).await,
            Handler::Noop => Ok(serde_json::Value::Null),
            Handler::Closures(closures) => match closures.get(job.name()) {
                Some(closure) => closure(job.clone()).await,
                None => Err(JobError::fatal(format!(
                    "no handler is registered for job name {:?} (registered: {})",
                    job.name(),
                    registered(closures)
                ))),
            },
        }
    }
}

fn registered(closures: &HashMap<String, Closure>) -> String {
    let mut names: Vec<&str> = closures.keys().map(String::as_str).collect();
    names.sort_unstable();
    names.join(", ")
}

/// Builds a [`Runner`]: the configuration, optionally another Redis, and closures by job name.
pub struct RunnerBuilder {
    config: RunnerConfig,
    redis: Option<RedisSettings>,
    prefix: String,
    closures: HashMap<String, Closure>,
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
        let closure: Closure = Arc::new(move |job| Box::pin(f(job)));
        self.closures.insert(name.to_string(), closure);
        self
    }

    /// Upsert the schedulers, start the workers and return the running [`Runner`].
    pub async fn start(self) -> Result<Runner, RunnerError> {
        let settings = self.redis.ok_or(RunnerError::NoRedis)?;
        let closures = Arc::new(self.closures);
        let wants_closures = self
            .config
            .workers
            .iter()
            .any(|w| w.handler == HandlerSpec::Closures);
        if !closures.is_empty() && !wants_closures {
            return Err(RunnerError::Config(format!(
                "handlers are registered for {} but no [[workers]] entry uses them (leave out its handler, or set handler = {{ type = \"closures\" }})",
                registered(&closures)
            )));
        }
        let mut handlers = Vec::new();
        for spec in &self.config.workers {
            let handler = match &spec.handler {
                HandlerSpec::Webhook(w) => Handler::Webhook(Box::new(
                    Webhook::new(w)
                        .map_err(|e| RunnerError::Config(format!("{}: {e}", spec.label)))?,
                )),
                HandlerSpec::Command(c) => Handler::Command(CommandHandler::new(c)),
                HandlerSpec::Noop => Handler::Noop,
                HandlerSpec::Closures if closures.is_empty() => {
                    return Err(RunnerError::Config(format!(
                        "invalid {} handler: missing; set handler = {{ type = \"webhook\" | \"command\" | \"noop\", ... }} (closures are registered through the Rust API only)",
                        spec.label
                    )));
                }
                HandlerSpec::Closures => Handler::Closures(closures.clone()),
            };
            handlers.push(handler);
        }

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
    schedulers: schedulers::SyncReport,
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
    pub fn schedulers(&self) -> &schedulers::SyncReport {
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

async fn start_worker(
    settings: &RedisSettings,
    prefix: &str,
    spec: &WorkerSpec,
    handler: Handler,
    stack: Redis,
) -> Result<Worker, bullmq::Error> {
    let defaults = WorkerOptions::default();
    let opts = WorkerOptions {
        connection: settings.engine_options(),
        prefix: prefix.to_string(),
        name: Some(spec.name.clone().unwrap_or_else(|| "bullring".into())),
        concurrency: spec.concurrency,
        lock_duration: spec.lock_duration_ms.unwrap_or(defaults.lock_duration),
        stalled_interval: spec
            .stalled_interval_ms
            .unwrap_or(defaults.stalled_interval),
        max_stalled_count: spec.max_stalled_count.unwrap_or(defaults.max_stalled_count),
        run_retry_delay: config::RUN_RETRY_DELAY_MS,
        limiter: spec
            .limiter
            .map(|(max, duration)| RateLimiterOptions { max, duration }),
        metrics: Some(MetricsOptions::default()),
        ..defaults
    };
    let dispatch = Arc::new(Dispatch {
        queue: QueueRef::new(prefix, &spec.queue),
        handler,
        stack,
    });
    let processor = move |job: bullmq::Job, _token: bullmq::worker::CancellationToken| {
        let dispatch = dispatch.clone();
        async move { dispatch.process(job).await }
    };
    Worker::with_options(&spec.queue, processor, opts).await
}

struct Dispatch {
    queue: QueueRef,
    handler: Handler,
    /// Connection used to record stack trace entries.
    stack: Redis,
}

impl Dispatch {
    async fn process(&self, job: bullmq::Job) -> Result<serde_json::Value, bullmq::Error> {
        let limit = job
            .opts()
            .stack_trace_limit
            .map(|l| l as usize)
            .unwrap_or(DEFAULT_STACK_TRACE_LIMIT);
        let job = RunnerJob::new(job, &self.queue.name);
        let started = Instant::now();
        let result = self.handler.call(&job).await;
        let elapsed = started.elapsed();
        let duration_ms = elapsed.as_millis() as u64;
        match result {
            Ok(value) => {
                tracing::info!(
                    queue = %self.queue.name,
                    job_id = job.id(),
                    job_name = job.name(),
                    attempt = job.attempt(),
                    duration_ms,
                    "job completed"
                );
                Ok(value)
            }
            Err(error) => {
                let will_retry = error.retry && job.attempt() < job.max_attempts();
                tracing::warn!(
                    queue = %self.queue.name,
                    job_id = job.id(),
                    job_name = job.name(),
                    attempt = job.attempt(),
                    duration_ms,
                    reason = %error.reason,
                    will_retry,
                    "job failed"
                );
                let entry = error.stack_entry(self.handler.kind(), job.document(), elapsed);
                if let Err(e) = self.record_stack(job.id(), entry, limit).await {
                    tracing::warn!(job_id = job.id(), error = %e, "cannot record the stack trace");
                }
                if error.retry {
                    Err(bullmq::Error::ProcessingError(error.reason))
                } else {
                    Err(bullmq::Error::Unrecoverable(error.reason))
                }
            }
        }
    }

    /// Append `entry` to the job's `stacktrace` (a JSON array, as Node writes it), keeping the
    /// last `limit` entries. The job is active and locked by this worker, so nothing else
    /// writes the field meanwhile.
    async fn record_stack(
        &self,
        id: &str,
        entry: String,
        limit: usize,
    ) -> Result<(), crate::queue::error::QueueError> {
        let key = self.queue.keys().job_key(id);
        let mut pipe = redis::pipe();
        pipe.cmd("HGET").arg(&key).arg("stacktrace");
        pipe.cmd("EXISTS").arg(&key);
        let (current, exists): (Option<String>, bool) = self.stack.read(&pipe).await?;
        if !exists {
            return Ok(());
        }
        let mut entries: Vec<serde_json::Value> = current
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        entries.push(serde_json::Value::String(entry));
        if limit > 0 && entries.len() > limit {
            let cut = entries.len() - limit;
            entries.drain(..cut);
        }
        let mut pipe = redis::pipe();
        pipe.cmd("HSET")
            .arg(&key)
            .arg("stacktrace")
            .arg(serde_json::Value::Array(entries).to_string())
            .ignore();
        self.stack.write::<()>(&pipe).await
    }
}

/// How often the event drain wakes up. Waking once per event (two per job) costs a thread
/// wake-up each; polling in batches keeps that off the per-job path.
const DRAIN_EVERY: Duration = Duration::from_millis(50);

/// Read (and log) every event of a worker, so its unbounded channel never grows (ENGINE.md
/// gap 6), until the runner stops. Events are taken in batches every [`DRAIN_EVERY`] without
/// waiting on the channel, so a busy worker does not wake this task for each job.
async fn drain_events(worker: Arc<Worker>, queue: String, cancel: CancellationToken) {
    use futures::FutureExt;
    let mut ticks = tokio::time::interval(DRAIN_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = cancel.cancelled() => true,
            _ = ticks.tick() => false,
        };
        // `now_or_never` polls once: an event already queued is taken, an empty channel
        // gives `None` and the task sleeps until the next tick (or, stopping, returns having
        // logged what was left).
        while let Some(event) = worker.next_event().now_or_never() {
            match event {
                None => return,
                Some(event) => log_event(&queue, event),
            }
        }
        if stopping {
            return;
        }
    }
}

fn log_event(queue: &str, event: WorkerEvent) {
    match event {
        WorkerEvent::Error(message) => {
            tracing::warn!(queue = %queue, error = %message, "worker error (retrying in 2 s)");
        }
        WorkerEvent::Stalled { job_id } => {
            tracing::warn!(queue = %queue, job_id = %job_id, "stalled job moved back to waiting");
        }
        other => tracing::trace!(queue = %queue, event = ?other, "worker event"),
    }
}
