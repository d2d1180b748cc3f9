//! `bullring demo`: fills a Redis with queues that look like real use, so the dashboard has
//! something to show in every state.
//!
//! This module owns the demo data set and how it is produced. Everything goes through the BullMQ
//! engine (queues, real workers, a flow producer, job schedulers), except a few touches a demo may
//! make directly: the `stacktrace` of failed jobs (Rust workers record none, ENGINE.md gap 5) and
//! the `failedReason` of the job waiting out a retry (the engine drops it, Node keeps it), the
//! times of the past `sync` runs (moved back to the top of the previous hours), a wake-up marker
//! (`ZADD <queue>:marker 0 "0"`) so a demo worker closes at once, and the marker key below.
//!
//! Queues and what they hold after [`seed`]:
//! - `sync`: job schedulers `sync-updated-dossiers` (`0 * * * *`) and `nightly-maintenance`
//!   (`0 3 * * *`, Europe/Paris), whose next iterations are delayed jobs; four completed hourly
//!   runs and one failed run.
//! - `process-attachment`: jobs `attachment-<n>` (3 attempts, exponential backoff), completed with
//!   page counts, failed for good (with logs and stack traces), one waiting out a retry backoff in
//!   `delayed`, one delayed on purpose, two waiting, and one **active**.
//! - `consolidate-dossier`: completed, prioritized (priorities 1, 5 and 10) and waiting jobs.
//! - `emails`: completed and failed `send-email` jobs, a delayed reminder, and a flow parent
//!   `send-digest` in `waiting-children`.
//! - `email-render`: the flow's three `render-email` children: one completed, two waiting.
//! - `reports`: a paused queue with three waiting jobs.
//! - `thumbnails` (live, while `bullring demo` runs): the demo runner ([`live_runner`]) upserts
//!   two schedulers (every 2 s, and a cron with seconds) and processes their jobs with closures,
//!   so counts, metrics and the completed/failed lists keep moving.
//!
//! The active job: a worker started without its run loop takes it with the engine's manual fetch
//! (`Worker::get_next_job_nonblocking`), logs to it and sets its progress, and is then closed
//! without finishing it. No lock renewal runs, so the job stays in `active` until its lock
//! (10 minutes, [`ACTIVE_LOCK`]) expires; after that the stalled check of any worker on the queue
//! moves it back to `wait`, as it would for a crashed worker.
//!
//! Running it twice: the first run sets `<prefix>:bullring:demo-seeded` (`SET NX`, so two runs at
//! once cannot both seed); later runs find it, log that, and return without writing. Delete that
//! key (or the queues) to seed again. If seeding fails the key is removed again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bullmq::job_scheduler::RepeatOptions;
use bullmq::options::RedisConnectionOptions;
use bullmq::redis_connection::RedisConnection;
use bullmq::types::BackoffStrategy;
use bullmq::worker::{CancellationToken, WorkerEvent};
use bullmq::{
    FlowJob, FlowProducer, Job, JobOptions, JobProgress, JobState, MetricsOptions, Queue,
    QueueOptions, Worker, WorkerOptions,
};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::queue::connection::RedisSettings;

/// Queue with the job schedulers.
pub const SYNC: &str = "sync";
/// Queue with custom job ids, retries, logs and the active job.
pub const ATTACHMENTS: &str = "process-attachment";
/// Queue with prioritized jobs.
pub const CONSOLIDATE: &str = "consolidate-dossier";
/// Queue with the flow parent and failed mails.
pub const EMAILS: &str = "emails";
/// Queue with the flow children.
pub const EMAIL_RENDER: &str = "email-render";
/// The paused queue.
pub const REPORTS: &str = "reports";
/// Every demo queue, in the order they are seeded.
pub const QUEUES: [&str; 6] = [
    SYNC,
    ATTACHMENTS,
    CONSOLIDATE,
    EMAILS,
    EMAIL_RENDER,
    REPORTS,
];

/// Scheduler that runs the hourly sync.
pub const SYNC_SCHEDULER: &str = "sync-updated-dossiers";
/// Scheduler that runs the nightly maintenance.
pub const MAINTENANCE_SCHEDULER: &str = "nightly-maintenance";
/// Id of the job left in `active`.
pub const ACTIVE_JOB_ID: &str = "attachment-1008";
/// Lock duration of the job left in `active`.
pub const ACTIVE_LOCK: Duration = Duration::from_secs(600);

