//! The core's refusals as catalog texts ([`Said`]): a role's or read-only mode's denial and a
//! job or queue not in a state the action fits. In English they are the core's own words (the
//! JSON API and the CLI say them), on pages they are in the reader's language.

use crate::queue::access::Denial;
use crate::queue::model::JobState;
use crate::queue::refusal::{Refusal, Why};
use crate::web::i18n::said::Said;
use crate::web::i18n::{Lang, catalog};

/// "Not allowed: …", why the principal may not act.
pub fn denial(denial: &Denial) -> Said {
    match denial {
        Denial::ReadOnly => Said::new("refusal.denied_read_only"),
        Denial::Role { action, needs, is } => Said::new("refusal.denied_role")
            .with_each("action", |lang| match lang {
                Lang::En => action.name().to_string(),
                _ => catalog::text(lang, &format!("action.{}", action.name())).to_string(),
            })
            .with("needs", needs)
            .with("role", is),
    }
}

/// Why the action does not fit the job's or the queue's state.
pub fn refusal(refusal: &Refusal) -> Said {
    match refusal {
        Refusal::JobState { id, state, why } => Said::new(job_state_key(*why))
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

/// The key of a job-state refusal: one text per reason.
fn job_state_key(why: Why) -> &'static str {
    match why {
        Why::RetryFinishedOnly => "refusal.job.retry_finished_only",
        Why::PromoteDelayedOnly => "refusal.job.promote_delayed_only",
        Why::Locked => "refusal.job.locked",
        Why::BullRetryFailedOnly => "refusal.job.bull_retry_failed_only",
        Why::BullLocked => "refusal.job.bull_locked",
        Why::LeftFailed => "refusal.job.left_failed",
        Why::LeftDelayed => "refusal.job.left_delayed",
    }
}

/// A state's name as the refusal says it: the core's word in English, the catalog's otherwise.
fn state_name(lang: Lang, state: Option<JobState>) -> String {
    match (lang, state) {
        (Lang::En, Some(state)) => state.as_str().to_string(),
        (Lang::En, None) => "in no state".to_string(),
        (_, Some(state)) => catalog::text(lang, &format!("state.{}", state.as_str())).to_string(),
        (_, None) => catalog::text(lang, "refusal.no_state").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::access::Role;
    use crate::queue::action::Action;

    fn refusals() -> Vec<Refusal> {
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
                action: Action::RunScheduler.name(),
                queue: "mail".into(),
            },
            Refusal::ImportBullMqOnly {
                queue: "mail".into(),
            },
        ]);
        all
    }

    fn denials() -> Vec<Denial> {
        vec![
            Denial::ReadOnly,
            Denial::Role {
                action: Action::Drain,
                needs: Role::Admin,
                is: Role::Viewer,
            },
        ]
    }

    /// In English the catalog says exactly what the core says (the JSON API's words).
    #[test]
    fn english_texts_are_the_cores_words() {
        for r in refusals() {
            assert_eq!(refusal(&r).english(), r.to_string());
        }
        for d in denials() {
            assert_eq!(denial(&d).english(), format!("Not allowed: {d}."));
        }
    }

    /// Each reason has its own text, in French with none of the English words.
    #[test]
    fn french_texts_are_french() {
        for r in refusals() {
            let fr = refusal(&r).in_lang(Lang::Fr);
            assert_ne!(fr, r.to_string());
            for english in ["only", " is ", "queue", "meanwhile", "worker holds"] {
                assert!(!fr.contains(english), "{fr}");
            }
        }
        for d in denials() {
            let fr = denial(&d).in_lang(Lang::Fr);
            assert!(!fr.contains("Not allowed") && !fr.contains("needs"), "{fr}");
        }
    }
}
