//! Job schedulers (and legacy repeatable jobs) of many queues, in two round trips: the `repeat`
//! sorted sets of every queue, then every scheduler's hash (BullMQ) or the job armed for its
//! next run (Bull 3/4, whose repeatable jobs have no hash: see `layout::bull_repeat`).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value as Json;

use super::batch::{Batch, Slot, cmd};
use super::connection::Redis;
use super::error::Result;
use super::layout;
use super::layout::bull_repeat::BullRepeatable;
use super::model::{Library, QueueRef};

/// At most this many schedulers are read per queue.
pub const MAX_PER_QUEUE: usize = 1000;

/// One job scheduler, with the fields Node's `getJobSchedulers` reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Scheduler {
    /// The scheduler id (Node's `key`).
    pub key: String,
    pub queue: String,
    pub prefix: String,
    /// The queue's library: `bullmq` (a job scheduler) or `bull` (a Bull repeatable job).
    pub library: Library,
    /// The custom job id a Bull repeatable job was added with (Bull's `id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The template job's name.
    pub name: String,
    /// Millis of the next iteration.
    pub next: Option<i64>,
    pub iteration_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<i64>,
    /// The template job's data and options.
    pub template: Template,
    /// Added with `repeat` by an older app: its hash has no iteration count.
    pub legacy: bool,
    /// Id of the delayed (or waiting) job of the next iteration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_job_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Template {
    pub data: Json,
    pub opts: Json,
}

fn int(fields: &HashMap<String, String>, name: &str) -> Option<i64> {
    fields
        .get(name)
        .and_then(|v| v.parse::<f64>().ok())
        .map(|f| f as i64)
}

fn json(fields: &HashMap<String, String>, name: &str) -> Json {
    fields
        .get(name)
        .map(|text| serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.clone())))
        .unwrap_or(Json::Object(Default::default()))
}

/// Whether `queue` has a job scheduler (or repeatable job) `key`: one `ZSCORE` of its `repeat`
/// set. Asked before an action opens the engine's handle, which writes the queue's `meta`.
pub async fn exists(redis: &Redis, queue: &QueueRef, key: &str) -> Result<bool> {
    let mut batch = Batch::new();
    let repeat = layout::of(queue).key("repeat");
    let found = batch.found(cmd("ZSCORE", (repeat, key)));
    batch.send(redis).await?.take(found)
}

/// Every scheduler of `queues`, ordered by queue then next run.
pub async fn list(redis: &Redis, queues: &[QueueRef]) -> Result<Vec<Scheduler>> {
    let mut batch = Batch::new();
    let members: Vec<Slot<Vec<(String, f64)>>> = queues
        .iter()
        .map(|queue| {
            let repeat = layout::of(queue).key("repeat");
            let command = cmd("ZRANGE", (repeat, 0, MAX_PER_QUEUE - 1, "WITHSCORES"));
            batch
                .value::<Vec<(String, f64)>>(command)
                .map(Option::unwrap_or_default)
        })
        .collect();
    let members = batch.all(members);
    let members = batch.send(redis).await?.take(members)?;
    let found: Vec<(QueueRef, String, f64)> = queues
        .iter()
        .zip(members)
        .flat_map(|(queue, members)| {
            members
                .into_iter()
                .map(|(id, score)| (queue.clone(), id, score))
        })
        .collect();
    let mut batch = Batch::new();
    let hashes: Vec<Slot<HashMap<String, String>>> = found
        .iter()
        .map(|(queue, id, score)| match queue.library {
            Library::BullMq => {
                let key = layout::of(queue).key(&format!("repeat:{id}"));
                batch.hash(cmd("HGETALL", key))
            }
            Library::Bull => {
                let armed = BullRepeatable::parse(id, *score).armed_job_id();
                armed_job(&mut batch, queue, &armed)
            }
        })
        .collect();
    let hashes = batch.all(hashes);
    let hashes = batch.send(redis).await?.take(hashes)?;
    Ok(found
        .into_iter()
        .zip(hashes)
        .map(|((queue, id, score), fields)| match queue.library {
            Library::BullMq => bullmq_scheduler(queue, id, score, &fields),
            Library::Bull => bull_repeatable(queue, &id, score, &fields),
        })
        .collect())
}

/// The data and options of the job a Bull repeatable armed, as the fields of a template.
fn armed_job(batch: &mut Batch, queue: &QueueRef, id: &str) -> Slot<HashMap<String, String>> {
    let fields = layout::of(queue).fields(batch, id, &["data", "opts"]);
    fields.map(|values| {
        ["data", "opts"]
            .into_iter()
            .zip(values)
            .filter_map(|(name, value)| Some((name.to_string(), value?)))
            .collect()
    })
}

/// A Bull repeatable job, as `getRepeatableJobs` reports it, with the job armed for its next
/// run (its data and options are the template; its `opts.repeat.count` the runs so far).
fn bull_repeatable(
    queue: QueueRef,
    member: &str,
    score: f64,
    armed: &HashMap<String, String>,
) -> Scheduler {
    let repeatable = BullRepeatable::parse(member, score);
    let opts = json(armed, "opts");
    Scheduler {
        name: repeatable.name.clone(),
        next: Some(repeatable.next),
        iteration_count: opts["repeat"]["count"].as_i64(),
        pattern: repeatable.cron.clone(),
        every: repeatable.every,
        tz: repeatable.tz.clone(),
        offset: None,
        limit: opts["repeat"]["limit"].as_i64(),
        start_date: None,
        end_date: repeatable.end_date,
        template: Template {
            data: json(armed, "data"),
            opts,
        },
        legacy: false,
        next_job_id: Some(repeatable.armed_job_id()),
        queue: queue.name,
        prefix: queue.prefix,
        library: Library::Bull,
        job_id: repeatable.id,
        key: repeatable.key,
    }
}

/// A BullMQ job scheduler from its hash.
fn bullmq_scheduler(
    queue: QueueRef,
    id: String,
    score: f64,
    fields: &HashMap<String, String>,
) -> Scheduler {
    let next = Some(score as i64);
    Scheduler {
        name: fields.get("name").cloned().unwrap_or_default(),
        next,
        iteration_count: int(fields, "ic"),
        pattern: fields.get("pattern").cloned(),
        every: int(fields, "every"),
        tz: fields.get("tz").cloned(),
        offset: int(fields, "offset"),
        limit: int(fields, "limit"),
        start_date: int(fields, "startDate"),
        end_date: int(fields, "endDate"),
        template: Template {
            data: json(fields, "data"),
            opts: json(fields, "opts"),
        },
        legacy: !fields.contains_key("ic"),
        next_job_id: next.map(|ms| format!("repeat:{id}:{ms}")),
        queue: queue.name.clone(),
        prefix: queue.prefix.clone(),
        library: Library::BullMq,
        job_id: None,
        key: id,
    }
}
