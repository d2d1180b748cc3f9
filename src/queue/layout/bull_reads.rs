//! Bull 3/4's key layout (npm `bull`, frozen at 4.16.5), as the read path sees it, reporting
//! what Bull's own API reports: counts as `Queue#getJobCounts` (priority jobs stay in `wait`, so
//! they are waiting; a paused queue's jobs are in the `paused` list, counted and listed as
//! `paused`), the state as `Job#getState`, pages as `Queue#getJobs` and jobs as `Job.fromJSON`
//! (plain `opts`, `attemptsMade`, `stalledCounter`, `retriedOn`). Bull has no `prioritized`
//! set, no flows and no `events` stream. Only read commands are pushed.

use serde_json::{Map, Value as Json};

use super::bullmq_reads::{cheap_checks, range, size};
use super::{Layout, Listing, Shown, Span};
use crate::queue::batch::{Batch, Slot, Step, cmd};
use crate::queue::decode::job_from_preview;
use crate::queue::model::{
    Children, Counts, Job, JobState, Library, QueueRef, QueueSummary, RawJob, TruncatedField,
};

/// The reads of one npm `bull` queue.
pub(crate) struct BullReads<'a> {
    queue: &'a QueueRef,
    keys: bullmq::QueueKeys,
}

impl<'a> BullReads<'a> {
    pub(crate) fn new(queue: &'a QueueRef) -> Self {
        BullReads {
            queue,
            keys: queue.keys(),
        }
    }
}

/// Bull's `opts` as `Job.fromJSON` gives them back: as stored, with Bull's defaults for
/// `attempts` (1) and `delay` (0) when the hash lacks them.
fn bull_opts(stored: Option<&String>) -> Json {
    let parsed = stored.and_then(|text| serde_json::from_str::<Json>(text).ok());
    match parsed {
        Some(Json::Object(mut map)) => {
            map.entry("attempts").or_insert(Json::from(1));
            map.entry("delay").or_insert(Json::from(0));
            Json::Object(map)
        }
        Some(other) => other,
        None if stored.is_some() => Json::String(stored.cloned().unwrap_or_default()),
        None => {
            let mut map = Map::new();
            map.insert("attempts".into(), Json::from(1));
            map.insert("delay".into(), Json::from(0));
            Json::Object(map)
        }
    }
}

/// An integer field of a Bull job hash (Bull writes them as decimal text).
fn int(raw: &RawJob, field: &str) -> Option<i64> {
    raw.get(field).and_then(|text| text.trim().parse().ok())
}

/// A Bull job hash as Bull's `Job` has it.
pub(crate) fn job_from_bull_preview(id: &str, raw: &RawJob, cut: Vec<TruncatedField>) -> Job {
    let mut job = job_from_preview(id, raw, cut);
    job.opts = bull_opts(raw.get("opts"));
    job.attempts_made = int(raw, "attemptsMade").unwrap_or(0);
    job.stalled_counter = int(raw, "stalledCounter").unwrap_or(0);
    job.retried_on = int(raw, "retriedOn");
    job
}

