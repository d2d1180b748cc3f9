//! The flash message of an action, in the reader's language.
//!
//! The core writes one English line per outcome (`Outcome::message`, also the JSON API's): an
//! English reader sees it as it is. Other languages say it from the outcome's fields, through
//! the catalog's `flash.{action}` texts (`flash.group` for an action on a group), with the
//! placeholders `{n}` (the count), `{queue}`, `{jobs}`, `{group}` and `{queues}`.

use super::format::number;
use super::label_of;
use crate::queue::op::Outcome;
use crate::web::i18n::{self, Lang, catalog, current};

/// The line shown on the page the action redirects to.
pub fn flash_message(outcome: &Outcome) -> String {
    let lang = current().lang;
    if lang == Lang::En {
        return outcome.message.clone();
    }
    let key = if outcome.group.is_empty() {
        format!("flash.{}", outcome.action.name())
    } else {
        "flash.group".to_string()
    };
    let Some(text) = catalog::lookup(lang, &key) else {
        return outcome.message.clone();
    };
    let line = said_line(outcome, text);
    if outcome.not_done.is_empty() {
        return line;
    }
    let reasons: Vec<String> = outcome.not_done.iter().map(i18n::here).collect();
    let not_done = catalog::fill(
        catalog::text(lang, "flash.not_done"),
        &[("reasons", &reasons.join(" ; "))],
    );
    format!("{line} {not_done}")
}

/// The catalog's line for `outcome`, its placeholders filled.
fn said_line(outcome: &Outcome, text: &str) -> String {
    let count = number(i64::try_from(outcome.count).unwrap_or(i64::MAX));
    let queues = number(i64::try_from(outcome.queues.len()).unwrap_or(i64::MAX));
    let action = label_of(outcome.action);
    catalog::fill(
        text,
        &[
            ("n", &count),
            ("queue", &outcome.queue),
            ("jobs", &outcome.jobs.join(", ")),
            ("group", &outcome.group),
            ("queues", &queues),
            ("action", &action),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::action::Action;
    use crate::queue::model::{JobState, QueueRef};
    use crate::queue::refusal::{Refusal, Why};
    use crate::web::i18n::{Locale, run_with};

    /// A bulk retry that left a job alone says why in French too, not only in English.
    #[tokio::test]
    async fn a_bulk_actions_skipped_jobs_are_said_in_french() {
        let refused = Refusal::JobState {
            id: "5".into(),
            state: Some(JobState::Active),
            why: Why::RetryFinishedOnly,
        };
        let outcome = Outcome {
            not_done: vec![refused.said()],
            ..Outcome::new(
                Action::Retry,
                &QueueRef::new("bull", "mail"),
                vec!["4".into()],
                1,
                format!("Retried 1 of 2 job(s). Not done: {refused}."),
            )
        };
        assert_eq!(flash_message(&outcome), outcome.message);
        let fr = Locale {
            lang: Lang::Fr,
            ..Locale::default()
        };
        let line = run_with(fr, async { flash_message(&outcome) }).await;
        assert!(
            line.ends_with(
                "Non faits : job 5 (état : en cours) : seuls les jobs échoués ou terminés peuvent être relancés."
            ),
            "{line}"
        );
    }
}
