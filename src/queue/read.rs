//! Read queries: counts of many queues, a page of jobs, one job with everything.
//!
//! Every function here costs a fixed number of round trips, whatever the size of the queues:
//! counts of all queues in one pipeline, a page in one range read plus one pipelined read of that
//! page's hashes, one job in one pipeline. Nothing here writes: no `bullmq::Queue` is created
//! (ENGINE.md gap 1), only read commands are sent, with errors kept per reply so one malformed key
//! does not break a page.

use redis::{Pipeline, Value};

use super::connection::Redis;
use super::decode::{count, hash, job_from_hash, reply, split_job_key, strings};
use super::error::{QueueError, Result};
use super::metrics::{METRICS_REPLIES, QueueMetrics, push_metrics, read_metrics};
use super::model::{
    ChildRef, Children, Counts, Job, JobDetail, JobPage, JobState, LogPage, Order, QueueRef,
    QueueSummary,
};
use super::workers::{WorkerClient, push_client_list, workers_of};

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
}

/// Commands each queue's summary takes in a pipeline, in order.
const SUMMARY_REPLIES: usize = 11;

fn push_summary(pipe: &mut Pipeline, queue: &QueueRef) {
    let keys = queue.keys();
    pipe.cmd("LLEN").arg(keys.wait());
    pipe.cmd("LLEN").arg(keys.active());
    pipe.cmd("ZCARD").arg(keys.delayed());
    pipe.cmd("ZCARD").arg(keys.prioritized());
    pipe.cmd("ZCARD").arg(keys.waiting_children());
    pipe.cmd("ZCARD").arg(keys.completed());
    pipe.cmd("ZCARD").arg(keys.failed());
    pipe.cmd("LLEN").arg(keys.paused());
    pipe.cmd("HMGET")
        .arg(keys.meta())
        .arg("paused")
        .arg("concurrency")
        .arg("version")
        // The Rust engine records itself here instead of in `version`.
        .arg("library");
    pipe.cmd("ZCARD").arg(keys.repeat());
    pipe.cmd("EXISTS").arg(keys.meta()).arg(keys.id());
}

/// Decode the replies of [`push_summary`]; `None` when the queue has no key at all.
fn read_summary(queue: &QueueRef, replies: &[Value]) -> Option<QueueSummary> {
    let mut counts = Counts::default();
    let order = [
        JobState::Waiting,
        JobState::Active,
        JobState::Delayed,
        JobState::Prioritized,
        JobState::WaitingChildren,
        JobState::Completed,
        JobState::Failed,
        JobState::Paused,
    ];
    for (state, value) in order.iter().zip(replies) {
        counts.set(*state, count(value));
    }
    let meta: Vec<Option<String>> = reply(&replies[8]).unwrap_or_default();
    let meta_field = |i: usize| meta.get(i).cloned().flatten();
    let scheduler_count = count(&replies[9]);
    let exists = count(&replies[10]) > 0 || counts.total() > 0 || scheduler_count > 0;
    exists.then(|| QueueSummary {
        name: queue.name.clone(),
        prefix: queue.prefix.clone(),
        paused: meta_field(0).is_some(),
        counts,
        global_concurrency: meta_field(1).and_then(|c| c.parse().ok()),
        scheduler_count,
        version: meta_field(2).or_else(|| meta_field(3)),
    })
}

/// Replies [`push_state_checks`] adds to a pipeline.
pub(crate) const STATE_REPLIES: usize = 6;

/// The commands that find which state container holds job `id`, each cheap whatever the queue's
/// length: ZSCORE on the sorted sets, LPOS on `active` (as long as the workers' concurrency).
/// The `wait` list and BullMQ 5's `paused` list are left to [`waiting_states`]: LPOS scans a
/// list, so asking it of a 10,000-job `wait` list on every job page made a failed job's page cost
/// Redis about 90 us (measured with bench/run.sh); they are asked only when no container here has
/// the job. A job is in one container at a time, so the order does not change the answer.
pub(crate) fn push_state_checks(pipe: &mut Pipeline, keys: &bullmq::QueueKeys, id: &str) {
    for state in [
        JobState::Completed,
        JobState::Failed,
        JobState::Delayed,
        JobState::Prioritized,
    ] {
        pipe.cmd("ZSCORE").arg(keys.get(state.key_suffix())).arg(id);
    }
    pipe.cmd("LPOS").arg(keys.active()).arg(id);
    pipe.cmd("ZSCORE").arg(keys.waiting_children()).arg(id);
}

