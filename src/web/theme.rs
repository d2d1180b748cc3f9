//! The colour theme a reader chose: light, dark, or the system's (`prefers-color-scheme`), kept in
//! a cookie and applied by the server, so no page flashes the wrong colours before a script runs.
//!
//! [`scope`] (a middleware) reads the cookie once per request and makes the choice available to
//! every page built while answering it, error pages included ([`current`], read by the layout's
//! `Chrome`). `GET {base}/theme/{choice}` ([`choose`]) sets the cookie and goes back to the page
//! the link was on. It is a GET on purpose: it changes nothing in Redis, so it works in read-only
//! mode too, and a link works without JavaScript.

use std::future::Future;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::web::error::WebError;
use crate::web::extract::Path;
use crate::web::state::AppState;

const COOKIE: &str = "bullring_theme";

/// A year: the choice is a lasting preference.
const MAX_AGE_SECONDS: u64 = 365 * 24 * 3600;

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

/// `GET {base}/theme/{choice}`: keep the choice in a cookie and go back to the page the link
/// was on (the `Referer`, when it is a page of this dashboard), else to the overview.
pub async fn choose(
    State(state): State<AppState>,
    Path(choice): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let theme = Theme::parse(&choice).ok_or_else(|| {
        WebError::BadRequest(format!(
            "There is no theme {choice:?}: choose light, dark or system."
        ))
    })?;
    let base = state.base();
    let back = back_from(&headers, &base).unwrap_or_else(|| format!("{base}/"));
    let mut response = Redirect::to(&back).into_response();
    let path = if base.is_empty() { "/" } else { &base };
    let https = state
        .security()
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    let cookie = format!(
        "{COOKIE}={}; Path={path}; Max-Age={MAX_AGE_SECONDS}; SameSite=Lax{}",
        theme.as_str(),
        if https { "; Secure" } else { "" }
    );
    let value = HeaderValue::from_str(&cookie).map_err(WebError::internal)?;
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(response)
}

/// The path (and query) of the `Referer` when it is a page of this dashboard.
fn back_from(headers: &HeaderMap, base: &str) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let after_scheme = referer.split_once("://").map_or(referer, |(_, rest)| rest);
    let path = &after_scheme[after_scheme.find('/')?..];
    let inside = path == base
        || path.starts_with(&format!("{base}/"))
        || path.starts_with(&format!("{base}?"));
    let themed = path.starts_with(&format!("{base}/theme/"));
    (inside && !themed && !path.starts_with("//") && !path.contains(['\r', '\n']))
        .then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
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

    #[test]
    fn going_back_stays_inside_the_dashboard() {
        let back = |referer: &str| back_from(&with(header::REFERER, referer), "/admin");
        assert_eq!(
            back("http://h:1/admin/queues/mail?state=failed").as_deref(),
            Some("/admin/queues/mail?state=failed")
        );
        assert_eq!(back("http://h/admin").as_deref(), Some("/admin"));
        assert_eq!(back("http://h/elsewhere"), None);
        assert_eq!(back("http://h/administrator"), None);
        assert_eq!(back("http://h/admin/theme/dark"), None);
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
