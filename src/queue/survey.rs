//! One discovery pass on demand, for the terminal commands (`bullring jobs`, `bullring stats`):
//! the queues under the reader's prefixes and the library of each (as declared by
//! `[[queues]] library`, else as its keys say), without a background task and without handing
//! out the connection.

use std::collections::BTreeMap;

use super::discovery::Discovery;
use super::error::Result;
use super::model::{Library, QueueRef};
use super::read::Reader;

/// The queues found by one SCAN pass under the reader's prefixes, plus `configured` names, each
/// with its library (`declared` wins over the keys).
pub async fn find_queues(
    reader: &Reader,
    configured: Vec<String>,
    declared: BTreeMap<String, Library>,
) -> Result<Vec<QueueRef>> {
    let discovery =
        Discovery::new(reader.prefixes().to_vec(), configured, true).declaring(declared);
    discovery.refresh(reader.redis()).await?;
    Ok(discovery.snapshot().queues)
}

/// `queue` with its library: `declared`, else what its keys say (one round trip, the queue's
/// summary, which reads them); a queue that is not there is `QueueNotFound`.
pub async fn with_library(
    reader: &Reader,
    queue: QueueRef,
    declared: Option<Library>,
) -> Result<QueueRef> {
    if let Some(library) = declared {
        return Ok(queue.with_library(library));
    }
    let summary = reader.summary(&queue).await?;
    let library = summary.detected.unwrap_or_default();
    Ok(queue.with_library(library))
}