fn found(value: &Value) -> bool {
    !matches!(value, Value::Nil | Value::ServerError(_))
}

/// The state from the replies of [`push_state_checks`]; `None` when none of those containers has
/// the job (it may still be waiting: see [`waiting_states`]).
pub(crate) fn decode_state(replies: &[Value]) -> Option<JobState> {
    [
        JobState::Completed,
        JobState::Failed,
        JobState::Delayed,
        JobState::Prioritized,
        JobState::Active,
        JobState::WaitingChildren,
    ]
    .into_iter()
    .zip(replies)
    .find(|(_, value)| found(value))
    .map(|(state, _)| state)
}

/// For jobs that [`decode_state`] found nowhere: `Some(Waiting)` for those in `wait` or in
/// BullMQ 5's `paused` list (Node's getState reports both as waiting), `None` for the others.
/// One round trip for all of them, none when `jobs` is empty.
pub(crate) async fn waiting_states(
    redis: &Redis,
    jobs: &[(&QueueRef, &str)],
) -> Result<Vec<Option<JobState>>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    for (queue, id) in jobs {
        let keys = queue.keys();
        pipe.cmd("LPOS").arg(keys.wait()).arg(*id);
        pipe.cmd("LPOS").arg(keys.paused()).arg(*id);
    }
    let replies: Vec<Value> = redis.read(&pipe).await?;
    Ok(replies
        .chunks(2)
        .map(|r| r.iter().any(found).then_some(JobState::Waiting))
        .collect())
}

/// Replies [`push_children`] adds to a pipeline.
pub(crate) const CHILDREN_REPLIES: usize = 8;

/// The commands that read a parent's children: exact counts of each group and at most `shown`
/// of each (pending from `dependencies`, processed with their values, failed from `failed` and
/// `unsuccessful`).
pub(crate) fn push_children(pipe: &mut Pipeline, job_key: &str, shown: usize) {
    let sub = |suffix: &str| format!("{job_key}:{suffix}");
    pipe.cmd("SCARD").arg(sub("dependencies"));
    pipe.cmd("SRANDMEMBER").arg(sub("dependencies")).arg(shown);
    pipe.cmd("HLEN").arg(sub("processed"));
    pipe.cmd("HSCAN")
        .arg(sub("processed"))
        .arg(0)
        .arg("COUNT")
        .arg(shown);
    pipe.cmd("HLEN").arg(sub("failed"));
    pipe.cmd("HSCAN")
        .arg(sub("failed"))
        .arg(0)
        .arg("COUNT")
        .arg(shown);
    pipe.cmd("ZCARD").arg(sub("unsuccessful"));
    pipe.cmd("ZRANGE")
        .arg(sub("unsuccessful"))
        .arg(0)
        .arg(shown.saturating_sub(1));
}

/// The children from the replies of [`push_children`].
pub(crate) fn decode_children(r: &[Value], prefixes: &[String]) -> Children {
    let child = |key: String| split_job_key(&key, prefixes);
    let mut pending: Vec<ChildRef> = strings(&r[1]).into_iter().map(child).collect();
    pending.sort_by(|a, b| a.key.cmp(&b.key));
    let processed = scan_pairs(&r[3])
        .into_iter()
        .map(|(key, value)| ChildRef {
            returnvalue: Some(serde_json::from_str(&value).unwrap_or(value.into())),
            ..child(key)
        })
        .collect();
    let mut failed: Vec<ChildRef> = scan_pairs(&r[5])
        .into_iter()
        .map(|(key, reason)| ChildRef {
            failed_reason: Some(reason),
            ..child(key)
        })
        .collect();
    failed.extend(strings(&r[7]).into_iter().map(child));
    Children {
        pending,
        processed,
        failed,
        pending_count: count(&r[0]),
        processed_count: count(&r[2]),
        failed_count: count(&r[4]) + count(&r[6]),
    }
}