impl Layout for BullReads<'_> {
    /// The six counts of `getJobCounts()` (the other states are 0: Bull has none), paused as
    /// `Queue#isPaused` tells it (`meta-paused`, or `meta.paused` since Bull 3.18), and the
    /// repeatable jobs in `repeat`.
    fn summary(&self, batch: &mut Batch) -> Slot<Option<QueueSummary>> {
        let keys = &self.keys;
        let counts: Vec<(JobState, Slot<u64>)> = Library::Bull
            .states()
            .iter()
            .map(|&state| (state, batch.count(size(keys, state))))
            .collect();
        let meta_paused = batch.count(cmd("EXISTS", keys.get("meta-paused")));
        let paused_field = batch.count(cmd("HEXISTS", (keys.meta(), "paused")));
        let schedulers = batch.count(cmd("ZCARD", keys.repeat()));
        let exists = batch.count(cmd("EXISTS", (keys.meta(), keys.id())));
        let detected = super::detect::push(batch, self.queue);
        let (name, prefix) = (self.queue.name.clone(), self.queue.prefix.clone());
        let connection = self.queue.connection.clone();
        batch.combine(move |r| {
            let mut found = Counts::default();
            for (state, slot) in counts {
                found.set(state, r.take(slot)?);
            }
            let paused = r.take(meta_paused)? > 0 || r.take(paused_field)? > 0;
            let scheduler_count = r.take(schedulers)?;
            let detected = r.take(detected)?;
            let exists = r.take(exists)? > 0 || found.total() > 0 || scheduler_count > 0;
            Ok(exists.then_some(QueueSummary {
                name,
                prefix,
                paused,
                counts: found,
                global_concurrency: None,
                scheduler_count,
                version: None,
                library: Library::Bull,
                detected,
                connection,
            }))
        })
    }

    /// `Job#getState`'s checks: the sorted sets and `active` in this batch, `wait` then
    /// `paused` (lists that may be long) in a second step only when those found nothing.
    fn state(&self, batch: &mut Batch, id: &str) -> Slot<Step<Option<JobState>>> {
        let keys = &self.keys;
        let checks = cheap_checks(
            batch,
            keys,
            id,
            &[
                JobState::Completed,
                JobState::Failed,
                JobState::Delayed,
                JobState::Active,
            ],
        );
        let lists = [
            (JobState::Waiting, keys.wait()),
            (JobState::Paused, keys.paused()),
        ];
        let id = id.to_string();
        batch.combine(move |r| {
            for (state, slot) in checks {
                if r.take(slot)? {
                    return Ok(Step::Done(Some(state)));
                }
            }
            Ok(Step::then(move |batch| {
                let found: Vec<(JobState, Slot<bool>)> = lists
                    .iter()
                    .map(|(state, list)| (*state, batch.found(cmd("LPOS", (list, &id)))))
                    .collect();
                batch.combine(move |r| {
                    for (state, slot) in found {
                        if r.take(slot)? {
                            return Ok(Some(state));
                        }
                    }
                    Ok(None)
                })
            }))
        })
    }

    /// One range of the state's own container, as `getJobs([state])` reads it: `wait` for the
    /// waiting tab, `paused` for the paused one. Read oldest first, a list is read from its
    /// tail: the order Bull's workers take jobs in (`BRPOPLPUSH`), LIFO and priority jobs
    /// included.
    fn page(&self, batch: &mut Batch, list: Listing) -> Slot<Step<Vec<String>>> {
        let Listing { state, order, span } = list;
        let key = self.keys.get(state.key_suffix());
        range(batch, &key, state.is_sorted_set(), order, span).map(Step::Done)
    }

    fn logs(&self, batch: &mut Batch, id: &str, span: Span) -> Slot<(u64, Vec<String>)> {
        let key = format!("{}:logs", self.keys.job_key(id));
        let total = batch.count(cmd("LLEN", &key));
        let lines = batch.strings(cmd("LRANGE", (&key, span.start, span.end)));
        batch.combine(move |r| Ok((r.take(total)?, r.take(lines)?)))
    }

    /// Bull has no flows: a job never has children, and nothing is read.
    fn children(&self, batch: &mut Batch, _id: &str, _shown: Shown) -> Slot<Children> {
        batch.combine(|_| Ok(Children::default()))
    }

    fn pending_children(&self, batch: &mut Batch, _id: &str) -> Slot<u64> {
        batch.combine(|_| Ok(0))
    }

    fn key(&self, suffix: &str) -> String {
        self.keys.get(suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_bull_job_as_bulls_job_does() {
        let raw: RawJob = [
            ("name", "__default__"),
            ("data", r#"{"a":1}"#),
            (
                "opts",
                r#"{"attempts":3,"delay":0,"timestamp":5,"lifo":true}"#,
            ),
            ("timestamp", "5"),
            ("delay", "0"),
            ("priority", "0"),
            ("attemptsMade", "2"),
            ("stalledCounter", "1"),
            ("retriedOn", "9"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let job = job_from_bull_preview("7", &raw, Vec::new());
        assert_eq!(job.attempts_made, 2);
        assert_eq!(job.stalled_counter, 1);
        assert_eq!(job.retried_on, Some(9));
        assert_eq!(job.opts["lifo"], Json::Bool(true));
        assert_eq!(job.opts["attempts"], Json::from(3));
        assert_eq!(bull_opts(None)["attempts"], Json::from(1));
        assert_eq!(bull_opts(Some(&"{}".to_string()))["delay"], Json::from(0));
    }
}
