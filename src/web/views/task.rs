//! The pages of "apply to every match": the confirmation before a task starts, and a task's
//! page (its progress bar, read again every second by htmx while the task runs; without
//! JavaScript a reload shows the progress).

use askama::Template;

use super::Chrome;
use super::format::format_time;
use crate::queue::search::apply::Counts;

/// `GET {base}/queues/{queue}/search/apply?state=&q=&action=`: what the task will do, and the
/// button that starts it.
#[derive(Template)]
#[template(path = "pages/apply.html")]
pub struct ApplyPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    /// "Retry every failed job matching `name:x`"
    pub heading: String,
    pub post_action: String,
    /// Hidden fields sent again: state, q, action, prefix.
    pub fields: Vec<(&'static str, String)>,
    pub button: String,
    pub danger: bool,
    pub search_href: String,
}

/// `GET {base}/tasks/{id}`
#[derive(Template)]
#[template(path = "pages/task.html")]
pub struct TaskPage {
    pub chrome: Chrome,
    pub view: TaskView,
}

/// What a task's page shows.
pub struct TaskView {
    pub id: String,
    pub href: String,
    pub queue_name: String,
    pub queue_href: String,
    pub search_href: String,
    pub heading: String,
    pub status: &'static str,
    /// The status in the reader's language.
    pub status_label: &'static str,
    pub running: bool,
    pub error: Option<String>,
    pub counts: Counts,
    /// The progress bar's maximum: the jobs the states held, or those scanned if more.
    pub max: u64,
    pub user: String,
    pub started: String,
    pub finished: String,
    /// The cancel form's address, while it runs and the reader may cancel it.
    pub cancel: Option<String>,
}

impl TaskView {
    pub fn times(started_ms: i64, finished_ms: Option<i64>) -> (String, String) {
        (format_time(Some(started_ms)), format_time(finished_ms))
    }
}
