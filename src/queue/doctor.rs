//! The doctor of a BullMQ queue: what is wrong in its keys, from bounded reads. It samples at
//! most [`SAMPLE`] ids of each state and looks for job ids whose hash is missing (orphans), active
//! jobs whose lock expired, parents waiting on children that failed, delayed jobs long overdue with
//! no worker, and a paused queue that still has workers. Three pipelined round trips, whatever
//! the queue holds; never `KEYS` or `SCAN`. Its one fix, [`remove_orphans`], takes a dangling id
//! out of its list or set in a script that first checks, atomically, that the hash is still
//! missing (what BullMQ's own `clean` does to the ids it removes).

use std::collections::HashMap;

use redis::Value;
use serde::Serialize;

use super::action::Action;
use super::batch::{Batch, Slot, cmd};
use super::connection::Redis;
use super::error::{QueueError, Result};
use super::model::{JobState, Library, QueueRef};
use super::op::Outcome;
use super::workers;

/// Ids sampled from each state.
pub const SAMPLE: usize = 1000;
/// Parents (in waiting-children) whose dependencies are looked at, and children per parent.
const PARENTS: usize = 100;
const CHILDREN: usize = 10;
/// A delayed job this late (ms) with no worker is reported.
pub const OVERDUE_MS: i64 = 60_000;

/// The states sampled, with their container and whether it is a list (else a sorted set).
const STATES: [(JobState, &str, bool); 8] = [
    (JobState::Waiting, "wait", true),
    (JobState::Paused, "paused", true),
    (JobState::Active, "active", true),
    (JobState::Prioritized, "prioritized", false),
    (JobState::Delayed, "delayed", false),
    (JobState::WaitingChildren, "waiting-children", false),
    (JobState::Completed, "completed", false),
    (JobState::Failed, "failed", false),
];

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Orphans,
    ExpiredLocks,
    StuckParents,
    OverdueDelayed,
    PausedWithWorkers,
}

/// One thing the doctor found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub title: String,
    /// What it means.
    pub meaning: String,
    /// What to do about it.
    pub advice: String,
    /// How many were found in the sample.
    pub count: usize,
    /// The ids concerned in the sample, as `state:id` for orphans, else the job id.
    pub jobs: Vec<String>,
    /// The one-click fix, where one is safe.
    pub fix: Option<Action>,
}

/// The doctor's report on one queue.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub queue: String,
    pub prefix: String,
    pub library: &'static str,
    /// `false` for a Bull queue: the doctor checks BullMQ queues only.
    pub checked: bool,
    /// Ids sampled in each state (at most [`SAMPLE`] each).
    pub sampled: Vec<(JobState, usize)>,
    /// Connected workers; `None` when Redis refused `CLIENT LIST`.
    pub workers: Option<usize>,
    pub paused: bool,
    pub findings: Vec<Finding>,
}

/// The ids of one state and the scores of a sorted set's.
struct Sample {
    state: JobState,
    container: &'static str,
    list: bool,
    ids: Vec<String>,
    scores: Vec<f64>,
}

/// Round 1: the sampled ids of every state, the paused flag and the workers.
async fn sample(redis: &Redis, queue: &QueueRef) -> Result<(Vec<Sample>, bool, Option<usize>)> {
    let keys = queue.keys();
    let mut batch = Batch::new();
    let last = SAMPLE as i64 - 1;
    let slots: Vec<(JobState, &str, bool, Slot<Vec<String>>)> = STATES
        .iter()
        .map(|&(state, container, list)| {
            let key = keys.get(container);
            let slot = if list {
                batch.strings(cmd("LRANGE", (key, 0, last)))
            } else {
                batch.strings(cmd("ZRANGE", (key, 0, last, "WITHSCORES")))
            };
            (state, container, list, slot)
        })
        .collect();
    let paused = batch.found(cmd("HGET", (keys.meta(), "paused")));
    let clients = workers::push(&mut batch, std::slice::from_ref(queue));
    let replies = batch.send(redis).await?;
    let mut samples = Vec::new();
    for (state, container, list, slot) in slots {
        let flat = replies.take(slot)?;
        let (ids, scores) = if list {
            (flat, Vec::new())
        } else {
            let ids = flat.iter().step_by(2).cloned().collect();
            let scores = flat
                .iter()
                .skip(1)
                .step_by(2)
                .map(|s| s.parse().unwrap_or(0.0))
                .collect();
            (ids, scores)
        };
        samples.push(Sample {
            state,
            container,
            list,
            ids,
            scores,
        });
    }
    let workers = replies.take(clients)?.map(|list| list.len());
    Ok((samples, replies.take(paused)?, workers))
}

