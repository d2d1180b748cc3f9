//! Errors of the queue core.
//!
//! One enum for everything `queue` can fail with. The web layer maps each variant to a status code
//! in exactly one place (`web::error`); nothing here knows about HTTP.

use super::model::QueueRef;

/// Everything the queue core can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// Redis could not be reached (refused, timed out, connection dropped).
    #[error("Redis is unreachable: {0}")]
    Unavailable(String),
    /// Redis answered with an error (wrong type, NOPERM, script error ...).
    #[error("Redis error: {0}")]
    Redis(String),
    /// No queue of that name under any configured prefix.
    #[error("no queue named {0:?}")]
    QueueNotFound(String),
    /// The queue name exists under several prefixes and the caller did not pick one.
    #[error("queue {name:?} exists under several prefixes ({prefixes}); add ?prefix= to choose")]
    AmbiguousQueue { name: String, prefixes: String },
    /// The queue exists but has no job with that id.
    #[error("queue {queue} has no job with id {id:?}")]
    JobNotFound { queue: QueueRef, id: String },
    /// The queue has no job scheduler with that id.
    #[error("queue {queue} has no job scheduler {id:?}")]
    SchedulerNotFound { queue: QueueRef, id: String },
    /// The request asked for something that cannot be (bad state name, page 0 ...).
    #[error("{0}")]
    InvalidInput(String),
    /// The action does not fit the current state (promote a job that is not delayed ...).
    #[error("{0}")]
    Conflict(String),
    /// An error reported by the BullMQ engine.
    #[error("queue engine error: {0}")]
    Engine(String),
}

impl From<redis::RedisError> for QueueError {
    fn from(err: redis::RedisError) -> Self {
        if is_connection_error(&err) {
            QueueError::Unavailable(err.to_string())
        } else {
            QueueError::Redis(err.to_string())
        }
    }
}

impl From<bullmq::Error> for QueueError {
    fn from(err: bullmq::Error) -> Self {
        match err {
            bullmq::Error::Redis(e) => e.into(),
            // BullMQ's scripts refuse moves that do not fit the job's state (locked, not in
            // the expected state, belongs to a scheduler ...).
            bullmq::Error::Script { message, .. } => QueueError::Conflict(message),
            bullmq::Error::JobLocked(id) => {
                QueueError::Conflict(format!("job {id} is locked by a worker"))
            }
            bullmq::Error::InvalidConfig(message) => QueueError::InvalidInput(message),
            other => QueueError::Engine(other.to_string()),
        }
    }
}

/// Whether a Redis error means "the server is not there" rather than "the command was wrong".
pub(crate) fn is_connection_error(err: &redis::RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || err.is_unrecoverable_error()
}

/// Result alias of the queue core.
pub type Result<T, E = QueueError> = std::result::Result<T, E>;
