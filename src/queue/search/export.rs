//! Export: every job of some states that matches a query, as NDJSON (one job a line, Node
//! BullMQ's field names, as the job API shows a job), walked to the end in chunks as a search
//! walks.
//!
//! Memory stays bounded whatever the number of jobs: the walk holds one chunk of ids, the job
//! hashes are read [`HASHES_PER_READ`] at a time, and the lines go through a channel of
//! [`BUFFERED`] pieces that waits for the reader (a slow client slows the walk, never fills
//! memory). An `id:` term without `*` reads that job only.

use tokio::sync::mpsc;

use super::query::Query;
use super::{CHUNK, Position, Walker, segments};
use crate::queue::batch::Batch;
use crate::queue::connection::Redis;
use crate::queue::error::Result;
use crate::queue::layout;
use crate::queue::model::{JobState, Order, QueueRef};

/// Job hashes read in one round trip.
pub const HASHES_PER_READ: usize = 100;
/// Pieces of NDJSON (each the lines of up to [`HASHES_PER_READ`] jobs) waiting for the reader.
pub const BUFFERED: usize = 2;

/// What to export: the jobs of `states` of `queues` matching `query`, in `order`.
#[derive(Debug, Clone)]
pub struct Export {
    pub queues: Vec<QueueRef>,
    pub states: Vec<JobState>,
    pub order: Order,
    pub query: Query,
}

/// Start the export: its NDJSON, piece by piece, ending at the last job (or with the error that
/// stopped it). The walk stops when the receiver is dropped.
pub fn stream(redis: Redis, export: Export) -> mpsc::Receiver<Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel(BUFFERED);
    tokio::spawn(async move {
        if let Err(err) = run(&redis, &export, &tx).await {
            let _ = tx.send(Err(err)).await;
        }
    });
    rx
}

/// Every piece of an export, in order (for the terminal, and tests).
pub async fn collect(redis: Redis, export: Export, mut sink: impl FnMut(&[u8])) -> Result<()> {
    let mut rx = stream(redis, export);
    while let Some(piece) = rx.recv().await {
        sink(&piece?);
    }
    Ok(())
}

async fn run(redis: &Redis, export: &Export, tx: &mpsc::Sender<Result<Vec<u8>>>) -> Result<()> {
    let segments = segments(&export.queues, &export.states, export.order);
    let start = Position {
        segment: 0,
        anchor: None,
    };
    let (mut walker, _total) = Walker::start(
        redis,
        &export.queues,
        segments,
        &export.query,
        export.order,
        start,
        CHUNK,
    )
    .await?;
    while let Some(chunk) = walker.step(CHUNK).await? {
        let queue = &export.queues[walker.segments[chunk.segment].queue];
        let matched: Vec<String> = chunk
            .entries
            .into_iter()
            .filter(|(_, matched)| *matched)
            .map(|(entry, _)| entry.id)
            .collect();
        for ids in matched.chunks(HASHES_PER_READ) {
            let piece = lines(redis, queue, ids).await?;
            if !piece.is_empty() && tx.send(Ok(piece)).await.is_err() {
                // The reader is gone: nothing more to do.
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The NDJSON lines of `ids` (a job removed meanwhile is left out).
async fn lines(redis: &Redis, queue: &QueueRef, ids: &[String]) -> Result<Vec<u8>> {
    let layout = layout::of(queue);
    let decode = layout::decoder(queue.library);
    let mut batch = Batch::new();
    let hashes: Vec<_> = ids.iter().map(|id| layout.job(&mut batch, id)).collect();
    let hashes = batch.all(hashes);
    let hashes = batch.send(redis).await?.take(hashes)?;
    let mut out = Vec::new();
    for (id, raw) in ids.iter().zip(hashes) {
        if raw.is_empty() {
            continue;
        }
        let job = decode(id, &raw, Vec::new());
        drop(raw);
        serde_json::to_writer(&mut out, &job).map_err(|err| {
            crate::queue::error::QueueError::InvalidInput(
                crate::text::Said::new("check.export_json")
                    .with("id", id)
                    .with("detail", err),
            )
        })?;
        out.push(b'\n');
    }
    Ok(out)
}
