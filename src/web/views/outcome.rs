//! The flash message of an action, in the reader's language.
//!
//! The core writes one English line per outcome (`Outcome::message`, also the JSON API's): an
//! English reader sees it as it is. Other languages say it from the outcome's fields, through
//! the catalog's `flash.{action}` texts (`flash.group` for an action on a group), with the
//! placeholders `{n}` (the count), `{queue}`, `{jobs}`, `{group}` and `{queues}`.

use super::format::number;
use super::label_of;
use crate::queue::op::Outcome;
use crate::web::i18n::{Lang, catalog, current};

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
