//! Request handlers, one file per resource. Each parses its input, asks [`crate::queue`], and
//! renders a view; none touches Redis.

pub mod actions;
pub mod alerts;
pub mod api;
pub mod audit;
pub mod commands;
pub mod flows;
pub mod health;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod pages;
pub mod prometheus;
pub mod queues;
pub mod schedulers;

use askama::Template;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::Html;

use super::error::WebError;
use super::extract::Query;
use super::params::ActionQuery;
use super::state::AppState;
use crate::queue::model::QueueRef;

/// Find the queue a URL names. A name known under one prefix costs nothing; a name found under
/// several prefixes without `?prefix=` costs one round trip to pick the first that exists.
pub async fn resolve(
    state: &AppState,
    name: &str,
    prefix: Option<&str>,
) -> Result<QueueRef, WebError> {
    lookup(state, name, prefix, false).await
}

/// [`resolve`], asking Redis even for a name under a single prefix when `must_exist` (one round
/// trip): for views that would otherwise show a queue that does not exist as an empty list.
async fn lookup(
    state: &AppState,
    name: &str,
    prefix: Option<&str>,
    must_exist: bool,
) -> Result<QueueRef, WebError> {
    let prefix = prefix.map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = prefix
        && !state.discovery().prefixes().iter().any(|known| known == p)
    {
        return Err(WebError::BadRequest(format!(
            "prefix {p:?} is not one of the configured prefixes"
        )));
    }
    if name.is_empty() || name.contains(':') {
        return Err(WebError::NotFound(format!("no queue named {name:?}")));
    }
    let mut candidates = state.discovery().candidates(name, prefix);
    if candidates.len() == 1 && !must_exist {
        return Ok(candidates.remove(0));
    }
    let existing = state.reader().summaries(&candidates).await?;
    existing
        .first()
        .map(|s| s.queue())
        .ok_or_else(|| WebError::NotFound(format!("no queue named {name:?}")))
}

/// The queue a view is scoped to: `Some` on a `/queues/{queue}/...` route (found as
/// [`resolve`] does, `?prefix=` included, and checked to exist), `None` on the matching
/// all-queues route. One handler serves both, e.g. `GET {base}/schedulers` and
/// `GET {base}/queues/{queue}/schedulers`. A queue that does not exist is a 404, an unknown
/// `?prefix=` a 400.
pub struct Scope(pub Option<QueueRef>);

impl FromRequestParts<AppState> for Scope {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        // A route without parameters has no path parameters to read: that is the all-queues one.
        let name = match RawPathParams::from_request_parts(parts, state).await {
            Ok(params) => params
                .iter()
                .find(|(key, _)| *key == "queue")
                .map(|(_, value)| value.to_string()),
            Err(_) => None,
        };
        let Some(name) = name else {
            return Ok(Scope(None));
        };
        let Query(query) = Query::<ActionQuery>::from_request_parts(parts, state).await?;
        // A scoped list of a queue that does not exist would be an empty 200: check it exists.
        let queue = lookup(state, &name, query.prefix.as_deref(), true).await?;
        Ok(Scope(Some(queue)))
    }
}

/// Render a template, mapping a render failure to a logged 500.
pub fn render<T: Template>(template: &T) -> Result<Html<String>, WebError> {
    template.render().map(Html).map_err(WebError::internal)
}
