//! Throughput from BullMQ's own metrics keys, and wait / processing times from finished jobs.
//!
//! Workers with the `metrics` option keep, per queue and per outcome, a hash
//! (`metrics:completed` with `count`, `prevTS`, `prevCount`) and a list of per-minute counts
//! (`metrics:completed:data`, newest first). When a job finishes in a later minute than `prevTS`,
//! the count since `prevTS` is pushed for `prevTS`'s minute, then a zero for each empty minute in
//! between. So `data[i]` counts minute `floor(prevTS / 60000) - 1 - i`, and the minute of
//! `prevTS` itself holds `count - prevCount` so far.

use serde::Serialize;

use super::batch::{Batch, Slot, cmd};
use super::connection::Redis;
use super::error::Result;
use super::layout;
use super::model::QueueRef;

const MINUTE: i64 = 60_000;
/// Finished jobs sampled for wait and processing times.
pub const TIMING_SAMPLE: usize = 500;

/// Per-minute counts of one outcome, oldest first, ending at the minute of `end_minute_ms`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    /// Start of the last minute in `per_minute` (ms).
    pub end_minute_ms: i64,
    pub per_minute: Vec<u64>,
    /// BullMQ's running total (`count` of the hash).
    pub total: u64,
}

impl Series {
    pub fn sum(&self) -> u64 {
        self.per_minute.iter().sum()
    }
}

/// Completed and failed per minute for one queue.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct QueueMetrics {
    pub completed: Series,
    pub failed: Series,
    /// False when no worker ever recorded metrics for this queue.
    pub recorded: bool,
}

/// Push the commands that read `minutes` of metrics for `queue`, ending at `now_ms`.
pub(crate) fn push(
    batch: &mut Batch,
    queue: &QueueRef,
    minutes: usize,
    now_ms: i64,
) -> Slot<QueueMetrics> {
    let layout = layout::of(queue);
    let mut outcome = |name: &str| {
        let key = layout.key(&format!("metrics:{name}"));
        let fields = ("count", "prevTS", "prevCount");
        let meta = batch.value::<Vec<Option<String>>>(cmd("HMGET", (&key, fields)));
        let last = minutes.saturating_sub(1);
        let data = batch.strings(cmd("LRANGE", (format!("{key}:data"), 0, last)));
        batch.combine(move |r| {
            let meta = r.take(meta)?.unwrap_or_default();
            Ok(series(&meta, &r.take(data)?, minutes, now_ms))
        })
    };
    let (completed, failed) = (outcome("completed"), outcome("failed"));
    batch.combine(move |r| {
        let (completed, failed) = (r.take(completed)?, r.take(failed)?);
        Ok(QueueMetrics {
            recorded: completed.is_some() || failed.is_some(),
            completed: completed.unwrap_or_else(|| empty(minutes, now_ms)),
            failed: failed.unwrap_or_else(|| empty(minutes, now_ms)),
        })
    })
}

fn empty(minutes: usize, now_ms: i64) -> Series {
    Series {
        end_minute_ms: now_ms.div_euclid(MINUTE) * MINUTE,
        per_minute: vec![0; minutes],
        total: 0,
    }
}

/// The series of one outcome from its hash fields (`count`, `prevTS`, `prevCount`) and its
/// per-minute list; `None` when no worker recorded it.
fn series(
    fields: &[Option<String>],
    data: &[String],
    minutes: usize,
    now_ms: i64,
) -> Option<Series> {
    let field = |i: usize| -> Option<i64> {
        fields
            .get(i)?
            .as_ref()?
            .parse::<f64>()
            .ok()
            .map(|f| f as i64)
    };
    let total = field(0)?;
    let prev_ts = field(1).unwrap_or(now_ms);
    let prev_count = field(2).unwrap_or(0);
    let data: Vec<u64> = data.iter().map(|v| v.parse().unwrap_or(0)).collect();

    let now_minute = now_ms.div_euclid(MINUTE);
    let prev_minute = prev_ts.div_euclid(MINUTE);
    let mut per_minute = vec![0u64; minutes];
    // Slot of minute m (ending at now_minute) in `per_minute`.
    let slot = |m: i64| -> Option<usize> {
        let back = now_minute - m;
        (0..minutes as i64)
            .contains(&back)
            .then(|| minutes - 1 - back as usize)
    };
    if let Some(s) = slot(prev_minute) {
        per_minute[s] = (total - prev_count).max(0) as u64;
    }
    for (i, value) in data.iter().enumerate() {
        if let Some(s) = slot(prev_minute - 1 - i as i64) {
            per_minute[s] = *value;
        }
    }
    Some(Series {
        end_minute_ms: now_minute * MINUTE,
        per_minute,
        total: total.max(0) as u64,
    })
}

