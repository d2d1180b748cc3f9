//! `GET {base}/events`: live counts for every open tab, as Server-Sent Events.
//!
//! Streams only relay what the process's one sampler (`queue::sampler`) read, so the Redis load
//! does not grow with the number of tabs. Events: `counts` (every queue's counts and paused
//! flag) and `unavailable` (Redis did not answer; counts follow again when it does). A comment
//! every 15 s keeps proxies from closing an idle stream; `X-Accel-Buffering: no` stops nginx from
//! buffering it.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::json;

use crate::queue::sampler::Sample;
use crate::web::error::WebError;
use crate::web::state::AppState;

/// How often an idle stream gets a comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The SSE event for a sample (`None` before the first read).
fn event(sample: &Sample) -> Option<Event> {
    let (name, data) = match sample {
        Sample::Pending => return None,
        Sample::Ok { at_ms, queues } => (
            "counts",
            json!({
                "at_ms": at_ms,
                "queues": queues.iter().map(|q| json!({
                    "prefix": q.prefix,
                    "name": q.name,
                    "library": q.library,
                    "paused": q.paused,
                    "counts": q.counts,
                })).collect::<Vec<_>>(),
            }),
        ),
        Sample::Unavailable { at_ms, error } => {
            ("unavailable", json!({ "at_ms": at_ms, "error": error }))
        }
    };
    Some(Event::default().event(name).data(data.to_string()))
}

/// `GET {base}/events`
pub async fn events(State(state): State<AppState>) -> Result<Response, WebError> {
    let sampler = state.sampler();
    let Some(receiver) = sampler.subscribe() else {
        return Err(WebError::NotFound(
            crate::web::i18n::t("error.live_off").into(),
        ));
    };
    // The current sample first, then one event per change, until shutdown.
    let changes = stream::unfold((receiver, true), |(mut receiver, first)| async move {
        if !first {
            receiver.changed().await.ok()?;
        }
        let sample = receiver.borrow_and_update().clone();
        Some((event(&sample), (receiver, false)))
    });
    let stream = gated(changes).take_until(sampler.stopped());
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    let headers = response.headers_mut();
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    headers.insert("cache-control", HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Drop the `None`s: nothing was read yet.
fn gated(
    changes: impl Stream<Item = Option<Event>> + Send + 'static,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    changes.filter_map(|item| async move { item.map(Ok) })
}
