//! The audit trail page: the newest actions first.

use askama::Template;

use super::Chrome;
use super::format::format_time;
use crate::queue::audit::AuditEntry;

pub struct AuditRow {
    pub time: String,
    pub user: String,
    pub role: String,
    pub action: String,
    pub queue: String,
    pub jobs: String,
    pub outcome: String,
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
            action: e.action,
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
