//! The demo's hands on the queues: engine queues and short-lived demo workers on one
//! connection. [`DemoEngine::work`] runs a worker that follows a plan per job until every job
//! is where the plan says, then closes it (waking its blocking wait so it closes at once) and
//! gives the failed jobs Node-style stack traces; [`DemoEngine::take_job`] takes one job with
//! the engine's manual fetch and leaves it locked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bullmq::options::RedisConnectionOptions;
use bullmq::redis_connection::RedisConnection;
use bullmq::worker::{CancellationToken, WorkerEvent};
use bullmq::{
    Job, JobOptions, JobProgress, JobState, MetricsOptions, Queue, QueueOptions, Worker,
    WorkerOptions,
};
use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::error::DemoError;
use super::fixture::Outcome;
use crate::queue::connection::Redis;
use crate::queue::job_fields::record_failure;
use crate::queue::model::QueueRef;
use crate::queue::seed::wake_workers;

/// Name the demo workers record on the jobs they take (`processedBy`).
pub const WORKER_NAME: &str = "bullring-demo";
/// How long the jobs handed to a demo worker may take to reach their final state.
const SETTLE_DEADLINE: Duration = Duration::from_secs(20);
/// Longest wait between two looks at the job states (a retry coming back emits no event).
const RECHECK_INTERVAL: Duration = Duration::from_millis(250);
/// How long `Worker::close` may wait for its loop.
const CLOSE_TIMEOUT_MS: u64 = 2_000;

/// One job handed to a demo worker: what the worker does, and the state it must end in.
#[derive(Debug, Clone)]
pub struct Planned {
    pub id: String,
    pub logs: Vec<String>,
    pub progress: Option<Value>,
    pub outcome: Outcome,
    pub expect: JobState,
}

/// Engine queues and demo workers under one prefix, and the core connection for the demo's
/// own writes.
pub struct DemoEngine {
    pub conn: RedisConnection,
    pub options: RedisConnectionOptions,
    pub prefix: String,
    pub redis: Redis,
}

impl DemoEngine {
    /// An engine queue (opening one writes its meta hash, as Node's does).
    pub async fn queue(&self, name: &str) -> Result<Queue, DemoError> {
        let opts = QueueOptions {
            connection: self.options.clone(),
            prefix: self.prefix.clone(),
            ..Default::default()
        };
        Ok(Queue::with_connection(name, self.conn.clone(), opts).await?)
    }

    /// The queue as the core names it.
    pub fn queue_ref(&self, queue: &Queue) -> QueueRef {
        QueueRef::new(self.prefix.as_str(), queue.name())
    }

    fn worker_options(&self) -> WorkerOptions {
        WorkerOptions {
            connection: self.options.clone(),
            prefix: self.prefix.clone(),
            name: Some(WORKER_NAME.to_string()),
            concurrency: 4,
            drain_delay: 1,
            run_retry_delay: 2_000,
            metrics: Some(MetricsOptions::default()),
            ..Default::default()
        }
    }

    /// Add a job; its id.
    pub async fn add(
        &self,
        queue: &Queue,
        name: &str,
        data: Value,
        opts: JobOptions,
    ) -> Result<String, DemoError> {
        let job = queue.add(name, data).options(opts).await?;
        Ok(job.id().to_string())
    }

    /// Run a worker on `queue` until every planned job is in its expected state, then close it
    /// and give the failed ones their stack traces. Only planned jobs may be waiting in `queue`.
    pub async fn work(&self, queue: &Queue, planned: &[Planned]) -> Result<(), DemoError> {
        let plans: Arc<HashMap<String, Planned>> =
            Arc::new(planned.iter().map(|p| (p.id.clone(), p.clone())).collect());
        let processor = move |job: Job, _token: CancellationToken| {
            let plans = plans.clone();
            async move { follow_plan(job, &plans).await }
        };
        let worker =
            Arc::new(Worker::with_options(queue.name(), processor, self.worker_options()).await?);
        let finished = Arc::new(Notify::new());
        let drain = spawn_drain(worker.clone(), finished.clone());

        let expected: Vec<(String, JobState)> =
            planned.iter().map(|p| (p.id.clone(), p.expect)).collect();
        let settled = wait_for_states(queue, &expected, &finished).await;
        let closed = self.close_worker(&worker, queue).await;
        stop_drain(drain).await;
        settled?;
        closed?;

        self.write_stacktraces(queue, planned).await
    }

    /// Close a running worker without waiting out its blocking wait: pause it, then wake its
    /// `BZPOPMIN` on the marker so its loop sees the pause now rather than after `drain_delay`
    /// (or up to 5 s when a delayed job is due later), and close it.
    async fn close_worker(&self, worker: &Worker, queue: &Queue) -> Result<(), DemoError> {
        worker.pause();
        wake_workers(&self.redis, &self.queue_ref(queue)).await?;
        worker.close(CLOSE_TIMEOUT_MS).await?;
        Ok(())
    }