/// One range over a list or sorted set, as the commands that fetch it.
fn push_range(pipe: &mut Pipeline, key: &str, sorted: bool, order: Order, start: u64, end: u64) {
    match (sorted, order) {
        (true, Order::NewestFirst) => {
            pipe.cmd("ZRANGE").arg(key).arg(start).arg(end).arg("REV");
        }
        (true, Order::OldestFirst) => {
            pipe.cmd("ZRANGE").arg(key).arg(start).arg(end);
        }
        // Lists hold the newest job at the head (LPUSH), so oldest first reads from the tail.
        (false, Order::NewestFirst) => {
            pipe.cmd("LRANGE").arg(key).arg(start).arg(end);
        }
        (false, Order::OldestFirst) => {
            let from = -(end as i64) - 1;
            let to = -(start as i64) - 1;
            pipe.cmd("LRANGE").arg(key).arg(from).arg(to);
        }
    }
}

fn range_ids(value: &Value, sorted: bool, order: Order) -> Vec<String> {
    let mut ids: Vec<String> = strings(value)
        .into_iter()
        // BullMQ 4 left "0:<n>" markers in wait lists; they are not jobs.
        .filter(|id| !id.starts_with("0:"))
        .collect();
    if !sorted && order == Order::OldestFirst {
        ids.reverse();
    }
    ids
}

impl Reader {
    /// `prefixes` are the configured ones; they help split the full job keys of flow children.
    pub fn new(redis: Redis, prefixes: Vec<String>) -> Self {
        Reader { redis, prefixes }
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
        if queues.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for queue in queues {
            push_summary(&mut pipe, queue);
        }
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        Ok(queues
            .iter()
            .zip(replies.chunks(SUMMARY_REPLIES))
            .filter_map(|(queue, chunk)| read_summary(queue, chunk))
            .collect())
    }

    /// One queue's summary, or `QueueNotFound`.
    pub async fn summary(&self, queue: &QueueRef) -> Result<QueueSummary> {
        self.summaries(std::slice::from_ref(queue))
            .await?
            .pop()
            .ok_or_else(|| QueueError::QueueNotFound(queue.name.clone()))
    }

