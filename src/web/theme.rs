//! The colour theme a reader chose: light, dark, or the system's (`prefers-color-scheme`), kept in
//! a cookie and applied by the server, so no page flashes the wrong colours before a script runs.
//!
//! [`scope`] (a middleware) reads the cookie once per request and makes the choice available to
//! every page built while answering it, error pages included ([`current`], read by the layout's
//! `Chrome`). `GET {base}/theme?theme=` (`handlers::theme`) sets the cookie.

use std::future::Future;

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

/// The cookie that keeps the choice.
pub const COOKIE: &str = "bullring_theme";

/// What the reader chose. `System` follows the browser's `prefers-color-scheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::Light, Theme::Dark, Theme::System];

    /// The cookie value, the route segment and the `data-theme` attribute of `<html>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The choice in a request's cookies (the system's when there is none or it is unknown).
    pub fn from_headers(headers: &HeaderMap) -> Theme {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
            .find_map(Theme::parse)
            .unwrap_or_default()
    }
}

tokio::task_local! {
    static CURRENT: Theme;
}

/// The theme of the request being answered (the system's outside of one).
pub fn current() -> Theme {
    CURRENT.try_with(|t| *t).unwrap_or_default()
}

/// Middleware: answer the rest of the request with the theme its cookie names.
pub async fn scope(request: Request, next: Next) -> Response {
    let theme = Theme::from_headers(request.headers());
    run_with(theme, next.run(request)).await
}

async fn run_with<F: Future>(theme: Theme, future: F) -> F::Output {
    CURRENT.scope(theme, future).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, axum::http::HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn the_cookie_names_the_theme_and_anything_else_is_the_systems() {
        let read = |cookie: &str| Theme::from_headers(&with(header::COOKIE, cookie));
        assert_eq!(read("a=1; bullring_theme=dark"), Theme::Dark);
        assert_eq!(read("bullring_theme=light"), Theme::Light);
        assert_eq!(read("bullring_theme=pink"), Theme::System);
        assert_eq!(Theme::from_headers(&HeaderMap::new()), Theme::System);
    }

    #[tokio::test]
    async fn the_scope_sets_the_current_theme() {
        assert_eq!(current(), Theme::System);
        assert_eq!(
            run_with(Theme::Dark, async { current() }).await,
            Theme::Dark
        );
    }
}
