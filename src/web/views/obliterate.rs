//! The obliterate page: pause first, then type the queue's name to confirm.

use askama::Template;

use super::Chrome;
use crate::queue::model::QueueSummary;

#[derive(Template)]
#[template(path = "pages/obliterate.html")]
pub struct ObliteratePage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub post_action: String,
    pub pause_action: String,
    pub back: String,
    pub summary: QueueSummary,
}
