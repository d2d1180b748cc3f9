//! Read queries: counts of many queues, a page of jobs, one job with everything, and the
//! `Reader` that every read of the dashboard, the API and the runner goes through.
//!
//! Every function here costs a fixed number of round trips, whatever the size of the queues:
//! counts of all queues in one batch, a page in one range read plus two batches of that page's
//! fields (their sizes, then those within the bounds of [`preview`]), one job in one batch. Nothing here writes: no `bullmq::Queue` is created (ENGINE.md
//! gap 1), only read commands are sent, with errors kept per reply so one malformed key does not
//! break a page. What the commands are is the queue library's business ([`layout`]); the other
//! query modules (`metrics`, `workers`, `flows`, `schedulers`) push theirs into the same kind of
//! batch, and the reader only composes them.

use super::batch::{Batch, Slot, Step, finish_one};
use super::connection::Redis;
use super::error::{QueueError, Result};
use super::flows::{self, FlowLimits, FlowNode};
use super::layout::{self, Listing, Shown, Span};
use super::metrics::{self, QueueMetrics, Timings};
use super::model::{
    Job, JobDetail, JobPage, JobState, LogPage, Order, QueueRef, QueueSummary, RawJob,
};
use super::preview;
use super::rows;
use super::schedulers::{self, Scheduler};
use super::search;
use super::workers::{self, WorkerClient};
use crate::text::Said;

/// How many children of each group a job page lists (the totals are always exact).
pub const CHILDREN_SHOWN: usize = 100;
/// Minutes of throughput the overview's sparklines show.
pub const SPARKLINE_MINUTES: usize = 60;
/// The largest page of jobs one request may ask for.
pub const MAX_PER_PAGE: u64 = 1000;

/// Read access to queues, shared by the dashboard and the JSON API.
#[derive(Clone)]
pub struct Reader {
    redis: Redis,
    prefixes: Vec<String>,
    search_budget: search::Budget,
}

/// Push `queue`'s summary.
pub(super) fn summary(batch: &mut Batch, queue: &QueueRef) -> Slot<Option<QueueSummary>> {
    layout::of(queue).summary(batch)
}

/// Push every queue's summary; the queues with no key at all are left out.
fn summaries(batch: &mut Batch, queues: &[QueueRef]) -> Slot<Vec<QueueSummary>> {
    let all: Vec<_> = queues.iter().map(|queue| summary(batch, queue)).collect();
    batch
        .all(all)
        .map(|all| all.into_iter().flatten().collect())
}

/// A summary, or `QueueNotFound` for a queue with no key at all.
pub(super) fn found(queue: &QueueRef, summary: Option<QueueSummary>) -> Result<QueueSummary> {
    summary.ok_or_else(|| QueueError::QueueNotFound(queue.name.clone()))
}

/// The state of one job: one batch of cheap checks, plus one round trip only when they found
/// nothing.
async fn state_of(redis: &Redis, queue: &QueueRef, id: &str) -> Result<Option<JobState>> {
    let mut batch = Batch::new();
    let state = layout::of(queue).state(&mut batch, id);
    let state = batch.send(redis).await?.take(state)?;
    finish_one(redis, state).await
}

/// What a list shows of the given jobs (and, for parents, their pending children), in two
/// round trips whatever their size: the size of each field, then the fields within the
/// bounds of [`preview`]; the others are marked truncated.
impl Reader {
    /// `prefixes` are the configured ones; they help split the full job keys of flow children.
    pub fn new(redis: Redis, prefixes: Vec<String>) -> Self {
        Reader {
            redis,
            prefixes,
            search_budget: search::Budget::default(),
        }
    }

    /// The same reader, with this budget for each search request.
    pub fn with_search_budget(self, search_budget: search::Budget) -> Self {
        Reader {
            search_budget,
            ..self
        }
    }

    /// Every job a query matches, as NDJSON pieces (see [`search::export`]).
    pub fn export(
        &self,
        export: search::export::Export,
    ) -> tokio::sync::mpsc::Receiver<Result<Vec<u8>>> {
        search::export::stream(self.redis.clone(), export)
    }