/// How long the jobs handed to a demo worker may take to reach their final state.
const SETTLE_DEADLINE: Duration = Duration::from_secs(20);
/// Longest wait between two looks at the job states (a retry coming back emits no event).
const RECHECK_INTERVAL: Duration = Duration::from_millis(250);
/// How long `Worker::close` may wait for its loop.
const CLOSE_TIMEOUT_MS: u64 = 2_000;
/// How long Redis may take to answer the first PING.
const REACH_TIMEOUT: Duration = Duration::from_secs(3);
/// Name the demo workers record on the jobs they take (`processedBy`).
const WORKER_NAME: &str = "bullring-demo";

/// What [`seed`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// The demo queues.
    pub queues: Vec<String>,
    /// Jobs created by this call (0 when the data was already there).
    pub jobs: usize,
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The queue engine reported an error.
    #[error("queue engine error while seeding the demo: {0}")]
    Engine(#[from] bullmq::Error),
    /// Redis did not answer at all.
    #[error("cannot reach Redis at {url}: {reason}")]
    Unreachable {
        /// The URL, password hidden.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A direct Redis command failed.
    #[error("Redis error while seeding the demo: {0}")]
    Redis(#[from] redis::RedisError),
    /// Demo jobs did not reach their state in time.
    #[error("timed out after {}s waiting for {what}", waited.as_secs())]
    Timeout {
        /// What we were waiting for.
        what: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The data did not come out as planned.
    #[error("demo seeding went wrong: {0}")]
    Unexpected(String),
}

/// The key that records that the demo data was seeded under `prefix`.
pub fn marker_key(prefix: &str) -> String {
    format!("{prefix}:bullring:demo-seeded")
}

/// Seed the demo queues under `prefix` in the Redis at `url`, unless that was done before.
pub async fn seed(url: &str, prefix: &str) -> Result<DemoSummary, DemoError> {
    check_reachable(url).await?;
    let options = RedisConnectionOptions {
        url: url.to_string(),
        ..Default::default()
    };
    let conn = RedisConnection::new_managed_only(&options).await?;
    let queues: Vec<String> = QUEUES.iter().map(|q| q.to_string()).collect();

    let marker = marker_key(prefix);
    let mut redis = conn.connection();
    let claimed: Option<String> = redis::cmd("SET")
        .arg(&marker)
        .arg(now_ms())
        .arg("NX")
        .query_async(&mut redis)
        .await?;
    if claimed.is_none() {
        info!(
            "demo data already seeded under prefix {prefix:?} (key {marker} exists); \
             skipping. Delete that key to seed again"
        );
        return Ok(DemoSummary { queues, jobs: 0 });
    }

    let mut seeder = Seeder {
        conn,
        options,
        prefix: prefix.to_string(),
        jobs: 0,
    };
    match seeder.run().await {
        Ok(()) => {
            let summary = DemoSummary {
                queues,
                jobs: seeder.jobs,
            };
            info!(
                "demo data seeded: {} jobs in {} queues ({}) under prefix {prefix:?}",
                summary.jobs,
                summary.queues.len(),
                summary.queues.join(", ")
            );
            Ok(summary)
        }
        Err(err) => {
            let removed: Result<(), redis::RedisError> =
                redis::cmd("DEL").arg(&marker).query_async(&mut redis).await;
            if let Err(del_err) = removed {
                warn!("cannot remove {marker} after the failed seed: {del_err}");
            }
            Err(err)
        }
    }
}

/// How a demo worker treats one job.
#[derive(Debug, Clone)]
struct Plan {
    logs: Vec<String>,
    progress: Option<Value>,
    outcome: Outcome,
}

#[derive(Debug, Clone)]
enum Outcome {
    /// Return this value.
    Complete(Value),
    /// Fail with a retryable error: the job's attempts and backoff decide what follows.
    Fail(Failure),
    /// Fail with an unrecoverable error, whatever attempts are left.
    FailForGood(Failure),
}

/// A failure as a Node worker would record it.
#[derive(Debug, Clone, Copy)]
struct Failure {
    /// Error class, the first word of the stack.
    class: &'static str,
    message: &'static str,
    /// Stack frames, one `    at ...` line each.
    frames: &'static str,
}

impl Failure {
    fn stack(&self) -> String {
        format!("{}: {}\n{}", self.class, self.message, self.frames)
    }
}

/// One job handed to a demo worker, and the state it must end in.
struct Planned {
    id: String,
    plan: Plan,
    expect: JobState,
}

impl Planned {
    fn new(id: impl Into<String>, plan: Plan, expect: JobState) -> Self {
        Planned {
            id: id.into(),
            plan,
            expect,
        }
    }
}

fn completes(value: Value, logs: &[&str], progress: Option<Value>) -> Plan {
    Plan {
        logs: logs.iter().map(|l| l.to_string()).collect(),
        progress,
        outcome: Outcome::Complete(value),
    }
}

fn fails(failure: Failure, for_good: bool, logs: &[&str], progress: Option<Value>) -> Plan {
    Plan {
        logs: logs.iter().map(|l| l.to_string()).collect(),
        progress,
        outcome: if for_good {
            Outcome::FailForGood(failure)
        } else {
            Outcome::Fail(failure)
        },
    }
}

struct Seeder {
    conn: RedisConnection,
    options: RedisConnectionOptions,
    prefix: String,
    jobs: usize,
}

impl Seeder {
    async fn run(&mut self) -> Result<(), DemoError> {
        self.seed_sync().await?;
        self.seed_attachments().await?;
        self.seed_consolidate().await?;
        self.seed_emails().await?;
        self.seed_reports().await?;
        Ok(())
    }

    async fn queue(&self, name: &str) -> Result<Queue, DemoError> {
        let opts = QueueOptions {
            connection: self.options.clone(),
            prefix: self.prefix.clone(),
            ..Default::default()
        };
        Ok(Queue::with_connection(name, self.conn.clone(), opts).await?)
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

    /// Add a job and count it.
    async fn add(
        &mut self,
        queue: &Queue,
        name: &str,
        data: Value,
        opts: JobOptions,
    ) -> Result<String, DemoError> {
        let job = queue.add(name, data).options(opts).await?;
        self.jobs += 1;
        Ok(job.id().to_string())
    }

    /// Run a worker on `queue` until every planned job is in its expected state, then close it
    /// and give the failed ones their stack traces. Only planned jobs may be waiting in `queue`.
    async fn work(&self, queue: &Queue, planned: &[Planned]) -> Result<(), DemoError> {
        let plans: Arc<HashMap<String, Plan>> = Arc::new(
            planned
                .iter()
                .map(|p| (p.id.clone(), p.plan.clone()))
                .collect(),
        );
        let processor = move |mut job: Job, _token: CancellationToken| {
            let plans = plans.clone();
            async move {
                let Some(plan) = plans.get(job.id()) else {
                    return Err(bullmq::Error::Unrecoverable(format!(
                        "no demo plan for job {}",
                        job.id()
                    )));
                };
                for line in &plan.logs {
                    job.log(line).await?;
                }
                if let Some(progress) = &plan.progress {
                    job.update_progress(JobProgress::Object(progress.clone()))
                        .await?;
                }
                match &plan.outcome {
                    Outcome::Complete(value) => Ok(value.clone()),
                    Outcome::Fail(f) => Err(bullmq::Error::ProcessingError(f.message.to_string())),
                    Outcome::FailForGood(f) => {
                        Err(bullmq::Error::Unrecoverable(f.message.to_string()))
                    }
                }
            }
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
        let mut redis = self.conn.connection();
        let _: usize = redis::cmd("ZADD")
            .arg(queue.keys().marker())
            .arg(0)
            .arg("0")
            .query_async(&mut redis)
            .await?;
        worker.close(CLOSE_TIMEOUT_MS).await?;
        Ok(())
    }

    /// Record a Node-style stack trace per failed attempt (a JSON array of strings, as BullMQ
    /// does), and the failed reason, which the engine does not keep on a job waiting out a retry
    /// backoff (Node does).
    async fn write_stacktraces(&self, queue: &Queue, planned: &[Planned]) -> Result<(), DemoError> {
        let mut redis = self.conn.connection();
        for p in planned {
            let failure = match &p.plan.outcome {
                Outcome::Fail(f) | Outcome::FailForGood(f) => f,
                Outcome::Complete(_) => continue,
            };
            let key = queue.keys().job_key(&p.id);
            let attempts: Option<u32> = redis::cmd("HGET")
                .arg(&key)
                .arg("atm")
                .query_async(&mut redis)
                .await?;
            let stacks = vec![failure.stack(); attempts.unwrap_or(1).max(1) as usize];
            let stacks = serde_json::to_string(&stacks)
                .map_err(|e| DemoError::Unexpected(format!("cannot encode a stack trace: {e}")))?;
            let () = redis::cmd("HSET")
                .arg(&key)
                .arg("stacktrace")
                .arg(stacks)
                .arg("failedReason")
                .arg(failure.message)
                .query_async(&mut redis)
                .await?;
        }
        Ok(())
    }

    /// Take the next job of `queue` with the engine's manual fetch and leave it locked for
    /// `lock`. Returns the job (its script context still works) after closing the worker.
    async fn take_job(&self, queue: &Queue, lock: Duration) -> Result<Job, DemoError> {
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

    async fn seed_sync(&mut self) -> Result<(), DemoError> {
        let queue = self.queue(SYNC).await?;
        let hour = now_ms() / 3_600_000 * 3_600_000;
        let runs = [
            (4, json!({"updated": 27, "durationMs": 1544})),
            (3, json!({"updated": 12, "durationMs": 830})),
            (2, json!({"updated": 0, "durationMs": 198})),
            (1, json!({"updated": 5, "durationMs": 611})),
        ];
        let mut planned = Vec::new();
        let mut history = Vec::new();
        let failed_at = hour - 5 * 3_600_000;
        let id = format!("repeat:{SYNC_SCHEDULER}:{failed_at}");
        self.add(&queue, SYNC_SCHEDULER, json!({}), job_id(&id))
            .await?;
        planned.push(Planned::new(
            &id,
            fails(
                UPSTREAM_503,
                false,
                &["GET /v2/dossiers?updatedSince=last-run"],
                None,
            ),
            JobState::Failed,
        ));
        history.push((id, failed_at, 30_021));
        for (hours_ago, value) in runs {
            let at = hour - hours_ago * 3_600_000;
            let id = format!("repeat:{SYNC_SCHEDULER}:{at}");
            let duration = value["durationMs"].as_u64().unwrap_or(500);
            let updated = value["updated"].as_u64().unwrap_or(0);
            self.add(&queue, SYNC_SCHEDULER, json!({}), job_id(&id))
                .await?;
            let fetched = format!("fetched {updated} dossiers updated since the previous run");
            planned.push(Planned::new(
                &id,
                completes(
                    value,
                    &["GET /v2/dossiers?updatedSince=last-run", &fetched],
                    None,
                ),
                JobState::Completed,
            ));
            history.push((id, at, duration));
        }
        self.work(&queue, &planned).await?;
        self.backdate(&queue, &planned, &history).await?;

        let hourly = RepeatOptions {
            pattern: Some("0 * * * *".to_string()),
            ..Default::default()
        };
        let nightly = RepeatOptions {
            pattern: Some("0 3 * * *".to_string()),
            tz: Some("Europe/Paris".to_string()),
            ..Default::default()
        };
        for (scheduler, repeat, data) in [
            (SYNC_SCHEDULER, hourly, json!({})),
            (
                MAINTENANCE_SCHEDULER,
                nightly,
                json!({"tasks": ["purge-expired-uploads", "reindex-search"]}),
            ),
        ] {
            let next = queue
                .upsert_job_scheduler(scheduler, repeat, Some(scheduler), Some(data), None)
                .await?;
            if next.is_some() {
                self.jobs += 1;
            }
        }
        Ok(())
    }

    /// Move the past sync runs to the top of their hours, as the scheduler would have run them,
    /// and tie them to their scheduler.
    async fn backdate(
        &self,
        queue: &Queue,
        planned: &[Planned],
        history: &[(String, u64, u64)],
    ) -> Result<(), DemoError> {
        let mut pipe = redis::pipe();
        for ((id, at, duration), p) in history.iter().zip(planned) {
            let started = at + 180;
            let finished = started + duration;
            let set = if p.expect == JobState::Failed {
                queue.keys().failed()
            } else {
                queue.keys().completed()
            };
            pipe.cmd("HSET")
                .arg(queue.keys().job_key(id))
                .arg("timestamp")
                .arg(at)
                .arg("processedOn")
                .arg(started)
                .arg("finishedOn")
                .arg(finished)
                .arg("rjk")
                .arg(SYNC_SCHEDULER)
                .ignore();
            pipe.cmd("ZADD").arg(set).arg(finished).arg(id).ignore();
        }
        let mut redis = self.conn.connection();
        let () = pipe.query_async(&mut redis).await?;
        Ok(())
    }

    async fn seed_attachments(&mut self) -> Result<(), DemoError> {
        let queue = self.queue(ATTACHMENTS).await?;
        let opts = |id: &str, first_retry_ms: u64| {
            job_id(id)
                .attempts(3)
                .backoff(BackoffStrategy::Exponential(first_retry_ms))
        };
        let data = |n: u32, file: &str, dossier: u32| {
            json!({
                "attachmentId": n,
                "dossierId": dossier,
                "file": file,
                "s3Key": format!("dossiers/{dossier}/attachments/{n}/{file}"),
            })
        };

        let mut planned = Vec::new();
        let done = [
            (1001, "scan-avis-imposition.pdf", 48213, 2, 183_402, false),
            (
                1002,
                "releve-identite-bancaire.pdf",
                48213,
                1,
                61_877,
                false,
            ),
            (1003, "contrat-signe.pdf", 48220, 14, 2_411_005, true),
            (1004, "photo-compteur.jpg", 48231, 1, 912_334, true),
        ];
        for (n, file, dossier, pages, bytes, ocr) in done {
            let id = format!("attachment-{n}");
            self.add(
                &queue,
                ATTACHMENTS,
                data(n, file, dossier),
                opts(&id, 60_000),
            )
            .await?;
            let fetched = format!("downloaded {file} ({bytes} bytes)");
            let extracted = format!(
                "extracted text from {pages} page(s){}",
                if ocr { " with OCR" } else { "" }
            );
            planned.push(Planned::new(
                &id,
                completes(
                    json!({"pages": pages, "bytes": bytes, "ocr": ocr, "language": "fr"}),
                    &[&fetched, &extracted],
                    Some(json!({"stage": "done", "page": pages, "pages": pages})),
                ),
                JobState::Completed,
            ));
        }

        let id = "attachment-1005";
        self.add(
            &queue,
            ATTACHMENTS,
            data(1005, "declaration-protegee.pdf", 48240),
            opts(id, 60_000),
        )
        .await?;
        planned.push(Planned::new(
            id,
            fails(
                PDF_ENCRYPTED,
                true,
                &[
                    "downloaded declaration-protegee.pdf (228 113 bytes)",
                    "opening PDF",
                    "document has an owner password; giving up (retrying will not help)",
                ],
                Some(json!({"stage": "parse", "page": 0, "pages": 0})),
            ),
            JobState::Failed,
        ));

        let id = "attachment-1006";
        self.add(
            &queue,
            ATTACHMENTS,
            data(1006, "plan-cadastral.tiff", 48244),
            opts(id, 50),
        )
        .await?;
        planned.push(Planned::new(
            id,
            fails(
                S3_TIMEOUT,
                false,
                &["downloading dossiers/48244/attachments/1006/plan-cadastral.tiff"],
                Some(json!({"stage": "download", "page": 0, "pages": 0})),
            ),
            JobState::Failed,
        ));

        let id = "attachment-1007";
        self.add(
            &queue,
            ATTACHMENTS,
            data(1007, "dossier-complet-scanne.pdf", 48251),
            opts(id, 60_000),
        )
        .await?;
        planned.push(Planned::new(
            id,
            fails(
                OCR_OOM,
                false,
                &[
                    "downloaded dossier-complet-scanne.pdf (48 022 115 bytes)",
                    "no text layer; running OCR on 212 pages",
                ],
                Some(json!({"stage": "ocr", "page": 37, "pages": 212})),
            ),
            JobState::Delayed,
        ));
        self.work(&queue, &planned).await?;

        // The active job: the only one waiting when it is taken.
        self.add(
            &queue,
            ATTACHMENTS,
            data(1008, "acte-de-vente.pdf", 48260),
            opts(ACTIVE_JOB_ID, 60_000),
        )
        .await?;
        let mut job = self.take_job(&queue, ACTIVE_LOCK).await?;
        if job.id() != ACTIVE_JOB_ID {
            return Err(DemoError::Unexpected(format!(
                "took job {} instead of {ACTIVE_JOB_ID}",
                job.id()
            )));
        }
        job.log("downloaded acte-de-vente.pdf (3 402 771 bytes)")
            .await?;
        job.log("no text layer; running OCR on 18 pages").await?;
        job.update_progress(JobProgress::Object(
            json!({"stage": "ocr", "page": 3, "pages": 18}),
        ))
        .await?;
        let state = queue.get_job_state(ACTIVE_JOB_ID).await?;
        if state != JobState::Active {
            return Err(DemoError::Unexpected(format!(
                "{ATTACHMENTS}/{ACTIVE_JOB_ID} is {state} after its worker closed, not active"
            )));
        }

        self.add(
            &queue,
            ATTACHMENTS,
            data(1009, "justificatif-domicile.pdf", 48262),
            opts("attachment-1009", 60_000).delay(Duration::from_secs(45 * 60)),
        )
        .await?;
        for (n, file, dossier) in [
            (1010, "facture-travaux.pdf", 48263),
            (1011, "attestation-assurance.pdf", 48263),
        ] {
            let id = format!("attachment-{n}");
            self.add(
                &queue,
                ATTACHMENTS,
                data(n, file, dossier),
                opts(&id, 60_000),
            )
            .await?;
        }
        Ok(())
    }

    async fn seed_consolidate(&mut self) -> Result<(), DemoError> {
        let queue = self.queue(CONSOLIDATE).await?;
        let mut planned = Vec::new();
        for (dossier, documents, bytes) in [
            (48213, 14, 2_211_840),
            (48220, 6, 904_113),
            (48231, 9, 1_377_002),
        ] {
            let id = self
                .add(
                    &queue,
                    CONSOLIDATE,
                    json!({"dossierId": dossier, "requestedBy": "instructeur@example.org"}),
                    JobOptions::new().attempts(2),
                )
                .await?;
            let merged = format!("merged {documents} documents");
            planned.push(Planned::new(
                id,
                completes(
                    json!({"documents": documents, "mergedPdfBytes": bytes}),
                    &[&merged],
                    Some(json!({"step": "upload", "done": documents, "total": documents})),
                ),
                JobState::Completed,
            ));
        }
        self.work(&queue, &planned).await?;

        for (dossier, priority) in [(48270, 1), (48271, 5), (48272, 10)] {
            self.add(
                &queue,
                CONSOLIDATE,
                json!({"dossierId": dossier, "requestedBy": "instructeur@example.org"}),
                JobOptions::new().attempts(2).priority(priority),
            )
            .await?;
        }
        for dossier in [48275, 48276] {
            self.add(
                &queue,
                CONSOLIDATE,
                json!({"dossierId": dossier, "requestedBy": "nightly-maintenance"}),
                JobOptions::new().attempts(2),
            )
            .await?;
        }
        Ok(())
    }

    async fn seed_emails(&mut self) -> Result<(), DemoError> {
        let queue = self.queue(EMAILS).await?;
        let mail = |to: &str, template: &str| json!({"to": to, "template": template});
        let mut planned = Vec::new();
        for (to, template, message_id) in [
            (
                "claire.martin@example.org",
                "dossier-accepted",
                "<20261122.4f2a@mail.example.org>",
            ),
            (
                "paul.bernard@example.org",
                "documents-missing",
                "<20261122.4f31@mail.example.org>",
            ),
        ] {
            let id = self
                .add(
                    &queue,
                    "send-email",
                    mail(to, template),
                    JobOptions::new().attempts(2),
                )
                .await?;
            planned.push(Planned::new(
                id,
                completes(
                    json!({"messageId": message_id, "accepted": [to], "rejected": []}),
                    &[],
                    None,
                ),
                JobState::Completed,
            ));
        }
        let id = self
            .add(
                &queue,
                "send-email",
                mail("j.dupont@example.fr", "dossier-accepted"),
                JobOptions::new().attempts(2),
            )
            .await?;
        planned.push(Planned::new(
            id,
            fails(
                SMTP_REJECTED,
                true,
                &["connected to smtp.example.org:587"],
                None,
            ),
            JobState::Failed,
        ));
        let id = self
            .add(
                &queue,
                "send-email",
                mail("sophie.leroy@example.org", "documents-missing"),
                JobOptions::new()
                    .attempts(2)
                    .backoff(BackoffStrategy::Exponential(50)),
            )
            .await?;
        planned.push(Planned::new(
            id,
            fails(SMTP_REFUSED, false, &[], None),
            JobState::Failed,
        ));
        self.work(&queue, &planned).await?;

        self.add(
            &queue,
            "send-email",
            mail("paul.bernard@example.org", "documents-missing-reminder"),
            JobOptions::new()
                .attempts(2)
                .delay(Duration::from_secs(2 * 3600)),
        )
        .await?;

        // A digest that waits for its three rendered parts.
        let render = |user: u32, email: &str| {
            FlowJob::new(
                "render-email",
                EMAIL_RENDER,
                json!({"userId": user, "to": email, "template": "weekly-digest"}),
            )
        };
        let flow = FlowJob::new(
            "send-digest",
            EMAILS,
            json!({"digest": "weekly", "recipients": 3}),
        )?
        .children(vec![
            render(1042, "claire.martin@example.org")?,
            render(1043, "paul.bernard@example.org")?,
            render(1044, "sophie.leroy@example.org")?,
        ]);
        let render_queue = self.queue(EMAIL_RENDER).await?;
        let producer = FlowProducer::with_connection(self.conn.clone(), Some(self.prefix.clone()))?;
        let node = producer.add(flow).await?;
        self.jobs += 4;
        let parent_id = node.job.id().to_string();

        let mut child = self
            .take_job(&render_queue, Duration::from_secs(30))
            .await?;
        let user = child.data()["userId"].as_u64().unwrap_or_default();
        child.log("rendered weekly-digest (18.4 KB html)").await?;
        child
            .move_to_completed(&format!("rendered weekly-digest for user {user} (18.4 KB)"))
            .await?;
        let state = queue.get_job_state(&parent_id).await?;
        if state != JobState::WaitingChildren {
            return Err(DemoError::Unexpected(format!(
                "flow parent {EMAILS}/{parent_id} is {state}, not waiting-children"
            )));
        }
        Ok(())
    }

    async fn seed_reports(&mut self) -> Result<(), DemoError> {
        let queue = self.queue(REPORTS).await?;
        for (report, period) in [
            ("monthly-activity", "2026-10"),
            ("processing-times", "2026-10"),
            ("rejected-dossiers", "2026-Q3"),
        ] {
            self.add(
                &queue,
                "generate-report",
                json!({"report": report, "period": period, "format": "xlsx"}),
                JobOptions::new().attempts(1),
            )
            .await?;
        }
        queue.pause().await?;
        Ok(())
    }
}

/// Fail in seconds when Redis is not there: the engine's connection keeps retrying for about
/// 40 s before it reports a refused connection.
async fn check_reachable(url: &str) -> Result<(), DemoError> {
    let unreachable = |reason: String| DemoError::Unreachable {
        url: RedisSettings::url(url).redacted(),
        reason,
    };
    let ping = async {
        let client = redis::Client::open(url)?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    match tokio::time::timeout(REACH_TIMEOUT, ping).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(unreachable(err.to_string())),
        Err(_) => Err(unreachable(format!(
            "no answer within {}s",
            REACH_TIMEOUT.as_secs()
        ))),
    }
}

fn job_id(id: &str) -> JobOptions {
    JobOptions::new().job_id(id)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
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

const UPSTREAM_503: Failure = Failure {
    class: "AxiosError",
    message: "Request failed with status code 503 (GET https://api.dossiers.example.org/v2/dossiers)",
    frames: "    at settle (/srv/app/node_modules/axios/lib/core/settle.js:19:12)
    at IncomingMessage.handleStreamEnd (/srv/app/node_modules/axios/lib/adapters/http.js:599:11)
    at IncomingMessage.emit (node:events:531:35)
    at endReadableNT (node:internal/streams/readable:1696:12)
    at process.processTicksAndRejections (node:internal/process/task_queues:82:21)
    at async DossierClient.listUpdated (/srv/app/dist/clients/dossier-client.js:48:22)
    at async syncUpdatedDossiers (/srv/app/dist/jobs/sync-updated-dossiers.js:31:25)",
};

const PDF_ENCRYPTED: Failure = Failure {
    class: "UnrecoverableError",
    message: "PDF is encrypted",
    frames: "    at PdfDocument.open (/srv/app/dist/pdf/document.js:112:19)
    at async extractText (/srv/app/dist/pdf/extract.js:27:17)
    at async processAttachment (/srv/app/dist/jobs/process-attachment.js:54:24)
    at async Worker.processJob (/srv/app/node_modules/bullmq/dist/cjs/classes/worker.js:455:28)",
};

const S3_TIMEOUT: Failure = Failure {
    class: "TimeoutError",
    message: "S3 GetObject timed out after 30000 ms",
    frames: "    at Timeout._onTimeout (/srv/app/node_modules/@smithy/node-http-handler/dist-cjs/index.js:123:20)
    at listOnTimeout (node:internal/timers:581:17)
    at process.processTimers (node:internal/timers:519:7)
    at async downloadAttachment (/srv/app/dist/storage/s3.js:41:20)
    at async processAttachment (/srv/app/dist/jobs/process-attachment.js:38:18)",
};

const OCR_OOM: Failure = Failure {
    class: "Error",
    message: "tesseract exited with code 137 (killed: out of memory)",
    frames: "    at ChildProcess.<anonymous> (/srv/app/dist/ocr/tesseract.js:66:16)
    at ChildProcess.emit (node:events:519:28)
    at ChildProcess._handle.onexit (node:internal/child_process:294:12)
    at async ocrPages (/srv/app/dist/ocr/index.js:22:5)
    at async processAttachment (/srv/app/dist/jobs/process-attachment.js:61:9)",
};

const SMTP_REJECTED: Failure = Failure {
    class: "Error",
    message: "Can't send mail - all recipients were rejected: 550 5.1.1 <j.dupont@example.fr>: \
              Recipient address rejected: User unknown in virtual mailbox table",
    frames: "    at SMTPConnection._formatError (/srv/app/node_modules/nodemailer/lib/smtp-connection/index.js:798:19)
    at SMTPConnection._actionRCPT (/srv/app/node_modules/nodemailer/lib/smtp-connection/index.js:1682:28)
    at SMTPConnection.<anonymous> (/srv/app/node_modules/nodemailer/lib/smtp-connection/index.js:1635:30)
    at SMTPConnection._processResponse (/srv/app/node_modules/nodemailer/lib/smtp-connection/index.js:982:20)
    at SMTPConnection._onData (/srv/app/node_modules/nodemailer/lib/smtp-connection/index.js:763:14)
    at TLSSocket.SMTPConnection._onSocketData (/srv/app/node_modules/nodemailer/lib/smtp-connection/index.js:195:44)",
};

const SMTP_REFUSED: Failure = Failure {
    class: "Error",
    message: "connect ECONNREFUSED 10.0.3.12:587",
    frames: "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1606:16)",
};

/// Queue the demo workers process, fed by the demo schedulers (the seeded queues keep their
/// jobs, so every state stays visible).
pub const LIVE: &str = "thumbnails";
/// Demo scheduler adding a thumbnail job every two seconds.
pub const LIVE_SCHEDULER: &str = "render-thumbnails";
/// Demo scheduler (cron with seconds) adding a clean-up job every ten seconds.
pub const LIVE_CRON_SCHEDULER: &str = "cleanup-thumbnails";

/// The runner settings of `bullring demo`: the live queue, its two schedulers and a worker
/// whose closures are registered by [`live_runner`].
pub fn live_config() -> crate::runner::RunnerConfig {
    let text = format!(
        r#"
[[queues]]
name = "{LIVE}"
[queues.defaults]
attempts = 2
backoff = {{ type = "fixed", delay_ms = 1000 }}
remove_on_complete = 200
remove_on_fail = 100

[[workers]]
queue = "{LIVE}"
name = "{WORKER_NAME}"
concurrency = 2

[[schedulers]]
id = "{LIVE_SCHEDULER}"
queue = "{LIVE}"
job_name = "render-thumbnail"
every_ms = 2000
data = {{ size = "320x240" }}

[[schedulers]]
id = "{LIVE_CRON_SCHEDULER}"
queue = "{LIVE}"
job_name = "cleanup-thumbnails"
cron = "*/10 * * * * *"
"#
    );
    crate::config::Config::from_toml(&text)
        .expect("the demo runner configuration is valid")
        .runner
}

/// A runner for [`live_config`] on `settings` / `prefix`, with its closures: renders take a
/// moment, report progress and log, and about one in eight fails (then succeeds on retry).
pub fn live_runner(settings: RedisSettings, prefix: &str) -> crate::runner::RunnerBuilder {
    use crate::runner::{JobError, RunnerJob};
    let config = crate::config::Config {
        redis: Some(settings),
        prefixes: vec![prefix.to_string()],
        runner: live_config(),
        ..crate::config::Config::default()
    };
    crate::runner::Runner::builder(&config)
        .handler("render-thumbnail", |job: RunnerJob| async move {
            let seed = job.timestamp() / 7 % 13;
            job.log(&format!("rendering {} at {}", job.id(), job.data()["size"]))
                .await?;
            tokio::time::sleep(Duration::from_millis(200 + seed * 60)).await;
            job.progress(json!(50)).await?;
            tokio::time::sleep(Duration::from_millis(100 + seed * 30)).await;
            if seed % 8 == 3 && job.attempts_made() == 0 {
                return Err(JobError::retry("image service answered 503")
                    .with_detail("GET http://images.internal/render: 503 Service Unavailable"));
            }
            Ok(json!({"thumbnail": format!("s3://thumbnails/{}.webp", job.id()), "bytes": 18_000 + seed * 311}))
        })
        .handler("cleanup-thumbnails", |_job: RunnerJob| async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            Ok(json!({"removed": 0}))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_start_with_class_and_message() {
        for f in [
            UPSTREAM_503,
            PDF_ENCRYPTED,
            S3_TIMEOUT,
            OCR_OOM,
            SMTP_REJECTED,
            SMTP_REFUSED,
        ] {
            let stack = f.stack();
            let first = stack.lines().next().unwrap_or_default();
            assert_eq!(first, format!("{}: {}", f.class, f.message));
            assert!(
                stack.lines().skip(1).all(|l| l.starts_with("    at ")),
                "{stack}"
            );
        }
    }

    #[test]
    fn marker_key_is_under_the_prefix() {
        assert_eq!(marker_key("bull"), "bull:bullring:demo-seeded");
    }
}
