//! The audit trail page: the newest actions first.

use askama::Template;

use super::format::format_time;
use super::{Chrome, label_of};
use crate::queue::action::Action;
use crate::queue::audit::AuditEntry;
use crate::web::i18n;

pub struct AuditRow {
    pub time: String,
    pub user: String,
    pub role: String,
    pub action: String,
    pub queue: String,
    pub jobs: String,
    /// `ok`, `refused` or `failed`: the row's class.
    pub outcome: String,
    /// The outcome in the reader's language.
    pub outcome_text: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "pages/audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub key: String,
    pub rows: Vec<AuditRow>,
    pub older: Option<String>,
    pub read_only: bool,
}

impl AuditRow {
    pub fn of(e: AuditEntry) -> Self {
        AuditRow {
            time: format_time(Some(e.time_ms)),
            user: e.user,
            role: e.role,
            // The action's button name when it is one ("Retry" / "Relancer"), else as stored.
            action: Action::from_name(&e.action)
                .map_or(e.action, |action| label_of(action).to_string()),
            outcome_text: i18n::catalog::lookup(
                i18n::current().lang,
                &format!("audit.outcome.{}", e.outcome),
            )
            .map_or_else(|| e.outcome.clone(), str::to_string),
            queue: if e.prefix.is_empty() {
                e.queue
            } else {
                format!("{}:{}", e.prefix, e.queue)
            },
            jobs: e.jobs.join(", "),
            outcome: e.outcome,
            detail: e.detail,
        }
    }
}
