//! How an action is answered: a form gets a 303 back to a page with a one-line message (or,
//! from htmx, an `HX-Location`), the JSON API gets the outcome with `"ok": true`.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

use crate::queue::actions::Outcome;
use crate::queue::command::CommandError;
use crate::web::error::WebError;
use crate::web::flash;
use crate::web::input::Input;
use crate::web::state::AppState;

impl From<CommandError> for WebError {
    fn from(err: CommandError) -> Self {
        match err {
            CommandError::Forbidden(denial) => WebError::Forbidden(denial.said()),
            CommandError::Queue(err) => err.into(),
        }
    }
}

/// Where to go after a form: the form's `back` field when it stays inside the dashboard.
pub fn back_to(state: &AppState, input: &Input, default: String) -> String {
    let base = &state.base();
    input
        .text("back")
        .filter(|b| {
            (b == base
                || b.starts_with(&format!("{base}/"))
                || (base.is_empty() && b.starts_with('/')))
                && !b.starts_with("//")
                && !b.contains(['\r', '\n'])
        })
        .unwrap_or(default)
}

/// Whether htmx sent the request (a boosted form): it is then answered without a redirect.
fn from_htmx(headers: &HeaderMap) -> bool {
    headers
        .get("hx-request")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
}

/// The answer to a form that worked: the message goes in the flash cookie, then a 303 to `to`
/// (post/redirect/get, no JavaScript needed). htmx gets a 200 with `HX-Location` instead: it
/// fetches `to` itself, swaps that page's `<main>` into this one and pushes `to` to the history.
pub fn redirect_with(message: &str, to: &str, state: &AppState, headers: &HeaderMap) -> Response {
    let mut response = if from_htmx(headers) {
        let location = serde_json::json!({
            "path": to,
            "target": "main",
            "select": "main",
            "swap": "outerHTML",
        });
        let mut response = StatusCode::OK.into_response();
        if let Ok(value) = HeaderValue::from_str(&location.to_string()) {
            response.headers_mut().insert("hx-location", value);
        }
        response
    } else {
        Redirect::to(to).into_response()
    };
    if let Ok(cookie) = HeaderValue::from_str(&flash::set_cookie(message, state)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The JSON answer: the outcome with `"ok": true`.
pub fn json_outcome(outcome: Outcome) -> Response {
    let mut value = serde_json::to_value(&outcome).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("ok".into(), Value::Bool(true));
    }
    (StatusCode::OK, Json(value)).into_response()
}
