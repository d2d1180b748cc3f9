//! Which library a queue's keys say it belongs to, read before anything is written and without
//! a round trip of its own: the commands go into the batch the summary (or discovery's pass)
//! already sends.
//!
//! A queue is BullMQ's when its `meta` hash records a BullMQ `version` (or the Rust engine's
//! `library`, or `opts.maxLenEvents`), or when it has an `events` stream: Bull writes none of
//! these. Otherwise it is Bull's when it has one of the keys Bull writes and BullMQ does not
//! (`meta-paused`, the `priority` index), or when it has jobs (`id`) but nothing of BullMQ's.
//! A queue with none of these keys says neither.

use crate::queue::batch::{Batch, Slot, cmd};
use crate::queue::model::{Library, QueueRef};

/// The `meta` fields BullMQ writes and Bull never does.
const BULLMQ_META: [&str; 3] = ["version", "library", "opts.maxLenEvents"];

/// Push the reads that tell `queue`'s library.
pub(crate) fn push(batch: &mut Batch, queue: &QueueRef) -> Slot<Option<Library>> {
    let keys = queue.keys();
    let meta = batch.value::<Vec<Option<String>>>(cmd("HMGET", (keys.meta(), &BULLMQ_META[..])));
    let events = batch.count(cmd("EXISTS", keys.events()));
    let bull_only = [keys.get("meta-paused"), keys.get("priority")];
    let bull = batch.count(cmd("EXISTS", &bull_only[..]));
    let jobs = batch.count(cmd("EXISTS", keys.id()));
    batch.combine(move |r| {
        let meta = r.take(meta)?.unwrap_or_default();
        let bullmq_meta = meta.iter().flatten().any(|value| !value.is_empty());
        Ok(decide(
            bullmq_meta || r.take(events)? > 0,
            r.take(bull)? > 0,
            r.take(jobs)? > 0,
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
