//! Which library a queue's keys say it belongs to, read before anything is written and without
//! a round trip of its own: the commands go into the batch the summary (or discovery's pass)
//! already sends.
//!
//! A queue is BullMQ's when its `meta` hash records a BullMQ `version` (or the Rust engine's
//! `library`, or `opts.maxLenEvents`), when it has one of the keys only BullMQ writes (`events`,
//! `marker`, `prioritized`, `waiting-children`, `pc`), or a `paused` list without Bull's
//! `meta-paused` (BullMQ 5 pauses with `meta.paused` alone; Bull's `paused` list exists only
//! while `meta-paused` does). Otherwise it is Bull's when it has one of the keys only Bull
//! writes (`meta-paused`, the `priority` index), or jobs (`id`) and nothing of BullMQ's. A queue
//! with none of these keys says neither. Every check is a one-key command, so it works on a
//! Redis Cluster whatever the prefix.

use crate::queue::batch::{Batch, Slot, cmd};
use crate::queue::model::{Library, QueueRef};

/// The `meta` fields BullMQ writes and Bull never does.
const BULLMQ_META: [&str; 3] = ["version", "library", "opts.maxLenEvents"];

/// The keys only BullMQ writes.
const BULLMQ_KEYS: [&str; 5] = ["events", "marker", "prioritized", "waiting-children", "pc"];
/// The keys only Bull writes.
const BULL_KEYS: [&str; 2] = ["meta-paused", "priority"];

/// Push the reads that tell `queue`'s library.
pub(crate) fn push(batch: &mut Batch, queue: &QueueRef) -> Slot<Option<Library>> {
    let keys = queue.keys();
    let meta = batch.value::<Vec<Option<String>>>(cmd("HMGET", (keys.meta(), &BULLMQ_META[..])));
    let mut exists = |suffix: &str| batch.count(cmd("EXISTS", keys.get(suffix))).map(|n| n > 0);
    let bullmq: Vec<Slot<bool>> = BULLMQ_KEYS.iter().map(|k| exists(k)).collect();
    let bull: Vec<Slot<bool>> = BULL_KEYS.iter().map(|k| exists(k)).collect();
    let (paused, meta_paused, jobs) = (exists("paused"), exists("meta-paused"), exists("id"));
    let bullmq = batch.all(bullmq);
    let bull = batch.all(bull);
    batch.combine(move |r| {
        let meta = r.take(meta)?.unwrap_or_default();
        let bullmq_meta = meta.iter().flatten().any(|value| !value.is_empty());
        let bullmq_pause = r.take(paused)? && !r.take(meta_paused)?;
        let bullmq_keys = r.take(bullmq)?.contains(&true);
        Ok(decide(
            bullmq_meta || bullmq_keys || bullmq_pause,
            r.take(bull)?.contains(&true),
            r.take(jobs)?,
        ))
    })
}

/// The decision from what was found: BullMQ's own keys win (a Bull queue that BullMQ's code
/// has written into reads as BullMQ's from then on), then Bull's own keys, then jobs.
fn decide(bullmq_keys: bool, bull_keys: bool, jobs: bool) -> Option<Library> {
    if bullmq_keys {
        Some(Library::BullMq)
    } else if bull_keys || jobs {
        Some(Library::Bull)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bullmq_keys_win_then_bull_keys_then_jobs() {
        assert_eq!(decide(true, true, true), Some(Library::BullMq));
        assert_eq!(decide(false, true, false), Some(Library::Bull));
        assert_eq!(decide(false, false, true), Some(Library::Bull));
        assert_eq!(decide(false, false, false), None);
    }
}
