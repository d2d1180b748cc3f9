//! One discovery pass on demand, for the terminal commands (`bullring stats`): the queues under
//! the reader's prefixes, without a background task and without handing out the connection.

use super::discovery::Discovery;
use super::error::Result;
use super::model::QueueRef;
use super::read::Reader;

/// The queues found by one SCAN pass under the reader's prefixes, plus `configured` names.
pub async fn find_queues(reader: &Reader, configured: Vec<String>) -> Result<Vec<QueueRef>> {
    let discovery = Discovery::new(reader.prefixes().to_vec(), configured, true);
    discovery.refresh(reader.redis()).await?;
    Ok(discovery.snapshot().queues)
}
