//! BullMQ's key layout (4, 5 and 6), as the read path sees it: every key name comes from the
//! engine's `QueueKeys`, and only read commands are pushed.

use redis::Value;

use super::{Layout, Listing, Shown, Span};
use crate::queue::batch::{Batch, Slot, Step, cmd};
use crate::queue::decode::{reply, split_job_key};
use crate::queue::model::{
    ChildRef, Children, Counts, JobState, Library, Order, QueueRef, QueueSummary,
};

/// The reads of one npm `bullmq` queue.
pub(crate) struct BullMqReads<'a> {
    queue: &'a QueueRef,
    keys: bullmq::QueueKeys,
}

impl<'a> BullMqReads<'a> {
    pub(crate) fn new(queue: &'a QueueRef) -> Self {
        BullMqReads {
            queue,
            keys: queue.keys(),
        }
    }
}

/// The meta hash fields a summary reads: `paused`, `concurrency`, `version`, `library`.
type Meta = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The command that tells how many jobs a state's container holds.
pub(super) fn size(keys: &bullmq::QueueKeys, state: JobState) -> redis::Cmd {
    let key = keys.get(state.key_suffix());
    if state.is_sorted_set() {
        cmd("ZCARD", key)
    } else {
        cmd("LLEN", key)
    }
}

/// Whether job `id` is in each of `states`' containers: ZSCORE on a sorted set, LPOS on a list
/// (only short lists belong here, such as `active`). The cheap first step of a job's state, in
/// both libraries' layouts.
pub(super) fn cheap_checks(
    batch: &mut Batch,
    keys: &bullmq::QueueKeys,
    id: &str,
    states: &[JobState],
) -> Vec<(JobState, Slot<bool>)> {
    states
        .iter()
        .map(|&state| {
            let key = keys.get(state.key_suffix());
            let check = if state.is_sorted_set() {
                "ZSCORE"
            } else {
                "LPOS"
            };
            (state, batch.found(cmd(check, (key, id))))
        })
        .collect()
}

/// One range of a list or sorted set, read in `order`. Lists hold the newest job at the head
/// (LPUSH), so oldest first reads from the tail and reverses.
pub(super) fn range(
    batch: &mut Batch,
    key: &str,
    sorted: bool,
    order: Order,
    span: Span,
) -> Slot<Vec<String>> {
    let Span { start, end } = span;
    let command = match (sorted, order) {
        (true, Order::NewestFirst) => cmd("ZRANGE", (key, start, end, "REV")),
        (true, Order::OldestFirst) => cmd("ZRANGE", (key, start, end)),
        (false, Order::NewestFirst) => cmd("LRANGE", (key, start, end)),
        (false, Order::OldestFirst) => cmd("LRANGE", (key, -end - 1, -start - 1)),
    };
    let reverse = !sorted && order == Order::OldestFirst;
    batch.strings(command).map(move |ids| {
        let mut ids: Vec<String> = ids
            .into_iter()
            // BullMQ 4 left "0:<n>" markers in wait lists; they are not jobs.
            .filter(|id| !id.starts_with("0:"))
            .collect();
        if reverse {
            ids.reverse();
        }
        ids
    })
}

