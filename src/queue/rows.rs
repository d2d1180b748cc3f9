//! The rows of a list of jobs: what a page of jobs (and a search's matches) shows of each, in
//! two round trips whatever their size: the size of each field, then the fields within the
//! bounds of [`preview`]; the others are marked truncated.

use super::batch::Batch;
use super::connection::Redis;
use super::error::Result;
use super::layout;
use super::model::{Job, QueueRef, RawJob};
use super::preview;

/// The rows of `ids` of `queue` (with, for `parents`, their pending children's count).
pub(crate) async fn read(
    redis: &Redis,
    queue: &QueueRef,
    ids: &[String],
    parents: bool,
) -> Result<Vec<Job>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let layout = layout::of(queue);
    let decode = layout::decoder(queue.library);
    let fields = &preview::LIST_FIELDS;
    let mut batch = Batch::new();
    let sized: Vec<_> = ids
        .iter()
        .map(|id| {
            let sizes = layout.sizes(&mut batch, id, fields);
            let pending = parents.then(|| layout.pending_children(&mut batch, id));
            (sizes, pending)
        })
        .collect();
    let replies = batch.send(redis).await?;
    let mut budget = preview::PAGE_BUDGET;
    let mut batch = Batch::new();
    let mut rows = Vec::with_capacity(ids.len());
    for (id, (sizes, pending)) in ids.iter().zip(sized) {
        let (read, cut) = preview::plan(fields, &replies.take(sizes)?, &mut budget);
        let pending = pending.map(|p| replies.take(p)).transpose()?;
        let values = layout.fields(&mut batch, id, &read);
        let id = id.clone();
        rows.push(values.map(move |values| {
            let raw: RawJob = read
                .iter()
                .zip(values)
                .filter_map(|(field, value)| Some(((*field).to_string(), value?)))
                .collect();
            let mut job = decode(&id, &raw, cut);
            job.pending_children = pending;
            job
        }));
    }
    let jobs = batch.all(rows);
    batch.send(redis).await?.take(jobs)
}
