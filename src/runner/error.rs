//! [`RunnerError`]: why the runner could not start, with the error underneath as its source.

use super::webhook::WebhookError;

/// Why the runner could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    #[error("no Redis configured for the runner (--redis-url / REDIS_URL)")]
    NoRedis,
    /// No sentinel named the master the workers should start on.
    #[error("cannot find the Redis master")]
    NoMaster {
        #[source]
        source: crate::queue::error::QueueError,
    },
    /// Closures were registered through the Rust API but no worker takes closures.
    #[error(
        "handlers are registered for {registered} but no [[workers]] entry uses them (leave out its handler, or set handler = {{ type = \"closures\" }})"
    )]
    UnusedClosures { registered: String },
    /// A worker takes closures, but none were registered.
    #[error(
        "invalid {label} handler: missing; set handler = {{ type = \"webhook\" | \"command\" | \"noop\", ... }} (closures are registered through the Rust API only)"
    )]
    MissingHandler { label: String },
    /// A worker's webhook could not be set up.
    #[error("{label}")]
    Webhook {
        label: String,
        #[source]
        source: WebhookError,
    },
    /// Redis did not answer while the schedulers were being set up.
    #[error("timed out connecting to {redis}")]
    ConnectTimeout { redis: String },
    #[error("scheduler {id:?} on queue {queue:?}")]
    Scheduler {
        id: String,
        queue: String,
        #[source]
        source: bullmq::Error,
    },
    #[error("{label}: cannot start the worker")]
    Worker {
        label: String,
        #[source]
        source: bullmq::Error,
    },
    #[error("queue {queue:?}")]
    Queue {
        queue: String,
        #[source]
        source: bullmq::Error,
    },
}
