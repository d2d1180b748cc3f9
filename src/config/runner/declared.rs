//! The queues `[[queues]]` declares: workers and schedulers may only use those, so a typo in a
//! queue name fails at start instead of feeding a queue nobody reads.

use std::collections::HashSet;

use crate::config::error::{ConfigError, bad};

/// The declared queue names.
pub struct DeclaredQueues<'a>(HashSet<&'a str>);

impl<'a> DeclaredQueues<'a> {
    pub fn new(names: impl IntoIterator<Item = &'a str>) -> Self {
        DeclaredQueues(names.into_iter().collect())
    }

    /// `Ok` when `queue` is declared; otherwise an error naming the entry (`label`) that uses it.
    pub fn require(&self, label: &str, queue: &str) -> Result<(), ConfigError> {
        if self.0.contains(queue) {
            return Ok(());
        }
        Err(bad(
            label,
            format!(
                "queue {queue:?} is not declared; add a [[queues]] entry with name = {queue:?}"
            ),
        ))
    }
}
