//! The runner's workers on one Redis: one engine worker per `[[workers]]` entry, each with the
//! task draining its events. A [`Crew`] is started whole or not at all, and closed whole; under
//! Sentinel a failover closes the crew on the old master and starts a new one on the new master
//! ([`super::follow`]).

use std::sync::Arc;
use std::time::Duration;

use bullmq::Worker;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::error::RunnerError;
use super::handler::Handler;
use super::worker::{drain_events, start_worker};
use crate::config::runner::WorkerSpec;
use crate::queue::connection::{Redis, RedisSettings};

/// What every crew of a runner is started from.
pub(super) struct Plan {
    pub(super) prefix: String,
    pub(super) workers: Vec<(WorkerSpec, Handler)>,
    /// The connection failures' stack trace entries are written on (it follows a failover
    /// by itself).
    pub(super) stack: Redis,
    /// Told of every worker error, so a failover is looked for at once (Sentinel only).
    pub(super) errors: Option<Arc<Notify>>,
}

struct Running {
    worker: Arc<Worker>,
    queue: String,
    drain: JoinHandle<()>,
}

/// Workers running on one Redis.
pub(super) struct Crew {
    workers: Vec<Running>,
    cancel: CancellationToken,
}

impl Crew {
    /// Start every worker of `plan` on `settings` (a fixed Redis: a URL, a cluster, or the
    /// master a sentinel named). Should one fail to start, those already started are closed.
    pub(super) async fn start(plan: &Plan, settings: &RedisSettings) -> Result<Crew, RunnerError> {
        let mut crew = Crew {
            workers: Vec::new(),
            cancel: CancellationToken::new(),
        };
        for (spec, handler) in &plan.workers {
            let started = start_worker(
                settings,
                &plan.prefix,
                spec,
                handler.clone(),
                plan.stack.clone(),
            )
            .await;
            let worker = match started {
                Ok(worker) => Arc::new(worker),
                Err(source) => {
                    crew.close(Duration::ZERO).await;
                    return Err(RunnerError::Worker {
                        label: spec.label.clone(),
                        source,
                    });
                }
            };
            let drain = tokio::spawn(drain_events(
                worker.clone(),
                spec.queue.clone(),
                crew.cancel.clone(),
                plan.errors.clone(),
            ));
            tracing::info!(
                queue = %spec.queue,
                handler = spec.handler.kind(),
                concurrency = spec.concurrency,
                "worker started"
            );
            crew.workers.push(Running {
                worker,
                queue: spec.queue.clone(),
                drain,
            });
        }
        Ok(crew)
    }

    pub(super) fn len(&self) -> usize {
        self.workers.len()
    }

    /// Jobs being processed right now, over every worker.
    pub(super) async fn active_jobs(&self) -> usize {
        let mut total = 0;
        for running in &self.workers {
            total += running.worker.active_count().await;
        }
        total
    }

    /// Stop taking jobs, let running ones finish for up to `timeout`, close every worker; the
    /// number of jobs still running then (their locks expire and BullMQ's stalled-job check
    /// hands them on).
    pub(super) async fn close(self, timeout: Duration) -> usize {
        let closing = self.workers.iter().map(|running| {
            let worker = running.worker.clone();
            let queue = running.queue.clone();
            async move {
                let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
                // The engine bounds its own wait by `timeout`; closing its connection to a
                // master that is gone gets a bound of its own.
                match tokio::time::timeout(timeout + CLOSE_GRACE, worker.close(ms)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(queue = %queue, error = %e, "worker did not close cleanly")
                    }
                    Err(_) => tracing::warn!(queue = %queue, "worker did not close in time"),
                }
            }
        });
        futures::future::join_all(closing).await;
        let abandoned = self.active_jobs().await;
        self.cancel.cancel();
        for running in self.workers {
            let _ = running.drain.await;
        }
        abandoned
    }
}

/// Time a worker's close may take beyond its jobs' timeout.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
