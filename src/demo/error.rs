//! [`DemoError`]: why seeding the demo failed, with the error underneath as its source.

use std::time::Duration;

use super::fixture::FixtureError;
use crate::queue::error::QueueError;

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The queue engine reported an error.
    #[error("queue engine error while seeding the demo")]
    Engine(#[from] bullmq::Error),
    /// Redis did not answer at all.
    #[error("cannot reach Redis at {url}")]
    Unreachable {
        /// The URL (or the sentinels and the master's name), password hidden.
        url: String,
        /// What went wrong.
        #[source]
        source: QueueError,
    },
    /// The settings name a Redis Cluster. The demo's Bull queues are written with bullring's own
    /// Lua scripts, whose first call fails there (`NOSCRIPT`: the `SCRIPT LOAD` reaches another
    /// node than the `EVALSHA`), so the demo is refused before it writes rather than left half
    /// seeded ([`super::refusal`]).
    #[error("the demo seeds one Redis server or a Sentinel master, not a Redis Cluster ({nodes})")]
    Cluster {
        /// The seed nodes, passwords hidden.
        nodes: String,
    },
    /// A command of the queue core (the demo's own writes) failed.
    #[error("Redis error while seeding the demo")]
    Redis(#[from] QueueError),
    /// The compiled-in data set cannot be played.
    #[error("the demo data set is not valid")]
    Fixture(#[from] FixtureError),
    /// Demo jobs did not reach their state in time.
    #[error("timed out after {}s waiting for {what}", waited.as_secs())]
    Timeout {
        /// What we were waiting for.
        what: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The data did not come out as planned.
    #[error("demo seeding went wrong: {0}")]
    Unexpected(String),
}