    /// One bounded search request (see [`search::search`]).
    pub async fn search(&self, request: search::Request<'_>) -> Result<search::Outcome> {
        search::search(&self.redis, self.search_budget, request).await
    }

    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    /// The configured prefixes.
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// Counts, paused flag, global concurrency and scheduler count of every queue, in one round
    /// trip. Queues with no key at all are left out.
    pub async fn summaries(&self, queues: &[QueueRef]) -> Result<Vec<QueueSummary>> {
        let mut batch = Batch::new();
        let all = summaries(&mut batch, queues);
        batch.send(&self.redis).await?.take(all)
    }

    /// One queue's summary, or `QueueNotFound`.
    pub async fn summary(&self, queue: &QueueRef) -> Result<QueueSummary> {
        let mut batch = Batch::new();
        let one = summary(&mut batch, queue);
        found(queue, batch.send(&self.redis).await?.take(one)?)
    }

    /// A page (1-based) of the jobs in `state`, with the queue's summary: three round trips (the
    /// ids with the counts, the size of the page's fields, then the fields within bounds), four
    /// only when a page of the waiting tab straddles BullMQ 5's `wait` and `paused` lists.
    pub async fn job_page(
        &self,
        queue: &QueueRef,
        state: JobState,
        page: u64,
        per_page: u64,
        order: Order,
    ) -> Result<(QueueSummary, JobPage)> {
        if page == 0 {
            return Err(QueueError::InvalidInput(Said::new("check.page_start")));
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(QueueError::InvalidInput(
                Said::new("check.per_page").with("max", MAX_PER_PAGE),
            ));
        }
        let span = Span::page(page, per_page, "page")?;
        let mut batch = Batch::new();
        let one = summary(&mut batch, queue);
        let list = Listing { state, order, span };
        let ids = layout::of(queue).page(&mut batch, list);
        let replies = batch.send(&self.redis).await?;
        let summary = found(queue, replies.take(one)?)?;
        let ids = finish_one(&self.redis, replies.take(ids)?).await?;
        let jobs = self
            .jobs(queue, &ids, state == JobState::WaitingChildren)
            .await?;
        let page = JobPage {
            library: queue.library,
            state,
            page,
            per_page,
            total: summary.counts.listed(queue.library, state),
            jobs,
        };
        Ok((summary, page))
    }

    /// What a list shows of the given jobs (see [`rows::read`]).
    pub(super) async fn jobs(
        &self,
        queue: &QueueRef,
        ids: &[String],
        parents: bool,
    ) -> Result<Vec<Job>> {
        rows::read(&self.redis, queue, ids, parents).await
    }

