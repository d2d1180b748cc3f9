//! The error page every failed request renders (outside the JSON API).

use askama::Template;

use super::Chrome;

#[derive(Template)]
#[template(path = "pages/error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub status: u16,
    pub heading: &'static str,
    pub message: String,
}