/// A hash's size and at most `shown` of its field/value pairs (one `HSCAN` step).
fn scanned(batch: &mut Batch, key: &str, shown: usize) -> (Slot<u64>, Slot<Vec<(String, String)>>) {
    let total = batch.count(cmd("HLEN", key));
    let pairs = batch.push(cmd("HSCAN", (key, 0, "COUNT", shown)), scan_pairs);
    (total, pairs)
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

impl Layout for BullMqReads<'_> {
    fn summary(&self, batch: &mut Batch) -> Slot<Option<QueueSummary>> {
        let keys = &self.keys;
        let counts: Vec<(JobState, Slot<u64>)> = JobState::ALL
            .into_iter()
            .map(|state| (state, batch.count(size(keys, state))))
            .collect();
        // The Rust engine records itself in `library` instead of `version`.
        let meta_fields = ("paused", "concurrency", "version", "library");
        let meta = batch.value::<Meta>(cmd("HMGET", (keys.meta(), meta_fields)));
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
            let (paused, concurrency, version, library) = r.take(meta)?.unwrap_or_default();
            let scheduler_count = r.take(schedulers)?;
            let detected = r.take(detected)?;
            let exists = r.take(exists)? > 0 || found.total() > 0 || scheduler_count > 0;
            Ok(exists.then(|| QueueSummary {
                name,
                prefix,
                paused: paused.is_some(),
                counts: found,
                global_concurrency: concurrency.and_then(|c| c.parse().ok()),
                scheduler_count,
                version: version.or(library),
                library: Library::BullMq,
                detected,
                connection,
            }))
        })
    }

    /// The cheap checks: ZSCORE on the sorted sets, LPOS on `active` (as long as the workers'
    /// concurrency). The `wait` list and BullMQ 5's `paused` list are the second step: LPOS scans
    /// a list, so asking it of a 10,000-job `wait` list on every job page made a failed job's page
    /// cost Redis about 90 us (measured with bench/run.sh); they are asked only when no container
    /// here has the job (Node's getState reports both as waiting). A job is in one container at a
    /// time, so the order does not change the answer.
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
                JobState::Prioritized,
                JobState::Active,
                JobState::WaitingChildren,
            ],
        );
        let lists = [keys.wait(), keys.paused()];
        let id = id.to_string();
        batch.combine(move |r| {
            for (state, slot) in checks {
                if r.take(slot)? {
                    return Ok(Step::Done(Some(state)));
                }
            }
            Ok(Step::then(move |batch| {
                let found: Vec<Slot<bool>> = lists
                    .iter()
                    .map(|list| batch.found(cmd("LPOS", (list, &id))))
                    .collect();
                batch
                    .all(found)
                    .map(|found| found.contains(&true).then_some(JobState::Waiting))
            }))
        })
    }

    /// The waiting tab ranges over `wait` then `paused`, like Node's getJobs(['waiting']); read
    /// oldest first, that sequence is reversed. Both lists' lengths are read with the page (two
    /// O(1) commands), and a page that straddles them reads the rest of the second list in a
    /// second step.
    fn page(&self, batch: &mut Batch, list: Listing) -> Slot<Step<Vec<String>>> {
        let (keys, Listing { state, order, span }) = (&self.keys, list);
        if state != JobState::Waiting {
            let key = keys.get(state.key_suffix());
            return range(batch, &key, state.is_sorted_set(), order, span).map(Step::Done);
        }
        let (first, second) = match order {
            Order::NewestFirst => (keys.wait(), keys.paused()),
            Order::OldestFirst => (keys.paused(), keys.wait()),
        };
        let first_len = batch.count(cmd("LLEN", &first));
        let second_len = batch.count(cmd("LLEN", &second));
        let first_ids = range(batch, &first, false, order, span);
        let second_ids = range(batch, &second, false, order, span);
        batch.combine(move |r| {
            let first_len = i64::try_from(r.take(first_len)?).unwrap_or(i64::MAX);
            let (second_len, first_ids) = (r.take(second_len)?, r.take(first_ids)?);
            if first_len > span.end || second_len == 0 {
                return Ok(Step::Done(first_ids));
            }
            if first_len == 0 {
                return Ok(Step::Done(r.take(second_ids)?));
            }
            Ok(Step::then(move |batch| {
                range(batch, &second, false, order, span.back(first_len)).map(move |rest| {
                    let mut ids = first_ids;
                    ids.extend(rest);
                    ids
                })
            }))
        })
    }

    fn logs(&self, batch: &mut Batch, id: &str, span: Span) -> Slot<(u64, Vec<String>)> {
        let key = format!("{}:logs", self.keys.job_key(id));
        let total = batch.count(cmd("LLEN", &key));
        let lines = batch.strings(cmd("LRANGE", (&key, span.start, span.end)));
        batch.combine(move |r| Ok((r.take(total)?, r.take(lines)?)))
    }

    /// Pending children from `dependencies`, processed ones with their values, failed ones from
    /// `failed` and `unsuccessful`.
    fn children(&self, batch: &mut Batch, id: &str, shown: Shown) -> Slot<Children> {
        let Shown {
            per_group: shown,
            prefixes,
        } = shown;
        let job_key = self.keys.job_key(id);
        let sub = |suffix: &str| format!("{job_key}:{suffix}");
        let pending_count = batch.count(cmd("SCARD", sub("dependencies")));
        let pending = batch.strings(cmd("SRANDMEMBER", (sub("dependencies"), shown)));
        let (processed_count, processed) = scanned(batch, &sub("processed"), shown);
        let (failed_count, failed) = scanned(batch, &sub("failed"), shown);
        let unsuccessful_count = batch.count(cmd("ZCARD", sub("unsuccessful")));
        let last = shown.saturating_sub(1);
        let unsuccessful = batch.strings(cmd("ZRANGE", (sub("unsuccessful"), 0, last)));
        let prefixes = prefixes.to_vec();
        batch.combine(move |r| {
            let child = |key: String| split_job_key(&key, &prefixes);
            let mut pending: Vec<ChildRef> = r.take(pending)?.into_iter().map(child).collect();
            pending.sort_by(|a, b| a.key.cmp(&b.key));
            let processed = r.take(processed)?.into_iter().map(|(key, value)| ChildRef {
                returnvalue: Some(serde_json::from_str(&value).unwrap_or(value.into())),
                ..child(key)
            });
            let mut failed: Vec<ChildRef> = r
                .take(failed)?
                .into_iter()
                .map(|(key, reason)| ChildRef {
                    failed_reason: Some(reason),
                    ..child(key)
                })
                .collect();
            failed.extend(r.take(unsuccessful)?.into_iter().map(child));
            Ok(Children {
                pending,
                processed: processed.collect(),
                failed,
                pending_count: r.take(pending_count)?,
                processed_count: r.take(processed_count)?,
                failed_count: r.take(failed_count)? + r.take(unsuccessful_count)?,
            })
        })
    }

    fn pending_children(&self, batch: &mut Batch, id: &str) -> Slot<u64> {
        let key = format!("{}:dependencies", self.keys.job_key(id));
        batch.count(cmd("SCARD", key))
    }

    /// The waiting tab is `wait` then `paused`, as [`Layout::page`] walks them.
    fn containers(&self, state: JobState, order: Order) -> Vec<(String, bool)> {
        let keys = &self.keys;
        match (state, order) {
            (JobState::Waiting, Order::NewestFirst) => {
                vec![(keys.wait(), false), (keys.paused(), false)]
            }
            (JobState::Waiting, Order::OldestFirst) => {
                vec![(keys.paused(), false), (keys.wait(), false)]
            }
            (state, _) => vec![(keys.get(state.key_suffix()), state.is_sorted_set())],
        }
    }

    fn key(&self, suffix: &str) -> String {
        self.keys.get(suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hscan_pairs() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let value = Value::Array(vec![
            bulk("0"),
            Value::Array(vec![bulk("a"), bulk("1"), bulk("b")]),
        ]);
        assert_eq!(scan_pairs(&value), vec![("a".into(), "1".into())]);
        assert!(scan_pairs(&Value::Nil).is_empty());
    }
}
