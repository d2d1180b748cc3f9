//! The Alerts page: active alerts and the recent messages the alerts engine sent.

use askama::Template;

use super::Chrome;
use super::format::format_time;
use crate::queue::alerts::AlertRecord;

pub struct AlertRow {
    pub status: String,
    pub rule: String,
    pub kind: String,
    pub queue: String,
    pub title: String,
    pub text: String,
    pub url: String,
    pub time: String,
}

impl From<AlertRecord> for AlertRow {
    fn from(r: AlertRecord) -> Self {
        AlertRow {
            time: format_time(Some(r.at_ms)),
            status: r.status,
            rule: r.rule,
            kind: r.kind,
            queue: r.queue,
            title: r.title,
            text: r.text,
            url: r.url,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/alerts.html")]
pub struct AlertsPage {
    pub chrome: Chrome,
    pub configured: bool,
    pub active: Vec<AlertRow>,
    pub recent: Vec<AlertRow>,
}
