//! The names of a Bull 3/4 queue's keys, as Bull's `Queue#toKey` builds them: `<prefix>:<queue>:`
//! followed by the key's own name or a job id. Shared with the Bull reads that need a name.

use crate::queue::model::QueueRef;

/// The key prefix every key of the queue starts with, `<prefix>:<queue>:` (Bull's `toKey('')`);
/// Bull's scripts, and bullring's, build the queue's keys from it.
pub fn base(queue: &QueueRef) -> String {
    queue.keys().key_prefix()
}

/// One of the queue's own keys (`wait`, `meta-paused`, `repeat` ...) or a job's hash.
pub fn key(queue: &QueueRef, name: &str) -> String {
    format!("{}{name}", base(queue))
}

/// The names of a Bull queue's own keys: a job id equal to one would share its key.
pub const OWN_KEYS: [&str; 15] = [
    "id",
    "meta",
    "meta-paused",
    "wait",
    "paused",
    "active",
    "priority",
    "delayed",
    "completed",
    "failed",
    "stalled",
    "stalled-check",
    "limiter",
    "repeat",
    "metrics",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bulls() {
        let queue = QueueRef::new("bull", "pre-diagnosis");
        assert_eq!(base(&queue), "bull:pre-diagnosis:");
        assert_eq!(key(&queue, "meta-paused"), "bull:pre-diagnosis:meta-paused");
    }
}
