//! The drain page: what draining would remove, and whether delayed jobs go too.

use askama::Template;

use super::Chrome;
use crate::queue::model::QueueSummary;

#[derive(Template)]
#[template(path = "pages/drain.html")]
pub struct DrainPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub post_action: String,
    pub summary: QueueSummary,
}