/// Whether `id` is still in its container (so a job that just moved is not reported).
fn still_in(batch: &mut Batch, queue: &QueueRef, sample: &Sample, id: &str) -> Slot<bool> {
    let key = queue.keys().get(sample.container);
    if sample.list {
        batch.found(cmd("LPOS", (key, id)))
    } else {
        batch.found(cmd("ZSCORE", (key, id)))
    }
}

/// The doctor's report on `queue`: three round trips at most.
pub async fn examine(redis: &Redis, queue: &QueueRef, now_ms: i64) -> Result<Report> {
    let mut report = Report {
        queue: queue.name.clone(),
        prefix: queue.prefix.clone(),
        library: queue.library.as_str(),
        checked: queue.library == Library::BullMq,
        sampled: Vec::new(),
        workers: None,
        paused: false,
        findings: Vec::new(),
    };
    if !report.checked {
        return Ok(report);
    }
    let keys = queue.keys();
    let (samples, paused, workers) = sample(redis, queue).await?;
    report.sampled = samples.iter().map(|s| (s.state, s.ids.len())).collect();
    report.workers = workers;
    report.paused = paused;

    // Round 2: each sampled id's hash, each active job's lock, each parent's dependencies.
    let mut batch = Batch::new();
    let mut checks = Vec::new();
    for sample in &samples {
        for id in &sample.ids {
            let exists = batch.count(cmd("EXISTS", keys.job_key(id)));
            let there = still_in(&mut batch, queue, sample, id);
            let lock = (sample.state == JobState::Active)
                .then(|| batch.count(cmd("EXISTS", format!("{}:lock", keys.job_key(id)))));
            checks.push((sample.state, id.clone(), exists, there, lock));
        }
    }
    let parents: Vec<(String, Slot<Vec<String>>)> = samples
        .iter()
        .filter(|s| s.state == JobState::WaitingChildren)
        .flat_map(|s| s.ids.iter().take(PARENTS))
        .map(|id| {
            let deps = format!("{}:dependencies", keys.job_key(id));
            let slot = batch.strings(cmd("SRANDMEMBER", (deps, CHILDREN)));
            (id.clone(), slot)
        })
        .collect();
    let replies = batch.send(redis).await?;
    let mut orphans = Vec::new();
    let mut expired = Vec::new();
    for (state, id, exists, there, lock) in checks {
        let exists = replies.take(exists)? > 0;
        let there = replies.take(there)?;
        let locked = match lock {
            Some(lock) => replies.take(lock)? > 0,
            None => true,
        };
        if !exists && there {
            orphans.push(format!("{state}:{id}"));
        } else if exists && there && !locked {
            expired.push(id);
        }
    }
    let mut dependencies = Vec::new();
    for (parent, slot) in parents {
        for child in replies.take(slot)? {
            dependencies.push((parent.clone(), child));
        }
    }

    // Round 3: whether each child still in a parent's dependencies has failed for good.
    let mut batch = Batch::new();
    let children: Vec<(String, Slot<HashMap<String, String>>)> = dependencies
        .into_iter()
        .map(|(parent, child)| {
            let slot = batch.hash(cmd("HGETALL", child));
            (parent, slot)
        })
        .collect();
    let replies = batch.send(redis).await?;
    let mut stuck = Vec::new();
    for (parent, slot) in children {
        let child = replies.take(slot)?;
        if child.contains_key("failedReason")
            && child.contains_key("finishedOn")
            && !stuck.contains(&parent)
        {
            stuck.push(parent);
        }
    }

    let overdue: Vec<String> = samples
        .iter()
        .filter(|s| s.state == JobState::Delayed)
        .flat_map(|s| s.ids.iter().zip(&s.scores))
        .filter(|(_, score)| (**score / 4096.0) as i64 + OVERDUE_MS < now_ms)
        .map(|(id, _)| id.clone())
        .collect();

    let findings = &mut report.findings;
    if !orphans.is_empty() {
        findings.push(finding(
            Kind::Orphans,
            "Job ids without a job",
            "These ids sit in a state's list or set but their job hash is gone (deleted by hand, \
             evicted by a maxmemory policy other than noeviction, or a key expired). Workers that \
             fetch them fail or skip them, and counts include jobs that do not exist.",
            "Remove the dangling ids from their lists and sets; no job is touched. Check the \
             Redis maxmemory-policy if it happens again.",
            orphans,
            Some(Action::RemoveOrphans),
        ));
    }
    if !expired.is_empty() {
        findings.push(finding(
            Kind::ExpiredLocks,
            "Active jobs whose lock expired",
            "These jobs are active, but no worker holds their lock any more: the worker that ran \
             them died or stalled, and no worker has run the stalled-job check since.",
            "Start (or restart) a worker on this queue: its stalled-job check moves these jobs \
             back to waiting, or fails them after maxStalledCount stalls.",
            expired,
            None,
        ));
    }
    if !stuck.is_empty() {
        findings.push(finding(
            Kind::StuckParents,
            "Parents waiting on failed children",
            "These parents are in waiting-children, but a child of theirs has failed for good \
             without failParentOnFailure or ignoreDependencyOnFailure: the parent will never run.",
            "Retry the failed children (the parent runs once they complete), or remove the \
             parent; add failParentOnFailure or ignoreDependencyOnFailure to future children.",
            stuck,
            None,
        ));
    }
    if workers == Some(0) && !overdue.is_empty() {
        findings.push(finding(
            Kind::OverdueDelayed,
            "Delayed jobs overdue with no worker",
            "These delayed jobs were due more than a minute ago. Delayed jobs are moved to \
             waiting by workers, and no worker is connected to this queue.",
            "Start a worker on this queue, or promote the jobs to have them waiting now.",
            overdue,
            None,
        ));
    }
    if paused && workers.is_some_and(|n| n > 0) {
        let count = workers.unwrap_or(0);
        findings.push(Finding {
            kind: Kind::PausedWithWorkers,
            title: "Paused queue with workers attached".into(),
            meaning: format!(
                "The queue is paused but {count} worker connection(s) are still attached: they \
                 take no job until the queue is resumed."
            ),
            advice: "Resume the queue if the pause is over, or stop its workers if it is meant \
                     to stay paused."
                .into(),
            count,
            jobs: Vec::new(),
            fix: None,
        });
    }
    Ok(report)
}

