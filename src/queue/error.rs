//! Errors of the queue core.
//!
//! One enum for everything `queue` can fail with. Each variant says what went wrong by meaning
//! (unreachable, not found, wrong state, bad input, internal); the error it came from stays
//! attached as its `source`, so a log line can show the whole chain once ([`chain`]). The web
//! layer maps each variant to a status code in exactly one place (`web::error`); nothing here
//! knows about HTTP.

use std::error::Error as StdError;
use std::fmt::Write as _;

use super::model::{QueueRef, UnknownState};
use crate::text::Said;

/// Everything the queue core can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// Redis could not be reached (refused, timed out, connection dropped).
    #[error("Redis is unreachable: {reason}")]
    Unavailable {
        reason: Said,
        #[source]
        source: Option<redis::RedisError>,
    },
    /// Redis is there (it answers a `PING`) but did not finish answering one call in time: the
    /// reply is large, or the server is busy.
    #[error(
        "Redis is reachable but did not finish answering within {waited_ms} ms (a very large \
         reply, or a busy server)"
    )]
    Slow { waited_ms: u64 },
    /// Redis answered with an error (wrong type, NOPERM, script error ...).
    #[error("Redis refused a command")]
    Redis(#[source] redis::RedisError),
    /// No queue of that name under any configured prefix.
    #[error("no queue named {0:?}")]
    QueueNotFound(String),
    /// No known queue is in that group (or queue groups are off).
    #[error("no queue group named {0:?}")]
    GroupNotFound(String),
    /// The queue name exists under several prefixes and the caller did not pick one.
    #[error("queue {name:?} exists under several prefixes ({prefixes}); add ?prefix= to choose")]
    AmbiguousQueue { name: String, prefixes: String },
    /// The queue exists but has no job with that id.
    #[error("queue {queue} has no job with id {id:?}")]
    JobNotFound { queue: QueueRef, id: String },
    /// The queue has no job scheduler with that id.
    #[error("queue {queue} has no job scheduler {id:?}")]
    SchedulerNotFound { queue: QueueRef, id: String },
    /// The request asked for something that cannot be (bad state name, page 0 ...), said as a
    /// catalog text: English in the JSON API and the CLI, the reader's language on pages.
    #[error("{0}")]
    InvalidInput(Said),
    /// The action does not fit the current state (promote a job that is not delayed ...), found
    /// by bullring's own checks before anything was written.
    #[error("{0}")]
    Conflict(crate::queue::refusal::Refusal),
    /// The queue library refused the change because the job is not where the change needs it
    /// (locked by a worker, moved meanwhile, has pending children ...).
    #[error("the queue refused the change: {0}")]
    WrongState(#[source] bullmq::Error),
    /// The queue library found no such job (it went away between the check and the change).
    #[error("the job is gone")]
    Gone(#[source] bullmq::Error),
    /// Anything else the queue library reported: a bug or malformed data, not the user's doing.
    #[error("the queue engine failed")]
    Engine(#[source] bullmq::Error),
}

impl QueueError {
    /// Redis could not be reached, for a reason that is not a Redis error (a timeout ...).
    pub fn unavailable(reason: Said) -> Self {
        QueueError::Unavailable {
            reason,
            source: None,
        }
    }

    /// Whether the error means "Redis is not there" (worth a 503 and a retry later).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, QueueError::Unavailable { .. })
    }

    /// What the error tells the user (its own words, not its causes'), as a catalog text whose
    /// English is its `Display`: an input check's, a refusal of bullring's checks, a thing not
    /// found, a job gone, the engine's refusal, Redis's trouble; any other error's English as it
    /// is.
    pub fn said(&self) -> Said {
        let quoted = |text: &str| format!("{text:?}");
        match self {
            QueueError::InvalidInput(said) => said.clone(),
            QueueError::Conflict(refusal) => refusal.said(),
            QueueError::QueueNotFound(name) => {
                Said::new("error.no_queue").with("name", quoted(name))
            }
            QueueError::GroupNotFound(name) => {
                Said::new("error.no_group").with("name", quoted(name))
            }
            QueueError::JobNotFound { queue, id } => Said::new("error.no_job")
                .with("queue", queue)
                .with("id", quoted(id)),
            QueueError::SchedulerNotFound { queue, id } => Said::new("error.no_scheduler")
                .with("queue", queue)
                .with("id", quoted(id)),
            QueueError::AmbiguousQueue { name, prefixes } => Said::new("error.ambiguous_queue")
                .with("name", quoted(name))
                .with("prefixes", prefixes),
            QueueError::Gone(_) => Said::new("error.job_gone"),
            QueueError::WrongState(source) => {
                Said::new("error.engine_refused").with("detail", source)
            }
            QueueError::Slow { waited_ms } => Said::new("error.redis.slow").with("ms", waited_ms),
            QueueError::Unavailable { reason, .. } => {
                Said::new("error.redis.unreachable").with_said("reason", reason)
            }
            other => Said::plain(other.to_string()),
        }
    }

    /// Redis refused a write because the server is a replica (a demoted master after a failover).
    pub fn is_readonly(&self) -> bool {
        matches!(self, QueueError::Redis(err) if err.code() == Some("READONLY"))
    }
}

impl From<UnknownState> for QueueError {
    fn from(err: UnknownState) -> Self {
        QueueError::InvalidInput(err.said())
    }
}

impl From<redis::RedisError> for QueueError {
    fn from(err: redis::RedisError) -> Self {
        if is_connection_error(&err) {
            QueueError::Unavailable {
                reason: Said::new("error.redis.connection_failed"),
                source: Some(err),
            }
        } else {
            QueueError::Redis(err)
        }
    }
}

impl From<bullmq::Error> for QueueError {
    fn from(err: bullmq::Error) -> Self {
        use bullmq::error::error_code as code;
        match err {
            bullmq::Error::Redis(e) => e.into(),
            bullmq::Error::InvalidConfig(message) => {
                QueueError::InvalidInput(Said::new("check.engine_config").with("detail", message))
            }
            bullmq::Error::JobNotFound(_) => QueueError::Gone(err),
            bullmq::Error::Script {
                code: code::JOB_NOT_EXIST,
                ..
            } => QueueError::Gone(err),
            // BullMQ's scripts refuse moves that do not fit the job's state (locked, not in
            // the expected state, pending or failed children, belongs to a scheduler ...).
            bullmq::Error::Script { .. }
            | bullmq::Error::JobLocked(_)
            | bullmq::Error::JobLockNotExist(_)
            | bullmq::Error::JobNotInState(..)
            | bullmq::Error::JobHasFailedChildren(_) => QueueError::WrongState(err),
            other => QueueError::Engine(other),
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
        // A restarted Redis loading its data set is not there yet.
        || matches!(
            err.kind(),
            redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
        )
}

/// An error and every cause under it, on one line: `outer: inner: innermost`. For logs.
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        // Some errors repeat their cause in their own message; say it once.
        if !text.ends_with(&inner_text) {
            let _ = write!(text, ": {inner_text}");
        }
        cause = inner.source();
    }
    text
}

/// Result alias of the queue core.
pub type Result<T, E = QueueError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_are_sorted_by_meaning_and_keep_their_cause() {
        let gone: QueueError =
            bullmq::Error::from_script_code(bullmq::error::error_code::JOB_NOT_EXIST).into();
        assert!(matches!(gone, QueueError::Gone(_)));
        let locked: QueueError = bullmq::Error::JobLocked("7".into()).into();
        assert!(matches!(locked, QueueError::WrongState(_)));
        assert!(
            chain(&locked).contains("job is locked: 7"),
            "{}",
            chain(&locked)
        );
        let state: QueueError =
            bullmq::Error::from_script_code(bullmq::error::error_code::JOB_NOT_IN_STATE).into();
        assert!(matches!(state, QueueError::WrongState(_)));
        let other: QueueError = bullmq::Error::MsgPack("bad".into()).into();
        assert!(matches!(other, QueueError::Engine(_)));
        assert_eq!(chain(&other), "the queue engine failed: msgpack error: bad");
    }

    /// In English, an error's catalog text is its `Display`, word for word.
    #[test]
    fn an_errors_said_text_is_its_display_in_english() {
        let errors: Vec<QueueError> = vec![
            bullmq::Error::from_script_code(bullmq::error::error_code::JOB_NOT_EXIST).into(),
            bullmq::Error::JobLocked("7".into()).into(),
            QueueError::InvalidInput(Said::new("check.page_start")),
            QueueError::QueueNotFound("mail".into()),
            QueueError::GroupNotFound("billing".into()),
            QueueError::JobNotFound {
                queue: QueueRef::new("bull", "mail"),
                id: "7".into(),
            },
            QueueError::SchedulerNotFound {
                queue: QueueRef::new("bull", "mail"),
                id: "nightly".into(),
            },
            QueueError::AmbiguousQueue {
                name: "mail".into(),
                prefixes: "a, b".into(),
            },
            QueueError::Slow { waited_ms: 5 },
            QueueError::unavailable(Said::new("error.redis.connect_timeout")),
        ];
        for err in errors {
            let english = err.to_string();
            let said = err.said();
            assert_eq!(said.english(), english);
            assert_ne!(said.in_lang(crate::text::Lang::Fr), english);
        }
    }

    #[test]
    fn connection_errors_are_unavailable_with_their_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused here");
        let err: QueueError = redis::RedisError::from(io).into();
        assert!(err.is_unavailable());
        assert!(chain(&err).starts_with("Redis is unreachable: the connection failed: "));
        assert!(chain(&err).contains("refused here"), "{}", chain(&err));
        assert_eq!(
            chain(&QueueError::unavailable(Said::plain(
                "no answer within 5 s"
            ))),
            "Redis is unreachable: no answer within 5 s"
        );
    }
}