    /// One job with its state, a page of its logs (1-based, oldest first) and a bounded look at
    /// its children, plus its queue's summary: two round trips (the sizes of the job's fields with
    /// everything else; then the fields within [`preview::JOB_FIELD_MAX`] and
    /// [`preview::JOB_BUDGET`], the others marked truncated with their size, with LPOS over `wait`
    /// for a job none of the other containers holds), plus one for the state of a parent.
    pub async fn job(
        &self,
        queue: &QueueRef,
        id: &str,
        logs_page: u64,
        logs_per_page: u64,
    ) -> Result<(QueueSummary, JobDetail)> {
        if logs_page == 0 || logs_per_page == 0 || logs_per_page > MAX_PER_PAGE {
            return Err(QueueError::InvalidInput(
                Said::new("check.logs_page").with("max", MAX_PER_PAGE),
            ));
        }
        let span = Span::page(logs_page, logs_per_page, "logs_page")?;
        let layout = layout::of(queue);
        let mut batch = Batch::new();
        let one = summary(&mut batch, queue);
        let fields = &preview::JOB_FIELDS;
        let sizes = layout.sizes(&mut batch, id, fields);
        let exists = layout.exists(&mut batch, id);
        let state = layout.state(&mut batch, id);
        let logs = layout.logs(&mut batch, id, span);
        let shown = Shown {
            per_group: CHILDREN_SHOWN,
            prefixes: &self.prefixes,
        };
        let children = layout.children(&mut batch, id, shown);
        let replies = batch.send(&self.redis).await?;

        let summary = found(queue, replies.take(one)?)?;
        if !replies.take(exists)? {
            return Err(QueueError::JobNotFound {
                queue: queue.clone(),
                id: id.to_string(),
            });
        }
        let mut budget = preview::JOB_BUDGET;
        let (read, cut) = preview::plan_within(
            fields,
            &replies.take(sizes)?,
            preview::JOB_FIELD_MAX,
            &mut budget,
        );
        // The fields, and the state's second step when it needs one, in one more round trip.
        let mut batch = Batch::new();
        let values = layout.fields(&mut batch, id, &read);
        let state = match replies.take(state)? {
            Step::Done(state) => Ok(state),
            Step::Then(next) => Err(next(&mut batch)),
        };
        let more = batch.send(&self.redis).await?;
        let values = more.take(values)?;
        let state = match state {
            Ok(state) => state,
            Err(slot) => more.take(slot)?,
        };
        drop(more);
        let raw: RawJob = read
            .iter()
            .zip(values)
            .filter_map(|(field, value)| Some(((*field).to_string(), value?)))
            .collect();
        let (total, lines) = replies.take(logs)?;
        let children = replies.take(children)?;
        drop(replies);
        let job = layout::decoder(queue.library)(id, &raw, cut);
        drop(raw);
        let parent_state = match &job.parent {
            // The parent's state costs one more round trip, only for jobs that have one.
            Some(parent) => {
                let parent_queue = QueueRef::new(&parent.prefix, &parent.queue);
                state_of(&self.redis, &parent_queue, &parent.id).await?
            }
            None => None,
        };
        let detail = JobDetail {
            job,
            library: queue.library,
            state,
            logs: LogPage {
                total,
                lines,
                page: logs_page,
                per_page: logs_per_page,
            },
            children,
            parent_state,
        };
        Ok((summary, detail))
    }

    /// The overview in one round trip: every queue's summary, its last hour of metrics, and the
    /// connected workers (`None` when `CLIENT LIST` is not allowed).
    pub async fn overview(
        &self,
        queues: &[QueueRef],
        now_ms: i64,
    ) -> Result<(Vec<(QueueSummary, QueueMetrics)>, Option<Vec<WorkerClient>>)> {
        self.overview_with(queues, now_ms, SPARKLINE_MINUTES).await
    }

    /// [`Reader::overview`] with `minutes` of metrics per queue.
    pub async fn overview_with(
        &self,
        queues: &[QueueRef],
        now_ms: i64,
        minutes: usize,
    ) -> Result<(Vec<(QueueSummary, QueueMetrics)>, Option<Vec<WorkerClient>>)> {
        let mut batch = Batch::new();
        let workers = workers::push(&mut batch, queues);
        let rows: Vec<Slot<Option<(QueueSummary, QueueMetrics)>>> = queues
            .iter()
            .map(|queue| {
                let summary = summary(&mut batch, queue);
                let metrics = metrics::push(&mut batch, queue, minutes, now_ms);
                batch.combine(move |r| {
                    let metrics = r.take(metrics)?;
                    Ok(r.take(summary)?.map(|summary| (summary, metrics)))
                })
            })
            .collect();
        let rows = batch.all(rows);
        let replies = batch.send(&self.redis).await?;
        let rows = replies.take(rows)?.into_iter().flatten().collect();
        Ok((rows, replies.take(workers)?))
    }

    /// How many jobs `clean(state, grace_ms, limit)` would remove, and whether that is exact.
    /// Finished jobs are scored by their finish time, so the count is exact; for other states
    /// BullMQ compares each job's own timestamps, so the state's size is an upper bound.
    pub async fn clean_preview(
        &self,
        queue: &QueueRef,
        state: JobState,
        grace_ms: u64,
        limit: u64,
        now_ms: u64,
    ) -> Result<(u64, bool)> {
        let mut batch = Batch::new();
        let before = now_ms.saturating_sub(grace_ms);
        let cleanable = layout::of(queue).cleanable(&mut batch, state, before);
        let (n, exact) = batch.send(&self.redis).await?.take(cleanable)?;
        let n = if limit > 0 { n.min(limit) } else { n };
        Ok((n, exact || grace_ms == 0))
    }

