//! A search with an exact `id:` term: one round trip whatever the size of the states. For each
//! container searched, whether it holds the id (`ZSCORE` on a sorted set, `LPOS` on a list), with
//! the job's hash of each queue and the containers' sizes; the other terms are matched on the
//! hash.

use super::query::Query;
use super::walk::{self, Segment};
use super::{Found, Outcome};
use crate::queue::batch::{Batch, cmd};
use crate::queue::connection::Redis;
use crate::queue::error::Result;
use crate::queue::layout;
use crate::queue::model::QueueRef;

pub(super) async fn find(
    redis: &Redis,
    queues: &[QueueRef],
    segments: &[Segment],
    query: &Query,
    id: &str,
) -> Result<Outcome> {
    let mut batch = Batch::new();
    let sizes: Vec<_> = segments
        .iter()
        .map(|s| walk::push_size(&mut batch, s))
        .collect();
    let sizes = batch.all(sizes);
    let held: Vec<_> = segments
        .iter()
        .map(|s| {
            let check = if s.sorted { "ZSCORE" } else { "LPOS" };
            batch.found(cmd(check, (&s.key, id)))
        })
        .collect();
    let held = batch.all(held);
    let hashes: Vec<_> = queues
        .iter()
        .map(|queue| layout::of(queue).job(&mut batch, id))
        .collect();
    let hashes = batch.all(hashes);
    let replies = batch.send(redis).await?;
    let total = replies.take(sizes)?.iter().sum();
    let held = replies.take(held)?;
    let hashes = replies.take(hashes)?;
    let fields = query.fields();
    let mut found = Vec::new();
    for (index, queue) in queues.iter().enumerate() {
        let in_state = segments
            .iter()
            .zip(&held)
            .any(|(s, held)| s.queue == index && *held);
        let raw = &hashes[index];
        if !in_state || raw.is_empty() {
            continue;
        }
        let values: Vec<Option<String>> = fields.iter().map(|f| raw.get(*f).cloned()).collect();
        if query.matches(id, &fields, &values) {
            found.push(Found {
                queue: queue.clone(),
                job: layout::decoder(queue.library)(id, raw, Vec::new()),
            });
        }
    }
    Ok(Outcome {
        scanned: found.len() as u64,
        found,
        total,
        cursor: None,
        round_trips: 1,
    })
}