fn finding(
    kind: Kind,
    title: &str,
    meaning: &str,
    advice: &str,
    jobs: Vec<String>,
    fix: Option<Action>,
) -> Finding {
    Finding {
        kind,
        title: title.into(),
        meaning: meaning.into(),
        advice: advice.into(),
        count: jobs.len(),
        jobs,
        fix,
    }
}

/// Removes each id of ARGV from the container KEYS[1] when its hash (KEYS[i + 1]) is missing;
/// ARGV[1] says whether the container is a list. Answers how many were removed.
const REMOVE_ORPHANS: &str = r#"
local removed = 0
local list = ARGV[1] == "1"
for i = 2, #ARGV do
  if redis.call("EXISTS", KEYS[i]) == 0 then
    if list then
      removed = removed + redis.call("LREM", KEYS[1], 0, ARGV[i])
    else
      removed = removed + redis.call("ZREM", KEYS[1], ARGV[i])
    end
  end
end
return removed
"#;

/// Take the orphans the doctor finds now out of their lists and sets, one script per state, all
/// in one round trip after the doctor's reads. A hash that reappeared in between is left alone.
pub async fn remove_orphans(redis: &Redis, queue: &QueueRef) -> Result<Outcome> {
    if queue.library != Library::BullMq {
        return Err(QueueError::InvalidInput(crate::text::Said::new(
            "check.doctor_bullmq_only",
        )));
    }
    let report = examine(redis, queue, 0).await?;
    let keys = queue.keys();
    let mut pipe = redis::pipe();
    let mut ids = Vec::new();
    for &(state, container, list) in &STATES {
        let of_state: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Orphans)
            .flat_map(|f| f.jobs.iter())
            .filter_map(|j| j.split_once(':'))
            .filter(|(s, _)| *s == state.as_str())
            .map(|(_, id)| id)
            .collect();
        if of_state.is_empty() {
            continue;
        }
        let mut eval = cmd("EVAL", REMOVE_ORPHANS);
        eval.arg(1 + of_state.len()).arg(keys.get(container));
        for id in &of_state {
            eval.arg(keys.job_key(id));
        }
        eval.arg(if list { "1" } else { "0" });
        eval.arg(&of_state);
        pipe.add_command(eval);
        ids.extend(of_state.iter().map(|id| id.to_string()));
    }
    let removed: u64 = if ids.is_empty() {
        0
    } else {
        let counts: Vec<Value> = redis.write(&pipe).await?;
        counts
            .into_iter()
            .map(|v| redis::from_redis_value::<u64>(v).unwrap_or(0))
            .sum()
    };
    Ok(Outcome::new(
        Action::RemoveOrphans,
        queue,
        ids,
        removed,
        format!("Removed {removed} dangling job id(s) from their lists and sets."),
    ))
}
