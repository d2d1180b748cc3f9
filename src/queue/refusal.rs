//! [`Refusal`]: why bullring's own checks refuse an action before writing anything (a job not in
//! a state the action fits, a queue to pause first ...). `Display` gives the English words the
//! JSON API and the CLI show; the web layer writes each in the reader's language.

use std::fmt;

use super::model::JobState;

/// Why the action does not fit the job's or the queue's state (a 409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Job `id` is in `state` (none: in no state at all), where `why` cannot happen.
    JobState {
        id: String,
        state: Option<JobState>,
        why: Why,
    },
    /// Obliterating a BullMQ queue needs it paused first.
    PauseFirst { queue: String },
    /// The queue has active jobs and "force" was not ticked.
    ActiveJobs { queue: String, active: u64 },
    /// The action (by its name) exists for BullMQ queues only; `queue` is a Bull queue.
    BullMqOnly { action: &'static str, queue: String },
    /// Importing jobs takes BullMQ queues only; `queue` is a Bull queue.
    ImportBullMqOnly { queue: String },
}

/// The reason a job's state refuses an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// BullMQ retries failed or completed jobs.
    RetryFinishedOnly,
    /// Only delayed jobs are promoted.
    PromoteDelayedOnly,
    /// The job or one of its children is locked by a worker (BullMQ).
    Locked,
    /// Bull retries failed jobs only.
    BullRetryFailedOnly,
    /// A Bull worker holds the job's lock.
    BullLocked,
    /// The job left the failed jobs between the check and the change.
    LeftFailed,
    /// The job left the delayed jobs between the check and the change.
    LeftDelayed,
}

impl Why {
    /// Every reason, for the tests that check each has its words.
    pub const ALL: [Why; 7] = [
        Why::RetryFinishedOnly,
        Why::PromoteDelayedOnly,
        Why::Locked,
        Why::BullRetryFailedOnly,
        Why::BullLocked,
        Why::LeftFailed,
        Why::LeftDelayed,
    ];

    /// The English words.
    pub fn english(self) -> &'static str {
        match self {
            Why::RetryFinishedOnly => "only failed or completed jobs can be retried",
            Why::PromoteDelayedOnly => "only delayed jobs can be promoted",
            Why::Locked => {
                "it is locked by a worker (or has a locked child); try again when it has finished"
            }
            Why::BullRetryFailedOnly => {
                "Bull retries failed jobs only (its Job#retry moves a job out of failed)"
            }
            Why::BullLocked => "a worker holds its lock; try again when it has finished",
            Why::LeftFailed => "it left the failed jobs meanwhile",
            Why::LeftDelayed => "it left the delayed jobs meanwhile",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::JobState { id, state, why } => {
                let state = state.map(|s| s.as_str()).unwrap_or("in no state");
                write!(f, "job {id} is {state}: {}", why.english())
            }
            Refusal::PauseFirst { queue } => {
                write!(f, "pause queue {queue} before obliterating it")
            }
            Refusal::ActiveJobs { queue, active } => write!(
                f,
                "queue {queue} has {active} active job(s); tick \"force\" to obliterate it anyway"
            ),
            Refusal::BullMqOnly { action, queue } => {
                write!(f, "{action} is for BullMQ queues; {queue} is a Bull queue")
            }
            Refusal::ImportBullMqOnly { queue } => write!(
                f,
                "{queue} is a Bull queue; importing jobs takes BullMQ queues only"
            ),
        }
    }
}

/// Why a bulk action left a job alone: a refusal of bullring's own checks, or another error's
/// words (the engine's refusal, a job gone meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotDone {
    Refused(Refusal),
    Other(crate::text::Said),
}

impl fmt::Display for NotDone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotDone::Refused(refusal) => refusal.fmt(f),
            NotDone::Other(said) => said.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_english_words() {
        let active = Refusal::JobState {
            id: "5".into(),
            state: Some(JobState::Active),
            why: Why::RetryFinishedOnly,
        };
        assert_eq!(
            active.to_string(),
            "job 5 is active: only failed or completed jobs can be retried"
        );
        let none = Refusal::JobState {
            id: "5".into(),
            state: None,
            why: Why::LeftDelayed,
        };
        assert_eq!(
            none.to_string(),
            "job 5 is in no state: it left the delayed jobs meanwhile"
        );
    }
}