    /// A page (1-based) of the jobs in `state`, with the queue's summary: two round trips (the
    /// ids with the counts, then the page's hashes), three only when a page of the waiting tab
    /// straddles BullMQ 5's `wait` and `paused` lists.
    pub async fn job_page(
        &self,
        queue: &QueueRef,
        state: JobState,
        page: u64,
        per_page: u64,
        order: Order,
    ) -> Result<(QueueSummary, JobPage)> {
        if page == 0 {
            return Err(QueueError::InvalidInput("page starts at 1".into()));
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(QueueError::InvalidInput(format!(
                "per_page must be between 1 and {MAX_PER_PAGE}"
            )));
        }
        let keys = queue.keys();
        let start = (page - 1).saturating_mul(per_page);
        let end = start + per_page - 1;
        let sorted = state.is_sorted_set();

        // The waiting tab ranges over `wait` then `paused`, like Node's getJobs(['waiting']);
        // read oldest first, that sequence is reversed.
        let (first, second) = match (state, order) {
            (JobState::Waiting, Order::NewestFirst) => (keys.wait(), Some(keys.paused())),
            (JobState::Waiting, Order::OldestFirst) => (keys.paused(), Some(keys.wait())),
            (other, _) => (keys.get(other.key_suffix()), None),
        };

        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        push_summary(&mut pipe, queue);
        push_range(&mut pipe, &first, sorted, order, start, end);
        if let Some(second) = &second {
            push_range(&mut pipe, second, sorted, order, start, end);
        }
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        let summary = read_summary(queue, &replies[..SUMMARY_REPLIES])
            .ok_or_else(|| QueueError::QueueNotFound(queue.name.clone()))?;
        let first_ids = range_ids(&replies[SUMMARY_REPLIES], sorted, order);

        let ids = match &second {
            None => first_ids,
            Some(second_key) => {
                let (first_len, second_len) = if first == keys.wait() {
                    (summary.counts.waiting, summary.counts.paused)
                } else {
                    (summary.counts.paused, summary.counts.waiting)
                };
                if first_len > end || second_len == 0 {
                    first_ids
                } else if first_len == 0 {
                    range_ids(&replies[SUMMARY_REPLIES + 1], false, order)
                } else {
                    // The page straddles both lists: fetch the rest from the second one.
                    let from = start.saturating_sub(first_len);
                    let to = end - first_len;
                    let mut pipe = redis::pipe();
                    pipe.ignore_errors();
                    push_range(&mut pipe, second_key, false, order, from, to);
                    let rest: Vec<Value> = self.redis.read(&pipe).await?;
                    let mut ids = first_ids;
                    ids.extend(range_ids(&rest[0], false, order));
                    ids
                }
            }
        };

        let jobs = self
            .jobs(queue, &ids, state == JobState::WaitingChildren)
            .await?;
        let page = JobPage {
            state,
            page,
            per_page,
            total: summary.counts.listed(state),
            jobs,
        };
        Ok((summary, page))
    }

