//! `GET {base}/theme?theme=light|dark|system`: keep the reader's colour theme in a cookie
//! (`web::theme`) and go back to the page the switch was on. Without `theme`, a page offering
//! the three choices.
//!
//! A GET on purpose: it changes nothing in Redis, so it works in read-only mode too, and the
//! header's small form works without JavaScript (with it, `app.js` switches at once and sets the
//! cookie in the background).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::render;
use crate::queue::access::Principal;
use crate::web::error::WebError;
use crate::web::extract::Query;
use crate::web::flash::Flash;
use crate::web::state::AppState;
use crate::web::theme::{COOKIE, Theme};
use crate::web::views::Chrome;
use crate::web::views::theme::ThemePage;

/// A year: the choice is a lasting preference.
const MAX_AGE_SECONDS: u64 = 365 * 24 * 3600;

/// `?theme=` of the switch.
#[derive(Debug, Default, Deserialize)]
pub struct ThemeQuery {
    pub theme: Option<String>,
}

/// `GET {base}/theme?theme=`: keep the choice in a cookie and go back to the page the switch
/// was on (the `Referer`, when it is a page of this dashboard), else to the overview.
pub async fn choose(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Query(query): Query<ThemeQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let Some(choice) = query.theme else {
        let page = ThemePage {
            chrome: Chrome::page(&state, &principal, flash),
        };
        return Ok(render(&page)?.into_response());
    };
    let theme = Theme::parse(choice.trim()).ok_or_else(|| {
        WebError::BadRequest(crate::web::i18n::tf(
            "theme.unknown",
            &[("theme", &format!("{choice:?}"))],
        ))
    })?;
    remember(&state, &headers, COOKIE, theme.as_str())
}

/// Keep `value` in the lasting preference cookie `name` and go back to the page the switch was
/// on (the `Referer`, when it is a page of this dashboard), else to the overview.
pub(crate) fn remember(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    value: &str,
) -> Result<Response, WebError> {
    let base = state.base();
    let back = back_from(headers, &base).unwrap_or_else(|| format!("{base}/"));
    let mut response = Redirect::to(&back).into_response();
    let path = if base.is_empty() { "/" } else { &base };
    let https = state
        .security()
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    let cookie = format!(
        "{name}={value}; Path={path}; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax{}",
        if https { "; Secure" } else { "" }
    );
    let value = HeaderValue::from_str(&cookie).map_err(WebError::internal)?;
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(response)
}

/// The path (and query) of the `Referer` when it is a page of this dashboard.
pub(crate) fn back_from(headers: &HeaderMap, base: &str) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let after_scheme = referer.split_once("://").map_or(referer, |(_, rest)| rest);
    let path = &after_scheme[after_scheme.find('/')?..];
    let inside = path == base
        || path.starts_with(&format!("{base}/"))
        || path.starts_with(&format!("{base}?"));
    let themed = ["theme", "lang", "tz"]
        .iter()
        .any(|switch| path.starts_with(&format!("{base}/{switch}")));
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
    fn going_back_stays_inside_the_dashboard() {
        let back = |referer: &str| back_from(&with(header::REFERER, referer), "/admin");
        assert_eq!(
            back("http://h:1/admin/queues/mail?state=failed").as_deref(),
            Some("/admin/queues/mail?state=failed")
        );
        assert_eq!(back("http://h/admin").as_deref(), Some("/admin"));
        assert_eq!(back("http://h/elsewhere"), None);
        assert_eq!(back("http://h/administrator"), None);
        assert_eq!(back("http://h/admin/theme?theme=dark"), None);
    }
}
