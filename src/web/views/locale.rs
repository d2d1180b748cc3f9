//! The language and time zone page (`GET {base}/lang` or `{base}/tz` without a choice): both
//! switches, for a reader who opened one without picking.

use askama::Template;

use super::Chrome;

#[derive(Template)]
#[template(path = "pages/locale.html")]
pub struct LocalePage {
    pub chrome: Chrome,
}