    /// The hashes of the given jobs, in one round trip.
    /// The hashes of the given jobs (and, for parents, their pending children), in one round trip.
    async fn jobs(&self, queue: &QueueRef, ids: &[String], parents: bool) -> Result<Vec<Job>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys = queue.keys();
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for id in ids {
            pipe.cmd("HGETALL").arg(keys.job_key(id));
            if parents {
                pipe.cmd("SCARD")
                    .arg(format!("{}:dependencies", keys.job_key(id)));
            }
        }
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        let per_job = if parents { 2 } else { 1 };
        Ok(ids
            .iter()
            .zip(replies.chunks(per_job))
            .map(|(id, r)| {
                let mut job = job_from_hash(id, &hash(&r[0]));
                if parents {
                    job.pending_children = Some(count(&r[1]));
                }
                job
            })
            .collect())
    }

    /// One job with its state, a page of its logs (1-based, oldest first) and a bounded look at
    /// its children, plus its queue's summary: one round trip, plus one (LPOS over `wait`) for a
    /// job none of the other containers holds, plus one for the state of a parent.
    pub async fn job(
        &self,
        queue: &QueueRef,
        id: &str,
        logs_page: u64,
        logs_per_page: u64,
    ) -> Result<(QueueSummary, JobDetail)> {
        if logs_page == 0 || logs_per_page == 0 || logs_per_page > MAX_PER_PAGE {
            return Err(QueueError::InvalidInput(format!(
                "logs_page starts at 1 and logs_per_page is between 1 and {MAX_PER_PAGE}"
            )));
        }
        let keys = queue.keys();
        let job_key = keys.job_key(id);
        let sub = |suffix: &str| format!("{job_key}:{suffix}");
        let log_start = (logs_page - 1).saturating_mul(logs_per_page);

        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        push_summary(&mut pipe, queue);
        pipe.cmd("HGETALL").arg(&job_key);
        push_state_checks(&mut pipe, &keys, id);
        pipe.cmd("LLEN").arg(sub("logs"));
        pipe.cmd("LRANGE")
            .arg(sub("logs"))
            .arg(log_start)
            .arg(log_start + logs_per_page - 1);
        push_children(&mut pipe, &job_key, CHILDREN_SHOWN);

        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        let summary = read_summary(queue, &replies[..SUMMARY_REPLIES])
            .ok_or_else(|| QueueError::QueueNotFound(queue.name.clone()))?;
        let r = &replies[SUMMARY_REPLIES..];
        let raw = hash(&r[0]);
        if raw.is_empty() {
            return Err(QueueError::JobNotFound {
                queue: queue.clone(),
                id: id.to_string(),
            });
        }
        let state = match decode_state(&r[1..1 + STATE_REPLIES]) {
            Some(state) => Some(state),
            None => waiting_states(&self.redis, &[(queue, id)]).await?[0],
        };

        let after = 1 + STATE_REPLIES;
        let logs = LogPage {
            total: count(&r[after]),
            lines: strings(&r[after + 1]),
            page: logs_page,
            per_page: logs_per_page,
        };

        let children = decode_children(&r[after + 2..after + 2 + CHILDREN_REPLIES], &self.prefixes);

        let job = job_from_hash(id, &raw);
        let parent_state = match &job.parent {
            // The parent's state costs one more round trip, only for jobs that have one.
            Some(parent) => {
                let parent_queue = QueueRef::new(&parent.prefix, &parent.queue);
                let mut pipe = redis::pipe();
                pipe.ignore_errors();
                push_state_checks(&mut pipe, &parent_queue.keys(), &parent.id);
                let replies: Vec<Value> = self.redis.read(&pipe).await?;
                match decode_state(&replies) {
                    Some(state) => Some(state),
                    None => waiting_states(&self.redis, &[(&parent_queue, &parent.id)]).await?[0],
                }
            }
            None => None,
        };
        let detail = JobDetail {
            job,
            state,
            logs,
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
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        push_client_list(&mut pipe);
        for queue in queues {
            push_summary(&mut pipe, queue);
            push_metrics(&mut pipe, queue, minutes);
        }
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        let workers = workers_of(&replies[0], queues);
        let per_queue = SUMMARY_REPLIES + METRICS_REPLIES;
        let rows = queues
            .iter()
            .zip(replies[1..].chunks(per_queue))
            .filter_map(|(queue, r)| {
                let summary = read_summary(queue, &r[..SUMMARY_REPLIES])?;
                let metrics = read_metrics(&r[SUMMARY_REPLIES..], minutes, now_ms);
                Some((summary, metrics))
            })
            .collect();
        Ok((rows, workers))
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
        let keys = queue.keys();
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        let exact = matches!(state, JobState::Completed | JobState::Failed);
        if exact {
            pipe.cmd("ZCOUNT")
                .arg(keys.get(state.key_suffix()))
                .arg("-inf")
                .arg(now_ms.saturating_sub(grace_ms));
        } else if state.is_sorted_set() {
            pipe.cmd("ZCARD").arg(keys.get(state.key_suffix()));
        } else {
            pipe.cmd("LLEN").arg(keys.get(state.key_suffix()));
        }
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        let n = count(&replies[0]);
        let n = if limit > 0 { n.min(limit) } else { n };
        Ok((n, exact || grace_ms == 0))
    }

    /// One field of a job hash exactly as stored (for the raw view of large data).
    pub async fn raw_field(&self, queue: &QueueRef, id: &str, field: &str) -> Result<String> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        pipe.cmd("HGET").arg(queue.keys().job_key(id)).arg(field);
        pipe.cmd("EXISTS").arg(queue.keys().job_key(id));
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        if count(&replies[1]) == 0 {
            return Err(QueueError::JobNotFound {
                queue: queue.clone(),
                id: id.to_string(),
            });
        }
        Ok(reply::<Option<String>>(&replies[0])
            .flatten()
            .unwrap_or_default())
    }
}

/// The field/value pairs of an `HSCAN` reply (`[cursor, [f1, v1, f2, v2 ...]]`).
fn scan_pairs(value: &Value) -> Vec<(String, String)> {
    let Some((_cursor, flat)) = reply::<(String, Vec<String>)>(value) else {
        return Vec::new();
    };
    flat.chunks(2)
        .filter_map(|pair| match pair {
            [field, value] => Some((field.clone(), value.clone())),
            _ => None,
        })
        .collect()
}
