//! The clean page: which jobs to remove, with a preview of how many would go.

use askama::Template;

use super::Chrome;

#[derive(Template)]
#[template(path = "pages/clean.html")]
pub struct CleanPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub preview_action: String,
    pub post_action: String,
    pub prefix: Option<String>,
    pub states: Vec<&'static str>,
    pub state: &'static str,
    pub grace_ms: u64,
    pub limit: u64,
    pub count: u64,
    pub exact: bool,
}
