//! The one-line result message shown on the page a form redirects to (post/redirect/get).
//!
//! The action sets a short-lived cookie; the next page shows it and the [`clear`] middleware
//! expires it, so a reload does not show it again. No JavaScript needed.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::links::encode;
use super::state::AppState;

const COOKIE: &str = "bullring_flash";

/// The `Set-Cookie` value carrying `message`: never readable by scripts, never sent with a
/// request another site starts, and only over https when the dashboard's public URL is https.
pub fn set_cookie(message: &str, state: &AppState) -> String {
    format!(
        "{COOKIE}={}; Path={}; Max-Age=60{}",
        encode(message),
        cookie_path(&state.root()),
        attributes(state)
    )
}

/// `HttpOnly; SameSite=Strict`, and `Secure` when `public_url` is https (bullring itself speaks
/// plain http: over https it is always behind a proxy, whose address is `public_url`).
fn attributes(state: &AppState) -> &'static str {
    let https = state
        .security()
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    if https {
        "; HttpOnly; SameSite=Strict; Secure"
    } else {
        "; HttpOnly; SameSite=Strict"
    }
}

fn cookie_path(base: &str) -> &str {
    if base.is_empty() { "/" } else { base }
}

fn read(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .find(|value| !value.is_empty())
        .map(|value| {
            form_urlencoded::parse(format!("m={value}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .next()
                .unwrap_or_default()
        })
}

/// The message waiting for this page, if any.
#[derive(Debug, Clone, Default)]
pub struct Flash(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Flash {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Flash(read(parts)))
    }
}

/// Expire the message once a page has been answered (unless the response sets a new one).
pub async fn clear(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let had = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains(COOKIE)));
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    let sets_new = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with(COOKIE)));
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("text/html")));
    if had && !sets_new && is_page && !path.contains("/static/") {
        let expire = format!(
            "{COOKIE}=; Path={}; Max-Age=0{}",
            cookie_path(&state.root()),
            attributes(&state)
        );
        if let Ok(value) = HeaderValue::from_str(&expire) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