/// One queue's metrics over `minutes`, in one round trip.
pub async fn read(
    redis: &Redis,
    queue: &QueueRef,
    minutes: usize,
    now_ms: i64,
) -> Result<QueueMetrics> {
    let mut batch = Batch::new();
    let metrics = push(&mut batch, queue, minutes, now_ms);
    batch.send(redis).await?.take(metrics)
}

/// Percentiles of wait time (processedOn − timestamp) and processing time (finishedOn −
/// processedOn), in ms, over the last finished jobs.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Timings {
    pub samples: usize,
    pub wait_p50: Option<i64>,
    pub wait_p95: Option<i64>,
    pub processing_p50: Option<i64>,
    pub processing_p95: Option<i64>,
}

/// The newest `TIMING_SAMPLE` completed and failed jobs' timestamps: two round trips.
pub async fn timings(redis: &Redis, queue: &QueueRef) -> Result<Timings> {
    let layout = layout::of(queue);
    let mut batch = Batch::new();
    let newest: Vec<Slot<Vec<String>>> = ["completed", "failed"]
        .into_iter()
        .map(|set| {
            let key = layout.key(set);
            batch.strings(cmd("ZRANGE", (key, 0, TIMING_SAMPLE - 1, "REV")))
        })
        .collect();
    let newest = batch.all(newest);
    let ids: Vec<String> = batch.send(redis).await?.take(newest)?.concat();
    if ids.is_empty() {
        return Ok(Timings::default());
    }
    let mut batch = Batch::new();
    let stamps: Vec<Slot<Vec<Option<String>>>> = ids
        .iter()
        .map(|id| layout.fields(&mut batch, id, &["timestamp", "processedOn", "finishedOn"]))
        .collect();
    let stamps = batch.all(stamps);
    let stamps = batch.send(redis).await?.take(stamps)?;
    let mut waits = Vec::new();
    let mut runs = Vec::new();
    for fields in &stamps {
        let get = |i: usize| {
            fields
                .get(i)
                .cloned()
                .flatten()
                .and_then(|v| v.parse::<i64>().ok())
        };
        if let (Some(added), Some(started)) = (get(0), get(1)) {
            waits.push((started - added).max(0));
        }
        if let (Some(started), Some(finished)) = (get(1), get(2)) {
            runs.push((finished - started).max(0));
        }
    }
    Ok(Timings {
        samples: ids.len(),
        wait_p50: percentile(&mut waits, 50),
        wait_p95: percentile(&mut waits, 95),
        processing_p50: percentile(&mut runs, 50),
        processing_p95: percentile(&mut runs, 95),
    })
}

/// Nearest-rank percentile.
fn percentile(values: &mut [i64], p: usize) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (p * values.len()).div_ceil(100).max(1);
    Some(values[rank - 1])
}

/// Completed and failed totals of a series pair, and the failure rate in percent.
pub fn failure_rate(metrics: &QueueMetrics) -> Option<f64> {
    let done = metrics.completed.sum() + metrics.failed.sum();
    (done > 0).then(|| metrics.failed.sum() as f64 * 100.0 / done as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(items: &[&str]) -> Vec<Option<String>> {
        items.iter().map(|s| Some(s.to_string())).collect()
    }

    fn data(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn places_minutes_as_bullmq_records_them() {
        // prevTS in minute 100 with 2 jobs so far; data: minute 99 = 5, 98 = 0, 97 = 3.
        let prev_ts = 100 * MINUTE + 10_000;
        let meta = fields(&["10", &prev_ts.to_string(), "8"]);
        let data = data(&["5", "0", "3"]);
        let now = 101 * MINUTE + 5;
        let s = series(&meta, &data, 5, now).unwrap();
        assert_eq!(s.per_minute, vec![3, 0, 5, 2, 0]);
        assert_eq!(s.total, 10);
        assert!(series(&[], &data, 5, now).is_none());
        assert!(series(&[None, None, None], &data, 5, now).is_none());
    }

    #[test]
    fn computes_percentiles() {
        let mut v = vec![5, 1, 4, 2, 3];
        assert_eq!(percentile(&mut v, 50), Some(3));
        assert_eq!(percentile(&mut v, 95), Some(5));
        assert_eq!(percentile(&mut [], 50), None);
    }
}
