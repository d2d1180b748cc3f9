//! [`Refusal`]: why bullring's own checks refuse an action before writing anything (a job not in
//! a state the action fits, a queue to pause first ...), as a catalog text ([`Refusal::said`]).
//! `Display` gives its English words, which the JSON API and the CLI show; the web layer writes
//! it in the reader's language.

use std::fmt;

use super::model::JobState;
use crate::text::{Lang, Said, catalog};

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
    /// The catalog key of a job-state refusal for this reason.
    fn key(self) -> &'static str {
        match self {
            Why::RetryFinishedOnly => "refusal.job.retry_finished_only",
            Why::PromoteDelayedOnly => "refusal.job.promote_delayed_only",
            Why::Locked => "refusal.job.locked",
            Why::BullRetryFailedOnly => "refusal.job.bull_retry_failed_only",
            Why::BullLocked => "refusal.job.bull_locked",
            Why::LeftFailed => "refusal.job.left_failed",
            Why::LeftDelayed => "refusal.job.left_delayed",
        }
    }

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
}

impl Refusal {
    /// The refusal as a catalog text: a state's and an action's names translated.
    pub fn said(&self) -> Said {
        match self {
            Refusal::JobState { id, state, why } => Said::new(why.key())
                .with("id", id)
                .with_each("state", |lang| state_name(lang, *state)),
            Refusal::PauseFirst { queue } => Said::new("refusal.pause_first").with("queue", queue),
            Refusal::ActiveJobs { queue, active } => Said::new("refusal.active_jobs")
                .with("queue", queue)
                .with("n", active),
            Refusal::BullMqOnly { action, queue } => Said::new("refusal.bullmq_only")
                .with_each("action", |lang| match lang {
                    Lang::En => action.to_string(),
                    _ => catalog::text(lang, &format!("action.{action}")).to_string(),
                })
                .with("queue", queue),
            Refusal::ImportBullMqOnly { queue } => {
                Said::new("refusal.import_bullmq_only").with("queue", queue)
            }
        }
    }
}

/// A state's name as a refusal says it: the core's word in English, the catalog's otherwise.
fn state_name(lang: Lang, state: Option<JobState>) -> String {
    match (lang, state) {
        (Lang::En, Some(state)) => state.as_str().to_string(),
        (Lang::En, None) => "in no state".to_string(),
        (_, Some(state)) => catalog::text(lang, &format!("state.{}", state.as_str())).to_string(),
        (_, None) => catalog::text(lang, "refusal.no_state").to_string(),
    }
}

/// English, as the JSON API and the CLI say it.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.said().english())
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

    /// The English of each reason, word for word the JSON API's before the catalogs.
    #[test]
    fn each_reason_says_the_apis_words() {
        let words = [
            (
                Why::RetryFinishedOnly,
                "only failed or completed jobs can be retried",
            ),
            (Why::PromoteDelayedOnly, "only delayed jobs can be promoted"),
            (
                Why::Locked,
                "it is locked by a worker (or has a locked child); try again when it has finished",
            ),
            (
                Why::BullRetryFailedOnly,
                "Bull retries failed jobs only (its Job#retry moves a job out of failed)",
            ),
            (
                Why::BullLocked,
                "a worker holds its lock; try again when it has finished",
            ),
            (Why::LeftFailed, "it left the failed jobs meanwhile"),
            (Why::LeftDelayed, "it left the delayed jobs meanwhile"),
        ];
        assert_eq!(words.len(), Why::ALL.len());
        for (why, english) in words {
            let refusal = Refusal::JobState {
                id: "5".into(),
                state: Some(JobState::Failed),
                why,
            };
            assert_eq!(refusal.to_string(), format!("job 5 is failed: {english}"));
        }
        let others = [
            (
                Refusal::PauseFirst {
                    queue: "mail".into(),
                },
                "pause queue mail before obliterating it",
            ),
            (
                Refusal::ActiveJobs {
                    queue: "mail".into(),
                    active: 3,
                },
                "queue mail has 3 active job(s); tick \"force\" to obliterate it anyway",
            ),
            (
                Refusal::BullMqOnly {
                    action: "run-scheduler",
                    queue: "mail".into(),
                },
                "run-scheduler is for BullMQ queues; mail is a Bull queue",
            ),
            (
                Refusal::ImportBullMqOnly {
                    queue: "mail".into(),
                },
                "mail is a Bull queue; importing jobs takes BullMQ queues only",
            ),
        ];
        for (refusal, english) in others {
            assert_eq!(refusal.to_string(), english);
        }
    }

    /// Each reason has its own text, in French with none of the English words.
    #[test]
    fn french_texts_are_french() {
        let mut all: Vec<Refusal> = Why::ALL
            .iter()
            .flat_map(|&why| {
                [Some(JobState::Active), None].map(|state| Refusal::JobState {
                    id: "5".into(),
                    state,
                    why,
                })
            })
            .collect();
        all.extend([
            Refusal::PauseFirst {
                queue: "mail".into(),
            },
            Refusal::ActiveJobs {
                queue: "mail".into(),
                active: 3,
            },
            Refusal::BullMqOnly {
                action: "run-scheduler",
                queue: "mail".into(),
            },
            Refusal::ImportBullMqOnly {
                queue: "mail".into(),
            },
        ]);
        for r in all {
            let fr = r.said().in_lang(Lang::Fr);
            assert_ne!(fr, r.to_string());
            for english in ["only", " is ", "queue", "meanwhile", "worker holds"] {
                assert!(!fr.contains(english), "{fr}");
            }
        }
    }
}
