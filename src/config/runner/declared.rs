//! The queues `[[queues]]` declares: workers and schedulers may only use those, so a typo in a
//! queue name fails at start instead of feeding a queue nobody reads. Nor may they use a queue
//! declared `library = "bull"`: the runner works BullMQ queues only.

use std::collections::HashSet;

use crate::config::error::{ConfigError, bad};

/// The declared queue names, and those declared Bull queues.
pub struct DeclaredQueues<'a>(HashSet<&'a str>, HashSet<&'a str>);

impl<'a> DeclaredQueues<'a> {
    pub fn new(names: impl IntoIterator<Item = &'a str>) -> Self {
        DeclaredQueues(names.into_iter().collect(), HashSet::new())
    }

    /// The same, with the names of the queues declared `library = "bull"`.
    pub fn with_bull(self, bull: impl IntoIterator<Item = &'a str>) -> Self {
        DeclaredQueues(self.0, bull.into_iter().collect())
    }

    /// `Ok` when `queue` is declared; otherwise an error naming the entry (`label`) that uses it.
    pub fn require(&self, label: &str, queue: &str) -> Result<(), ConfigError> {
        if self.1.contains(queue) {
            return Err(bad(
                label,
                format!(
                    "queue {queue:?} is declared library = \"bull\": bullring's runner works \
                     BullMQ queues only (Bull's own workers process a Bull queue)"
                ),
            ));
        }
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