    /// One field of a job hash exactly as stored (for the raw view of large data).
    pub async fn raw_field(&self, queue: &QueueRef, id: &str, field: &str) -> Result<String> {
        let layout = layout::of(queue);
        let mut batch = Batch::new();
        let value = layout.fields(&mut batch, id, &[field]);
        let exists = layout.exists(&mut batch, id);
        let replies = batch.send(&self.redis).await?;
        if !replies.take(exists)? {
            return Err(QueueError::JobNotFound {
                queue: queue.clone(),
                id: id.to_string(),
            });
        }
        Ok(replies
            .take(value)?
            .into_iter()
            .flatten()
            .next()
            .unwrap_or_default())
    }

    /// One field of a job hash exactly as stored when it is at most `max` bytes, else
    /// `Err(its size)` without reading it: two round trips (its size, then the field).
    pub async fn raw_field_within(
        &self,
        queue: &QueueRef,
        id: &str,
        field: &str,
        max: u64,
    ) -> Result<std::result::Result<String, u64>> {
        let layout = layout::of(queue);
        let mut batch = Batch::new();
        let size = layout.sizes(&mut batch, id, &[field]);
        let exists = layout.exists(&mut batch, id);
        let replies = batch.send(&self.redis).await?;
        if !replies.take(exists)? {
            return Err(QueueError::JobNotFound {
                queue: queue.clone(),
                id: id.to_string(),
            });
        }
        let size = replies.take(size)?.first().copied().unwrap_or(0);
        if size > max {
            return Ok(Err(size));
        }
        self.raw_field(queue, id, field).await.map(Ok)
    }

    /// `minutes` of one queue's throughput, ending now (one round trip).
    pub async fn metrics(&self, queue: &QueueRef, minutes: usize) -> Result<QueueMetrics> {
        let now = chrono::Utc::now().timestamp_millis();
        metrics::read(&self.redis, queue, minutes, now).await
    }

    /// Wait and processing time percentiles of the last finished jobs (two round trips).
    pub async fn timings(&self, queue: &QueueRef) -> Result<Timings> {
        metrics::timings(&self.redis, queue).await
    }

    /// The workers connected to `queues` (see [`workers::list`]).
    pub async fn workers(&self, queues: &[QueueRef]) -> Result<Option<Vec<WorkerClient>>> {
        workers::list(&self.redis, queues).await
    }

    /// The doctor's report on `queue` (see [`super::doctor::examine`]): three round trips.
    pub async fn doctor(&self, queue: &QueueRef) -> Result<super::doctor::Report> {
        let now = chrono::Utc::now().timestamp_millis();
        super::doctor::examine(&self.redis, queue, now).await
    }

    /// Every job scheduler of `queues` (see [`schedulers::list`]).
    pub async fn schedulers(&self, queues: &[QueueRef]) -> Result<Vec<Scheduler>> {
        schedulers::list(&self.redis, queues).await
    }

    /// Whether `queue` has the job scheduler `key` (see [`schedulers::exists`]).
    pub async fn scheduler_exists(&self, queue: &QueueRef, key: &str) -> Result<bool> {
        schedulers::exists(&self.redis, queue, key).await
    }

    /// The flow `queue`/`id` belongs to, from its root (or, with `from_self`, from the job),
    /// within `limits`. A 404-style error when the job does not exist.
    pub async fn flow(
        &self,
        queue: &QueueRef,
        id: &str,
        from_self: bool,
        limits: FlowLimits,
    ) -> Result<FlowNode> {
        self.raw_field(queue, id, "name").await?;
        let (root_queue, root_id) = if from_self {
            (queue.clone(), id.to_string())
        } else {
            flows::root_of(&self.redis, queue, id).await?
        };
        flows::tree(&self.redis, &self.prefixes, &root_queue, &root_id, limits).await
    }
}
