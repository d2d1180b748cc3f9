//! One configured worker at work: an engine [`bullmq::Worker`] with the entry's options, a
//! dispatcher that runs the handler for each job, logs its outcome and duration and records each
//! failure as a stack trace entry (ENGINE.md gap 5), and a task draining the worker's events so
//! its channel never grows (gap 6). Workers retry 2 s after a Redis error (gap 7).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bullmq::worker::WorkerEvent;
use bullmq::{MetricsOptions, RateLimiterOptions, Worker, WorkerOptions};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::handler::Handler;
use super::job::RunnerJob;
use crate::config::runner::{RUN_RETRY_DELAY_MS, WorkerSpec};
use crate::queue::connection::{Redis, RedisSettings};
use crate::queue::job_fields::append_stack_trace;
use crate::queue::model::QueueRef;

/// Stack trace entries kept per job when its options set no `stackTraceLimit`.
const DEFAULT_STACK_TRACE_LIMIT: usize = 10;

/// Start the engine worker of `spec`, processing its jobs with `handler`; `stack` is the
/// connection its failures' stack trace entries are written on.
pub(super) async fn start_worker(
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
        run_retry_delay: RUN_RETRY_DELAY_MS,
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
                if let Err(e) =
                    append_stack_trace(&self.stack, &self.queue, job.id(), entry, limit).await
                {
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
}

/// How often the event drain wakes up. Waking once per event (two per job) costs a thread
/// wake-up each; polling in batches keeps that off the per-job path.
const DRAIN_EVERY: Duration = Duration::from_millis(50);

/// Read (and log) every event of a worker, so its unbounded channel never grows (ENGINE.md
/// gap 6), until the runner stops. Events are taken in batches every [`DRAIN_EVERY`] without
/// waiting on the channel, so a busy worker does not wake this task for each job. A worker
/// error (Redis unreachable, `READONLY` from a demoted master) is also told to `errors`, which
/// looks for a failover under Sentinel.
pub(super) async fn drain_events(
    worker: Arc<Worker>,
    queue: String,
    cancel: CancellationToken,
    errors: Option<Arc<Notify>>,
) {
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
                Some(event) => {
                    if let (WorkerEvent::Error(_), Some(errors)) = (&event, &errors) {
                        errors.notify_one();
                    }
                    log_event(&queue, event)
                }
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