    /// Record a Node-style stack trace per failed attempt, and the failed reason, which the
    /// engine does not keep on a job waiting out a retry backoff (Node does).
    async fn write_stacktraces(&self, queue: &Queue, planned: &[Planned]) -> Result<(), DemoError> {
        let queue = self.queue_ref(queue);
        for p in planned {
            let failure = match &p.outcome {
                Outcome::Fail(f) | Outcome::FailForGood(f) => f,
                Outcome::Complete(_) => continue,
            };
            record_failure(
                &self.redis,
                &queue,
                &p.id,
                &failure.stack(),
                &failure.message,
            )
            .await?;
        }
        Ok(())
    }

    /// Take the next job of `queue` with the engine's manual fetch and leave it locked for
    /// `lock`. Returns the job (its script context still works) after closing the worker.
    pub async fn take_job(&self, queue: &Queue, lock: Duration) -> Result<Job, DemoError> {
        let opts = self.worker_options().manual_start().lock_duration(lock);
        let idle = |_job: Job, _token: CancellationToken| async { Ok(Value::Null) };
        let worker = Arc::new(Worker::with_options(queue.name(), idle, opts).await?);
        let drain = spawn_drain(worker.clone(), Arc::new(Notify::new()));
        let token = format!("{WORKER_NAME}:{}", worker.id());
        let taken = worker.get_next_job_nonblocking(&token).await;
        let closed = worker.close(CLOSE_TIMEOUT_MS).await;
        stop_drain(drain).await;
        closed?;
        taken?.ok_or_else(|| DemoError::Unexpected(format!("no job to take in {}", queue.name())))
    }
}

/// What a demo worker does with one job: its logs and progress, then its outcome.
async fn follow_plan(
    mut job: Job,
    plans: &HashMap<String, Planned>,
) -> Result<Value, bullmq::Error> {
    let Some(plan) = plans.get(job.id()) else {
        return Err(bullmq::Error::Unrecoverable(format!(
            "no demo plan for job {}",
            job.id()
        )));
    };
    write_logs_and_progress(&mut job, &plan.logs, plan.progress.as_ref()).await?;
    match &plan.outcome {
        Outcome::Complete(value) => Ok(value.clone()),
        Outcome::Fail(f) => Err(bullmq::Error::ProcessingError(f.message.clone())),
        Outcome::FailForGood(f) => Err(bullmq::Error::Unrecoverable(f.message.clone())),
    }
}

/// Add `logs` to a job being processed, then set its `progress`.
pub async fn write_logs_and_progress(
    job: &mut Job,
    logs: &[String],
    progress: Option<&Value>,
) -> Result<(), bullmq::Error> {
    for line in logs {
        job.log(line).await?;
    }
    if let Some(progress) = progress {
        job.update_progress(JobProgress::Object(progress.clone()))
            .await?;
    }
    Ok(())
}

/// Read a worker's events so they do not pile up (ENGINE.md gap 6), waking `finished` whenever
/// a job completes or fails.
fn spawn_drain(worker: Arc<Worker>, finished: Arc<Notify>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = worker.next_event().await {
            match &event {
                WorkerEvent::Completed { .. } | WorkerEvent::Failed { .. } => {
                    finished.notify_one();
                }
                WorkerEvent::Error(message) => warn!("demo worker: {message}"),
                _ => {}
            }
            debug!(?event, "demo worker event");
        }
    })
}

/// The event channel never closes while the worker lives, so the drain task is aborted.
async fn stop_drain(drain: JoinHandle<()>) {
    drain.abort();
    if let Err(err) = drain.await
        && !err.is_cancelled()
    {
        warn!("demo worker event drain ended badly: {err}");
    }
}

/// Wait until every job is in its expected state, looking again after each finished job and at
/// least every [`RECHECK_INTERVAL`].
async fn wait_for_states(
    queue: &Queue,
    expected: &[(String, JobState)],
    finished: &Notify,
) -> Result<(), DemoError> {
    let started = Instant::now();
    loop {
        let mut behind = None;
        for (id, want) in expected {
            let state = queue.get_job_state(id).await?;
            if state != *want {
                behind = Some((id, want, state));
                break;
            }
        }
        let Some((id, want, state)) = behind else {
            return Ok(());
        };
        let waited = started.elapsed();
        if waited >= SETTLE_DEADLINE {
            return Err(DemoError::Timeout {
                what: format!(
                    "demo job {}/{id} to become {want} (it is {state})",
                    queue.name()
                ),
                waited,
            });
        }
        let pause = RECHECK_INTERVAL.min(SETTLE_DEADLINE - waited);
        // Timing out here only means "look again".
        let _ = tokio::time::timeout(pause, finished.notified()).await;
    }
}
