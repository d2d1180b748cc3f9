//! The colour theme page (`GET {base}/theme`): the three choices, for a reader who opened the
//! header's switch without picking one.

use askama::Template;

use super::Chrome;

#[derive(Template)]
#[template(path = "pages/theme.html")]
pub struct ThemePage {
    pub chrome: Chrome,
}
